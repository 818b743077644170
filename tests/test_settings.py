"""A configuration mistake stops startup with a sentence naming the variable."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import (
    env_bool,
    env_database,
    env_header_name,
    env_http_url,
    env_int,
    env_rate,
    env_redis_url,
    env_time_zone,
)

ROOT = Path(__file__).resolve().parent.parent


def manage_check(tmp_path, **variables):
    """Run `manage.py check` in a fresh process with only these variables set."""
    inherited = ("DATABASE_", "REDIS_", "X_", "MASTODON_", "BLUESKY_", "FACEBOOK_", "LINKEDIN_", "SECRET_KEY", "DEBUG",
                 "ALLOWED_HOSTS")
    env = {key: value for key, value in os.environ.items() if not key.startswith(inherited)}
    env.update({"VAR_DIR": str(tmp_path), "DEBUG": "true"}, **variables)
    return subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    "value", ["http://127.0.0.1:6379", "localhost:6379", "redis://", "redis://host:port/0", "redis://host/db"]
)
def test_a_malformed_redis_url_is_refused_naming_the_variable(value):
    with pytest.raises(ImproperlyConfigured, match=r"^REDIS_URL must be a redis:// URL"):
        env_redis_url("REDIS_URL", {"REDIS_URL": value})


def test_a_wellformed_redis_url_is_accepted_and_an_unset_one_means_embedded_mode():
    assert env_redis_url("REDIS_URL", {"REDIS_URL": "redis://127.0.0.1:6379/2"}) == "redis://127.0.0.1:6379/2"
    assert env_redis_url("REDIS_URL", {}) is None


@pytest.mark.parametrize(
    "value", ["mysql://root@localhost/app", "postgres://", "postgres://localhost", "not a url", "pg://h/db"]
)
def test_a_malformed_database_url_is_refused_naming_the_variable(value):
    with pytest.raises(ImproperlyConfigured, match=r"^DATABASE_URL "):
        env_database("DATABASE_URL", "sqlite:///x", {"DATABASE_URL": value})


def test_a_postgres_database_url_selects_postgresql_with_its_parts():
    config = env_database("DATABASE_URL", "sqlite:///x", {"DATABASE_URL": "postgres://app:pw@db.internal:6543/ears"})
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["HOST"], config["PORT"], config["NAME"], config["USER"]) == ("db.internal", 6543, "ears", "app")


def test_the_default_database_is_sqlite_with_locking_tuned_for_several_processes(tmp_path):
    config = env_database("DATABASE_URL", f"sqlite:///{tmp_path}/db.sqlite3", {})
    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert config["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


@pytest.mark.parametrize(
    ("helper", "name", "value", "message"),
    [
        (lambda e: env_bool("DEBUG", True, e), "DEBUG", "maybe", "DEBUG must be true or false"),
        (lambda e: env_int("EMAIL_PORT", 25, 1, e), "EMAIL_PORT", "smtp", "EMAIL_PORT must be a whole number"),
        (lambda e: env_int("EMAIL_PORT", 25, 1, e), "EMAIL_PORT", "0", "EMAIL_PORT must be at least 1"),
        (lambda e: env_http_url("SITE_URL", "http://x", e), "SITE_URL", "status.example.com", "SITE_URL must be"),
        (lambda e: env_time_zone("TIME_ZONE", "UTC", e), "TIME_ZONE", "Mars/Olympus", "TIME_ZONE must be an IANA"),
    ],
)
def test_each_helper_names_the_variable_it_refuses(helper, name, value, message):
    with pytest.raises(ImproperlyConfigured, match=f"^{message}"):
        helper({name: value})


def test_startup_with_a_bad_redis_url_stops_with_one_sentence_naming_it(tmp_path):
    result = manage_check(tmp_path, REDIS_URL="http://127.0.0.1:6379")
    assert result.returncode == 2
    assert result.stderr.startswith("Configuration error: REDIS_URL must be a redis:// URL")
    assert "Traceback" not in result.stderr


def test_startup_with_a_bad_database_url_stops_naming_it(tmp_path):
    result = manage_check(tmp_path, DATABASE_URL="mysql://root@localhost/ears")
    assert result.returncode == 2
    assert "Configuration error: DATABASE_URL must be a URL such as postgres://" in result.stderr


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    result = manage_check(tmp_path, DEBUG="false", ALLOWED_HOSTS="status.example.com")
    assert result.returncode == 2
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_production_starts_with_a_long_secret_key_and_allowed_hosts(tmp_path):
    result = manage_check(tmp_path, DEBUG="false", ALLOWED_HOSTS="status.example.com", SECRET_KEY="k" * 60)
    assert result.returncode == 0, result.stderr


def test_partial_x_credentials_name_the_missing_variable(tmp_path):
    result = manage_check(tmp_path, X_API_KEY="key", X_API_SECRET="secret")
    assert result.returncode == 2
    assert "X_ACCESS_TOKEN must be set" in result.stderr


@pytest.mark.parametrize("variables, message", [
    ({"EMAIL_PROVIDER": "pigeon"}, "EMAIL_PROVIDER must be smtp or one of amazon_ses,"),
    ({"EMAIL_PROVIDER": "postmark"}, "ANYMAIL_WEBHOOK_SECRET must be set (as user:password) with EMAIL_PROVIDER"),
    ({"EMAIL_PROVIDER": "postmark", "ANYMAIL_WEBHOOK_SECRET": "a:b", "EMAIL_HOST": "smtp.example.com"},
     "EMAIL_HOST and EMAIL_PROVIDER=postmark are both set"),
    ({"EMAIL_PROVIDER": "mailgun", "ANYMAIL_WEBHOOK_SECRET": "a:b"},
     "EMAIL_PROVIDER=mailgun: its tracking webhook needs a setting that is missing"),
])
def test_an_email_provider_mistake_stops_startup_naming_the_variable(tmp_path, variables, message):
    result = manage_check(tmp_path, **variables)
    assert result.returncode != 0
    assert message in result.stderr


def test_an_email_provider_with_its_settings_starts(tmp_path):
    result = manage_check(tmp_path, EMAIL_PROVIDER="postmark", ANYMAIL_WEBHOOK_SECRET="a:b",
                          ANYMAIL_POSTMARK_SERVER_TOKEN="token")
    assert result.returncode == 0, result.stderr


def test_the_embedded_default_needs_no_server(tmp_path):
    result = manage_check(tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "broker" / "queue").is_dir()


@pytest.mark.parametrize("name, value, message", [
    ("IMPACT_SCORE_WEIGHTS", "revenue=lots", "IMPACT_SCORE_WEIGHTS must look like revenue=30,"),
    ("IMPACT_SCORE_WEIGHTS", "revenue=30,colour=5", "IMPACT_SCORE_WEIGHTS takes revenue, tier, impact"),
    ("IMPACT_SCORE_WEIGHTS", "revenue=-1", "with weights of 0 or more"),
    ("SLA_CREDIT_TIERS", "99.9:10", "SLA_CREDIT_TIERS must look like 99.9=10,99.0=25,95.0=100"),
    ("SLA_CREDIT_TIERS", "high=10", "SLA_CREDIT_TIERS must look like 99.9=10,99.0=25,95.0=100"),
    ("IMPACT_TOP_N", "0", "IMPACT_TOP_N must be at least 1"),
])
def test_a_malformed_accounts_setting_stops_startup_naming_it(tmp_path, name, value, message):
    result = manage_check(tmp_path, **{name: value})

    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


def test_every_variable_the_settings_read_is_documented_in_the_configuration_docs():
    import re

    settings_text = (ROOT / "config" / "settings.py").read_text()
    read = set(re.findall(r'env_\w+\(\s*"([A-Z_]+)"', settings_text))
    documented = (ROOT / "docs" / "configuration.md").read_text()

    assert {"UPDATE_CADENCE_MINUTES", "IMPACT_SCORE_WEIGHTS", "SLA_CREDIT_TIERS"} <= read
    assert not sorted(name for name in read if f"`{name}`" not in documented)


# --- Abuse protection and production security ---------------------------------------------------------


def production_variables(tmp_path, **variables) -> dict[str, str]:
    """Production variables and these, on top of PATH and the like: none of the caller's database, Redis,
    security or Django ones."""
    import secrets

    # Not passed on. DJANGO_ too: the browser tests set DJANGO_ALLOW_ASYNC_UNSAFE, which check --deploy reports.
    dropped = ("DATABASE_", "REDIS_", "X_", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "SITE_URL", "SECURE_",
               "TRUSTED_PROXY", "CSRF_", "SUBSCRIBE_", "LOGIN_", "DJANGO_")
    env = {key: value for key, value in os.environ.items() if not key.startswith(dropped)}
    env.update(VAR_DIR=str(tmp_path), DEBUG="false", SECRET_KEY=secrets.token_urlsafe(45),
               ALLOWED_HOSTS="status.example.com", SITE_URL="https://status.example.com")
    env.update(variables)
    return env


def settings_under(env: dict[str, str], *names: str) -> dict:
    """The values of these settings as a fresh process with this environment sees them."""
    import json

    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        f"print(json.dumps({{name: getattr(settings, name, None) for name in {list(names)!r}}}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env | {"DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_check_deploy_reports_no_issues_under_the_production_settings(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=production_variables(tmp_path), capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_production_on_https_redirects_sends_hsts_and_secures_cookies_but_lets_the_health_probe_through(tmp_path):
    values = settings_under(
        production_variables(tmp_path), "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE", "SECURE_REDIRECT_EXEMPT", "SECURE_PROXY_SSL_HEADER",
    )
    assert values == {
        "SECURE_SSL_REDIRECT": True, "SECURE_HSTS_SECONDS": 31_536_000, "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True, "SECURE_REDIRECT_EXEMPT": ["^healthz$"], "SECURE_PROXY_SSL_HEADER": None,
    }


def test_development_mode_neither_redirects_to_https_nor_sends_hsts(tmp_path):
    env = production_variables(tmp_path, DEBUG="true", SITE_URL="http://127.0.0.1:8000")
    values = settings_under(env, "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SESSION_COOKIE_SECURE")
    assert values == {"SECURE_SSL_REDIRECT": False, "SECURE_HSTS_SECONDS": 0, "SESSION_COOKIE_SECURE": False}


def test_the_proxy_https_header_is_trusted_only_when_a_proxy_is_declared(tmp_path):
    def header(**variables):
        return settings_under(production_variables(tmp_path, **variables), "SECURE_PROXY_SSL_HEADER")[
            "SECURE_PROXY_SSL_HEADER"]

    assert header() is None
    assert header(TRUSTED_PROXY_COUNT="1") == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert header(TRUSTED_PROXY_COUNT="1", SECURE_PROXY_SSL_HEADER="X-Scheme") == ["HTTP_X_SCHEME", "https"]


def test_each_deployment_may_turn_a_security_default_off(tmp_path):
    env = production_variables(tmp_path, SECURE_SSL_REDIRECT="false", SECURE_HSTS_SECONDS="0",
                               SECURE_HSTS_PRELOAD="no", SECURE_COOKIES="off")
    values = settings_under(env, "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SECURE_HSTS_PRELOAD",
                            "SESSION_COOKIE_SECURE")
    assert values == {
        "SECURE_SSL_REDIRECT": False, "SECURE_HSTS_SECONDS": 0, "SECURE_HSTS_PRELOAD": False,
        "SESSION_COOKIE_SECURE": False,
    }


def test_the_health_probe_is_not_redirected_to_https_but_pages_are(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

    assert client.get("/healthz").status_code != 301
    assert client.get("/status/")["Location"] == "https://testserver/status/"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("10/hour", (10, 3600)), ("3/day", (3, 86400)), ("5/15min", (5, 900)), ("1 / 2 Hours", (1, 7200)),
     ("100/s", (100, 1))],
)
def test_a_rate_is_a_number_of_requests_per_period(value, expected):
    assert env_rate("SUBSCRIBE_RATE_PER_IP", "10/hour", {"SUBSCRIBE_RATE_PER_IP": value}) == expected


@pytest.mark.parametrize("value", ["10", "ten/hour", "10/fortnight", "0/hour", "10/0hours", "-1/day", "10 per hour"])
def test_a_malformed_rate_is_refused_naming_the_variable(value):
    with pytest.raises(ImproperlyConfigured, match=r"^SUBSCRIBE_RATE_PER_ADDRESS must look like 10/hour, 3/day"):
        env_rate("SUBSCRIBE_RATE_PER_ADDRESS", "3/day", {"SUBSCRIBE_RATE_PER_ADDRESS": value})


@pytest.mark.parametrize("value", ["X-Forwarded-Proto: https", "HTTP_X_FORWARDED_PROTO", "X Forwarded Proto"])
def test_a_malformed_proxy_header_is_refused_naming_the_variable(value):
    with pytest.raises(ImproperlyConfigured, match=r"^SECURE_PROXY_SSL_HEADER must be an HTTP header name"):
        env_header_name("SECURE_PROXY_SSL_HEADER", None, {"SECURE_PROXY_SSL_HEADER": value})


@pytest.mark.parametrize(("name", "value", "message"), [
    ("SUBSCRIBE_RATE_PER_IP", "lots", "SUBSCRIBE_RATE_PER_IP must look like 10/hour"),
    ("LOGIN_FAILURES_PER_USERNAME", "0", "LOGIN_FAILURES_PER_USERNAME must be at least 1"),
    ("TRUSTED_PROXY_COUNT", "one", "TRUSTED_PROXY_COUNT must be a whole number"),
])
def test_a_malformed_abuse_setting_stops_startup_naming_it(tmp_path, name, value, message):
    result = manage_check(tmp_path, **{name: value})

    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


def test_make_run_logs_no_routine_beat_sends_or_refusals_but_still_server_errors():
    import logging

    assert not logging.getLogger("celery.beat").isEnabledFor(logging.INFO)
    assert not logging.getLogger("celery.app.trace").isEnabledFor(logging.INFO)
    assert not logging.getLogger("celery.worker.strategy").isEnabledFor(logging.INFO)
    assert not logging.getLogger("django.request").isEnabledFor(logging.WARNING)  # 403s and 404s
    assert logging.getLogger("django.request").isEnabledFor(logging.ERROR)  # 500s
