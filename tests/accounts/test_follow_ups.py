"""Follow-ups: planning and completing them, and the reminder an overdue one sends its owner (once per quiet
period, recorded on the account's timeline), also through the Celery task called directly."""

import smtplib
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from accounts import reminders, services, tasks
from accounts.models import AccountEvent, FollowUp
from core.roles import ACCOUNT_MANAGER
from core.statemachine import TransitionNotAllowed
from incidents.models import TimelineEntry
from tests.factories import AccountFactory, ImpactFactory, IncidentFactory, UserFactory

pytestmark = pytest.mark.django_db
now = timezone.now


@pytest.fixture
def impact(manager):
    return ImpactFactory(account=AccountFactory(name="Acme", owner=manager), state="follow_up",
                         incident=IncidentFactory(title="Checkout down"))


def plan(impact, actor, summary="Call the CTO about the credit", due_at=None, **fields):
    return services.add_follow_up(impact, actor=actor, summary=summary, due_at=due_at or now() + timedelta(hours=2),
                                  **fields)


def overdue(impact, owner, summary="Call the CTO", hours=2, **fields):
    return FollowUp.objects.create(impact=impact, summary=summary, owner=owner,
                                   due_at=now() - timedelta(hours=hours, minutes=1), **fields)


def reminder_events():
    return list(AccountEvent.objects.filter(kind="reminder").order_by("at", "id").values_list("description", flat=True))


# --- Planning --------------------------------------------------------------------------------------------

def test_planning_a_follow_up_records_it_on_both_timelines(manager, impact):
    due = now() + timedelta(hours=2)
    follow_up = plan(impact, manager, due_at=due, kind="meeting")

    assert (follow_up.summary, follow_up.kind, follow_up.owner, follow_up.created_by) == (
        "Call the CTO about the credit", "meeting", manager, manager)
    assert follow_up.due_at == due and follow_up.is_open and not follow_up.is_overdue
    event = AccountEvent.objects.get()
    assert (event.kind, event.description, event.data["follow_up_id"]) == (
        "follow_up", "meeting planned for manager: Call the CTO about the credit", follow_up.pk)
    assert TimelineEntry.objects.get().description == (
        "Acme: meeting planned for manager: Call the CTO about the credit")


def test_a_follow_up_may_be_planned_for_another_account_manager(manager, impact):
    deputy = UserFactory(username="deputy", role=ACCOUNT_MANAGER)
    assert plan(impact, manager, owner=deputy).owner == deputy


def test_a_follow_up_may_be_planned_for_an_admin(manager, admin_user, impact):
    assert plan(impact, manager, owner=admin_user).owner == admin_user


@pytest.mark.parametrize("who", ["support", "lead", "roleless"])
def test_the_owner_of_a_follow_up_must_be_an_account_manager(request, manager, impact, who):
    owner = request.getfixturevalue(who)
    with pytest.raises(ValidationError) as refusal:
        plan(impact, manager, owner=owner)
    assert refusal.value.message_dict == {"owner": [f"{owner.username} is not an account manager."]}
    assert not FollowUp.objects.exists()


@pytest.mark.parametrize("summary", ["", "  ", None])
def test_a_follow_up_needs_a_summary(manager, impact, summary):
    with pytest.raises(ValidationError) as refusal:
        plan(impact, manager, summary=summary)
    assert refusal.value.message_dict == {
        "summary": ["Say what is to be done, e.g. call the CTO about the credit."]}
    assert not FollowUp.objects.exists()


def test_a_follow_up_needs_a_due_time(manager, impact):
    with pytest.raises(ValidationError) as refusal:
        services.add_follow_up(impact, actor=manager, summary="Call", due_at=None)
    assert refusal.value.message_dict == {"due_at": ["Give the time by which it is due."]}


def test_the_summary_is_trimmed_and_cut_to_200_characters(manager, impact):
    assert plan(impact, manager, summary="  " + "x" * 250 + "  ").summary == "x" * 200


@pytest.mark.parametrize("who", ["support", "lead"])
def test_only_whoever_works_the_impact_plans_follow_ups(request, impact, who):
    with pytest.raises(PermissionDenied):
        plan(impact, request.getfixturevalue(who))
    assert not FollowUp.objects.exists()


# --- Completing ------------------------------------------------------------------------------------------

def test_completing_stores_the_outcome_and_the_next_step_and_records_it(manager, impact):
    follow_up = plan(impact, manager)

    services.complete_follow_up(follow_up, actor=manager, outcome="  She accepts the credit. ",
                                next_step=" send the invoice ")

    follow_up.refresh_from_db()
    assert (follow_up.outcome, follow_up.next_step, follow_up.is_open) == (
        "She accepts the credit.", "send the invoice", False)
    assert follow_up.done_at is not None
    assert AccountEvent.objects.first().description == "call done: She accepts the credit."
    assert TimelineEntry.objects.last().description == "Acme: call done: She accepts the credit."


@pytest.mark.parametrize("outcome", ["", "   ", None])
def test_completing_needs_an_outcome(manager, impact, outcome):
    follow_up = plan(impact, manager)
    with pytest.raises(ValidationError) as refusal:
        services.complete_follow_up(follow_up, actor=manager, outcome=outcome)
    assert refusal.value.message_dict == {"outcome": ["Write what came of it, e.g. what the customer said."]}
    follow_up.refresh_from_db()
    assert follow_up.done_at is None


def test_a_follow_up_cannot_be_completed_twice(manager, impact):
    follow_up = plan(impact, manager)
    services.complete_follow_up(follow_up, actor=manager, outcome="done")
    with pytest.raises(TransitionNotAllowed, match=r"^This follow-up is already done\.$"):
        services.complete_follow_up(follow_up, actor=manager, outcome="again")
    follow_up.refresh_from_db()
    assert follow_up.outcome == "done"


def test_another_account_manager_cannot_complete_the_follow_up(manager, impact):
    follow_up = plan(impact, manager)
    with pytest.raises(PermissionDenied):
        services.complete_follow_up(follow_up, actor=UserFactory(username="other", role=ACCOUNT_MANAGER),
                                    outcome="done")
    follow_up.refresh_from_db()
    assert follow_up.is_open


def test_the_account_manager_a_follow_up_is_planned_for_may_complete_it(manager, impact):
    deputy = UserFactory(username="deputy", role=ACCOUNT_MANAGER)
    follow_up = plan(impact, manager, owner=deputy)

    services.complete_follow_up(follow_up, actor=deputy, outcome="called, all good")

    follow_up.refresh_from_db()
    assert follow_up.outcome == "called, all good"


# --- Reminders -------------------------------------------------------------------------------------------

def test_an_overdue_follow_up_reminds_its_owner_once_by_email_and_records_it(settings, manager, impact,
                                                                             mailoutbox):
    follow_up = overdue(impact, manager, kind="email")

    assert reminders.remind_overdue_follow_ups() == 1

    (email,) = mailoutbox
    assert email.to == ["manager@example.com"]
    assert email.subject == "Overdue: email with Acme"
    assert email.body.startswith("Call the CTO\n\nDue ")
    assert "(2 h ago), for the incident “Checkout down”." in email.body
    assert f"Record the outcome: {settings.SITE_URL}{impact.get_absolute_url()}\n" in email.body
    event = AccountEvent.objects.get()
    assert (event.kind, event.impact, event.data["follow_up_id"]) == ("reminder", impact, follow_up.pk)
    assert event.description == "follow-up overdue (Call the CTO); manager reminded by email"
    follow_up.refresh_from_db()
    assert follow_up.reminded_at is not None


def test_a_second_run_right_after_sends_nothing(manager, impact, mailoutbox):
    overdue(impact, manager)
    assert reminders.remind_overdue_follow_ups() == 1
    assert reminders.remind_overdue_follow_ups() == 0
    assert len(mailoutbox) == 1
    assert len(reminder_events()) == 1


def test_a_run_after_the_quiet_period_reminds_again(manager, impact, mailoutbox):
    follow_up = overdue(impact, manager)
    assert reminders.remind_overdue_follow_ups() == 1

    assert reminders.remind_overdue_follow_ups(now=now() + timedelta(hours=23)) == 0
    later = now() + timedelta(hours=25)
    assert reminders.remind_overdue_follow_ups(now=later) == 1

    assert len(mailoutbox) == 2
    assert len(reminder_events()) == 2
    follow_up.refresh_from_db()
    assert follow_up.reminded_at == later


def test_the_quiet_period_is_a_setting(settings, manager, impact, mailoutbox):
    settings.FOLLOW_UP_REMINDER_HOURS = 1
    overdue(impact, manager)
    reminders.remind_overdue_follow_ups()
    assert reminders.remind_overdue_follow_ups(now=now() + timedelta(hours=2)) == 1
    assert len(mailoutbox) == 2


def test_a_done_follow_up_never_reminds(manager, impact, mailoutbox):
    overdue(impact, manager, done_at=now(), outcome="called")
    assert reminders.remind_overdue_follow_ups(now=now() + timedelta(days=3)) == 0
    assert mailoutbox == [] and reminder_events() == []


def test_a_follow_up_not_yet_due_does_not_remind(manager, impact, mailoutbox):
    follow_up = FollowUp.objects.create(impact=impact, summary="Call", owner=manager,
                                        due_at=now() + timedelta(hours=1))
    assert reminders.remind_overdue_follow_ups() == 0
    assert mailoutbox == [] and reminder_events() == []
    assert reminders.remind_overdue_follow_ups(now=follow_up.due_at + timedelta(minutes=1)) == 1


def test_each_overdue_follow_up_reminds_its_own_owner(manager, impact, mailoutbox):
    deputy = UserFactory(username="deputy", role=ACCOUNT_MANAGER)
    overdue(impact, manager, summary="Call the CTO")
    overdue(impact, deputy, summary="Email the CFO", hours=5)

    assert reminders.remind_overdue_follow_ups() == 2

    assert [email.to for email in mailoutbox] == [["deputy@example.com"], ["manager@example.com"]]  # oldest first
    assert reminder_events() == [
        "follow-up overdue (Email the CFO); deputy reminded by email",
        "follow-up overdue (Call the CTO); manager reminded by email",
    ]


def test_an_owner_without_email_is_recorded_as_such(impact, mailoutbox):
    silent = UserFactory(username="silent", role=ACCOUNT_MANAGER, email="")
    overdue(impact, silent)

    assert reminders.remind_overdue_follow_ups() == 1

    assert mailoutbox == []
    assert reminder_events() == ["follow-up overdue (Call the CTO); silent has no email address to remind"]


def test_a_failed_email_is_recorded_and_not_retried_until_the_quiet_period_ends(manager, impact, monkeypatch):
    def refuse(*args, **kwargs):
        raise smtplib.SMTPServerDisconnected("gone")

    monkeypatch.setattr("core.notify.send_mail", refuse)
    overdue(impact, manager)

    assert reminders.remind_overdue_follow_ups() == 1
    assert reminders.remind_overdue_follow_ups() == 0

    assert reminder_events() == [
        "follow-up overdue (Call the CTO); reminding manager failed: the email could not be sent "
        "(SMTPServerDisconnected)"
    ]


def test_the_celery_task_returns_how_many_owners_were_reminded(manager, impact, mailoutbox):
    overdue(impact, manager, summary="one")
    overdue(impact, manager, summary="two")
    assert tasks.remind_overdue_follow_ups() == 2
    assert tasks.remind_overdue_follow_ups() == 0
    assert len(mailoutbox) == 2
