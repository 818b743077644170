"""Polling Mastodon searches against a local fake instance (tests/fakes/mastodon.py)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from comms import delivery
from comms.models import Delivery
from sentiment import review
from sentiment.choices import Source
from sentiment.models import Mention, SocialSearch
from sentiment.sources.mastodon import NOT_CONFIGURED, PAGE_SIZE, plain_text, poll_due_searches
from tests.fakes.mastodon import configured_mastodon

pytestmark = pytest.mark.django_db
Status, Kind = SocialSearch.Status, SocialSearch.Kind
NOTIFICATIONS = "/api/v1/notifications"


@pytest.fixture
def instance(settings):
    with configured_mastodon(settings) as fake:
        yield fake


def search(kind=Kind.MENTIONS, query="", **fields) -> SocialSearch:
    return SocialSearch.objects.create(name=f"{kind} {query}", network="mastodon", kind=kind, query=query, **fields)


def poll_again(*searches):
    SocialSearch.objects.filter(pk__in=[s.pk for s in searches]).update(next_poll_at=None, last_polled_at=None)
    return poll_due_searches()


def test_a_new_search_starts_from_the_newest_page_and_stores_author_reach_and_link(instance):
    mentions_search = search()
    instance.add_mention("checkout is <b>down</b> & I can't pay", acct="carol@example.social", followers=4200)

    assert poll_due_searches() == 1

    mention = Mention.objects.get()
    assert mention.source == Source.MASTODON
    assert mention.text == "@acme checkout is <b>down</b> & I can't pay"  # the HTML's text, not its markup
    assert (mention.author_handle, mention.author_followers) == ("carol@example.social", 4200)
    assert mention.url == instance.statuses[0]["url"]
    mentions_search.refresh_from_db()
    assert mentions_search.status == Status.OK and mentions_search.cursor == instance.notifications[0]["id"]
    [call] = instance.calls("GET", NOTIFICATIONS)
    assert call.query["types[]"] == ["mention"] and "min_id" not in call.query


def test_later_polls_ask_only_for_what_came_after_the_cursor_and_read_every_page(instance):
    mentions_search = search()
    instance.add_mention("first")
    poll_due_searches()
    for n in range(PAGE_SIZE + 5):
        instance.add_mention(f"still broken {n}")

    poll_again(mentions_search)

    assert Mention.objects.count() == PAGE_SIZE + 6
    calls = instance.calls("GET", NOTIFICATIONS)
    assert calls[1].query["min_id"] == [instance.notifications[0]["id"]]
    assert len(calls) == 3  # the first poll's page, then two pages: 40 and 5
    mentions_search.refresh_from_db()
    assert mentions_search.cursor == instance.notifications[-1]["id"]


def test_a_hashtag_and_a_keyword_search_read_their_own_timelines(instance):
    search(Kind.HASHTAG, "AcmeDown")
    search(Kind.KEYWORDS, "acme checkout")
    instance.add_status("Is #AcmeDown for anyone else?")
    instance.add_status("acme checkout is broken", followers=None)
    instance.add_status("lovely weather")

    assert poll_due_searches() == 2

    assert sorted(Mention.objects.values_list("text", flat=True)) == [
        "Is #AcmeDown for anyone else?", "acme checkout is broken"]
    assert Mention.objects.get(text="acme checkout is broken").author_followers is None
    assert instance.calls("GET", "/api/v1/timelines/tag/AcmeDown")
    assert instance.calls("GET", "/api/v2/search")[0].query["type"] == ["statuses"]


def test_a_429_waits_for_the_reset_and_the_next_poll_resumes_from_the_cursor(instance):
    mentions_search = search()
    instance.add_mention("first")
    poll_due_searches()
    instance.add_mention("second")
    reset = datetime.now(UTC) + timedelta(minutes=4)
    instance.fail_next(NOTIFICATIONS, 429, body={"error": "Too many requests"},
                       headers={"X-RateLimit-Reset": reset.isoformat().replace("+00:00", "Z")})
    cursor_before = SocialSearch.objects.get().cursor

    poll_again(mentions_search)

    mentions_search.refresh_from_db()
    assert mentions_search.status == Status.WAITING and "429" in mentions_search.last_error
    assert abs(mentions_search.next_poll_at.timestamp() - reset.timestamp()) < 5
    assert mentions_search.cursor == cursor_before and Mention.objects.count() == 1

    poll_again(mentions_search)

    assert Mention.objects.count() == 2
    assert instance.calls("GET", NOTIFICATIONS)[-1].query["min_id"] == [cursor_before]


def test_a_refused_token_marks_the_search_failing_and_polls_again_in_an_hour(instance, settings):
    mentions_search = search()
    settings.MASTODON_ACCESS_TOKEN = "revoked"

    poll_due_searches()

    mentions_search.refresh_from_db()
    assert mentions_search.status == Status.FAILING and "MASTODON_ACCESS_TOKEN" in mentions_search.last_error
    assert mentions_search.next_poll_at > timezone.now() + timedelta(minutes=55)


def test_an_outage_then_recovery_stores_every_status_once(instance):
    mentions_search = search()
    instance.add_mention("first")
    poll_due_searches()
    for n in range(3):
        instance.add_mention(f"down {n}")
    instance.fail_next(NOTIFICATIONS, 503, times=1)

    poll_again(mentions_search)
    mentions_search.refresh_from_db()
    assert mentions_search.status == Status.FAILING and "503" in mentions_search.last_error
    poll_again(mentions_search)
    poll_again(mentions_search)

    assert Mention.objects.count() == 4
    assert SocialSearch.objects.get().status == Status.OK


def test_without_configuration_nothing_is_polled_and_the_search_says_why(settings):
    settings.MASTODON_CONFIGURED = False
    mentions_search = search()

    assert poll_due_searches() == 0

    mentions_search.refresh_from_db()
    assert (mentions_search.status, mentions_search.last_error) == (Status.NOT_CONFIGURED, NOT_CONFIGURED)


def test_status_html_becomes_plain_text_with_its_line_breaks():
    assert plain_text('<p>Down <a href="https://x">#acme</a></p><p>since 9:00<br>still&nbsp;down</p>') == (
        "Down #acme\nsince 9:00\nstill\xa0down")


def test_a_response_to_a_mastodon_mention_is_posted_as_a_reply_addressed_to_its_author(instance, lead):
    search()
    status = instance.add_mention("is checkout down?", acct="carol@example.social")
    poll_due_searches()

    review.respond(Mention.objects.get(), actor=lead, text="Yes, sorry: we are on it.", post_to_x=True)
    reply = Delivery.objects.get()
    outcome = delivery.send_deliveries([reply.pk])

    assert reply.channel == "mastodon" and outcome.sent == 1
    [post] = instance.calls("POST", "/api/v1/statuses")
    assert post.body["in_reply_to_id"] == status["id"]
    assert post.body["status"] == "@carol@example.social Yes, sorry: we are on it."


def test_a_reply_over_the_instance_limit_is_refused_before_anything_is_recorded(instance, lead):
    search()
    instance.add_mention("is checkout down?")
    poll_due_searches()

    with pytest.raises(ValidationError, match="A reply on Mastodon holds 500 characters; this has 501"):
        review.respond(Mention.objects.get(), actor=lead, text="x" * 501, post_to_x=True)

    assert not Delivery.objects.exists()


# --- the thread a status answers --------------------------------------------------------------------------


def test_a_reply_keeps_the_status_it_answers_and_its_page_on_our_instance(instance):
    search()
    thread = instance.add_status("acme checkout is down", acct="dave@example.social")
    reply = instance.add_mention("same here", acct="carol@example.social", reply_to=thread["id"])

    poll_due_searches()

    mention = Mention.objects.get(external_id=reply["id"])
    assert mention.in_reply_to_id == thread["id"]
    assert mention.in_reply_to_url == f"{instance.url}/@dave@example.social/{thread['id']}"


def test_a_reply_to_the_repliers_own_status_finds_its_author_without_a_mention(instance):
    search(Kind.KEYWORDS, "acme")
    first = instance.add_status("acme is down", acct="dave@example.social")
    second = instance.add_status("acme: still down", acct="dave@example.social", reply_to=first["id"])
    instance.statuses[-1]["mentions"] = []  # a thread of one's own mentions nobody

    poll_due_searches()

    mention = Mention.objects.get(external_id=second["id"])
    assert mention.in_reply_to_url == f"{instance.url}/@dave@example.social/{first['id']}"


def test_a_reply_whose_parent_author_is_unknown_keeps_the_parent_id_without_a_link(instance):
    search()
    reply = instance.add_mention("same here", reply_to="109999999999999999")  # a status the instance never saw

    poll_due_searches()

    assert Mention.objects.values_list("in_reply_to_id", "in_reply_to_url").get() == ("109999999999999999", "")
    assert reply["in_reply_to_account_id"] is None


def test_a_status_that_starts_a_thread_answers_nothing(instance):
    search()
    instance.add_mention("is checkout down?")

    poll_due_searches()

    assert Mention.objects.values_list("in_reply_to_id", "in_reply_to_url").get() == ("", "")


def test_the_mention_reader_takes_plain_json_with_the_same_statuses_as_mastodon_py_typed_answers(instance):
    from comms.channels.mastodon import mastodon_client

    for n in range(3):
        instance.add_mention(f"checkout is down {n}", acct=f"reader{n}@example.social")

    page = mastodon_client(typed=False).notifications(types=["mention"], limit=2)
    typed = mastodon_client().notifications(types=["mention"], limit=2)

    assert [type(item) for item in page] == [dict, dict]  # not Mastodon.py's typed entities (5 ms a status)
    assert [item["status"]["id"] for item in page] == [item["status"]["id"] for item in typed]
    assert page[0]["status"]["account"]["acct"] == typed[0]["status"]["account"]["acct"] == "reader2@example.social"


@pytest.mark.django_db(transaction=True)  # each page's transaction commits for real, as in a worker
def test_a_poll_of_several_pages_is_scored_in_one_task_not_one_per_page(instance, monkeypatch):
    from sentiment import tasks

    sent = []
    monkeypatch.setattr(tasks.score_mentions, "delay", lambda ids: sent.append(list(ids)))
    mentions_search = search(cursor="0")  # an old cursor: every status after it, page by page
    for n in range(PAGE_SIZE * 2 + 5):
        instance.add_mention(f"checkout is down {n}", acct=f"reader{n}@example.social")

    poll_again(mentions_search)

    assert len(instance.calls("GET", NOTIFICATIONS)) >= 3  # three pages read …
    assert [sorted(ids) for ids in sent] == [sorted(Mention.objects.values_list("pk", flat=True))]  # … one task


def test_pages_read_before_a_429_are_stored_with_the_cursor_past_them_and_the_rest_is_read_next_time(
        instance, monkeypatch):
    from mastodon import MastodonRatelimitError

    from sentiment.sources import mastodon as source

    monkeypatch.setattr(source, "PAGE_SIZE", 2)
    mentions_search = search()
    instance.add_mention("zero")
    poll_due_searches()
    for n in range(6):
        instance.add_mention(f"burst {n}")
    read_page, pages = source.fetch_page, []

    def refused_third(client, found_search, after):
        pages.append(after)
        if len(pages) == 3:
            raise MastodonRatelimitError("Too many requests")
        return read_page(client, found_search, after)

    monkeypatch.setattr(source, "fetch_page", refused_third)
    poll_again(mentions_search)

    mentions_search.refresh_from_db()
    assert mentions_search.status == Status.WAITING
    assert sorted(Mention.objects.values_list("text", flat=True)) == [
        "@acme burst 0", "@acme burst 1", "@acme burst 2", "@acme burst 3", "@acme zero"]
    assert mentions_search.cursor == pages[2]  # past the two pages stored, where the refused one starts
    monkeypatch.setattr(source, "fetch_page", read_page)
    poll_again(mentions_search)
    assert Mention.objects.count() == 7
