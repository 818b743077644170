"""Reply targets at work: the time left on each flagged mention in the queue and on its page, the queue and the API
most urgent first, and the beat sweep that tells people once about a mention still waiting past its target."""

import re
import socket

import pytest
from django.utils import timezone

from core.roles import ACCOUNT_MANAGER, SUPPORT
from incidents.choices import TimelineKind
from sentiment.api.serializers import MentionSerializer
from sentiment.choices import Label, ReviewState
from sentiment.models import Mention
from sentiment.overdue import escalate_overdue_mentions, time_left
from sentiment.tasks import escalate_overdue_mentions as escalate_task
from tests.factories import IncidentFactory, UserFactory
from tests.sentiment.helpers import mention as unscored

pytestmark = pytest.mark.django_db

QUEUE = "/mentions/"
MINUTE = timezone.timedelta(minutes=1)


def flagged(priority="normal", due_in_minutes=60, **fields) -> Mention:
    """A scored, flagged mention whose reply target is this many minutes away (negative: past), and some seconds,
    so that the whole minutes shown are these however long the test takes."""
    now = timezone.now()
    seconds = 20 if due_in_minutes >= 0 else -20
    values = {"compound": -0.7, "label": Label.NEGATIVE, "flagged": True, "scored_at": now, "priority": priority,
              "reply_due_at": now + due_in_minutes * MINUTE + timezone.timedelta(seconds=seconds),
              "flag_reasons": ["Negative because: down (-2.0); compound -0.70", f"{priority.title()} priority: …"]}
    return unscored("acme checkout is down, I want a refund", **{**values, **fields})


def order(content: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'id="mention-(\d+)"', content)]


# --- time left --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("seconds", "text"), [
    (12 * 60 + 30, "due in 12 min"), (30, "due in less than a minute"), (-5 * 60 - 10, "overdue by 5 min"),
    (3 * 3600 + 5 * 60, "due in 3 h 5 min"), (-3 * 86400, "overdue by 3 days"),
])
def test_the_time_left_is_said_in_words(seconds, text):
    now = timezone.now()
    item = Mention(reply_due_at=now + timezone.timedelta(seconds=seconds), review_state=ReviewState.NEW)
    assert time_left(item, now).text == text
    assert time_left(item, now).overdue == (seconds < 0)


@pytest.mark.parametrize("state", [ReviewState.RESPONDED, ReviewState.ESCALATED, ReviewState.DISMISSED])
def test_an_answered_mention_is_never_shown_as_overdue(state):
    item = Mention(reply_due_at=timezone.now() - 60 * MINUTE, review_state=state)
    assert time_left(item) is None


def test_each_queue_row_and_the_mention_page_show_the_priority_and_the_time_left(client, support):
    late = flagged("critical", due_in_minutes=-5)
    soon = flagged("high", due_in_minutes=12, review_state=ReviewState.IN_REVIEW, assignee=support)
    client.force_login(support)
    content = client.get(QUEUE).content.decode()

    rows = dict(re.findall(r'id="mention-(\d+)">(.*?)</li>', content, flags=re.S))
    assert '<span class="mpriority mpriority-critical">Critical priority</span>' in rows[str(late.pk)]
    assert re.search(r'class="due due-overdue"[^>]*>.*overdue by 5 min</span>', rows[str(late.pk)])
    assert '<span class="mpriority mpriority-high">High priority</span>' in rows[str(soon.pk)]
    assert re.search(r'class="due"[^>]*>due in 12 min</span>', rows[str(soon.pk)])

    detail = client.get(f"/mentions/{late.pk}/").content.decode()
    assert "Critical priority" in detail and "overdue by 5 min" in detail
    assert "<dt>Reply target</dt>" in detail


def test_the_queue_shows_no_time_left_on_an_answered_mention(client, support):
    answered = flagged("critical", due_in_minutes=-30, review_state=ReviewState.RESPONDED)
    client.force_login(support)
    content = client.get(QUEUE + "?filtered=1&flagged=on&state=all").content.decode()
    row = re.search(rf'id="mention-{answered.pk}">(.*?)</li>', content, flags=re.S).group(1)
    assert "Critical priority" in row and "overdue" not in row and "due in" not in row


# --- most urgent first ------------------------------------------------------------------------------------


def test_the_flagged_queue_is_most_urgent_first_by_default_priority_then_reply_target(client, support):
    normal_late = flagged("normal", due_in_minutes=-90)
    high_later = flagged("high", due_in_minutes=40)
    critical = flagged("critical", due_in_minutes=10)
    high_sooner = flagged("high", due_in_minutes=5)
    client.force_login(support)
    expected = [critical.pk, high_sooner.pk, high_later.pk, normal_late.pk]
    assert order(client.get(QUEUE).content.decode()) == expected
    assert order(client.get(QUEUE + "?filtered=1&flagged=on&state=open&sort=urgent").content.decode()) == expected
    assert order(client.get(QUEUE + "?sort=newest").content.decode()) == [
        m.pk for m in sorted([normal_late, high_later, critical, high_sooner], key=lambda m: -m.pk)]


def test_a_mention_flagged_before_priorities_existed_comes_after_the_ranked_ones_until_it_is_rescored(client, support):
    legacy = flagged("", reply_due_at=None)  # flagged by an earlier version: no priority, no target
    normal = flagged("normal", due_in_minutes=200)
    client.force_login(support)
    assert order(client.get(QUEUE).content.decode()) == [normal.pk, legacy.pk]


def test_with_unflagged_mentions_shown_the_queue_defaults_to_newest_first_and_urgent_puts_flagged_first(
        client, support):
    older_flagged = flagged("normal", due_in_minutes=30, posted_at=timezone.now() - 60 * MINUTE)
    newer_calm = unscored("acme is fine", compound=0.4, label=Label.POSITIVE, scored_at=timezone.now())
    client.force_login(support)
    assert order(client.get(QUEUE + "?filtered=1&state=open").content.decode()) == [newer_calm.pk, older_flagged.pk]
    assert order(client.get(QUEUE + "?filtered=1&state=open&sort=urgent").content.decode()) == [
        older_flagged.pk, newer_calm.pk]


# --- the API ----------------------------------------------------------------------------------------------


def test_the_api_gives_priority_and_reply_target_read_only_and_orders_by_the_target(api_as, support):
    later, calm, sooner = flagged("normal", 50), unscored("acme is fine"), flagged("critical", 5)
    api = api_as(support)
    results = api.get("/api/v1/mentions/?ordering=reply_due_at").json()["results"]
    assert [item["id"] for item in results] == [sooner.pk, later.pk, calm.pk]  # no target: last
    assert results[0]["priority"] == "critical"
    assert results[0]["reply_due_at"] == timezone.localtime(sooner.reply_due_at).isoformat().replace("+00:00", "Z")
    assert (results[2]["priority"], results[2]["reply_due_at"]) == ("", None)
    descending = api.get("/api/v1/mentions/?ordering=-reply_due_at").json()["results"]
    assert [item["id"] for item in descending] == [later.pk, sooner.pk, calm.pk]
    assert [item["id"] for item in api.get("/api/v1/mentions/?priority=critical").json()["results"]] == [sooner.pk]

    fields = MentionSerializer().fields
    assert fields["priority"].read_only and fields["reply_due_at"].read_only


# --- overdue: told once -----------------------------------------------------------------------------------


@pytest.fixture
def team(support, lead, manager):
    """Support and leads are told about unassigned mentions; an account manager is not."""
    return {support.email, lead.email}


def test_an_overdue_unassigned_mention_is_told_once_to_support_and_leads(team, mailoutbox):
    late = flagged("critical", due_in_minutes=-3, author_handle="angry_ann")
    flagged("high", due_in_minutes=20)  # not yet due

    assert escalate_overdue_mentions() == 1
    assert escalate_overdue_mentions() == 0
    assert escalate_task.apply().get() == 0  # the beat task, as beat runs it

    assert len(mailoutbox) == 1
    email = mailoutbox[0]
    assert set(email.to) == team
    assert email.subject == "Past its reply target: critical priority mention from angry_ann"
    assert f"/mentions/{late.pk}/" in email.body and "overdue by 3 min" in email.body
    assert Mention.objects.get(pk=late.pk).overdue_alerted_at is not None


def test_an_assigned_mention_is_told_to_its_assignee_alone_and_the_team_gets_the_unassigned_together(
        team, support, mailoutbox):
    colleague = UserFactory(username="colleague", role=SUPPORT)
    mine = flagged("high", due_in_minutes=-10, review_state=ReviewState.IN_REVIEW, assignee=colleague)
    first, second = flagged("normal", due_in_minutes=-2), flagged("critical", due_in_minutes=-1)

    assert escalate_overdue_mentions() == 3

    by_recipients = {tuple(sorted(email.to)): email for email in mailoutbox}
    assert set(by_recipients) == {(colleague.email,), tuple(sorted(team | {colleague.email}))}
    assert f"/mentions/{mine.pk}/" in by_recipients[(colleague.email,)].body
    together = by_recipients[tuple(sorted(team | {colleague.email}))]
    assert together.subject == "2 mentions are past their reply target"
    assert together.body.index(f"/mentions/{second.pk}/") < together.body.index(f"/mentions/{first.pk}/")


def test_an_assignee_who_no_longer_reviews_mentions_is_not_the_one_told(team, mailoutbox):
    former = UserFactory(username="moved-on", role=ACCOUNT_MANAGER)
    flagged("high", due_in_minutes=-10, review_state=ReviewState.IN_REVIEW, assignee=former)
    escalate_overdue_mentions()
    assert [set(email.to) for email in mailoutbox] == [team]


@pytest.mark.parametrize("state", [ReviewState.RESPONDED, ReviewState.ESCALATED, ReviewState.DISMISSED])
def test_an_answered_mention_past_its_target_is_not_escalated(team, mailoutbox, state):
    answered = flagged("critical", due_in_minutes=-30, review_state=state)
    assert escalate_overdue_mentions() == 0
    assert mailoutbox == [] and Mention.objects.get(pk=answered.pk).overdue_alerted_at is None


def test_an_unflagged_mention_or_one_without_a_target_is_not_escalated(team, mailoutbox):
    flagged("normal", due_in_minutes=-30, flagged=False)
    flagged("", reply_due_at=None)
    assert escalate_overdue_mentions() == 0 and mailoutbox == []


def test_a_mention_already_claimed_by_another_beat_is_not_told_again(team, mailoutbox):
    late = flagged("critical", due_in_minutes=-3)
    Mention.objects.filter(pk=late.pk).update(overdue_alerted_at=timezone.now())  # the other run won the claim
    assert escalate_overdue_mentions() == 0 and mailoutbox == []


def test_the_linked_incident_gets_a_note_without_the_mentions_text_or_author(team, mailoutbox):
    incident = IncidentFactory(title="Checkout down")
    late = flagged("critical", due_in_minutes=-3, incident=incident, author_handle="angry_ann")
    escalate_overdue_mentions()
    note = incident.timeline.filter(kind=TimelineKind.NOTE).last()
    assert note.description == f"Mention {late.pk} (critical priority) is past its reply target. Told 2 people."
    assert note.data == {"mention_id": late.pk, "priority": "critical"}


def test_a_failing_mail_server_neither_crashes_the_sweep_nor_undoes_the_claim(team, settings):
    with socket.socket() as closed:  # a port nothing listens on: the SMTP connection is refused
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 2
    incident = IncidentFactory(title="Checkout down")
    late = flagged("critical", due_in_minutes=-3, incident=incident)

    assert escalate_overdue_mentions() == 1
    assert Mention.objects.get(pk=late.pk).overdue_alerted_at is not None
    assert escalate_overdue_mentions() == 0  # told (or tried) once: not again every minute
    note = incident.timeline.filter(kind=TimelineKind.NOTE).last()
    assert note.description.endswith("Telling people failed: the email could not be sent (ConnectionRefusedError).")
