"""Abuse: subscriptions are rate-limited per client and per address, sign-in is throttled, nothing reaches an
unconfirmed subscriber, and API tokens are stored hashed and can be revoked."""

import re
from contextlib import contextmanager

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client, RequestFactory
from django.utils import timezone
from knox.crypto import hash_token
from knox.models import AuthToken

from comms import delivery, subscriptions
from comms.models import Delivery, Subscriber
from core import login, ratelimit
from tests.comms.helpers import scheduled_message
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

HOUR, DAY = 3600, 86400


@pytest.fixture
def eager(settings, django_capture_on_commit_callbacks):
    """Run the confirmation task inline after commit, so that mailoutbox holds every email a request caused."""
    settings.CELERY_TASK_ALWAYS_EAGER = True

    @contextmanager
    def running():
        with django_capture_on_commit_callbacks(execute=True):
            yield

    return running


@pytest.fixture
def clock(monkeypatch):
    """The limiter's clock, moved forward by hand: `clock.advance(seconds)`."""

    class Clock:
        moment = ratelimit.now()

        def advance(self, seconds):
            self.moment += seconds

    fake = Clock()
    monkeypatch.setattr(ratelimit, "now", lambda: fake.moment)
    return fake


@pytest.fixture
def cache_down(monkeypatch):
    """Every call the limiter makes to the cache fails, as when Redis is unreachable."""

    class Down:
        def __getattr__(self, name):
            def unavailable(*args, **kwargs):
                raise ConnectionError("cache unavailable")

            return unavailable

    monkeypatch.setattr(ratelimit, "cache", Down())


def subscribe(client, email, ip="203.0.113.7", **headers):
    return client.post("/status/subscribe/", {"email": email}, REMOTE_ADDR=ip, **headers)


def text_of(response) -> str:
    return response.content.decode()


# --- Subscribing: per client ------------------------------------------------------------------------------


def test_a_client_over_the_subscribe_rate_gets_429_with_retry_after_and_nothing_is_stored_or_sent(
    client, settings, mailoutbox, eager
):
    settings.SUBSCRIBE_RATE_PER_IP = (2, HOUR)
    with eager():
        answers = [subscribe(client, f"reader{n}@example.com") for n in range(3)]

    assert [answer.status_code for answer in answers] == [200, 200, 429]
    refused = answers[2]
    assert 0 < int(refused["Retry-After"]) <= HOUR
    assert "Too many subscription requests have come from your network." in text_of(refused)
    assert re.search(r"try again in (\d+ minutes|a minute|about an hour)", text_of(refused))
    assert 'action="/status/subscribe/"' in text_of(refused)  # the form again, to try later
    assert sorted(Subscriber.objects.values_list("email", flat=True)) == ["reader0@example.com", "reader1@example.com"]
    assert sorted(email.to[0] for email in mailoutbox) == ["reader0@example.com", "reader1@example.com"]


def test_another_client_may_still_subscribe_when_one_is_over_the_rate(client, settings):
    settings.SUBSCRIBE_RATE_PER_IP = (1, HOUR)
    assert subscribe(client, "first@example.com", ip="203.0.113.7").status_code == 200
    assert subscribe(client, "second@example.com", ip="203.0.113.7").status_code == 429
    assert subscribe(client, "second@example.com", ip="198.51.100.9").status_code == 200


def test_the_client_rate_lifts_when_its_window_ends(client, settings, clock):
    settings.SUBSCRIBE_RATE_PER_IP = (1, HOUR)
    subscribe(client, "first@example.com")
    refused = subscribe(client, "second@example.com")
    assert refused.status_code == 429

    clock.advance(int(refused["Retry-After"]))

    assert subscribe(client, "second@example.com").status_code == 200
    assert Subscriber.objects.filter(email="second@example.com").exists()


def test_invalid_submissions_count_against_the_client_too(client, settings):
    settings.SUBSCRIBE_RATE_PER_IP = (2, HOUR)
    assert [subscribe(client, "not-an-address").status_code for _ in range(2)] == [400, 400]
    assert subscribe(client, "reader@example.com").status_code == 429


def test_ipv6_addresses_in_one_64_share_one_count(client, settings):
    settings.SUBSCRIBE_RATE_PER_IP = (1, HOUR)
    assert subscribe(client, "first@example.com", ip="2001:db8:1:2::1").status_code == 200
    assert subscribe(client, "second@example.com", ip="2001:db8:1:2:ffff::9").status_code == 429
    assert subscribe(client, "second@example.com", ip="2001:db8:1:3::1").status_code == 200


# --- Subscribing: per address -----------------------------------------------------------------------------


@pytest.mark.parametrize("known_as", ["new", "pending", "confirmed"])
def test_an_address_over_its_rate_gets_429_from_any_client_whatever_its_state(
    client, settings, mailoutbox, eager, known_as
):
    settings.SUBSCRIBE_RATE_PER_ADDRESS = (2, DAY)
    if known_as != "new":
        confirmed_at = timezone.now() if known_as == "confirmed" else None
        Subscriber.objects.create(email="reader@example.com", confirmed_at=confirmed_at)
    with eager():
        answers = [subscribe(client, "reader@example.com", ip=f"203.0.113.{n}") for n in range(1, 4)]
    token_before_refusal = Subscriber.objects.get().confirm_token
    sent = len(mailoutbox)

    assert [answer.status_code for answer in answers] == [200, 200, 429]
    assert 0 < int(answers[2]["Retry-After"]) <= DAY
    assert "Confirmation emails for this address have been asked for too often." in text_of(answers[2])
    assert sent == (0 if known_as == "confirmed" else 2)
    with eager():
        assert subscribe(client, "reader@example.com", ip="203.0.113.99").status_code == 429
    assert Subscriber.objects.get().confirm_token == token_before_refusal  # the last email's link still works
    assert len(mailoutbox) == sent


def test_the_address_refusal_reads_the_same_for_a_new_and_a_confirmed_address(client, settings):
    settings.SUBSCRIBE_RATE_PER_ADDRESS = (1, DAY)
    Subscriber.objects.create(email="known@example.com", confirmed_at=timezone.now())
    refusals = []
    for email in ("new@example.com", "known@example.com"):
        subscribe(client, email)
        refusals.append(subscribe(client, email))

    def alert(response):
        return re.search(r'<p class="error" role="alert" id="refusal">(.*?)</p>', text_of(response), re.S).group(1)

    assert [refusal.status_code for refusal in refusals] == [429, 429]
    assert re.sub(r"try again .*", "", alert(refusals[0])) == re.sub(r"try again .*", "", alert(refusals[1]))


def test_plus_tags_and_capitals_do_not_escape_the_address_rate(client, settings):
    settings.SUBSCRIBE_RATE_PER_ADDRESS = (2, DAY)
    assert subscribe(client, "reader+1@example.com", ip="203.0.113.1").status_code == 200
    assert subscribe(client, "Reader+2@Example.com", ip="203.0.113.2").status_code == 200
    assert subscribe(client, "reader@example.com", ip="203.0.113.3").status_code == 429
    assert subscribe(client, "reader@example.org", ip="203.0.113.4").status_code == 200


@pytest.mark.parametrize(
    ("email", "mailbox"),
    [("Reader@Example.com", "reader@example.com"), ("reader+news@example.com", "reader@example.com"),
     ("a+b+c@example.com", "a@example.com"), ("+only@example.com", "+only@example.com")],
)
def test_the_address_is_counted_by_the_mailbox_it_reaches(email, mailbox):
    assert subscriptions.mailbox(email) == mailbox


def test_a_quoted_local_part_is_refused_with_a_form_error_and_nothing_is_stored_or_sent(client, mailoutbox, eager):
    with eager():
        response = subscribe(client, '"flood"@example.com')

    assert response.status_code == 400
    assert "without quotation marks" in text_of(response)
    assert not Subscriber.objects.exists()
    assert mailoutbox == []


def test_a_quoted_local_part_is_refused_by_the_api_too(api_as, lead):
    response = api_as(lead).post("/api/v1/subscribers/", {"email": '"flood"@example.com'}, format="json")

    assert response.status_code == 400
    assert "without quotation marks" in response.json()["message"]
    assert not Subscriber.objects.exists()


def test_a_full_width_domain_and_capitals_do_not_escape_the_address_rate(client, settings, eager):
    settings.SUBSCRIBE_RATE_PER_ADDRESS = (2, DAY)
    with eager():
        assert subscribe(client, "flood@example.com", ip="203.0.113.1").status_code == 200
        assert subscribe(client, "Flood@ＥＸＡＭＰＬＥ.com", ip="203.0.113.2").status_code == 200
        assert subscribe(client, "flood@example.com", ip="203.0.113.3").status_code == 429

    assert list(Subscriber.objects.values_list("email", flat=True)) == ["flood@example.com"]


@pytest.mark.parametrize(
    ("email", "mailbox"),
    [('"flood"@example.com', "flood@example.com"), ('"flood+1"@example.com', "flood@example.com"),
     ("ｆｌｏｏｄ@ｅｘａｍｐｌｅ.com", "flood@example.com"), ("flood@example.com.", "flood@example.com"),
     ("flood@Bücher.example", "flood@xn--bcher-kva.example"), ("flood@xn--bcher-kva.example",
                                                                "flood@xn--bcher-kva.example")],
)
def test_every_spelling_of_a_mailbox_is_counted_as_that_mailbox(email, mailbox):
    assert subscriptions.mailbox(email) == mailbox


def test_when_the_cache_is_down_subscribing_still_works_unlimited(client, settings, cache_down):
    settings.SUBSCRIBE_RATE_PER_IP = settings.SUBSCRIBE_RATE_PER_ADDRESS = (1, HOUR)
    answers = [subscribe(client, "reader@example.com").status_code for _ in range(3)]
    assert answers == [200, 200, 200]


# --- Who the client is ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("trusted", "remote", "forwarded", "client"),
    [
        (0, "203.0.113.7", None, "203.0.113.7"),
        (0, "203.0.113.7", "198.51.100.1", "203.0.113.7"),  # nobody's X-Forwarded-For is believed
        (1, "10.0.0.2", "198.51.100.1", "198.51.100.1"),
        (1, "10.0.0.2", "1.2.3.4, 198.51.100.1", "198.51.100.1"),  # the client wrote 1.2.3.4 itself
        (2, "10.0.0.3", "1.2.3.4, 198.51.100.1, 10.0.0.2", "198.51.100.1"),
        (2, "10.0.0.3", "198.51.100.1", "198.51.100.1"),  # came in past the outer proxy
        (1, "10.0.0.2", None, "10.0.0.2"),
        (1, "10.0.0.2", "not-an-ip", "10.0.0.2"),
        (1, "10.0.0.2", "198.51.100.1:51234", "198.51.100.1"),
        (1, "10.0.0.2", "[2001:db8::1]:443", "2001:db8::1"),
        (0, "::ffff:203.0.113.7", None, "203.0.113.7"),
    ],
)
def test_the_client_is_the_first_hop_we_did_not_add_ourselves(settings, trusted, remote, forwarded, client):
    settings.TRUSTED_PROXY_COUNT = trusted
    headers = {"REMOTE_ADDR": remote} | ({"HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {})
    assert ratelimit.client_ip(RequestFactory().get("/", **headers)) == client


def test_without_trusted_proxies_a_forged_x_forwarded_for_does_not_escape_the_limit(client, settings):
    settings.SUBSCRIBE_RATE_PER_IP = (1, HOUR)
    assert subscribe(client, "a@example.com", HTTP_X_FORWARDED_FOR="198.51.100.1").status_code == 200
    assert subscribe(client, "b@example.com", HTTP_X_FORWARDED_FOR="198.51.100.2").status_code == 429


def test_behind_a_trusted_proxy_each_client_is_counted_by_the_address_the_proxy_saw(client, settings):
    settings.SUBSCRIBE_RATE_PER_IP, settings.TRUSTED_PROXY_COUNT = (1, HOUR), 1
    proxy = "10.0.0.2"
    assert subscribe(client, "a@example.com", ip=proxy, HTTP_X_FORWARDED_FOR="198.51.100.1").status_code == 200
    assert subscribe(client, "b@example.com", ip=proxy, HTTP_X_FORWARDED_FOR="198.51.100.2").status_code == 200
    forged = subscribe(client, "c@example.com", ip=proxy, HTTP_X_FORWARDED_FOR="9.9.9.9, 198.51.100.1")
    assert forged.status_code == 429


# --- Confirmation before any update -----------------------------------------------------------------------


def test_an_unconfirmed_subscriber_receives_no_update_email_until_confirming(client, lead, mailoutbox):
    Subscriber.objects.create(email="confirmed@example.com", confirmed_at=timezone.now())
    pending = Subscriber.objects.create(email="pending@example.com")

    def send_an_update() -> set[str]:
        mailoutbox.clear()
        message = scheduled_message(lead, channels=["email"])
        assert delivery.dispatch_due_messages() == [message.pk]
        delivery.send_deliveries(list(Delivery.objects.filter(message=message).values_list("pk", flat=True)))
        return {address for email in mailoutbox for address in email.to}

    assert send_an_update() == {"confirmed@example.com"}
    assert not Delivery.objects.filter(recipient="pending@example.com").exists()

    client.post(f"/status/confirm/{pending.confirm_token}/")
    assert send_an_update() == {"confirmed@example.com", "pending@example.com"}


# --- Sign-in throttling -----------------------------------------------------------------------------------


def sign_in(client, username, password="wrong password", ip="203.0.113.7"):
    return client.post("/login/", {"username": username, "password": password}, REMOTE_ADDR=ip)


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_repeated_failures_for_a_username_lock_it_with_429_saying_when_to_try_again(client, settings, lead):
    settings.LOGIN_FAILURES_PER_USERNAME, settings.LOGIN_LOCKOUT_MINUTES = 3, 15
    answers = [sign_in(client, "lead") for _ in range(3)]

    assert [answer.status_code for answer in answers] == [200, 200, 429]
    assert "That username and password do not match" in text_of(answers[0])
    assert 14 * 60 < int(answers[2]["Retry-After"]) <= 15 * 60
    assert "Too many failed sign-ins" in text_of(answers[2]) and "try again in 15 minutes" in text_of(answers[2])

    refused = sign_in(client, "lead", PASSWORD, ip="198.51.100.5")  # even the right password, from elsewhere
    assert refused.status_code == 429
    assert not signed_in(client)


def test_an_unknown_username_is_locked_and_answered_exactly_like_a_real_one(settings, lead):
    settings.LOGIN_FAILURES_PER_USERNAME = 2

    def answers_for(username):
        client = Client()
        return [(answer.status_code, answer.get("Retry-After") is not None,
                 re.search(r'role="alert">(.*?)</p>', text_of(answer)).group(1))
                for answer in (sign_in(client, username, ip=f"203.0.113.{n}") for n in range(3))]

    assert answers_for("lead") == answers_for("no-such-user")


def test_the_lock_ends_after_the_lockout_and_then_the_right_password_works(client, settings, clock, lead):
    settings.LOGIN_FAILURES_PER_USERNAME, settings.LOGIN_LOCKOUT_MINUTES = 2, 15
    sign_in(client, "lead")
    assert sign_in(client, "lead").status_code == 429
    clock.advance(10 * 60)
    assert sign_in(client, "lead", PASSWORD).status_code == 429  # refused unchecked: the lock is not extended

    clock.advance(5 * 60 + 1)
    response = sign_in(client, "lead", PASSWORD)

    assert response.status_code == 302 and signed_in(client)


def test_failures_from_one_client_lock_sign_in_from_it_for_every_username(settings, lead, support):
    settings.LOGIN_FAILURES_PER_USERNAME, settings.LOGIN_FAILURES_PER_IP = 100, 3
    attacker = Client()
    for username in ("alice", "bob", "carol"):
        sign_in(attacker, username, ip="203.0.113.66")

    assert sign_in(attacker, "support", PASSWORD, ip="203.0.113.66").status_code == 429
    assert not signed_in(attacker)
    elsewhere = Client()
    assert sign_in(elsewhere, "support", PASSWORD, ip="198.51.100.5").status_code == 302


def test_a_successful_sign_in_forgets_the_earlier_failures_of_that_username(client, settings, lead):
    settings.LOGIN_FAILURES_PER_USERNAME = 3
    sign_in(client, "lead")
    sign_in(client, "lead")
    assert sign_in(client, "lead", PASSWORD).status_code == 302
    client.post("/logout/")

    assert [sign_in(client, "lead").status_code for _ in range(2)] == [200, 200]


def test_a_locked_username_cannot_sign_in_through_the_admin_login_either(client, settings, admin_user):
    settings.LOGIN_FAILURES_PER_USERNAME = 2
    sign_in(client, "admin")
    sign_in(client, "admin")

    response = client.post("/admin/login/", {"username": "admin", "password": PASSWORD, "next": "/admin/"})

    assert response.status_code == 200  # the admin's own form, with its own generic error
    assert not signed_in(client)
    login.unlock("admin")
    assert client.post("/admin/login/", {"username": "admin", "password": PASSWORD}).status_code == 302


def test_a_correct_sign_in_below_the_limit_is_not_slowed_or_refused(client, settings, lead):
    settings.LOGIN_FAILURES_PER_USERNAME = 3
    sign_in(client, "lead")
    sign_in(client, "lead")
    assert sign_in(client, "lead", PASSWORD).status_code == 302 and signed_in(client)


def test_when_the_cache_is_down_signing_in_still_works(client, settings, cache_down, lead):
    settings.LOGIN_FAILURES_PER_USERNAME = 1
    assert sign_in(client, "lead").status_code == 200
    assert sign_in(client, "lead", PASSWORD).status_code == 302


# --- API tokens -------------------------------------------------------------------------------------------


def test_the_database_holds_no_api_token_in_clear_only_its_digest(capsys, support):
    call_command("create_api_token", "support", "--days", "7")
    token = capsys.readouterr().out.strip().splitlines()[-1]

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {AuthToken._meta.db_table}")  # every column of every row, as stored
        rows = cursor.fetchall()

    assert len(rows) == 1
    assert not [value for value in rows[0] if token in str(value)]
    stored = AuthToken.objects.get()
    assert stored.digest == hash_token(token) and stored.digest != token
    assert token.startswith(stored.token_key) and len(stored.token_key) < len(token) // 4


def test_a_revoked_api_token_is_refused_with_401(api, support):
    _, token = AuthToken.objects.create(support, expiry=None)
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get("/api/v1/incidents/").status_code == 200

    call_command("revoke_api_tokens", "support")

    assert api.get("/api/v1/incidents/").status_code == 401
