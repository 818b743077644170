"""Polling the comments on our Facebook and LinkedIn pages' posts against local fakes (tests/fakes/facebook.py,
tests/fakes/linkedin.py)."""

from datetime import timedelta
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
    assert "comments.order(reverse_chronological)" in first.query["fields"][0]
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


def test_a_reply_to_a_linkedin_comment_is_refused_with_the_reason_before_anything_is_recorded(linkedin, lead):
    search = comments_search(Network.LINKEDIN)
    post = linkedin.add_post()
    linkedin_source.poll_due_searches()
    linkedin.add_comment(post, "Is checkout down?")
    poll_again(linkedin_source, search)

    with pytest.raises(ValidationError, match="X, Mastodon, Bluesky or Facebook can be answered"):
        review.respond(Mention.objects.get(), actor=lead, text="Yes, sorry.", post_to_x=True)

    assert not Delivery.objects.exists()
