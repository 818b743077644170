"""The one settings module. Every value comes from the environment; see docs/configuration.md.

With no variables set this is the *embedded default*: SQLite under var/, Celery on kombu's filesystem
transport and a file-based cache, so that `make run` needs no server. `DATABASE_URL` and `REDIS_URL`
switch to PostgreSQL and Redis, which is how the product scales out to many workers.
"""

import importlib.util
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from config.env import (
    env_absolute_path,
    env_bool,
    env_cadence,
    env_credit_tiers,
    env_database,
    env_durations,
    env_header_name,
    env_host_list,
    env_http_url,
    env_int,
    env_list,
    env_matching,
    env_offsets,
    env_phone_number,
    env_prefixed,
    env_rate,
    env_redis_url,
    env_str,
    env_time_zone,
    env_weights,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)  # the embedded database, broker, cache and mail live here

# --- Core -------------------------------------------------------------------------------------------

DEBUG = env_bool("DEBUG", True)
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is off: use a random string of at least 50 characters, "
            "for example the output of `python -c 'import secrets; print(secrets.token_urlsafe(50))'`."
        )
    SECRET_KEY = "insecure-development-key-only-for-debug-mode-never-in-production-0123456789"
elif not DEBUG and len(SECRET_KEY) < 50:
    raise ImproperlyConfigured(f"SECRET_KEY must be at least 50 characters long, got {len(SECRET_KEY)}.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "ALLOWED_HOSTS must be set when DEBUG is off: a comma-separated list such as status.example.com."
    )
SITE_URL = env_http_url("SITE_URL", "http://127.0.0.1:8000")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [SITE_URL])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "anymail",
    # The project's layers, lowest first (docs/architecture.md): each imports only those listed before it.
    "core",
    "incidents",
    "accounts",
    "comms",
    "sentiment",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "core.csp.ContentSecurityPolicyMiddleware",  # SECURE_CSP on every response, static files included
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Every page needs a login unless its view is marked @login_not_required (status page, healthz).
    "core.middleware.LoginRequiredMiddleware",  # Django's, with public views let through before the session is read
    # Signed-in pages show and read times in the user's own zone (core.models.Preferences); public ones the site's.
    "core.middleware.UserTimeZoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.navigation",
            ],
        },
    },
]

# --- Database and cache -----------------------------------------------------------------------------

DATABASES = {"default": env_database("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_redis_url("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "ears",
        }
    }
else:
    # Shared by the web, worker and beat processes of `make run`, which a per-process cache is not.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

# --- Auth and roles ---------------------------------------------------------------------------------

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

# --- Internationalisation ---------------------------------------------------------------------------

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_time_zone("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- Static files -----------------------------------------------------------------------------------

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"  # filled by collectstatic; served by whitenoise
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- Email ------------------------------------------------------------------------------------------

DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Status updates <status@example.com>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_HOST = env_str("EMAIL_HOST")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EMAIL_PORT", 587, minimum=1)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", EMAIL_PORT == 587)
    EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", EMAIL_PORT == 465)
    if EMAIL_USE_TLS and EMAIL_USE_SSL:
        raise ImproperlyConfigured(
            "EMAIL_USE_TLS and EMAIL_USE_SSL cannot both be on; pick the one your server speaks."
        )
    EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30, minimum=1)
else:
    # Embedded default: every email is written as a file under var/mail/ for inspection.
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = VAR_DIR / "mail"

# Or through an email service provider's API (django-anymail): EMAIL_PROVIDER=postmark, with the provider's own
# settings as ANYMAIL_<NAME> variables (ANYMAIL_POSTMARK_SERVER_TOKEN, …). Its tracking webhook,
# /email/events/<provider>/, turns hard bounces and complaints into suppressed addresses (docs/operations.md).
EMAIL_PROVIDERS = ("amazon_ses", "brevo", "mailersend", "mailgun", "mailjet", "mailtrap", "mandrill", "postal",
                   "postmark", "resend", "sendgrid", "sparkpost", "unisender_go")
EMAIL_PROVIDER = (env_str("EMAIL_PROVIDER", "smtp") or "smtp").lower()
ANYMAIL = env_prefixed("ANYMAIL_")
if EMAIL_PROVIDER not in ("smtp", *EMAIL_PROVIDERS):
    raise ImproperlyConfigured(f"EMAIL_PROVIDER must be smtp or one of {', '.join(EMAIL_PROVIDERS)}; "
                               f"got {EMAIL_PROVIDER!r}.")
if EMAIL_PROVIDER != "smtp":
    if EMAIL_HOST:
        raise ImproperlyConfigured(f"EMAIL_HOST and EMAIL_PROVIDER={EMAIL_PROVIDER} are both set: email goes either "
                                   "through an SMTP server or through a provider's API; unset one.")
    if ":" not in ANYMAIL.get("WEBHOOK_SECRET", ""):
        raise ImproperlyConfigured(f"ANYMAIL_WEBHOOK_SECRET must be set (as user:password) with EMAIL_PROVIDER="
                                   f"{EMAIL_PROVIDER}: it authenticates the provider's bounce and complaint webhook.")
    if EMAIL_PROVIDER == "amazon_ses" and importlib.util.find_spec("boto3") is None:
        raise ImproperlyConfigured("EMAIL_PROVIDER=amazon_ses needs boto3: pip install 'django-anymail[amazon-ses]'.")
    EMAIL_BACKEND = f"anymail.backends.{EMAIL_PROVIDER}.EmailBackend"

# --- X (Twitter) ------------------------------------------------------------------------------------

X_CREDENTIAL_NAMES = ("X_API_KEY", "X_API_SECRET", "X_ACCESS_TOKEN", "X_ACCESS_TOKEN_SECRET")
X_CREDENTIALS = {name: env_str(name) for name in X_CREDENTIAL_NAMES}
_x_missing = [name for name, value in X_CREDENTIALS.items() if not value]
if 0 < len(_x_missing) < len(X_CREDENTIAL_NAMES):
    raise ImproperlyConfigured(
        f"{_x_missing[0]} must be set: posting to X needs all of {', '.join(X_CREDENTIAL_NAMES)}, "
        "or none of them to leave the X channel off."
    )
X_CONFIGURED = not _x_missing
X_BEARER_TOKEN = env_str("X_BEARER_TOKEN")  # read-only access, used for searching mentions

# --- Mastodon and Bluesky (comms/channels/mastodon.py, bluesky.py; sentiment/sources/) -------------
# Each is on when all its credentials are set, off when none is; a half-configured one stops startup.


def _all_or_none(network: str, values: dict[str, str | None]) -> bool:
    missing = [name for name, value in values.items() if not value]
    if 0 < len(missing) < len(values):
        raise ImproperlyConfigured(
            f"{missing[0]} must be set: {network} needs all of {', '.join(values)}, or none of them to leave "
            f"{network} off."
        )
    return not missing


MASTODON_API_BASE_URL = (env_http_url("MASTODON_API_BASE_URL", "") if env_str("MASTODON_API_BASE_URL") else "")
MASTODON_ACCESS_TOKEN = env_str("MASTODON_ACCESS_TOKEN", "")
MASTODON_CONFIGURED = _all_or_none("Mastodon", {"MASTODON_API_BASE_URL": MASTODON_API_BASE_URL,
                                                "MASTODON_ACCESS_TOKEN": MASTODON_ACCESS_TOKEN})
MASTODON_VISIBILITY = env_str("MASTODON_VISIBILITY", "public")
if MASTODON_VISIBILITY not in ("public", "unlisted"):
    raise ImproperlyConfigured(f"MASTODON_VISIBILITY must be public or unlisted, got {MASTODON_VISIBILITY!r}.")
BLUESKY_HANDLE = env_str("BLUESKY_HANDLE", "").lstrip("@")
BLUESKY_APP_PASSWORD = env_str("BLUESKY_APP_PASSWORD", "")
BLUESKY_CONFIGURED = _all_or_none("Bluesky", {"BLUESKY_HANDLE": BLUESKY_HANDLE,
                                              "BLUESKY_APP_PASSWORD": BLUESKY_APP_PASSWORD})
BLUESKY_SERVICE_URL = env_http_url("BLUESKY_SERVICE_URL", "https://bsky.social")  # the PDS that signs in

# --- SMS through Twilio (comms/channels/sms.py, comms/sms.py; docs/operations.md "SMS through Twilio") --------
# On when the account, its token and a sender (a number or a messaging service) are set, off when none is.
TWILIO_ACCOUNT_SID = env_str("TWILIO_ACCOUNT_SID", "")
TWILIO_AUTH_TOKEN = env_str("TWILIO_AUTH_TOKEN", "")
TWILIO_FROM_NUMBER = env_phone_number("TWILIO_FROM_NUMBER")
TWILIO_MESSAGING_SERVICE_SID = env_str("TWILIO_MESSAGING_SERVICE_SID", "")
TWILIO_CONFIGURED = _all_or_none("SMS through Twilio", {
    "TWILIO_ACCOUNT_SID": TWILIO_ACCOUNT_SID, "TWILIO_AUTH_TOKEN": TWILIO_AUTH_TOKEN,
    "TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID": TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID,
})
# Where the Twilio REST API is; only tests (a local fake) and self-hosted egress proxies change it.
TWILIO_API_BASE_URL = env_http_url("TWILIO_API_BASE_URL", "https://api.twilio.com")
SMS_MAX_SEGMENTS = env_int("SMS_MAX_SEGMENTS", 3, minimum=1)  # an update is cut to fit (153 GSM-7 / 67 UCS-2 each)
SMS_CODE_TTL_MINUTES = env_int("SMS_CODE_TTL_MINUTES", 15, minimum=1)  # the opt-in code's life
SMS_CODE_MAX_ATTEMPTS = env_int("SMS_CODE_MAX_ATTEMPTS", 5, minimum=1)  # wrong tries before a new code is needed

# --- Subscribers' Slack, Teams, Discord and generic webhooks (comms/endpoints/, channel "subscriber_hooks") ------

# Permanent failures in a row (the webhook was deleted: 404, 410) after which an endpoint is disabled.
SUBSCRIBER_ENDPOINT_MAX_FAILURES = env_int("SUBSCRIBER_ENDPOINT_MAX_FAILURES", 5, minimum=1)
# Subscriptions waiting for their code at once, all visitors together; over it the form refuses new ones.
UNCONFIRMED_ENDPOINTS_LIMIT = env_int("UNCONFIRMED_ENDPOINTS_LIMIT", 1000, minimum=1)
ENDPOINT_CONFIRM_DAYS = env_int("ENDPOINT_CONFIRM_DAYS", 2, minimum=1)  # a code unused this long expires
# Where a Slack / Discord webhook URL may point (the form refuses other hosts). Tests point these at local fakes.
SLACK_WEBHOOK_HOSTS = env_host_list("SLACK_WEBHOOK_HOSTS") or ["hooks.slack.com"]
DISCORD_WEBHOOK_HOSTS = env_host_list("DISCORD_WEBHOOK_HOSTS") or [
    "discord.com", "discordapp.com", "ptb.discord.com", "canary.discord.com"]
# "Add to Slack" on the subscription form (comms/endpoints/slack_oauth.py; docs/operations.md "Add to Slack"): the
# Slack app's OAuth client. On when both are set, off (the form asks for a webhook URL only) when neither is.
SLACK_CLIENT_ID = env_matching("SLACK_CLIENT_ID", r"[0-9]+\.[0-9]+",
                               "the Client ID from the Slack app's Basic Information page, e.g. 1234567890.1234567890")
SLACK_CLIENT_SECRET = env_matching("SLACK_CLIENT_SECRET", r"[A-Za-z0-9]{16,128}",
                                   "the Client Secret from the Slack app's Basic Information page (letters and digits)",
                                   secret=True)
SLACK_OAUTH_CONFIGURED = _all_or_none('"Add to Slack"', {"SLACK_CLIENT_ID": SLACK_CLIENT_ID,
                                                         "SLACK_CLIENT_SECRET": SLACK_CLIENT_SECRET})
# Where Slack's authorize page (/oauth/v2/authorize) and Web API (/api/) are; only tests (a local fake) change it.
SLACK_URL = env_http_url("SLACK_URL", "https://slack.com")

# --- Facebook page and LinkedIn organization page (comms/channels/facebook.py, linkedin.py) --------------

FACEBOOK_PAGE_ID = env_str("FACEBOOK_PAGE_ID", "")
FACEBOOK_PAGE_TOKEN = env_str("FACEBOOK_PAGE_TOKEN", "")
FACEBOOK_CONFIGURED = _all_or_none("Facebook", {"FACEBOOK_PAGE_ID": FACEBOOK_PAGE_ID,
                                                "FACEBOOK_PAGE_TOKEN": FACEBOOK_PAGE_TOKEN})
FACEBOOK_GRAPH_URL = env_http_url("FACEBOOK_GRAPH_URL", "https://graph.facebook.com")
LINKEDIN_ORGANIZATION_ID = env_str("LINKEDIN_ORGANIZATION_ID", "")
LINKEDIN_ACCESS_TOKEN = env_str("LINKEDIN_ACCESS_TOKEN", "")
LINKEDIN_CONFIGURED = _all_or_none("LinkedIn", {"LINKEDIN_ORGANIZATION_ID": LINKEDIN_ORGANIZATION_ID,
                                                "LINKEDIN_ACCESS_TOKEN": LINKEDIN_ACCESS_TOKEN})
LINKEDIN_API_URL = env_http_url("LINKEDIN_API_URL", "https://api.linkedin.com")
LINKEDIN_API_VERSION = env_str("LINKEDIN_API_VERSION", "202411")
if not (len(LINKEDIN_API_VERSION) == 6 and LINKEDIN_API_VERSION.isdigit() and 1 <= int(LINKEDIN_API_VERSION[4:]) <= 12):
    raise ImproperlyConfigured(f"LINKEDIN_API_VERSION must be a month as YYYYMM, e.g. 202411, "
                               f"got {LINKEDIN_API_VERSION!r}.")

# --- Communications --------------------------------------------------------------------------------

UPDATE_CADENCE_MINUTES = env_cadence("UPDATE_CADENCE_MINUTES", "SEV1=30,SEV2=60,SEV3=120,SEV4=0")
COMMS_QUIET_PERIOD_DAYS = env_int("COMMS_QUIET_PERIOD_DAYS", 7)
COMMS_JARGON = env_list(
    "COMMS_JARGON",
    ["DNS", "BGP", "Kubernetes", "k8s", "pod", "failover", "RCA", "p99", "shard", "replica", "upstream",
     "hotfix", "rollback", "5xx", "root cause", "SLO", "load balancer", "cache invalidation", "mitigation"],
)
DELIVERY_MAX_ATTEMPTS = env_int("DELIVERY_MAX_ATTEMPTS", 8, minimum=1)  # ≈ 10 min of retries
EMAIL_BATCH_SIZE = env_int("EMAIL_BATCH_SIZE", 200, minimum=1)
# Delivery rows of messages finished longer ago than this are summarised into per-message counts and deleted
# (comms.retention); 0 keeps them forever.
DELIVERY_RETENTION_DAYS = env_int("DELIVERY_RETENTION_DAYS", 90, minimum=0)
STATUS_PAGE_NAME = env_str("STATUS_PAGE_NAME", "Example Inc.")
STATUS_PAGE_CACHE_SECONDS = env_int("STATUS_PAGE_CACHE_SECONDS", 300)
# Sites that may show /status/embed/ in an iframe (its Content-Security-Policy frame-ancestors; every other page: none).
STATUS_EMBED_FRAME_ANCESTORS = env_list("STATUS_EMBED_FRAME_ANCESTORS", ["https:"])
if any(";" in source or " " in source or "'none'" == source for source in STATUS_EMBED_FRAME_ANCESTORS):
    raise ImproperlyConfigured("STATUS_EMBED_FRAME_ANCESTORS must be CSP sources separated by commas, such as "
                               f"https://www.example.com, got {','.join(STATUS_EMBED_FRAME_ANCESTORS)!r}.")

# --- Outbound requests to configured URLs (webhooks) -----------------------------------------------
# core/outbound.py: https only, public addresses only, no redirects; docs/configuration.md "Outbound requests".
OUTBOUND_ALLOW_HTTP = env_bool("OUTBOUND_ALLOW_HTTP", DEBUG)  # plain http:// (development, local fakes)
OUTBOUND_ALLOWED_HOSTS = env_host_list("OUTBOUND_ALLOWED_HOSTS")  # sent to whatever address they resolve to

# --- Sentiment -------------------------------------------------------------------------------------

SENTIMENT_LEXICON = env_str("SENTIMENT_LEXICON", "incident")
if SENTIMENT_LEXICON not in ("incident", "plain"):
    raise ImproperlyConfigured(f"SENTIMENT_LEXICON must be incident or plain, got {SENTIMENT_LEXICON!r}.")
SENTIMENT_LINK_WINDOW_HOURS = env_int("SENTIMENT_LINK_WINDOW_HOURS", 24)
SENTIMENT_SPIKE_FACTOR = float(env_int("SENTIMENT_SPIKE_FACTOR", 3, minimum=1))
SENTIMENT_SPIKE_MINIMUM = env_int("SENTIMENT_SPIKE_MINIMUM", 5, minimum=1)
# How soon a flagged mention should be answered, per priority (sentiment.flagging.rank), from when it was
# received; past it, beat tells the assignee (or support and communications leads) once. Seconds per priority.
SENTIMENT_REPLY_TARGETS = env_durations(
    "SENTIMENT_REPLY_TARGETS", "critical=15m,high=1h,normal=4h", ("critical", "high", "normal")
)
# Unflagged mentions the daily spot-check puts into the review queue, so that missed complaints are found (0: off).
SENTIMENT_SPOT_CHECKS_PER_DAY = env_int("SENTIMENT_SPOT_CHECKS_PER_DAY", 5, minimum=0)
MENTIONS_BULK_LIMIT = 1000
# A bulk request of 1,000 mentions of up to 10,000 characters each must fit.
DATA_UPLOAD_MAX_MEMORY_SIZE = 24 * 1024 * 1024

# --- Accounts --------------------------------------------------------------------------------------

# Points each part of the priority score is worth (accounts/priority.py, docs/configuration.md "Priority score").
IMPACT_SCORE_WEIGHTS = env_weights(
    "IMPACT_SCORE_WEIGHTS", "revenue=30,tier=15,impact=20,duration=10,sla=10,mentions=10,renewal=5",
    ("revenue", "tier", "impact", "duration", "sla", "mentions", "renewal"),
)
IMPACT_REVENUE_FULL = env_int("IMPACT_REVENUE_FULL", 1_000_000, minimum=1)  # revenue at which that part is full
IMPACT_DURATION_FULL_MINUTES = env_int("IMPACT_DURATION_FULL_MINUTES", 240, minimum=1)
IMPACT_MENTIONS_FULL = env_int("IMPACT_MENTIONS_FULL", 5, minimum=1)
IMPACT_RENEWAL_DAYS = env_int("IMPACT_RENEWAL_DAYS", 90)
IMPACT_TOP_N = env_int("IMPACT_TOP_N", 10, minimum=1)  # impacts that must close before the incident can
COMPENSATION_APPROVAL_LIMIT = env_int("COMPENSATION_APPROVAL_LIMIT", 500)  # above this a lead approves
# Monthly uptime below the first number earns the second as a percentage of the month's fee.
SLA_CREDIT_TIERS = env_credit_tiers("SLA_CREDIT_TIERS", "99.9=10,99.0=25,95.0=100")
SLA_CREDIT_CAP_PERCENT = env_int("SLA_CREDIT_CAP_PERCENT", 100)  # of the month's fee
FOLLOW_UP_REMINDER_HOURS = env_int("FOLLOW_UP_REMINDER_HOURS", 24, minimum=1)

# --- Celery -----------------------------------------------------------------------------------------
# Tasks are idempotent (they claim rows with conditional updates), so a message is acknowledged only
# after its task finished and is redelivered if the worker dies. Future work lives in the database and
# is picked up by beat; no task is scheduled further ahead than CELERY_MAX_COUNTDOWN seconds.

CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 300, minimum=30)  # the soft limit is 15 s less
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - 15
CELERY_MAX_COUNTDOWN = 120

if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    # An unacknowledged message is redelivered after this long. It must outlast the longest task
    # plus the longest retry countdown, or a slow task would run twice.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": CELERY_TASK_TIME_LIMIT + CELERY_MAX_COUNTDOWN + 180,
    }
else:
    CELERY_BROKER_URL = "filesystem://"
    _broker_dir = VAR_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
    for _folder in ("queue", "control"):
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Several deployments (staging, production) may share one Redis if each has its own queue name.
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_QUEUE", "celery")
# Customer messages first: three queues, named after CELERY_QUEUE, so that no flood of mentions to score ever
# waits in front of a delivery. "<CELERY_QUEUE>.deliveries": the dispatcher, the sends, the sweeper, subscription
# confirmations and the status page export; "<CELERY_QUEUE>.ingest": scoring and X polling; the default queue:
# the rest. A worker started without --queues consumes all three; `--queues deliveries` (the queue's alias) only
# that one (docs/operations.md, "Workers and queues").
CELERY_DELIVERIES_QUEUE = f"{CELERY_TASK_DEFAULT_QUEUE}.deliveries"
CELERY_INGEST_QUEUE = f"{CELERY_TASK_DEFAULT_QUEUE}.ingest"
CELERY_TASK_QUEUES = {
    name: {"exchange": name, "routing_key": name, "alias": alias}
    for name, alias in ((CELERY_TASK_DEFAULT_QUEUE, "default"), (CELERY_DELIVERIES_QUEUE, "deliveries"),
                        (CELERY_INGEST_QUEUE, "ingest"))
}
_QUEUE_OF_TASK = {
    "comms.tasks.dispatch_due_messages": "deliveries",
    "comms.tasks.send_deliveries": "deliveries",
    "comms.tasks.sweep_deliveries": "deliveries",
    "comms.tasks.send_subscription_confirmation": "deliveries",
    "comms.tasks.send_endpoint_confirmation": "deliveries",
    "comms.tasks.run_maintenance_windows": "deliveries",
    "comms.statuspage.export.export_status_page": "deliveries",
    "comms.statuspage.export.export_status_page_if_stale": "deliveries",
    "sentiment.tasks.score_mentions": "ingest",
    "sentiment.tasks.score_stragglers": "ingest",
    "sentiment.tasks.poll_x_searches": "ingest",
    "sentiment.tasks.poll_mastodon_searches": "ingest",
    "sentiment.tasks.poll_bluesky_searches": "ingest",
    "sentiment.tasks.poll_facebook_comments": "ingest",
    "sentiment.tasks.poll_linkedin_comments": "ingest",
}


def _route_task(name, args, kwargs, options, task=None, **extra):
    """Celery's router: the task's queue of _QUEUE_OF_TASK, named after the default queue as it is when the task
    is sent, so that a process that renames its default queue (the test suite, per run) keeps the three together.
    None: the default queue."""
    kind = _QUEUE_OF_TASK.get(name)
    if kind is None:
        return None
    default = task.app.conf.task_default_queue if task is not None else CELERY_TASK_DEFAULT_QUEUE
    return {"queue": f"{default}.{kind}"}


CELERY_TASK_ROUTES = (_route_task,)
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Celery's Django fix-up closes the database connection before and after every task unless told to reuse it,
# and a new PostgreSQL session per task (a forked backend, authentication, cold catalogue caches) cost as much
# CPU as scoring the task's mentions (docs/benchmarks.md, ingest). Reuse it; config.celery_app still closes it
# between tasks once it is older than CONN_MAX_AGE or no longer usable, as Django does between requests.
CELERY_DB_REUSE_MAX = 1000
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "record-worker-heartbeat": {"task": "core.tasks.record_worker_heartbeat", "schedule": 30.0},
    "dispatch-due-messages": {"task": "comms.tasks.dispatch_due_messages", "schedule": 3.0},
    "sweep-deliveries": {"task": "comms.tasks.sweep_deliveries", "schedule": 30.0},
    "remind-overdue-updates": {"task": "comms.tasks.remind_overdue_updates", "schedule": 60.0},
    "poll-x-searches": {"task": "sentiment.tasks.poll_x_searches", "schedule": 15.0},
    "poll-mastodon-searches": {"task": "sentiment.tasks.poll_mastodon_searches", "schedule": 15.0},
    "poll-bluesky-searches": {"task": "sentiment.tasks.poll_bluesky_searches", "schedule": 15.0},
    "poll-facebook-comments": {"task": "sentiment.tasks.poll_facebook_comments", "schedule": 30.0},
    "poll-linkedin-comments": {"task": "sentiment.tasks.poll_linkedin_comments", "schedule": 30.0},
    "check-negative-spikes": {"task": "sentiment.tasks.check_negative_spikes", "schedule": 60.0},
    "escalate-overdue-mentions": {"task": "sentiment.tasks.escalate_overdue_mentions", "schedule": 60.0},
    "score-stragglers": {"task": "sentiment.tasks.score_stragglers", "schedule": 60.0},
    "sample-spot-checks": {"task": "sentiment.tasks.sample_spot_checks", "schedule": 3600.0},
    "prune-old-deliveries": {"task": "comms.tasks.prune_old_deliveries", "schedule": 3600.0},
    "remind-overdue-follow-ups": {"task": "accounts.tasks.remind_overdue_follow_ups", "schedule": 300.0},
    "run-maintenance-windows": {"task": "comms.tasks.run_maintenance_windows", "schedule": 30.0},
}

# --- Maintenance windows ---------------------------------------------------------------------------
# Advance notices to the subscribers of the affected components, this long before a window starts (seconds,
# longest first). Beat (run-maintenance-windows) starts and ends windows and sends what is due.
MAINTENANCE_NOTICE_OFFSETS = env_offsets("MAINTENANCE_NOTICE_OFFSETS", "72h,1h")

# --- Status page export ----------------------------------------------------------------------------
# After every public change a worker writes the status page, its Atom feed and JSON as static files
# (comms/statuspage/export.py), for nginx, object storage or a CDN to serve even while the application is down.

STATUS_EXPORT_DIR = env_absolute_path("STATUS_EXPORT_DIR")  # unset: no export to a directory
STATUS_EXPORT_S3_BUCKET = env_str("STATUS_EXPORT_S3_BUCKET")  # credentials: the usual AWS_* variables
if STATUS_EXPORT_S3_BUCKET:
    STORAGES["status-export"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": STATUS_EXPORT_S3_BUCKET,
            "endpoint_url": env_http_url("STATUS_EXPORT_S3_ENDPOINT_URL", "https://s3.amazonaws.com")
            if env_str("STATUS_EXPORT_S3_ENDPOINT_URL") else None,
            "file_overwrite": True,
            "querystring_auth": False,
            "object_parameters": {"CacheControl": "public, no-cache"},
        },
    }
# A storage alias in STORAGES that the export is also saved to (it must overwrite files).
STATUS_EXPORT_STORAGE = env_str("STATUS_EXPORT_STORAGE", "status-export" if STATUS_EXPORT_S3_BUCKET else None)
if STATUS_EXPORT_STORAGE and STATUS_EXPORT_STORAGE not in STORAGES:
    raise ImproperlyConfigured(
        f"STATUS_EXPORT_STORAGE must name a storage in STORAGES ({', '.join(STORAGES)}), "
        f"got {STATUS_EXPORT_STORAGE!r}; set STATUS_EXPORT_S3_BUCKET to export to S3."
    )
if STATUS_EXPORT_DIR or STATUS_EXPORT_STORAGE:
    # Catches up within a minute when a queued export was lost (a Redis restart without persistence).
    CELERY_BEAT_SCHEDULE["export-status-page-if-stale"] = {
        "task": "comms.statuspage.export.export_status_page_if_stale",
        "schedule": 60.0,
    }

# --- API --------------------------------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "knox.auth.TokenAuthentication",  # first, so that anonymous requests get 401, not 403
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["core.api.RolePermissions"],
    "DEFAULT_PAGINATION_CLASS": "core.api.Pagination",
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "core.schema.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    # JSON only: the API never answers text/html (people have the pages and Swagger UI at /api/docs/).
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_THROTTLE_CLASSES": ["core.api.ApiRateThrottle"],
    # JSON nested past 32 levels or holding lone surrogates is a 400 at the parser, not a 500 further on.
    "DEFAULT_PARSER_CLASSES": [
        "core.api.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
}
REST_KNOX = {
    "TOKEN_TTL": None,  # create_api_token sets an expiry per token (--days)
    "AUTH_HEADER_PREFIX": "Token",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "EARS incident communications API",
    "DESCRIPTION": (
        "Incidents, components and their timelines for external tools. Authenticate with "
        "`Authorization: Token <token>` (create one with `manage.py create_api_token USERNAME`). "
        "Errors always have the shape `{status, code, message, fields?}`."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",  # tag operations by resource (incidents, components, …)
    "ENUM_NAME_OVERRIDES": {
        "IncidentStatusEnum": "incidents.choices.IncidentStatus",
        "ComponentStatusEnum": "incidents.choices.ComponentStatus",
        # Choice sets whose field names (tier, state, source, kind) other models use for other choices.
        "AccountTierEnum": "accounts.choices.Tier",
        "ImpactLevelEnum": "accounts.choices.ImpactLevel",
        "ImpactStateEnum": "accounts.choices.ImpactState",
        "ImpactSourceEnum": "accounts.choices.ImpactSource",
        "FollowUpKindEnum": "accounts.choices.FollowUpKind",
        "CompensationKindEnum": "accounts.choices.CompensationKind",
        "CompensationStateEnum": "accounts.choices.CompensationState",
        "AlertStatusEnum": "comms.alerts.mapping.AlertStatus",
        "DismissReasonEnum": "sentiment.choices.DismissReason",
    },
}

# --- Logging ----------------------------------------------------------------------------------------

LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
if LOG_LEVEL not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
    raise ImproperlyConfigured(f"LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL, got {LOG_LEVEL!r}.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # Its DEBUG lines name each request's path, and a Slack or Discord webhook's path is its secret.
        "urllib3.connectionpool": {"level": "INFO"},
        # A refused or missing page (403, 404) is an answer, not an error: only 5xx are logged, with a traceback.
        "django.request": {"level": "ERROR"},
        # Beat sends the dispatch task every few seconds: neither each send nor each finished task is news.
        "celery.beat": {"level": "WARNING"},
        "celery.app.trace": {"level": "WARNING"},
        "celery.worker.strategy": {"level": "WARNING"},  # "Task … received", every few seconds
    },
}

# --- Abuse protection ------------------------------------------------------------------------------
# Counters live in the default cache (core/ratelimit.py); docs/configuration.md "Abuse protection".

# How many reverse proxies of ours stand in front of the web processes. 0: the client is REMOTE_ADDR and
# X-Forwarded-For is ignored (anyone can write it). N: the client is the N-th address from the right of it.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
# Each subscription request costs a confirmation email (OWASP API4): (requests, seconds) per client and per address.
SUBSCRIBE_RATE_PER_IP = env_rate("SUBSCRIBE_RATE_PER_IP", "10/hour")
SUBSCRIBE_RATE_PER_ADDRESS = env_rate("SUBSCRIBE_RATE_PER_ADDRESS", "3/day")
# Each SMS subscription request costs a paid text message with a code: per client, per number, and at most this
# many subscriptions waiting for their code at once (codes sent in the last day), against SMS pumping.
SMS_SUBSCRIBE_RATE_PER_IP = env_rate("SMS_SUBSCRIBE_RATE_PER_IP", "10/hour")
SMS_SUBSCRIBE_RATE_PER_NUMBER = env_rate("SMS_SUBSCRIBE_RATE_PER_NUMBER", "3/hour")
SMS_UNCONFIRMED_LIMIT = env_int("SMS_UNCONFIRMED_LIMIT", 200, minimum=1)
# This many failed sign-ins, each within LOGIN_LOCKOUT_MINUTES of the one before, lock sign-in for that long.
LOGIN_FAILURES_PER_USERNAME = env_int("LOGIN_FAILURES_PER_USERNAME", 5, minimum=1)
LOGIN_FAILURES_PER_IP = env_int("LOGIN_FAILURES_PER_IP", 20, minimum=1)
LOGIN_LOCKOUT_MINUTES = env_int("LOGIN_LOCKOUT_MINUTES", 15, minimum=1)
AUTHENTICATION_BACKENDS = ["core.login.ThrottledModelBackend"]  # the admin's login is throttled too
# The API (core.api.ApiRateThrottle): per token (or signed-in user), per client address, and stricter per token
# for bulk ingest (1,000 mentions a request) and previews (the lint runs over the whole text). Over: 429 + Retry-After.
API_RATE_PER_TOKEN = env_rate("API_RATE_PER_TOKEN", "1200/minute")
API_RATE_PER_IP = env_rate("API_RATE_PER_IP", "2400/minute")
API_SCOPED_RATES = {
    "ingest": env_rate("API_RATE_INGEST", "120/minute"),
    "preview": env_rate("API_RATE_PREVIEW", "120/minute"),
    "alerts": env_rate("API_RATE_ALERTS", "300/minute"),  # per alert source (POST /api/v1/alerts/)
}
RATELIMIT_KEY_PREFIX = "ratelimit"  # cache keys; the tests give each test a prefix of its own

# --- Production hardening ---------------------------------------------------------------------------
# Secure by default when DEBUG is off and SITE_URL is https (`manage.py check --deploy` is then clean);
# `make run` (DEBUG on, http://127.0.0.1) gets none of it unless asked.

_https = not DEBUG and SITE_URL.startswith("https://")
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", _https)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", _https)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # load balancers probe over plain HTTP
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000 if _https else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", _https)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", _https)  # no effect until the domain is submitted
# Behind a TLS-terminating proxy the request arrives as http; the proxy says "https" in this header (which it
# must set itself, overwriting the client's). Trusted only when we are told there is a proxy.
_proxy_ssl_header = env_header_name("SECURE_PROXY_SSL_HEADER", "X-Forwarded-Proto" if TRUSTED_PROXY_COUNT else None)
if _proxy_ssl_header:
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _proxy_ssl_header.upper().replace("-", "_"), "https")
SECURE_CONTENT_TYPE_NOSNIFF = True

# --- Content Security Policy ------------------------------------------------------------------------
# Sent by core.csp.ContentSecurityPolicyMiddleware (Django 6.0's SECURE_CSP shape); docs/configuration.md. The pages
# use static files only: no inline script, event handler, style attribute or <style> block. SecurityMiddleware
# already sends X-Content-Type-Options: nosniff, Referrer-Policy: same-origin (SECURE_REFERRER_POLICY's default),
# Cross-Origin-Opener-Policy: same-origin, and XFrameOptionsMiddleware X-Frame-Options: DENY.
SECURE_CSP = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}
