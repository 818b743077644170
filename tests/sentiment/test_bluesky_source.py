"""Polling Bluesky searches against a local fake PDS and AppView (tests/fakes/bluesky.py)."""

import time
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from comms import delivery
from comms.channels.bluesky import forget_sessions
from comms.models import Delivery
from sentiment import review
from sentiment.choices import Source
from sentiment.models import Mention, SocialSearch
from sentiment.sources import bluesky as source
from sentiment.sources.bluesky import NOT_CONFIGURED, poll_due_searches
from tests.fakes import Answer
from tests.fakes.bluesky import APP_PASSWORD, HANDLE, FakeBluesky

pytestmark = pytest.mark.django_db
Status, Kind = SocialSearch.Status, SocialSearch.Kind
SEARCH = "/xrpc/app.bsky.feed.searchPosts"
NOTIFICATIONS = "/xrpc/app.bsky.notification.listNotifications"
PROFILES = "/xrpc/app.bsky.actor.getProfiles"


@pytest.fixture
def pds(settings):
    forget_sessions()
    with FakeBluesky() as fake:
        settings.BLUESKY_CONFIGURED = True
        settings.BLUESKY_HANDLE, settings.BLUESKY_APP_PASSWORD = HANDLE, APP_PASSWORD
        settings.BLUESKY_SERVICE_URL = fake.url
        yield fake
    forget_sessions()


def search(kind=Kind.KEYWORDS, query="acme", **fields) -> SocialSearch:
    return SocialSearch.objects.create(name=f"{kind} {query}", network="bluesky", kind=kind, query=query, **fields)


def poll_again(*searches):
    SocialSearch.objects.filter(pk__in=[s.pk for s in searches]).update(next_poll_at=None, last_polled_at=None)
    return poll_due_searches()


def test_a_brand_search_stores_posts_with_handle_and_link_and_moves_its_cursor(pds):
    brand = search()
    post = pds.add_post("acme checkout has been down for an hour", handle="dana.bsky.social")
    pds.add_post("unrelated")

    assert poll_due_searches() == 1

    mention = Mention.objects.get()
    assert mention.source == Source.BLUESKY and mention.external_id == post["uri"]
    assert mention.author_handle == "dana.bsky.social" and mention.language == "en"
    assert mention.url == f"https://bsky.app/profile/dana.bsky.social/post/{post['uri'].rsplit('/', 1)[1]}"
    brand.refresh_from_db()
    assert brand.status == Status.OK and brand.cursor.startswith("2026-12-07T09:00:01")
    [call] = pds.calls("GET", SEARCH)
    assert call.query["q"] == ["acme"] and call.query["sort"] == ["latest"] and "since" not in call.query


def test_the_next_poll_sends_since_and_reads_every_page_down_to_it(pds, monkeypatch):
    monkeypatch.setattr(source, "SEARCH_PAGE_SIZE", 2)
    brand = search()
    pds.add_post("acme one")
    poll_due_searches()
    cursor = SocialSearch.objects.get().cursor
    for n in range(5):
        pds.add_post(f"acme again {n}")

    poll_again(brand)

    assert Mention.objects.count() == 6
    later = pds.calls("GET", SEARCH)[1:]
    assert [call.query.get("cursor") for call in later] == [None, ["2"], ["4"]]
    assert all(call.query["since"] == [cursor] for call in later)
    brand.refresh_from_db()
    assert brand.cursor.startswith("2026-12-07T09:00:06") and brand.pending_cursor == ""


def test_mentions_replies_and_quotes_come_from_notifications(pds):
    search(Kind.MENTIONS, "")
    pds.add_mention("is your API down?", handle="erin.bsky.social")

    poll_due_searches()

    assert list(Mention.objects.values_list("author_handle", "text")) == [
        ("erin.bsky.social", f"@{HANDLE} is your API down?")]


def test_a_429_on_a_later_page_keeps_its_place_and_the_next_poll_resumes_there(pds, monkeypatch):
    monkeypatch.setattr(source, "SEARCH_PAGE_SIZE", 2)
    brand = search()
    pds.add_post("acme one")
    poll_due_searches()
    for n in range(5):
        pds.add_post(f"acme again {n}")
    reset = int(time.time()) + 300
    original = pds.route

    def second_page_limited(method, path, query, headers, body):
        if path == SEARCH and query.get("cursor") == ["2"] and not getattr(second_page_limited, "done", False):
            second_page_limited.done = True
            raise Answer(429, {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
                         {"ratelimit-reset": str(reset), "ratelimit-remaining": "0"})
        return original(method, path, query, headers, body)

    pds.route = second_page_limited
    poll_again(brand)

    brand.refresh_from_db()
    assert brand.status == Status.WAITING and "429" in brand.last_error
    assert abs(brand.next_poll_at.timestamp() - reset) < 5
    assert brand.pending_cursor == "2" and Mention.objects.count() == 3

    poll_again(brand)

    assert Mention.objects.count() == 6
    assert pds.calls("GET", SEARCH)[-2].query["cursor"] == ["2"]
    brand.refresh_from_db()
    assert brand.status == Status.OK and brand.pending_cursor == "" and brand.pending_newest == ""


def test_a_wrong_app_password_marks_the_search_failing_for_an_hour(pds, settings):
    brand = search()
    settings.BLUESKY_APP_PASSWORD = "wrong"

    poll_due_searches()

    brand.refresh_from_db()
    assert brand.status == Status.FAILING and "BLUESKY_APP_PASSWORD" in brand.last_error
    assert brand.next_poll_at > timezone.now() + timedelta(minutes=55)


def test_an_outage_then_recovery_stores_every_post_once(pds):
    brand = search()
    pds.add_post("acme one")
    poll_due_searches()
    pds.add_post("acme two")
    pds.fail_next(SEARCH, 502)

    poll_again(brand)
    brand.refresh_from_db()
    assert brand.status == Status.FAILING
    poll_again(brand)
    poll_again(brand)

    assert sorted(Mention.objects.values_list("text", flat=True)) == ["acme one", "acme two"]


def test_without_configuration_nothing_is_polled_and_the_search_says_why(settings):
    settings.BLUESKY_CONFIGURED = False
    brand = search()

    assert poll_due_searches() == 0

    brand.refresh_from_db()
    assert (brand.status, brand.last_error) == (Status.NOT_CONFIGURED, NOT_CONFIGURED)


def test_a_response_to_a_bluesky_reply_is_posted_in_the_same_thread(pds, lead):
    thread = pds.add_post("acme: what is going on with checkout?", handle="dana.bsky.social")
    post = pds.add_mention("still down for me", handle="erin.bsky.social", reply_to=thread["uri"])
    search(Kind.MENTIONS, "")
    poll_due_searches()

    review.respond(Mention.objects.get(external_id=post["uri"]), actor=lead, text="Sorry: fixed at 10:05.",
                   post_to_x=True)
    reply = Delivery.objects.get()
    outcome = delivery.send_deliveries([reply.pk])

    assert reply.channel == "bluesky" and outcome.sent == 1
    [record] = pds.posted
    assert record["text"] == "Sorry: fixed at 10:05."
    refs = {part: {"uri": ref["uri"], "cid": ref["cid"]} for part, ref in record["reply"].items() if part != "$type"}
    assert refs == {"root": {"uri": thread["uri"], "cid": post["record"]["reply"]["root"]["cid"]},
                    "parent": {"uri": post["uri"], "cid": post["cid"]}}


def test_a_reply_to_a_mention_from_another_source_is_refused(pds, lead):
    mention = Mention.objects.create(source=Source.API, external_id="a1", text="hi", posted_at=timezone.now())

    with pytest.raises(ValidationError,
                       match="Only a mention that came from X, Mastodon, Bluesky, Facebook or LinkedIn"):
        review.respond(mention, actor=lead, text="Hello", post_to_x=True)


# --- the thread a post answers, and its author's reach ----------------------------------------------------


def test_a_reply_keeps_the_post_it_answers_with_its_page_on_bsky_app(pds):
    thread = pds.add_post("acme: what is going on with checkout?", handle="dana.bsky.social")
    post = pds.add_mention("still down for me", handle="erin.bsky.social", reply_to=thread["uri"])
    search(Kind.MENTIONS, "")

    poll_due_searches()

    mention = Mention.objects.get(external_id=post["uri"])
    did, rkey = thread["uri"].removeprefix("at://").split("/")[0], thread["uri"].rsplit("/", 1)[1]
    assert mention.in_reply_to_id == thread["uri"]
    assert mention.in_reply_to_url == f"https://bsky.app/profile/{did}/post/{rkey}"


def test_a_post_that_starts_a_thread_answers_nothing(pds):
    search()
    pds.add_post("acme checkout is down")

    poll_due_searches()

    assert Mention.objects.values_list("in_reply_to_id", "in_reply_to_url").get() == ("", "")


def test_authors_follower_counts_are_read_in_batches_of_25_once_per_author_and_poll(pds, monkeypatch):
    monkeypatch.setattr(source, "SEARCH_PAGE_SIZE", 20)
    brand = search()
    pds.add_post("acme zero")
    poll_due_searches()
    for words in ("acme down", "acme still down"):  # 30 authors, each posting twice, on pages apart
        for n in range(30):
            pds.add_post(f"{words} {n}", handle=f"user{n}.bsky.social", followers=1000 + n)
    calls_before = len(pds.calls("GET", PROFILES))

    poll_again(brand)

    assert Mention.objects.count() == 61
    assert Mention.objects.get(text="acme still down 7").author_followers == 1007
    assert Mention.objects.get(text="acme down 29").author_followers == 1029
    calls = pds.calls("GET", PROFILES)[calls_before:]
    asked = [actor for call in calls for actor in call.query["actors"]]
    assert all(len(call.query["actors"]) <= 25 for call in calls)
    assert len(asked) == len(set(asked)) == 30  # each author once in the poll
    assert all(actor.startswith("did:plc:") for actor in asked)


def test_a_later_poll_reuses_the_follower_counts_kept_and_asks_only_for_new_authors(pds):
    brand = search()
    pds.add_post("acme zero")
    poll_due_searches()
    pds.add_post("acme down", handle="dana.bsky.social", followers=120)
    poll_again(brand)
    pds.add_post("acme still down", handle="dana.bsky.social", followers=120)
    pds.add_post("acme down here too", handle="erin.bsky.social", followers=7)
    calls_before = len(pds.calls("GET", PROFILES))

    poll_again(brand)

    [call] = pds.calls("GET", PROFILES)[calls_before:]
    assert len(call.query["actors"]) == 1  # erin only: dana's count was kept
    assert Mention.objects.get(text="acme still down").author_followers == 120
    assert Mention.objects.get(text="acme down here too").author_followers == 7


def test_a_profile_without_a_follower_count_leaves_it_unknown(pds):
    search()
    pds.add_post("acme is down", handle="quiet.bsky.social", followers=None)
    pds.add_post("acme is down for me too", handle="loud.bsky.social", followers=0)

    poll_due_searches()

    assert dict(Mention.objects.values_list("author_handle", "author_followers")) == {
        "quiet.bsky.social": None, "loud.bsky.social": 0}


@pytest.mark.parametrize("status", [500, 429, 400])
def test_when_profiles_cannot_be_read_mentions_are_stored_without_follower_counts(pds, status):
    brand = search()
    pds.add_post("acme checkout is down", handle="dana.bsky.social")
    pds.add_post("acme still down", handle="erin.bsky.social")
    pds.fail_next(PROFILES, status, body={"error": "InternalServerError", "message": "Internal Server Error"})

    poll_due_searches()

    assert list(Mention.objects.values_list("author_followers", flat=True)) == [None, None]
    assert len(pds.calls("GET", PROFILES)) == 1  # not asked again in the same poll
    brand.refresh_from_db()
    assert brand.status == Status.OK
