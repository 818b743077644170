"""Polling the comments on our Facebook and LinkedIn pages' posts against local fakes (tests/fakes/facebook.py,
tests/fakes/linkedin.py)."""

from datetime import datetime, timedelta
from urllib.parse import quote

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from comms import delivery
from comms.models import Delivery
from sentiment import review
from sentiment.choices import Source
from sentiment.models import Mention, SocialSearch
from sentiment.sources import facebook as facebook_source
from sentiment.sources import linkedin as linkedin_source
from tests.fakes import facebook as fake_facebook
from tests.fakes import linkedin as fake_linkedin
from tests.fakes.facebook import FakeFacebook
from tests.fakes.linkedin import FakeLinkedIn

pytestmark = pytest.mark.django_db
Status, Kind, Network = SocialSearch.Status, SocialSearch.Kind, SocialSearch.Network
FEED = f"/v21.0/{fake_facebook.PAGE_ID}/feed"


@pytest.fixture
def graph(settings):
    with FakeFacebook() as fake:
        settings.FACEBOOK_CONFIGURED = True
        settings.FACEBOOK_GRAPH_URL, settings.FACEBOOK_PAGE_TOKEN = fake.url, fake_facebook.TOKEN
        settings.FACEBOOK_PAGE_ID = fake_facebook.PAGE_ID
        yield fake


@pytest.fixture
def linkedin(settings):
    with FakeLinkedIn() as fake:
        settings.LINKEDIN_CONFIGURED = True
        settings.LINKEDIN_API_URL, settings.LINKEDIN_ACCESS_TOKEN = fake.url, fake_linkedin.TOKEN
        settings.LINKEDIN_ORGANIZATION_ID = fake_linkedin.ORGANIZATION_ID
        yield fake


def comments_search(network) -> SocialSearch:
    return SocialSearch.objects.create(name=f"{network} comments", network=network, kind=Kind.COMMENTS)


def poll_again(module, search):
    SocialSearch.objects.filter(pk=search.pk).update(next_poll_at=None, last_polled_at=None)
    return module.poll_due_searches()


# --- Facebook ---------------------------------------------------------------------------------------------


def test_facebook_comments_after_the_first_poll_become_mentions_with_author_time_and_link(graph):
    search = comments_search(Network.FACEBOOK)
    post = graph.add_post()
    graph.add_comment(post, "Old comment, before EARS listened")
    assert facebook_source.poll_due_searches() == 1
    assert not Mention.objects.exists()  # a new search starts from now
    comment = graph.add_comment(post, "Still can't pay, this is terrible", name="Carol Jones")
    reply = graph.add_comment(post, "Thanks for your patience", person_id=fake_facebook.PAGE_ID, name="Acme")

    poll_again(facebook_source, search)

    mention = Mention.objects.get()
    assert (mention.source, mention.external_id) == (Source.FACEBOOK, comment["id"])
    assert (mention.text, mention.author_name) == ("Still can't pay, this is terrible", "Carol Jones")
    assert mention.url == comment["permalink_url"]
    assert mention.posted_at.isoformat() == comment["created_time"].replace("+0000", "+00:00")
    [first, _] = graph.calls("GET", FEED)
    assert first.headers["authorization"] == f"Bearer {fake_facebook.TOKEN}"
    assert "comments.filter(stream).order(reverse_chronological)" in first.query["fields"][0]
    search.refresh_from_db()
    assert search.status == Status.OK and search.cursor.startswith(reply["created_time"][:19])  # the newest read
    poll_again(facebook_source, search)
    assert Mention.objects.count() == 1  # the cursor's second read again changes nothing


def test_a_facebook_rate_limit_waits_as_long_as_the_usage_header_says_and_then_stores_every_comment_once(graph):
    search = comments_search(Network.FACEBOOK)
    post = graph.add_post()
    graph.add_comment(post, "first")
    facebook_source.poll_due_searches()
    for n in range(3):
        graph.add_comment(post, f"down {n}")
    graph.fail_next(FEED, **fake_facebook.rate_limited(minutes=12))
    cursor = SocialSearch.objects.get().cursor

    poll_again(facebook_source, search)

    search.refresh_from_db()
    assert search.status == Status.WAITING and "rate limit" in search.last_error
    assert search.next_poll_at > timezone.now() + timedelta(minutes=11)
    assert search.cursor == cursor and not Mention.objects.exists()
    poll_again(facebook_source, search)
    poll_again(facebook_source, search)
    assert sorted(Mention.objects.values_list("text", flat=True)) == ["down 0", "down 1", "down 2"]


def test_a_facebook_outage_then_recovery_stores_every_comment_once(graph):
    search = comments_search(Network.FACEBOOK)
    post = graph.add_post()
    facebook_source.poll_due_searches()
    graph.add_comment(post, "is it down?")
    graph.fail_next(FEED, 500, times=2, body=fake_facebook.graph_error(2, "Service temporarily unavailable",
                                                                       kind="OAuthException"))

    poll_again(facebook_source, search)
    search.refresh_from_db()
    assert search.status == Status.FAILING and "server error" in search.last_error
    poll_again(facebook_source, search)
    poll_again(facebook_source, search)
    poll_again(facebook_source, search)

    assert Mention.objects.count() == 1 and SocialSearch.objects.get().status == Status.OK


def test_a_facebook_token_refused_marks_the_search_failing_naming_the_variable(graph, settings):
    search = comments_search(Network.FACEBOOK)
    settings.FACEBOOK_PAGE_TOKEN = "expired"

    facebook_source.poll_due_searches()

    search.refresh_from_db()
    assert search.status == Status.FAILING and "FACEBOOK_PAGE_TOKEN" in search.last_error
    assert search.next_poll_at > timezone.now() + timedelta(minutes=55)


def test_without_facebook_configured_nothing_is_polled_and_the_search_says_why(settings):
    settings.FACEBOOK_CONFIGURED = False
    search = comments_search(Network.FACEBOOK)

    assert facebook_source.poll_due_searches() == 0

    search.refresh_from_db()
    assert (search.status, search.last_error) == (Status.NOT_CONFIGURED, facebook_source.NOT_CONFIGURED)


# --- LinkedIn ---------------------------------------------------------------------------------------------


def test_linkedin_comments_after_the_first_poll_become_mentions_and_the_organizations_own_are_left_out(linkedin):
    search = comments_search(Network.LINKEDIN)
    post = linkedin.add_post()
    linkedin.add_comment(post, "Before EARS listened")
    linkedin_source.poll_due_searches()
    assert not Mention.objects.exists()
    comment = linkedin.add_comment(post, "Our team lost a day of orders (again)", actor="urn:li:person:dana9")
    linkedin.add_comment(post, "We are sorry, Dana", actor=fake_linkedin.ORGANIZATION)

    poll_again(linkedin_source, search)

    mention = Mention.objects.get()
    assert (mention.source, mention.external_id) == (Source.LINKEDIN, comment["id"])
    assert mention.text == "Our team lost a day of orders (again)"
    assert mention.author_handle == "urn:li:person:dana9"
    assert mention.url.startswith(f"https://www.linkedin.com/feed/update/{post}/?commentUrn=urn%3Ali%3Acomment")
    path = f"/rest/socialActions/{quote(post, safe='')}/comments"
    call = linkedin.calls("GET", path)[-1]
    assert call.headers["linkedin-version"] == "202411" and call.headers["x-restli-protocol-version"] == "2.0.0"
    [posts_call, *_] = linkedin.calls("GET", "/rest/posts")
    assert posts_call.query["author"] == [fake_linkedin.ORGANIZATION] and posts_call.query["q"] == ["author"]


def test_a_linkedin_429_midway_keeps_what_was_stored_and_the_next_poll_reads_the_rest_once(linkedin):
    search = comments_search(Network.LINKEDIN)
    first, second = linkedin.add_post("First update"), linkedin.add_post("Second update")
    linkedin.add_comment(first, "seen")
    linkedin_source.poll_due_searches()
    linkedin.add_comment(first, "on the first post")
    linkedin.add_comment(second, "on the second post")
    cursor = SocialSearch.objects.get().cursor
    # the second post is newest and read first; the first post's comments are refused
    linkedin.fail_next(f"/rest/socialActions/{quote(first, safe='')}/comments", 429, headers={"Retry-After": "120"},
                       body=fake_linkedin.error(429, "Too many requests"))

    poll_again(linkedin_source, search)

    search.refresh_from_db()
    assert search.status == Status.WAITING and search.cursor == cursor
    assert search.next_poll_at > timezone.now() + timedelta(seconds=110)
    assert list(Mention.objects.values_list("text", flat=True)) == ["on the second post"]
    poll_again(linkedin_source, search)
    assert sorted(Mention.objects.values_list("text", flat=True)) == ["on the first post", "on the second post"]
    assert SocialSearch.objects.get().status == Status.OK


def test_a_linkedin_outage_then_recovery_stores_every_comment_once(linkedin):
    search = comments_search(Network.LINKEDIN)
    post = linkedin.add_post()
    linkedin_source.poll_due_searches()
    linkedin.add_comment(post, "is it down?")
    linkedin.fail_next("/rest/posts", 503, times=2, body=fake_linkedin.error(503, "Service Unavailable"))

    poll_again(linkedin_source, search)
    search.refresh_from_db()
    assert search.status == Status.FAILING and "LinkedIn server error (503)" in search.last_error
    for _ in range(3):
        poll_again(linkedin_source, search)

    assert Mention.objects.count() == 1 and SocialSearch.objects.get().status == Status.OK


def test_a_linkedin_token_refused_marks_the_search_failing_naming_the_variable(linkedin, settings):
    search = comments_search(Network.LINKEDIN)
    settings.LINKEDIN_ACCESS_TOKEN = "expired"

    linkedin_source.poll_due_searches()

    search.refresh_from_db()
    assert search.status == Status.FAILING and "LINKEDIN_ACCESS_TOKEN" in search.last_error


def test_page_networks_read_comments_only_and_mastodon_and_bluesky_never_do():
    for network, kind in ((Network.FACEBOOK, Kind.MENTIONS), (Network.LINKEDIN, Kind.KEYWORDS),
                          (Network.MASTODON, Kind.COMMENTS)):
        with pytest.raises(ValidationError, match="Facebook and LinkedIn read the comments"):
            SocialSearch(name="x", network=network, kind=kind, query="acme").full_clean()
    SocialSearch(name="y", network=Network.LINKEDIN, kind=Kind.COMMENTS).full_clean()


# --- Replies from the review queue ------------------------------------------------------------------------


def test_a_response_to_a_facebook_comment_is_posted_under_it_as_the_page_once(graph, lead):
    search = comments_search(Network.FACEBOOK)
    post = graph.add_post()
    facebook_source.poll_due_searches()
    comment = graph.add_comment(post, "Is checkout down?")
    poll_again(facebook_source, search)

    review.respond(Mention.objects.get(), actor=lead, text="Yes, sorry: we are on it.", post_to_x=True)
    reply = Delivery.objects.get()
    outcome = delivery.send_deliveries([reply.pk])
    again = delivery.send_deliveries([reply.pk])

    assert (reply.channel, reply.in_reply_to) == ("facebook", comment["id"]) and outcome.sent == 1 and again.sent == 0
    [call] = graph.calls("POST", f"/v21.0/{comment['id']}/comments")
    assert call.body == {"message": "Yes, sorry: we are on it."}
    assert call.headers["authorization"] == f"Bearer {fake_facebook.TOKEN}"
    answer = post["comments"][-1]
    assert answer["parent"] == {"id": comment["id"]} and answer["from"]["id"] == fake_facebook.PAGE_ID
    reply.refresh_from_db()
    assert reply.external_id == answer["id"]


def linkedin_mention(linkedin, text="Is checkout down?", **comment) -> tuple[str, dict, Mention]:
    """A comment on a post of the page, polled into a mention: (the post's URN, the comment, the mention)."""
    search = comments_search(Network.LINKEDIN)
    post = linkedin.add_post()
    linkedin_source.poll_due_searches()
    found = linkedin.add_comment(post, text, **comment)
    poll_again(linkedin_source, search)
    return post, found, Mention.objects.get(external_id=found["id"])


def send_reply(reply: Delivery) -> delivery.BatchOutcome:
    return delivery.send_deliveries([reply.pk])


def test_a_response_to_a_linkedin_comment_is_posted_under_it_as_the_organization_once(linkedin, lead):
    post, comment, mention = linkedin_mention(linkedin)

    review.respond(mention, actor=lead, text="Yes, sorry: we are on it.", post_to_x=True)
    reply = Delivery.objects.get()
    outcome = send_reply(reply)
    again = send_reply(reply)

    assert (reply.channel, reply.in_reply_to) == ("linkedin", f"{post} {comment['$URN']}")
    assert outcome.sent == 1 and again.sent == 0
    [call] = linkedin.calls("POST", f"/rest/socialActions/{quote(post, safe='')}/comments")
    assert call.body == {"actor": fake_linkedin.ORGANIZATION, "object": post,
                         "message": {"text": "Yes, sorry: we are on it."}, "parentComment": comment["$URN"]}
    assert call.headers["authorization"] == f"Bearer {fake_linkedin.TOKEN}"
    assert (call.headers["linkedin-version"], call.headers["x-restli-protocol-version"]) == ("202411", "2.0.0")
    answer = linkedin.comments[post][-1]
    assert answer["actor"] == fake_linkedin.ORGANIZATION and answer["parentComment"] == comment["$URN"]
    reply.refresh_from_db()
    assert (reply.status, reply.external_id) == ("sent", answer["$URN"])


def test_a_reply_to_a_linkedin_reply_goes_under_the_first_level_comment_it_answers(linkedin, lead):
    post, first, _ = linkedin_mention(linkedin, "Checkout is down")
    nested = linkedin.add_comment(post, "Same here, since 9:00", actor="urn:li:person:erin7", parent=first["$URN"])
    poll_again(linkedin_source, SocialSearch.objects.get())
    mention = Mention.objects.get(external_id=nested["id"])

    review.respond(mention, actor=lead, text="Sorry Erin, fixed now.", post_to_x=True)
    send_reply(Delivery.objects.get())

    assert mention.network_ref == f"{post} {first['$URN']}"
    [call] = linkedin.calls("POST", f"/rest/socialActions/{quote(post, safe='')}/comments")
    assert call.body["parentComment"] == first["$URN"]


def test_a_refused_token_fails_a_linkedin_reply_for_good_naming_the_variable(linkedin, settings, lead):
    _, _, mention = linkedin_mention(linkedin)
    review.respond(mention, actor=lead, text="Sorry!", post_to_x=True)
    settings.LINKEDIN_ACCESS_TOKEN = "expired"

    outcome = send_reply(Delivery.objects.get())

    reply = Delivery.objects.get()
    assert outcome.sent == 0 and not outcome.retry_ids
    assert reply.status == "failed" and "LINKEDIN_ACCESS_TOKEN" in reply.last_error


def test_a_linkedin_reply_held_by_a_429_waits_for_retry_after_and_is_then_posted_once(linkedin, lead):
    post, _, mention = linkedin_mention(linkedin)
    review.respond(mention, actor=lead, text="Sorry!", post_to_x=True)
    path = f"/rest/socialActions/{quote(post, safe='')}/comments"
    linkedin.fail_next(path, 429, headers={"Retry-After": "90"}, body=fake_linkedin.error(429, "Too many requests"))

    first = send_reply(Delivery.objects.get())

    reply = Delivery.objects.get()
    assert first.sent == 0 and first.retry_in >= 90
    assert (reply.status, reply.last_error) == ("queued", "LinkedIn rate limit reached (429)")
    assert reply.next_attempt_at > timezone.now() + timedelta(seconds=85)
    Delivery.objects.update(next_attempt_at=timezone.now())
    assert send_reply(reply).sent == 1
    assert [c["message"]["text"] for c in linkedin.comments[post]].count("Sorry!") == 1


def test_a_duplicate_linkedin_reply_is_a_permanent_failure_and_not_retried(linkedin, lead):
    post, comment, mention = linkedin_mention(linkedin)
    linkedin.add_comment(post, "Sorry!", actor=fake_linkedin.ORGANIZATION, parent=comment["$URN"])
    review.respond(mention, actor=lead, text="Sorry!", post_to_x=True)

    outcome = send_reply(Delivery.objects.get())

    reply = Delivery.objects.get()
    assert outcome.sent == 0 and not outcome.retry_ids
    assert reply.status == "failed" and "duplicate" in reply.last_error
    assert len(linkedin.calls("POST", f"/rest/socialActions/{quote(post, safe='')}/comments")) == 1


def test_a_linkedin_mention_stored_without_its_urns_is_refused_with_the_reason_before_anything_is_recorded(
        linkedin, lead):
    _, _, mention = linkedin_mention(linkedin)
    Mention.objects.filter(pk=mention.pk).update(network_ref="")  # as stored before EARS kept them
    mention.refresh_from_db()

    with pytest.raises(ValidationError, match="stored without what a reply needs"):
        review.respond(mention, actor=lead, text="Yes, sorry.", post_to_x=True)

    assert not Delivery.objects.exists()
    mention.refresh_from_db()
    assert mention.review_state == "new"


def test_a_linkedin_reply_longer_than_a_comment_may_be_is_refused(linkedin, lead):
    _, _, mention = linkedin_mention(linkedin)

    with pytest.raises(ValidationError, match="A reply on LinkedIn holds 1250 characters; this has 1251"):
        review.respond(mention, actor=lead, text="x" * 1251, post_to_x=True)

    assert not Delivery.objects.exists()


def test_a_reply_target_that_is_not_two_linkedin_urns_fails_for_good_without_a_request(linkedin):
    reply = Delivery.objects.create(channel="linkedin", in_reply_to="7270000000000000002",
                                    recipient="reply:7270000000000000002", body="Sorry!")

    outcome = send_reply(reply)

    reply.refresh_from_db()
    assert outcome.sent == 0 and reply.status == "failed" and "is not a LinkedIn post URN" in reply.last_error
    assert linkedin.requests == []


# --- The thread each comment belongs to -------------------------------------------------------------------


def test_a_linkedin_comment_keeps_its_post_as_its_thread_and_the_urns_a_reply_needs(linkedin):
    post, comment, mention = linkedin_mention(linkedin)

    assert mention.in_reply_to_id == post
    assert mention.in_reply_to_url == f"https://www.linkedin.com/feed/update/{post}/"
    assert mention.network_ref == f"{post} {comment['$URN']}"


def test_a_linkedin_reply_under_a_comment_keeps_that_comment_as_its_thread(linkedin):
    post, first, _ = linkedin_mention(linkedin, "Checkout is down")
    nested = linkedin.add_comment(post, "Same here", actor="urn:li:person:erin7", parent=first["$URN"])
    poll_again(linkedin_source, SocialSearch.objects.get())

    mention = Mention.objects.get(external_id=nested["id"])

    assert mention.in_reply_to_id == first["$URN"]
    assert mention.in_reply_to_url == (f"https://www.linkedin.com/feed/update/{post}/"
                                       f"?commentUrn={quote(first['$URN'], safe='')}")


def test_a_facebook_comment_keeps_its_post_and_a_reply_under_a_comment_keeps_that_comment(graph):
    search = comments_search(Network.FACEBOOK)
    post = graph.add_post()
    facebook_source.poll_due_searches()
    first = graph.add_comment(post, "Checkout is down")
    nested = graph.add_comment(post, "Same here", name="Erin", person_id="5550002", parent=first["id"])

    poll_again(facebook_source, search)

    on_post, under_comment = Mention.objects.get(external_id=first["id"]), Mention.objects.get(external_id=nested["id"])
    assert (on_post.in_reply_to_id, on_post.in_reply_to_url) == (post["id"], f"https://www.facebook.com/{post['id']}")
    assert (under_comment.in_reply_to_id, under_comment.in_reply_to_url) == (first["id"], first["permalink_url"])


def test_a_facebook_reply_whose_parent_comment_is_not_in_the_feed_links_the_post_at_that_comment():
    comment = {"id": "9_3", "message": "Same here", "created_time": "2026-12-07T09:00:00+0000",
               "parent": {"id": "9_2"}, "post": {"id": "1_9", "permalink_url": "https://www.facebook.com/1_9",
                                                 "comments": {"data": []}}}

    mention = facebook_source.mention_from(comment)

    assert (mention["in_reply_to_id"], mention["in_reply_to_url"]) == (
        "9_2", "https://www.facebook.com/1_9?comment_id=9_2")


def test_a_facebook_reply_under_a_comment_stored_in_an_earlier_poll_is_read_in_the_next(graph):
    search = comments_search(Network.FACEBOOK)
    post = graph.add_post()
    facebook_source.poll_due_searches()
    first = graph.add_comment(post, "Checkout is down")
    poll_again(facebook_source, search)
    reply = graph.add_comment(post, "Still down for us", name="Erin", person_id="5550002", parent=first["id"])

    poll_again(facebook_source, search)

    assert Mention.objects.get(external_id=reply["id"]).in_reply_to_id == first["id"]


def test_a_linkedin_reply_under_a_comment_stored_in_an_earlier_poll_is_read_in_the_next(linkedin):
    post, first, _ = linkedin_mention(linkedin, "Checkout is down")
    search = SocialSearch.objects.get()
    poll_again(linkedin_source, search)  # nothing new
    reply = linkedin.add_comment(post, "Still down for us", actor="urn:li:person:erin7", parent=first["$URN"])

    poll_again(linkedin_source, search)

    assert Mention.objects.get(external_id=reply["id"]).in_reply_to_id == first["$URN"]
    assert Mention.objects.filter(source=Source.LINKEDIN).count() == 2  # the comment was not stored twice


def reply_requests(linkedin) -> list:
    return [call for call in linkedin.requests if "urn%3Ali%3Acomment" in call.path]


def test_a_new_reply_under_an_old_thread_is_read_however_many_newer_threads_have_replies(linkedin):
    search = comments_search(Network.LINKEDIN)
    post = linkedin.add_post()
    linkedin_source.poll_due_searches()
    old = linkedin.add_comment(post, "Checkout is down")
    newer = [linkedin.add_comment(post, f"Comment {n}") for n in range(7)]
    for n, comment in enumerate(newer):
        linkedin.add_comment(post, f"Reply {n}", parent=comment["$URN"])
    poll_again(linkedin_source, search)
    complaint = linkedin.add_comment(post, "Still down for us, a day later", parent=old["$URN"])

    poll_again(linkedin_source, search)

    assert Mention.objects.get(external_id=complaint["id"]).in_reply_to_id == old["$URN"]
    assert Mention.objects.filter(text__startswith="Reply ").count() == 7


def test_a_poll_with_nothing_new_and_a_new_searchs_first_poll_read_no_replies(linkedin):
    search = comments_search(Network.LINKEDIN)
    post = linkedin.add_post()
    first = linkedin.add_comment(post, "Before EARS listened")
    old = linkedin.add_comment(post, "An old reply", parent=first["$URN"])
    # written well before the search started (more than the overlap with which a thread's replies are read again)
    old["created"]["time"] -= int((linkedin_source.REPLY_OVERLAP + timedelta(minutes=5)).total_seconds() * 1000)
    linkedin_source.poll_due_searches()
    assert reply_requests(linkedin) == [] and not Mention.objects.exists()
    linkedin.add_comment(post, "A new reply", parent=first["$URN"])
    poll_again(linkedin_source, search)
    assert len(reply_requests(linkedin)) == 1
    assert list(Mention.objects.values_list("text", flat=True)) == ["A new reply"]

    poll_again(linkedin_source, search)

    assert len(reply_requests(linkedin)) == 1  # no thread grew: no request


def test_threads_beyond_a_polls_budget_are_read_at_the_next_poll(linkedin, monkeypatch):
    monkeypatch.setattr(linkedin_source, "REPLY_THREADS_PER_POLL", 2)
    search = comments_search(Network.LINKEDIN)
    post = linkedin.add_post()
    linkedin_source.poll_due_searches()
    comments = [linkedin.add_comment(post, f"Comment {n}") for n in range(5)]
    replies = [linkedin.add_comment(post, f"Reply {n}", parent=comment["$URN"]) for n, comment in enumerate(comments)]

    poll_again(linkedin_source, search)
    assert len(reply_requests(linkedin)) == 2
    poll_again(linkedin_source, search)
    poll_again(linkedin_source, search)

    assert len(reply_requests(linkedin)) == 5
    assert {reply["id"] for reply in replies} <= set(Mention.objects.values_list("external_id", flat=True))


def test_a_thread_linkedin_refuses_is_passed_over_and_the_rest_of_the_poll_goes_on(linkedin):
    search = comments_search(Network.LINKEDIN)
    gone_post, post = linkedin.add_post("First"), linkedin.add_post("Second")
    linkedin_source.poll_due_searches()
    deleted = linkedin.add_comment(post, "Deleted soon")
    linkedin.add_comment(post, "A reply", parent=deleted["$URN"])
    later = linkedin.add_comment(gone_post, "On the first post")
    linkedin.fail_next(f"/rest/socialActions/{quote(deleted['$URN'], safe='')}/comments", 404,
                       body=fake_linkedin.error(404, f"Not found: {deleted['$URN']}"))

    poll_again(linkedin_source, search)

    search.refresh_from_db()
    assert search.status == Status.OK
    assert Mention.objects.filter(external_id=later["id"]).exists()


def test_every_page_of_a_busy_thread_is_read_and_a_reply_without_its_parent_is_kept_under_the_thread(linkedin):
    search = comments_search(Network.LINKEDIN)
    post = linkedin.add_post()
    linkedin_source.poll_due_searches()
    first = linkedin.add_comment(post, "Checkout is down")
    replies = [linkedin.add_comment(post, f"Me too {n}", parent=first["$URN"])
               for n in range(linkedin_source.COMMENTS_PAGE_SIZE + 5)]
    linkedin.replies_without_parent = True  # LinkedIn's answers without parentComment

    poll_again(linkedin_source, search)

    assert Mention.objects.filter(text__startswith="Me too").count() == len(replies)
    orphan = Mention.objects.get(external_id=replies[0]["id"])
    assert orphan.in_reply_to_id == first["$URN"] and orphan.network_ref == f"{post} {first['$URN']}"


def test_the_cursor_stays_a_minute_behind_the_polls_start_and_never_moves_back(linkedin):
    search = comments_search(Network.LINKEDIN)
    post = linkedin.add_post()
    linkedin_source.poll_due_searches()
    ten_minutes_ago = timezone.now() - timedelta(minutes=10)
    SocialSearch.objects.filter(pk=search.pk).update(cursor=ten_minutes_ago.isoformat())
    linkedin.add_comment(post, "Written just now")
    before = timezone.now()

    poll_again(linkedin_source, search)

    cursor = datetime.fromisoformat(SocialSearch.objects.get().cursor)
    assert ten_minutes_ago < cursor <= before - timedelta(seconds=59)
    SocialSearch.objects.filter(pk=search.pk).update(cursor=(before + timedelta(hours=1)).isoformat())
    poll_again(linkedin_source, search)
    assert datetime.fromisoformat(SocialSearch.objects.get().cursor) == before + timedelta(hours=1)


def test_a_comment_written_while_a_poll_reads_is_stored_by_the_next_poll(linkedin, monkeypatch):
    search = comments_search(Network.LINKEDIN)
    post = linkedin.add_post()
    linkedin_source.poll_due_searches()
    thread = linkedin.add_comment(post, "A thread")
    linkedin.add_comment(post, "An old reply", parent=thread["$URN"])
    poll_again(linkedin_source, search)
    read_page, written = linkedin_source._page, {}

    def page_then_comments(http, urn, page):
        answer = read_page(http, urn, page)
        if urn == post and not written:  # just after the post's comments were read, before its replies are
            written["comment"] = linkedin.add_comment(post, "Checkout is down")
            written["reply"] = linkedin.add_comment(post, "A reply a second later", parent=thread["$URN"])
        return answer

    monkeypatch.setattr(linkedin_source, "_page", page_then_comments)
    poll_again(linkedin_source, search)
    monkeypatch.setattr(linkedin_source, "_page", read_page)
    poll_again(linkedin_source, search)

    stored = set(Mention.objects.values_list("external_id", flat=True))
    assert {written["comment"]["id"], written["reply"]["id"]} <= stored


def test_a_busy_facebook_post_is_paged_until_its_comments_reach_the_cursor(graph):
    search = comments_search(Network.FACEBOOK)
    post = graph.add_post()
    for n in range(120):
        graph.add_comment(post, f"Before EARS listened {n}")
    facebook_source.poll_due_searches()
    burst = [graph.add_comment(post, f"Checkout is down {n}") for n in range(facebook_source.COMMENTS_PER_POST + 30)]

    poll_again(facebook_source, search)

    assert set(Mention.objects.values_list("external_id", flat=True)) == {comment["id"] for comment in burst}
    [more] = graph.calls("GET", f"/v21.0/{post['id']}/comments")  # one more page: the next one reached the cursor
    assert more.query["filter"] == ["stream"] and more.query["after"] == ["offset-100"]
    graph.requests.clear()
    poll_again(facebook_source, search)
    assert graph.calls("GET", f"/v21.0/{post['id']}/comments") == []  # nothing new: the feed's page is enough


# --- Second review: budgets, stops, wrong answers, large pages --------------------------------------------------


def thread_path(urn: str) -> str:
    return f"/rest/socialActions/{quote(urn, safe='')}/comments"


def grown_threads(linkedin, post, count):
    for n in range(count):
        comment = linkedin.add_comment(post, f"Comment {n} on {post[-4:]}")
        linkedin.add_comment(post, f"Reply {n} on {post[-4:]}", parent=comment["$URN"])


def test_the_reply_thread_budget_is_for_the_whole_poll_not_each_post(linkedin):
    search = comments_search(Network.LINKEDIN)
    posts = [linkedin.add_post(f"Post {n}") for n in range(3)]
    linkedin_source.poll_due_searches()
    for post in posts:
        grown_threads(linkedin, post, linkedin_source.REPLY_THREADS_PER_POLL + 1)

    poll_again(linkedin_source, search)

    assert len(reply_requests(linkedin)) == linkedin_source.REPLY_THREADS_PER_POLL


def test_threads_read_before_a_429_are_not_read_again_by_the_next_poll(linkedin):
    search = comments_search(Network.LINKEDIN)
    older, newer = linkedin.add_post("Older"), linkedin.add_post("Newer")  # the newer post is read first
    linkedin_source.poll_due_searches()
    grown_threads(linkedin, newer, 3)
    linkedin.add_comment(older, "On the older post")
    linkedin.fail_next(thread_path(older), 429, headers={"Retry-After": "1"},
                       body=fake_linkedin.error(429, "Too many requests"))

    poll_again(linkedin_source, search)
    assert SocialSearch.objects.get().status == Status.WAITING and len(reply_requests(linkedin)) == 3
    poll_again(linkedin_source, search)

    assert len(reply_requests(linkedin)) == 3
    assert Mention.objects.filter(text="On the older post").exists()


def test_a_thread_that_fails_with_a_server_error_is_passed_over_and_read_at_the_next_poll(linkedin):
    search = comments_search(Network.LINKEDIN)
    post, other = linkedin.add_post("First"), linkedin.add_post("Second")
    linkedin_source.poll_due_searches()
    thread = linkedin.add_comment(other, "A thread")
    reply = linkedin.add_comment(other, "A reply", parent=thread["$URN"])
    later = linkedin.add_comment(post, "On the first post")
    linkedin.fail_next(thread_path(thread["$URN"]), 500, body=fake_linkedin.error(500, "Internal Server Error"))

    poll_again(linkedin_source, search)
    assert SocialSearch.objects.get().status == Status.OK
    assert Mention.objects.filter(external_id=later["id"]).exists()
    assert not Mention.objects.filter(external_id=reply["id"]).exists()
    poll_again(linkedin_source, search)

    assert Mention.objects.filter(external_id=reply["id"]).exists()


def test_a_comment_dated_far_ahead_in_a_new_searchs_first_poll_does_not_hide_what_comes_next(linkedin):
    search = comments_search(Network.LINKEDIN)
    post = linkedin.add_post()
    linkedin.add_comment(post, "An old comment")["created"]["time"] += 24 * 3600 * 1000  # a day ahead
    linkedin_source.poll_due_searches()
    complaint = linkedin.add_comment(post, "Checkout is down")

    poll_again(linkedin_source, search)

    assert Mention.objects.filter(external_id=complaint["id"]).exists()


@pytest.mark.parametrize("wrong", [10**17, 10**30, "yesterday", None])
def test_a_comment_with_a_time_that_is_no_time_is_left_out_and_the_rest_is_stored(linkedin, wrong):
    search = comments_search(Network.LINKEDIN)
    post = linkedin.add_post()
    linkedin_source.poll_due_searches()
    thread = linkedin.add_comment(post, "A thread")
    linkedin.add_comment(post, "A wrong reply", parent=thread["$URN"])["created"]["time"] = wrong
    fine = linkedin.add_comment(post, "A fine reply", parent=thread["$URN"])

    poll_again(linkedin_source, search)

    assert SocialSearch.objects.get().status == Status.OK
    assert set(Mention.objects.values_list("external_id", flat=True)) == {thread["id"], fine["id"]}


@pytest.mark.parametrize("kept", [{"urn:li:comment:(x,1)": []}, {"u": [1, "2026-02-30T00:00:00"]},
                                  {"u": [1, "2026-01-01T00:00:00"]}, {"u": "many"}, ["not", "a", "dict"]])
def test_reply_counts_kept_in_a_wrong_shape_are_read_as_none_kept(linkedin, kept):
    search = comments_search(Network.LINKEDIN)
    post = linkedin.add_post()
    linkedin_source.poll_due_searches()
    SocialSearch.objects.filter(pk=search.pk).update(reply_counts=kept)
    linkedin.add_comment(post, "Checkout is down")

    poll_again(linkedin_source, search)

    assert SocialSearch.objects.get().status == Status.OK and Mention.objects.count() == 1


def test_a_page_of_long_linkedin_comments_is_read_whole(linkedin):
    search = comments_search(Network.LINKEDIN)
    post = linkedin.add_post()
    linkedin_source.poll_due_searches()
    for n in range(linkedin_source.COMMENTS_PAGE_SIZE):  # about 60 KB of text alone, more than webhooks may answer
        linkedin.add_comment(post, f"{n} " + "Checkout keeps failing for our whole team. " * 28)

    poll_again(linkedin_source, search)

    assert SocialSearch.objects.get().status == Status.OK
    assert Mention.objects.count() == linkedin_source.COMMENTS_PAGE_SIZE


def test_a_busy_facebook_post_whose_next_page_is_refused_keeps_what_the_feed_gave_and_the_poll_goes_on(graph):
    search = comments_search(Network.FACEBOOK)
    busy, quiet = graph.add_post("Busy"), graph.add_post("Quiet")
    facebook_source.poll_due_searches()
    burst = [graph.add_comment(busy, f"Down {n} " + "x" * 600) for n in range(facebook_source.COMMENTS_PER_POST + 5)]
    calm = graph.add_comment(quiet, "Is it down for everyone?")
    graph.fail_next(f"/v21.0/{busy['id']}/comments", 400,
                    body=fake_facebook.graph_error(100, "Unsupported get request.", kind="GraphMethodException"))

    poll_again(facebook_source, search)

    assert SocialSearch.objects.get().status == Status.OK
    stored = set(Mention.objects.values_list("external_id", flat=True))
    assert calm["id"] in stored and len(stored & {comment["id"] for comment in burst}) == 100
