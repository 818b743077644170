"""The pages support staff use on mentions: the review queue (filters, sorting, actions, bulk), a mention's page,
and the customer-sentiment chart on the incident page."""

import itertools
import re

import pytest
from django.core import mail
from django.utils import timezone

from comms.choices import Audience
from comms.models import Delivery, Message
from incidents.choices import TimelineKind
from sentiment.choices import Label, ReviewState
from sentiment.models import Mention, SentimentAlert
from tests.factories import IncidentFactory, MessageFactory

pytestmark = pytest.mark.django_db

XSS = "<script>alert(1)</script>"
XSS_ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
QUEUE = "/mentions/"
_ids = itertools.count(1)


def mention(**fields) -> Mention:
    now = timezone.now()
    values = {
        "source": "x",
        "external_id": f"post-{next(_ids)}",
        "author_handle": "angry_customer",
        "text": "Your checkout has been down for an hour, this is unacceptable",
        "posted_at": now - timezone.timedelta(minutes=5),
        "compound": -0.7,
        "neg": 0.4, "neu": 0.6, "pos": 0.0,
        "label": Label.NEGATIVE,
        "flagged": True,
        "flag_reasons": ["Very negative: compound -0.70 ≤ -0.50"],
        "scored_at": now,
    }
    values.update(fields)
    return Mention.objects.create(**values)


def page(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def flashes(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def act(client, item, action, **data):
    return client.post(f"/mentions/{item.pk}/{action}/", {"next": QUEUE, **data}, follow=True)


def listed(content: str) -> set[int]:
    """The ids of the mentions shown as rows on a queue page."""
    return {int(pk) for pk in re.findall(r'id="mention-(\d+)"', content)}


# --- who sees the queue -----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["support", "lead", "manager"])
def test_support_leads_and_account_managers_open_the_queue(client, users, role):
    client.force_login(users[role])
    assert "<h1>Mentions" in page(client, QUEUE)


def test_a_user_without_a_role_is_refused_the_queue_and_a_mention_page(client, roleless):
    item = mention()
    client.force_login(roleless)
    assert client.get(QUEUE).status_code == 403
    assert client.get(f"/mentions/{item.pk}/").status_code == 403


def test_an_anonymous_visitor_is_sent_to_sign_in(client):
    response = client.get(QUEUE)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=/mentions/")


def test_reviewers_see_the_actions_and_the_bulk_bar(client, support):
    item = mention()
    client.force_login(support)
    content = page(client, QUEUE)
    assert f'action="/mentions/{item.pk}/assign/"' in content
    assert f'action="/mentions/{item.pk}/dismiss/"' in content
    assert "Assign selected to me" in content
    assert f'name="ids" value="{item.pk}" form="bulk"' in content


def test_an_account_manager_sees_the_queue_read_only_and_cannot_post_an_action(client, manager):
    item = mention()
    client.force_login(manager)
    content = page(client, QUEUE)
    assert "/assign/" not in content and "/dismiss/" not in content
    assert "Assign selected to me" not in content and 'name="ids"' not in content
    for action, data in [("assign", {}), ("respond", {"text": "Sorry"}), ("escalate", {}),
                         ("dismiss", {"reason": "spam"})]:
        assert client.post(f"/mentions/{item.pk}/{action}/", data).status_code == 403
    assert client.post("/mentions/bulk/", {"action": "dismiss", "ids": [item.pk], "reason": "spam"}).status_code == 403
    item.refresh_from_db()
    assert (item.review_state, item.assignee, item.review_note) == (ReviewState.NEW, None, "")


# --- acting on one mention ---------------------------------------------------------------------------------


def test_assign_to_me_puts_the_mention_in_review_and_says_so(client, support):
    item = mention(author_handle="bob")
    client.force_login(support)
    response = act(client, item, "assign")
    assert response.redirect_chain[-1][0] == QUEUE
    assert flashes(response) == ["Mention from @bob assigned to you (in review)."]
    item.refresh_from_db()
    assert (item.review_state, item.assignee) == (ReviewState.IN_REVIEW, support)


def test_respond_records_the_response_without_posting_to_x(client, lead):
    item = mention(author_handle="bob")
    client.force_login(lead)
    response = act(client, item, "respond", text="We are sorry, it is fixed now.")
    assert flashes(response) == ["Response to @bob recorded (responded)."]
    item.refresh_from_db()
    assert (item.review_state, item.review_note, item.assignee) == (
        ReviewState.RESPONDED,
        "We are sorry, it is fixed now.",
        lead,
    )
    assert not item.replies.exists()


def test_asking_for_an_x_reply_when_x_is_not_configured_is_refused_with_the_reason(client, support, settings):
    settings.X_CONFIGURED = False
    item = mention()
    client.force_login(support)
    content = page(client, QUEUE)
    assert re.search(r'<input type="checkbox" name="post_to_x" disabled', content)
    assert "X is not configured" in content
    response = act(client, item, "respond", text="Sorry!", post_to_x="on")
    assert flashes(response) == [
        "X is not configured: set X_API_KEY, X_API_SECRET, X_ACCESS_TOKEN and X_ACCESS_TOKEN_SECRET."
    ]
    item.refresh_from_db()
    assert item.review_state == ReviewState.NEW


def test_the_x_reply_checkbox_is_offered_only_for_mentions_from_x(client, support, settings):
    settings.X_CONFIGURED = True
    from_x, by_email = mention(), mention(source="email", author_handle="", author_name="Dana")
    client.force_login(support)
    content = page(client, QUEUE)
    rows = dict(re.findall(r'id="mention-(\d+)"(.*?)</li>', content, flags=re.S))
    assert '<input type="checkbox" name="post_to_x">' in rows[str(from_x.pk)]
    assert "X is not configured" not in content
    assert 'name="post_to_x"' not in rows[str(by_email.pk)]


def reply_options_by_row(content: str) -> dict[str, str]:
    return dict(re.findall(r'id="mention-(\d+)"(.*?)</li>', content, flags=re.S))


def test_mastodon_and_bluesky_mentions_offer_a_reply_on_their_own_network_with_its_limit(client, support, settings):
    settings.MASTODON_CONFIGURED = settings.BLUESKY_CONFIGURED = True
    from_mastodon = mention(source="mastodon", author_handle="carol@example.social")
    from_bluesky = mention(source="bluesky", author_handle="dan.bsky.social")
    client.force_login(support)

    rows = reply_options_by_row(page(client, QUEUE))

    assert '<input type="checkbox" name="post_to_x">' in rows[str(from_mastodon.pk)]
    assert "Also post as a reply on Mastodon" in rows[str(from_mastodon.pk)]
    assert "(500 characters at most)" in rows[str(from_mastodon.pk)]
    assert "Also post as a reply on Bluesky" in rows[str(from_bluesky.pk)]
    assert "(300 characters at most)" in rows[str(from_bluesky.pk)]
    assert "reply on X" not in rows[str(from_mastodon.pk)] + rows[str(from_bluesky.pk)]
    detail = page(client, f"/mentions/{from_bluesky.pk}/")
    assert '<input type="checkbox" name="post_to_x">' in detail and "Also post as a reply on Bluesky" in detail


def test_the_reply_option_shows_the_instance_limit_mastodon_gave(client, support, settings):
    from django.core.cache import cache

    from comms.rendering import mastodon_limit_cache_key

    settings.MASTODON_CONFIGURED = True
    settings.MASTODON_API_BASE_URL = "https://large-posts.example"  # the limit is cached per instance
    cache.set(mastodon_limit_cache_key(), 1000)
    item = mention(source="mastodon")
    client.force_login(support)

    assert "(1000 characters at most)" in reply_options_by_row(page(client, QUEUE))[str(item.pk)]


def test_facebook_and_linkedin_comments_offer_a_reply_on_their_page_with_its_limit(client, support, settings):
    settings.FACEBOOK_CONFIGURED = settings.LINKEDIN_CONFIGURED = True
    from_facebook = mention(source="facebook", author_handle="", author_name="Carol", external_id="1_2")
    from_linkedin = mention(source="linkedin", author_handle="urn:li:person:dana9")
    client.force_login(support)

    rows = reply_options_by_row(page(client, QUEUE))

    assert "Also post as a reply on Facebook" in rows[str(from_facebook.pk)]
    assert "(8000 characters at most)" in rows[str(from_facebook.pk)]
    assert '<input type="checkbox" name="post_to_x">' in rows[str(from_linkedin.pk)]
    assert "Also post as a reply on LinkedIn" in rows[str(from_linkedin.pk)]
    assert "(1250 characters at most)" in rows[str(from_linkedin.pk)]


def test_the_queue_and_the_mention_page_link_the_post_a_mention_answers(client, support):
    answering = mention(source="mastodon", in_reply_to_id="1100",
                        in_reply_to_url="https://fake.social/@dave@example.social/1100")
    alone = mention()
    unsafe = mention(in_reply_to_id="7", in_reply_to_url="javascript:alert(1)")
    client.force_login(support)

    rows = reply_options_by_row(page(client, QUEUE))

    link = ('in reply to <a href="https://fake.social/@dave@example.social/1100" rel="noopener noreferrer" '
            'target="_blank" title="https://fake.social/@dave@example.social/1100">fake.social/@dave@example.social/1100'
            '</a>')
    assert link in rows[str(answering.pk)]
    assert "in reply to" not in rows[str(alone.pk)] + rows[str(unsafe.pk)]
    detail = page(client, f"/mentions/{answering.pk}/")
    assert link in detail
    assert "<dt>In reply to</dt><dd><code>1100</code>" in detail
    assert "<dt>In reply to</dt>" not in page(client, f"/mentions/{alone.pk}/")


@pytest.mark.parametrize(
    ("parent", "shown"),
    [
        pytest.param("https://support.example.com.sign-in.session@evil.example/login", "evil.example/login",
                     id="a user name that reads as a host"),
        pytest.param(f"https://support.example.com.{'a' * 40}.evil.example/login?next=/account",
                     f"support.example.com.{'a' * 40}.evil.example/…", id="a host longer than the label"),
    ],
)
def test_the_in_reply_to_link_names_the_host_it_really_leads_to(client, support, parent, shown):
    answering = mention(source="blog", in_reply_to_id="1:disqus:7", in_reply_to_url=parent)
    client.force_login(support)

    row = reply_options_by_row(page(client, QUEUE))[str(answering.pk)]

    [label] = re.findall(
        r'in reply to <a href="[^"]*" rel="noopener noreferrer" target="_blank" title="[^"]*">([^<]*)</a>', row)
    assert label == shown


def test_a_network_that_is_not_configured_shows_its_reason_and_the_reply_is_refused(client, support, settings):
    settings.BLUESKY_CONFIGURED = False
    item = mention(source="bluesky")
    client.force_login(support)

    row = reply_options_by_row(page(client, QUEUE))[str(item.pk)]
    assert re.search(r'<input type="checkbox" name="post_to_x" disabled', row)
    assert "Also post as a reply on Bluesky" in row
    assert "Bluesky is not configured: set BLUESKY_HANDLE and BLUESKY_APP_PASSWORD." in row
    response = act(client, item, "respond", text="Sorry!", post_to_x="on")
    assert flashes(response) == ["Bluesky is not configured: set BLUESKY_HANDLE and BLUESKY_APP_PASSWORD."]
    item.refresh_from_db()
    assert item.review_state == ReviewState.NEW and not item.replies.exists()


def test_a_reply_on_mastodon_from_the_page_is_recorded_and_queued_and_says_where(client, support, settings):
    settings.MASTODON_CONFIGURED = True
    item = mention(source="mastodon", author_handle="carol@example.social", external_id="1101")
    client.force_login(support)

    response = act(client, item, "respond", text="Sorry, it is fixed now.", post_to_x="on")

    assert flashes(response) == ["Response to @carol@example.social recorded (responded). "
                                 "It is being posted as a reply on Mastodon."]
    [reply] = item.replies.all()
    assert (reply.channel, reply.in_reply_to, reply.body) == ("mastodon", "1101", "Sorry, it is fixed now.")


def test_escalate_with_a_note_emails_the_leads_when_the_mention_has_no_account(client, support, manager, lead):
    item = mention(author_handle="bob")
    client.force_login(support)
    response = act(client, item, "escalate", note="Key customer, call them")
    assert flashes(response) == ["Mention from @bob escalated to account management."]
    item.refresh_from_db()
    assert (item.review_state, item.review_note) == (ReviewState.ESCALATED, "Key customer, call them")
    assert [m.to for m in mail.outbox] == [[lead.email]]


def test_dismiss_with_a_reason_dismisses_and_writes_the_incident_timeline_without_the_reason(client, support):
    incident = IncidentFactory()
    item = mention(author_handle="bob", incident=incident)
    client.force_login(support)
    response = act(client, item, "dismiss", reason="Spam")
    assert flashes(response) == ["Mention from @bob dismissed."]
    item.refresh_from_db()
    assert (item.review_state, item.review_note) == (ReviewState.DISMISSED, "Spam")
    entry = incident.timeline.get(kind=TimelineKind.NOTE)
    assert (entry.description, entry.data["mention_id"]) == (f"Mention {item.pk} dismissed", item.pk)


def test_dismissing_without_a_reason_is_refused_with_the_reason(client, support):
    item = mention()
    client.force_login(support)
    response = act(client, item, "dismiss", reason="   ")
    assert response.status_code == 200
    assert flashes(response) == [
        "Say why it needs no action (e.g. not negative, not about us, already answered elsewhere)."]
    assert "Say why it needs no action" in response.content.decode()
    item.refresh_from_db()
    assert item.review_state == ReviewState.NEW


def test_a_move_the_state_machine_refuses_is_shown_as_a_message_not_an_error(client, support):
    item = mention(review_state=ReviewState.DISMISSED, review_note="Spam")
    client.force_login(support)
    response = act(client, item, "dismiss", reason="Spam again")
    assert response.status_code == 200
    assert flashes(response) == ["The mention is already dismissed."]
    response = act(client, item, "respond", text="Hello")
    assert flashes(response) == [
        "A mention cannot move from dismissed to responded; from dismissed it can move to: in review."
    ]
    item.refresh_from_db()
    assert (item.review_state, item.review_note) == (ReviewState.DISMISSED, "Spam")


def test_a_closed_mention_offers_only_to_reopen_it(client, support):
    item = mention(review_state=ReviewState.RESPONDED)
    client.force_login(support)
    content = page(client, f"/mentions/{item.pk}/")
    assert "Reopen and assign to me" in content
    assert f"/mentions/{item.pk}/dismiss/" not in content and f"/mentions/{item.pk}/respond/" not in content


def test_next_must_be_on_this_site(client, support):
    item = mention()
    client.force_login(support)
    response = client.post(f"/mentions/{item.pk}/assign/", {"next": "https://evil.example/"})
    assert response["Location"] == f"/mentions/{item.pk}/"
    response = client.post(f"/mentions/{item.pk}/assign/", {"next": "/mentions/?source=x&state=all"})
    assert response["Location"] == "/mentions/?source=x&state=all"


# --- bulk ------------------------------------------------------------------------------------------------


def test_bulk_assign_assigns_each_selected_mention_and_reports_refusals(client, support):
    first, second, closed, untouched = (mention(), mention(), mention(review_state=ReviewState.RESPONDED), mention())
    client.force_login(support)
    response = client.post(
        "/mentions/bulk/", {"action": "assign", "ids": [first.pk, second.pk, 999999], "next": QUEUE}, follow=True
    )
    assert flashes(response) == ["2 done, 1 refused (#999999: No such mention.)."]
    states = dict(Mention.objects.values_list("pk", "review_state"))
    assert states == {
        first.pk: ReviewState.IN_REVIEW,
        second.pk: ReviewState.IN_REVIEW,
        closed.pk: ReviewState.RESPONDED,
        untouched.pk: ReviewState.NEW,
    }
    assert set(Mention.objects.filter(assignee=support).values_list("pk", flat=True)) == {first.pk, second.pk}


def test_bulk_dismiss_applies_the_reason_and_names_the_refused_ones(client, lead):
    first, second, done_before = mention(), mention(), mention(review_state=ReviewState.DISMISSED, review_note="Old")
    client.force_login(lead)
    response = client.post(
        "/mentions/bulk/",
        {"action": "dismiss", "reason": "Not about us", "ids": [first.pk, second.pk, done_before.pk]},
        follow=True,
    )
    assert flashes(response) == [f"2 done, 1 refused (#{done_before.pk}: The mention is already dismissed.)."]
    assert list(
        Mention.objects.filter(review_note="Not about us").order_by("pk").values_list("pk", "review_state")
    ) == [(first.pk, ReviewState.DISMISSED), (second.pk, ReviewState.DISMISSED)]


def test_bulk_dismiss_without_a_reason_dismisses_nothing(client, support):
    first, second = mention(), mention()
    client.force_login(support)
    response = client.post("/mentions/bulk/", {"action": "dismiss", "ids": [first.pk, second.pk]}, follow=True)
    assert flashes(response) == [
        f"0 done, 2 refused (#{first.pk}, #{second.pk}: Say why it needs no action (e.g. not negative, "
        "not about us, already answered elsewhere).)."
    ]
    assert set(Mention.objects.values_list("review_state", flat=True)) == {ReviewState.NEW}


def test_bulk_with_nothing_selected_asks_for_a_selection(client, support):
    client.force_login(support)
    response = client.post("/mentions/bulk/", {"action": "assign"}, follow=True)
    assert flashes(response) == ["Select at least one mention first."]


# --- filters and sorting ---------------------------------------------------------------------------------


def test_by_default_the_queue_shows_flagged_mentions_in_open_states_newest_first(client, support):
    now = timezone.now()
    older = mention(posted_at=now - timezone.timedelta(hours=2))
    newer = mention(posted_at=now - timezone.timedelta(minutes=1))
    in_review = mention(review_state=ReviewState.IN_REVIEW, posted_at=now - timezone.timedelta(hours=1))
    mention(flagged=False, flag_reasons=[])
    mention(review_state=ReviewState.RESPONDED)
    mention(review_state=ReviewState.DISMISSED)
    client.force_login(support)
    content = page(client, QUEUE)
    assert re.findall(r'id="mention-(\d+)"', content) == [str(newer.pk), str(in_review.pk), str(older.pk)]


def test_the_state_filter_shows_all_states_or_one(client, support):
    open_one, responded = mention(), mention(review_state=ReviewState.RESPONDED)
    client.force_login(support)
    assert listed(page(client, QUEUE + "?state=all")) == {open_one.pk, responded.pk}
    assert listed(page(client, QUEUE + "?state=responded")) == {responded.pk}


def test_unticking_only_flagged_shows_unflagged_mentions_too(client, support):
    flagged, unflagged = mention(), mention(flagged=False, flag_reasons=[])
    client.force_login(support)
    assert listed(page(client, QUEUE + "?filtered=1&state=open")) == {flagged.pk, unflagged.pk}
    assert listed(page(client, QUEUE + "?filtered=1&flagged=on&state=open")) == {flagged.pk}


def test_filters_by_source_label_reason_and_incident(client, support):
    incident = IncidentFactory(title="Checkout down")
    from_x = mention(source="x", flag_reasons=["Keywords: refund"])
    by_email = mention(
        source="email", label=Label.NEUTRAL, compound=0.0, flag_reasons=["Key account: Acme"], incident=incident
    )
    client.force_login(support)
    assert listed(page(client, QUEUE + "?source=email")) == {by_email.pk}
    assert listed(page(client, QUEUE + "?label=negative")) == {from_x.pk}
    assert listed(page(client, QUEUE + "?reason=REFUND")) == {from_x.pk}
    content = page(client, QUEUE + f"?incident={incident.pk}")
    assert listed(content) == {by_email.pk}
    assert re.search(rf'<option value="{incident.pk}" selected>SEV2 · Checkout down', content)


def test_the_incident_select_lists_only_incidents_that_have_mentions(client, support):
    with_mentions, without = IncidentFactory(title="Has mentions"), IncidentFactory(title="Quiet one")
    mention(incident=with_mentions)
    client.force_login(support)
    content = page(client, QUEUE)
    assert f'<option value="{with_mentions.pk}">SEV2 · Has mentions' in content
    assert f'<option value="{without.pk}"' not in content and "Quiet one" not in content


def test_most_negative_first_sorts_by_compound_then_newest(client, support):
    now = timezone.now()
    mild = mention(compound=-0.2, posted_at=now - timezone.timedelta(minutes=1))
    worst_old = mention(compound=-0.9, posted_at=now - timezone.timedelta(hours=3))
    worst_new = mention(compound=-0.9, posted_at=now - timezone.timedelta(hours=1))
    client.force_login(support)
    content = page(client, QUEUE + "?sort=negative")
    assert re.findall(r'id="mention-(\d+)"', content) == [str(worst_new.pk), str(worst_old.pk), str(mild.pk)]


def test_the_queue_pages_fifty_at_a_time_and_keeps_the_filters(client, support):
    for _ in range(51):
        mention()
    client.force_login(support)
    content = page(client, QUEUE + "?source=x")
    assert len(listed(content)) == 50
    assert 'href="?source=x&amp;page=2"' in content
    assert len(listed(page(client, QUEUE + "?source=x&page=2"))) == 1


# --- what a row and the mention page show -----------------------------------------------------------------


def test_a_row_shows_author_score_reasons_incident_state_and_assignee(client, support):
    incident = IncidentFactory(title="Checkout down")
    item = mention(
        author_handle="bob",
        author_name="Bob Smith",
        author_followers=12345,
        compound=-0.64,
        url="https://x.com/bob/status/1",
        flag_reasons=["Very negative", "Keywords: refund"],
        incident=incident,
        review_state=ReviewState.IN_REVIEW,
        assignee=support,
        text="Line one\nLine two",
    )
    client.force_login(support)
    content = page(client, QUEUE)
    row = re.search(rf'id="mention-{item.pk}"(.*?)</li>', content, flags=re.S).group(1)
    assert "Bob Smith" in row and "@bob" in row and "12,345 followers" in row
    assert "Line one<br>Line two" in row
    assert 'href="https://x.com/bob/status/1"' in row
    assert '<span class="score score-negative"' in row and "-0.64" in row
    assert '<span class="tag reason">Very negative</span><span class="tag reason">Keywords: refund</span>' in row
    assert f'href="/incidents/{incident.pk}/"' in row
    assert '<span class="mstate mstate-in_review">In review</span>' in row
    assert "support" in row.split("Assignee")[1]


def test_a_url_that_is_not_http_is_not_made_a_link(client, support):
    mention(url="javascript:alert(1)")
    client.force_login(support)
    assert "javascript:alert(1)" not in page(client, QUEUE)


def test_html_in_the_text_and_author_is_escaped_on_the_queue_and_the_mention_page(client, support):
    item = mention(
        text=f"Broken {XSS}", author_name=f"Eve {XSS}", author_handle=f"eve{XSS}", flag_reasons=[f"Keywords: {XSS}"]
    )
    client.force_login(support)
    for url in (QUEUE, f"/mentions/{item.pk}/"):
        content = page(client, url)
        assert XSS not in content
        assert f"Broken {XSS_ESCAPED}" in content and f"Eve {XSS_ESCAPED}" in content


def test_the_mention_page_shows_scores_reasons_note_and_x_replies(client, support):
    item = mention(
        neg=0.512,
        neu=0.488,
        pos=0.0,
        compound=-0.7351,
        review_state=ReviewState.RESPONDED,
        review_note="Called them back",
        flag_reasons=["Very negative"],
    )
    item.replies.add(
        Delivery.objects.create(
            in_reply_to=item.external_id,
            channel="x",
            recipient=f"reply:{item.external_id}",
            body="Sorry!",
            status="failed",
            last_error="403 Forbidden: duplicate content",
        )
    )
    client.force_login(support)
    content = page(client, f"/mentions/{item.pk}/")
    assert "0.512" in content and "0.488" in content and "-0.74" in content
    assert "Very negative" in content and "Called them back" in content
    assert "403 Forbidden: duplicate content" in content and "Failed" in content


def test_the_mention_page_names_the_network_its_replies_were_posted_on(client, support):
    item = mention(source="linkedin", external_id="7270000000000000002", network_ref="urn:li:share:1 "
                   "urn:li:comment:(urn:li:share:1,7270000000000000002)")
    item.replies.add(Delivery.objects.create(in_reply_to=item.network_ref, channel="linkedin",
                                             recipient=f"reply:{item.external_id}", body="Sorry!", status="sent"))
    client.force_login(support)

    content = page(client, f"/mentions/{item.pk}/")

    assert "<h2>Replies on LinkedIn</h2>" in content and "Replies on X" not in content


def test_a_mention_page_offers_the_actions_and_comes_back_to_itself(client, support):
    item = mention()
    client.force_login(support)
    content = page(client, f"/mentions/{item.pk}/")
    assert f'<input type="hidden" name="next" value="/mentions/{item.pk}/">' in content
    response = client.post(f"/mentions/{item.pk}/escalate/", {"next": f"/mentions/{item.pk}/"}, follow=True)
    assert response.redirect_chain[-1][0] == f"/mentions/{item.pk}/"
    assert "Escalated" in response.content.decode()


# --- the chart on the incident page ------------------------------------------------------------------------


def public_message(incident, author, headline, at) -> Message:
    return MessageFactory(incident=incident, author=author, headline=headline, explain="We are on it.",
                          acknowledge="", resolve="", study="", audience=Audience.PUBLIC, channels=["statuspage"],
                          dispatched_at=at, state="sent")


def test_the_incident_page_charts_sentiment_with_a_marker_per_public_message(client, lead):
    now = timezone.now()
    incident = IncidentFactory(title="Checkout down", started_at=now - timezone.timedelta(hours=3))
    first_at, second_at = now - timezone.timedelta(hours=2), now - timezone.timedelta(minutes=50)
    first = public_message(incident, lead, "We are investigating checkout errors", first_at)
    second = public_message(incident, lead, "Checkout is working again", second_at)
    MessageFactory(incident=incident, author=lead, headline="Internal only", explain="x", acknowledge="", resolve="",
                   study="", audience=Audience.INTERNAL, channels=["email"],
                   dispatched_at=now - timezone.timedelta(minutes=30), state="sent")
    for minutes, compound in [(150, -0.8), (130, -0.6), (100, -0.2), (70, -0.4), (40, 0.5), (20, 0.3)]:
        mention(
            incident=incident,
            compound=compound,
            posted_at=now - timezone.timedelta(minutes=minutes),
            label=Label.NEGATIVE if compound < 0 else Label.POSITIVE,
        )
    client.force_login(lead)
    content = page(client, incident.get_absolute_url())

    svg = re.search(r"<svg[^>]*>.*?</svg>", content, flags=re.S).group(0)
    assert 'role="img"' in svg and 'aria-label="Customer sentiment for “Checkout down”: 6 mentions' in svg
    assert "2 public messages marked" in svg
    assert svg.count('<g class="marker ') == 2
    assert re.findall(r'data-message="(\d+)"', svg) == [str(first.pk), str(second.pk)]
    assert "<title>1. We are investigating checkout errors" in svg
    # The hour before the first message: −0.8, −0.6 → −0.70; after: −0.2, −0.4 → −0.30, a change of +0.40.
    assert "mean compound -0.70 → -0.30 (+0.40)" in svg
    # Before the second: −0.2, −0.4 → −0.30; after: +0.5, +0.3 → +0.40, a change of +0.70.
    assert "mean compound -0.30 → +0.40 (+0.70)" in svg
    assert svg.count("<rect ") == 6 and "<polyline" in svg

    table = re.search(r'<table class="list sentiment-markers">.*?</table>', content, flags=re.S).group(0)
    assert "We are investigating checkout errors" in table and "Checkout is working again" in table
    assert "Internal only" not in table and "Internal only" not in svg
    assert '<td class="score change-improved">+0.70' in table
    assert f'href="/api/v1/incidents/{incident.pk}/sentiment/">JSON</a>' in content
    assert f'href="/mentions/?incident={incident.pk}"' in content


def test_a_message_after_which_sentiment_fell_is_shown_as_worsened(client, lead):
    now = timezone.now()
    incident = IncidentFactory(started_at=now - timezone.timedelta(hours=2))
    public_message(incident, lead, "Should be fine now", now - timezone.timedelta(minutes=60))
    mention(incident=incident, compound=0.2, label=Label.POSITIVE, posted_at=now - timezone.timedelta(minutes=90))
    mention(incident=incident, compound=-0.6, posted_at=now - timezone.timedelta(minutes=30))
    client.force_login(lead)
    content = page(client, incident.get_absolute_url())
    assert '<td class="score change-worsened">-0.80' in content
    assert '<g class="marker marker-worsened"' in content


def test_an_incident_without_linked_mentions_says_so_instead_of_a_chart(client, lead):
    incident = IncidentFactory()
    mention()  # not linked to it
    client.force_login(lead)
    content = page(client, incident.get_absolute_url())
    assert "Customer sentiment" in content
    assert "No mentions linked to this incident yet." in content
    assert "<svg" not in content


def test_an_open_negative_spike_is_shown_as_a_warning_on_the_incident_page(client, support):
    incident = IncidentFactory()
    mention(incident=incident)
    client.force_login(support)
    assert "Negative spike" not in page(client, incident.get_absolute_url())
    SentimentAlert.objects.create(
        incident=incident, ratio=4.2, negatives_last_hour=9, ended_at=timezone.now()
    )  # over: not shown
    assert "Negative spike" not in page(client, incident.get_absolute_url())
    SentimentAlert.objects.create(incident=incident, ratio=4.2, negatives_last_hour=12)
    content = page(client, incident.get_absolute_url())
    assert "Negative spike:</strong> 12 negative mentions in an hour, 4.2× the usual rate" in content
    assert f'href="/mentions/?incident={incident.pk}&amp;label=negative"' in content


def test_the_queue_link_from_an_incident_without_mentions_still_filters(client, support):
    incident = IncidentFactory(title="Quiet one")
    mention()  # on no incident
    client.force_login(support)
    content = page(client, QUEUE + f"?incident={incident.pk}")
    assert listed(content) == set()
    assert "Some filters are invalid" not in content


def test_the_dashboard_shows_reviewers_the_queue_and_managers_nothing_of_it(client, support, manager):
    Mention.objects.create(source="api", external_id="q1", text="down again", posted_at=timezone.now(),
                           flagged=True)
    client.force_login(support)
    page = client.get("/").content.decode()
    assert "Review queue" in page and "1 flagged mention to review" in page and "1 unassigned" in page
    client.force_login(manager)
    assert "Review queue" not in client.get("/").content.decode()
