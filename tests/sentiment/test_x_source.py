"""Polling X searches against a patched HTTP session serving X API v2 recent-search replies."""

import time
from datetime import timedelta

import pytest
import requests
from django.utils import timezone

from sentiment.models import Mention, XSearch
from sentiment.x_source import NOT_CONFIGURED, SNOWFLAKE_EPOCH_MS, due_searches, poll_due_searches
from tests.comms.test_transports import http_response
from tests.outermost_http import patched_requests

pytestmark = pytest.mark.django_db
Status = XSearch.Status
SEARCH_URL = "https://api.twitter.com/2/tweets/search/recent"


@pytest.fixture
def http():
    with patched_requests() as request:
        yield request


@pytest.fixture
def bearer(settings):
    settings.X_BEARER_TOKEN = "test-bearer"


def tweet_id(minutes_ago: float) -> str:
    """A real-looking post id: X ids are snowflakes carrying their creation time."""
    ms = int((time.time() - minutes_ago * 60) * 1000)
    return str((ms - SNOWFLAKE_EPOCH_MS) << 22)


def tweet(id_: str, author="1", text=None):
    return {"id": id_, "text": text or f"Checkout is down again ({id_})", "author_id": author,
            "created_at": "2026-03-02T10:15:00.000Z", "lang": "en", "edit_history_tweet_ids": [id_]}


USERS = [
    {"id": "1", "username": "dana", "name": "Dana", "public_metrics": {"followers_count": 1200}},
    {"id": "2", "username": "bigco", "name": "Big Co", "public_metrics": {"followers_count": 250000}},
]


def page(tweets, next_token=None):
    """A recent-search page as X sends it (newest first)."""
    meta = {"result_count": len(tweets)}
    if tweets:
        meta |= {"newest_id": tweets[0]["id"], "oldest_id": tweets[-1]["id"]}
    if next_token:
        meta["next_token"] = next_token
    body = {"meta": meta}
    if tweets:
        authors = {t["author_id"] for t in tweets}
        body |= {"data": tweets, "includes": {"users": [u for u in USERS if u["id"] in authors]}}
    return http_response(200, body, url=SEARCH_URL)


def params(call):
    """The query string that crossed the boundary, without the parameters left unset."""
    assert call.args[1:3] == ("GET", SEARCH_URL)
    return {key: value for key, value in call.kwargs["params"].items() if value is not None}


def make_due(*searches):
    XSearch.objects.filter(pk__in=[s.pk for s in searches]).update(
        next_poll_at=timezone.now() - timedelta(seconds=1), last_polled_at=timezone.now() - timedelta(hours=1)
    )


@pytest.fixture
def search(db):
    return XSearch.objects.create(name="Acme", query="@acme OR acme.com -is:retweet", interval_seconds=60)


def test_pagination_stores_every_tweet_of_every_page(http, bearer, search):
    newest, middle, oldest = tweet_id(3), tweet_id(5), tweet_id(8)
    http.side_effect = [page([tweet(newest), tweet(middle, author="2")], next_token="b26v89c19zqg8o3f"),
                        page([tweet(oldest)])]

    assert poll_due_searches() == 1

    assert http.call_count == 2
    first, second = (params(call) for call in http.call_args_list)
    assert first == {
        "query": "@acme OR acme.com -is:retweet", "max_results": 100, "expansions": "author_id",
        "user.fields": "username,name,public_metrics", "tweet.fields": "created_at,lang,author_id",
    }
    assert second == first | {"next_token": "b26v89c19zqg8o3f"}
    assert http.call_args.kwargs["headers"]["Authorization"] == "Bearer test-bearer"
    assert set(Mention.objects.values_list("external_id", flat=True)) == {newest, middle, oldest}
    big = Mention.objects.get(external_id=middle)
    assert (big.source, big.author_handle, big.author_name, big.author_followers, big.language) == (
        "x", "bigco", "Big Co", 250000, "en")
    assert big.url == f"https://x.com/bigco/status/{middle}"
    assert big.posted_at.isoformat() == "2026-03-02T10:15:00+00:00"
    search.refresh_from_db()
    assert (search.status, search.last_error, search.since_id) == (Status.OK, "", newest)
    assert (search.pending_next_token, search.pending_newest_id) == ("", "")
    assert abs((search.next_poll_at - search.last_polled_at).total_seconds() - 60) < 1


def test_since_id_is_persisted_and_sent_on_the_next_poll(http, bearer, search):
    first_newest, second_newest = tweet_id(10), tweet_id(1)
    http.side_effect = [page([tweet(first_newest)]), page([tweet(second_newest)]), page([])]

    poll_due_searches()
    assert poll_due_searches() == 0  # not due again until the interval has passed
    make_due(search)
    poll_due_searches()
    make_due(search)
    poll_due_searches()  # nothing new: since_id stays

    sent = [params(call).get("since_id") for call in http.call_args_list]
    assert sent == [None, first_newest, second_newest]
    search.refresh_from_db()
    assert search.since_id == second_newest and search.status == Status.OK
    assert Mention.objects.count() == 2


def test_429_waits_for_the_reset_and_the_next_poll_resumes_where_it_stopped(http, bearer, search):
    a, b, c = tweet_id(3), tweet_id(4), tweet_id(6)
    reset = int(time.time()) + 600
    http.side_effect = [
        page([tweet(a), tweet(b)], next_token="page-2-token"),
        http_response(429, {"title": "Too Many Requests", "detail": "Too Many Requests", "status": 429},
                      {"x-rate-limit-reset": str(reset)}),
    ]

    assert poll_due_searches() == 1

    search.refresh_from_db()
    assert search.status == Status.WAITING
    assert "429" in search.last_error and "resumes" in search.last_error
    assert search.next_poll_at.timestamp() == reset
    assert (search.pending_next_token, search.pending_newest_id, search.since_id) == ("page-2-token", a, "")
    assert Mention.objects.count() == 2
    assert poll_due_searches() == 0 and http.call_count == 2  # not before the reset

    XSearch.objects.update(next_poll_at=timezone.now())  # the reset time has come
    http.side_effect = [page([tweet(b), tweet(c)])]  # b again: the page boundary moved; harmless
    assert poll_due_searches() == 1

    assert http.call_count == 3
    resumed = params(http.call_args_list[2])
    assert resumed["next_token"] == "page-2-token" and "since_id" not in resumed
    assert sorted(Mention.objects.values_list("external_id", flat=True)) == sorted([a, b, c])
    search.refresh_from_db()
    assert (search.status, search.last_error, search.since_id) == (Status.OK, "", a)
    assert (search.pending_next_token, search.pending_newest_id) == ("", "")


def test_a_429_without_a_reset_header_waits_fifteen_minutes(http, bearer, search):
    http.return_value = http_response(429, {"title": "Too Many Requests"})
    poll_due_searches()
    search.refresh_from_db()
    assert search.status == Status.WAITING
    assert abs((search.next_poll_at - timezone.now()).total_seconds() - 900) < 5


def test_401_marks_the_source_failing_with_the_error_and_does_not_raise(http, bearer, search):
    http.return_value = http_response(
        401, {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"})

    assert poll_due_searches() == 1

    search.refresh_from_db()
    assert search.status == Status.FAILING and search.enabled
    assert search.last_error.startswith("X refused the search (401): Unauthorized.")
    assert abs((search.next_poll_at - timezone.now()).total_seconds() - 3600) < 5
    assert poll_due_searches() == 0 and http.call_count == 1
    assert not Mention.objects.exists()


def test_an_unreachable_x_is_retried_at_the_next_interval(http, bearer, search):
    http.side_effect = requests.ConnectionError("Name or service not known")
    poll_due_searches()
    search.refresh_from_db()
    assert search.status == Status.FAILING
    assert search.last_error == "X could not be reached: Name or service not known"
    assert abs((search.next_poll_at - timezone.now()).total_seconds() - 60) < 5


def test_an_unexpected_reply_fails_that_search_only(http, bearer, search):
    other = XSearch.objects.create(name="Status", query="acme status")
    http.side_effect = [http_response(200, {"data": [{"text": "no id"}], "meta": {"result_count": 1}}),
                        page([tweet(tweet_id(2))])]

    assert poll_due_searches() == 2

    search.refresh_from_db()
    other.refresh_from_db()
    assert search.status == Status.FAILING and search.last_error.startswith("Polling failed unexpectedly")
    assert other.status == Status.OK and Mention.objects.count() == 1


def test_without_a_bearer_token_nothing_is_polled_and_the_source_says_why(http, settings, search):
    settings.X_BEARER_TOKEN = ""

    assert poll_due_searches() == 0

    assert http.call_count == 0
    search.refresh_from_db()
    assert (search.status, search.last_error) == (Status.NOT_CONFIGURED, NOT_CONFIGURED)
    assert NOT_CONFIGURED == "X is not configured: set X_BEARER_TOKEN to search X for mentions."


def test_only_enabled_searches_that_are_due_are_polled(http, bearer):
    now = timezone.now()
    XSearch.objects.create(name="never polled", query="q1")
    XSearch.objects.create(name="due", query="q2", next_poll_at=now - timedelta(seconds=5),
                           last_polled_at=now - timedelta(seconds=65))
    XSearch.objects.create(name="later", query="q3", next_poll_at=now + timedelta(seconds=30))
    XSearch.objects.create(name="disabled", query="q4", enabled=False)
    XSearch.objects.create(name="polled just now", query="q5", last_polled_at=now - timedelta(seconds=10))
    XSearch.objects.create(name="slow interval", query="q6", interval_seconds=3600,
                           next_poll_at=now - timedelta(seconds=5), last_polled_at=now - timedelta(minutes=30))
    http.return_value = page([])

    assert {s.name for s in due_searches()} == {"never polled", "due"}
    assert poll_due_searches() == 2

    assert sorted(params(call)["query"] for call in http.call_args_list) == ["q1", "q2"]
    assert poll_due_searches() == 0 and http.call_count == 2


def test_a_since_id_older_than_the_recent_search_window_is_dropped_not_sent(http, bearer, search):
    XSearch.objects.filter(pk=search.pk).update(since_id=tweet_id(8 * 24 * 60), pending_next_token="stale")
    http.return_value = page([tweet(tweet_id(1))])

    poll_due_searches()

    sent = params(http.call_args)
    assert "since_id" not in sent and "next_token" not in sent
    search.refresh_from_db()
    assert search.status == Status.OK and search.since_id == Mention.objects.get().external_id
