import os

import pytest
from rest_framework.test import APIClient

from core.roles import ACCOUNT_MANAGER, COMMS_LEAD, SUPPORT
from tests.factories import UserFactory

PASSWORD = "correct horse battery staple"

# In CI (REQUIRE_SERVICES=1) a test that needs Redis, PostgreSQL or Chromium must run, never skip.
REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"


def skip_or_fail(reason: str):
    if REQUIRE_SERVICES:
        pytest.fail(f"REQUIRE_SERVICES is set but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session", autouse=True)
def private_broker():
    """Tasks the tests enqueue go nowhere a real worker listens: without Redis an in-memory broker (not
    var/broker, which a running `make run` worker would consume); with Redis a queue of this run's own,
    deleted at the end. Integration tests start their workers on queues of their own."""
    import uuid

    from django.conf import settings

    from config.celery_app import app

    if not settings.REDIS_URL:
        app.conf.broker_url = "memory://"
        yield
        return
    queue = f"ears-tests-{uuid.uuid4().hex[:8]}"
    app.conf.task_default_queue = queue
    yield
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL)
    queues = (queue, f"{queue}.deliveries", f"{queue}.ingest")  # the three config.settings routes to
    client.delete(*queues, *(key for name in queues for key in client.keys(f"_kombu.binding*{name}")))


@pytest.fixture(autouse=True)
def private_cache(settings):
    """Without Redis, use a per-process cache rather than var/cache, which a running `make run` shares."""
    if "FileBasedCache" in settings.CACHES["default"]["BACKEND"]:
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


@pytest.fixture(autouse=True)
def fresh_status_page_cache(private_cache):
    """A shared cache (Redis in CI) may hold pages from an earlier run under the same version: start anew."""
    from comms.statuspage import invalidate_status_page

    invalidate_status_page()


@pytest.fixture(autouse=True)
def fresh_rate_limits(settings):
    """Rate-limit counters and sign-in locks live in the cache too, which outlives a test (and, on Redis, a run):
    each test counts under a prefix of its own, as if nobody had subscribed or failed to sign in yet."""
    import uuid

    settings.RATELIMIT_KEY_PREFIX = f"ratelimit-test-{uuid.uuid4().hex[:12]}"


@pytest.fixture(autouse=True)
def still_rate_limit_clock(monkeypatch):
    """The limiter's fixed windows end at moments of their own: a test's requests that straddled one were counted
    in two windows, and a limit the test had reached was not applied (a flaky refusal). The clock stands still
    for each test at the moment it starts; tests that move it use `clock` (tests/test_abuse.py)."""
    from core import ratelimit

    moment = ratelimit.now()
    monkeypatch.setattr(ratelimit, "now", lambda: moment)


@pytest.fixture(autouse=True)
def outbound_to_local_fakes(settings):
    """Tests post to fakes on 127.0.0.1 over plain http (as `make run` may, with OUTBOUND_ALLOWED_HOSTS set): let
    them through by name. The guard's own tests (tests/security/test_outbound_requests.py) set both back to
    nothing allowed, so that each refusal is proved."""
    settings.OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
    settings.OUTBOUND_ALLOW_HTTP = True


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def smtp_sink(settings):
    """A local SMTP server for this test, with Django's SMTP backend pointed at it. Yields the sink's handler:
    what it received (.messages, .received, .total, .duplicates, .sessions), what makes it refuse
    (.refuse_recipients, .data_replies, .tempfail_until, ...), and .host/.port for processes the test starts."""
    from tests.smtp_sink import SmtpSink

    with SmtpSink() as sink:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = sink.host, sink.port
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        settings.EMAIL_TIMEOUT = 5
        yield sink.handler


@pytest.fixture
def default_data(db):
    """The templates, lexicon and flag rules that data migrations create; transactional tests flush them."""
    from comms.defaults import create_default_templates
    from sentiment.defaults import create_default_rules_and_lexicon

    create_default_templates()
    create_default_rules_and_lexicon()


@pytest.fixture
def lead(db):
    return UserFactory(username="lead", role=COMMS_LEAD)


@pytest.fixture
def manager(db):
    return UserFactory(username="manager", role=ACCOUNT_MANAGER)


@pytest.fixture
def support(db):
    return UserFactory(username="support", role=SUPPORT)


@pytest.fixture
def admin_user(db):
    return UserFactory(username="admin", is_staff=True, is_superuser=True)


@pytest.fixture
def roleless(db):
    return UserFactory(username="nobody")


@pytest.fixture
def users(lead, manager, support, admin_user, roleless):
    return {"lead": lead, "manager": manager, "support": support, "admin": admin_user, "roleless": roleless}


@pytest.fixture
def api():
    """An API client; call api_as(user) to authenticate it like an external tool would, with a token."""
    return APIClient()


@pytest.fixture
def api_as(api):
    from knox.models import AuthToken

    def login(user):
        if user is None:
            api.credentials()
        else:
            _, token = AuthToken.objects.create(user, expiry=None)
            api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        return api

    return login
