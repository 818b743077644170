"""Maintenance windows: their state machine, beat's moves at their times and the components they hold."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from comms.maintenance import approval
from core.statemachine import TransitionNotAllowed
from incidents import maintenance as windows
from incidents.choices import MAINTENANCE_MACHINE, ComponentStatus, MaintenanceApproval, MaintenanceState
from incidents.models import ComponentStatusChange, Maintenance, StatusChangeCause
from tests.factories import ComponentFactory, IncidentFactory, UserFactory

pytestmark = pytest.mark.django_db
HOUR = timezone.timedelta(hours=1)


def new_window(author, *, starts_in=HOUR * 2, lasts=HOUR, components=(), **fields) -> Maintenance:
    now = timezone.now()
    return windows.create_maintenance(
        author=author, components=components, title=fields.pop("title", "Database upgrade"),
        what=fields.pop("what", "We upgrade the main database."), scheduled_for=now + starts_in,
        scheduled_until=now + starts_in + lasts, **fields)


def approved_window(author, approver, **kwargs) -> Maintenance:
    window = new_window(author, **kwargs)
    approval.submit(window, actor=author)
    return approval.approve(window, actor=approver)


@pytest.fixture
def second_lead(db):
    return UserFactory(username="second-lead", role="Communications lead")


def test_the_state_machine_allows_only_the_documented_moves():
    assert MAINTENANCE_MACHINE.allowed_from(MaintenanceState.SCHEDULED) == [MaintenanceState.IN_PROGRESS,
                                                                            MaintenanceState.CANCELLED]
    assert MAINTENANCE_MACHINE.can(MaintenanceState.IN_PROGRESS, MaintenanceState.VERIFYING)
    assert MAINTENANCE_MACHINE.can(MaintenanceState.VERIFYING, MaintenanceState.COMPLETED)
    assert not MAINTENANCE_MACHINE.can(MaintenanceState.COMPLETED, MaintenanceState.IN_PROGRESS)
    assert not MAINTENANCE_MACHINE.can(MaintenanceState.IN_PROGRESS, MaintenanceState.CANCELLED)


def test_a_window_that_ends_before_it_starts_is_refused(lead):
    with pytest.raises(ValidationError) as refusal:
        new_window(lead, lasts=-HOUR)
    assert "scheduled_until" in refusal.value.message_dict


def test_beat_starts_an_approved_window_at_its_time_and_puts_its_components_under_maintenance(lead, second_lead):
    api, dashboard = ComponentFactory(name="API"), ComponentFactory(name="Dashboard",
                                                                    status=ComponentStatus.DEGRADED_PERFORMANCE)
    window = approved_window(lead, second_lead, starts_in=-timezone.timedelta(minutes=1), components=[api, dashboard])

    assert windows.move_due_windows() == {"started": 1, "ended": 0}

    window.refresh_from_db()
    assert window.state == MaintenanceState.IN_PROGRESS and window.started_at is not None
    api.refresh_from_db()
    dashboard.refresh_from_db()
    assert api.status == dashboard.status == ComponentStatus.UNDER_MAINTENANCE
    history = ComponentStatusChange.objects.filter(cause=StatusChangeCause.MAINTENANCE)
    assert sorted(history.values_list("component__name", "to_status")) == [
        ("API", "under_maintenance"), ("Dashboard", "under_maintenance")]
    descriptions = list(window.timeline.values_list("description", flat=True))
    assert "Started at its scheduled time" in descriptions
    assert "API changed from operational to under maintenance" in descriptions


def test_running_beat_twice_changes_nothing_more(lead, second_lead):
    api = ComponentFactory(name="API")
    window = approved_window(lead, second_lead, starts_in=-timezone.timedelta(minutes=1), components=[api])
    windows.move_due_windows()
    entries = window.timeline.count()

    assert windows.move_due_windows() == {"started": 0, "ended": 0}
    assert window.timeline.count() == entries
    assert ComponentStatusChange.objects.filter(component=api).count() == 1


def test_at_its_end_a_window_completes_and_its_components_go_back_to_what_they_were(lead, second_lead):
    api = ComponentFactory(name="API", status=ComponentStatus.DEGRADED_PERFORMANCE)
    window = approved_window(lead, second_lead, starts_in=HOUR, components=[api])
    windows.move_due_windows(now=window.scheduled_for)

    assert windows.move_due_windows(now=window.scheduled_until) == {"started": 0, "ended": 1}

    window.refresh_from_db()
    api.refresh_from_db()
    assert window.state == MaintenanceState.COMPLETED and window.completed_at == window.scheduled_until
    assert api.status == ComponentStatus.DEGRADED_PERFORMANCE


def test_a_window_that_asks_for_verification_waits_in_verifying_until_a_lead_completes_it(lead, second_lead):
    api = ComponentFactory(name="API")
    window = approved_window(lead, second_lead, starts_in=HOUR, components=[api], needs_verification=True)
    windows.move_due_windows(now=window.scheduled_for)
    windows.move_due_windows(now=window.scheduled_until)
    window.refresh_from_db()
    api.refresh_from_db()
    assert window.state == MaintenanceState.VERIFYING
    assert api.status == ComponentStatus.OPERATIONAL

    windows.complete(window, actor=lead)
    window.refresh_from_db()
    assert window.state == MaintenanceState.COMPLETED


def test_a_component_an_incident_changed_during_the_window_keeps_the_incidents_status(lead, second_lead):
    api = ComponentFactory(name="API")
    window = approved_window(lead, second_lead, starts_in=HOUR, components=[api])
    windows.move_due_windows(now=window.scheduled_for)
    from incidents.services import set_component_status

    set_component_status(api, ComponentStatus.MAJOR_OUTAGE, actor=lead, incident=IncidentFactory())
    windows.move_due_windows(now=window.scheduled_until)
    api.refresh_from_db()
    assert api.status == ComponentStatus.MAJOR_OUTAGE


def test_a_component_held_by_another_window_in_progress_stays_under_maintenance(lead, second_lead):
    api = ComponentFactory(name="API")
    short = approved_window(lead, second_lead, starts_in=HOUR, lasts=HOUR, components=[api])
    long = approved_window(lead, second_lead, starts_in=HOUR, lasts=HOUR * 3, components=[api])
    windows.move_due_windows(now=short.scheduled_for)
    windows.move_due_windows(now=short.scheduled_until)
    api.refresh_from_db()
    assert api.status == ComponentStatus.UNDER_MAINTENANCE
    windows.move_due_windows(now=long.scheduled_until)
    api.refresh_from_db()
    assert api.status == ComponentStatus.OPERATIONAL


def test_beat_never_starts_a_window_no_lead_approved(lead):
    api = ComponentFactory(name="API")
    window = new_window(lead, starts_in=-timezone.timedelta(minutes=1), components=[api])
    approval.submit(window, actor=lead)

    assert windows.move_due_windows() == {"started": 0, "ended": 0}
    api.refresh_from_db()
    assert api.status == ComponentStatus.OPERATIONAL
    with pytest.raises(TransitionNotAllowed, match="not approved"):
        windows.start(window, actor=lead)


def test_editing_an_approved_window_sends_it_back_for_approval_and_hides_it(lead, second_lead):
    window = approved_window(lead, second_lead)
    assert Maintenance.objects.public().filter(pk=window.pk).exists()

    window = windows.update_maintenance(window, actor=lead, what="We upgrade the database and its replicas.")
    assert window.approval == MaintenanceApproval.SUBMITTED
    assert not Maintenance.objects.public().filter(pk=window.pk).exists()


def test_rescheduling_a_published_window_counts_a_new_schedule_version(lead, second_lead):
    window = approved_window(lead, second_lead)
    later = window.scheduled_for + HOUR * 24
    window = windows.reschedule(window, actor=lead, scheduled_for=later, scheduled_until=later + HOUR)
    assert window.schedule_version == 1 and window.approval == MaintenanceApproval.SUBMITTED


def test_a_window_in_progress_cannot_be_cancelled_or_edited(lead, second_lead):
    window = approved_window(lead, second_lead, starts_in=-timezone.timedelta(minutes=1))
    windows.move_due_windows()
    with pytest.raises(TransitionNotAllowed):
        windows.cancel(window, actor=lead)
    with pytest.raises(TransitionNotAllowed, match="can no longer be edited"):
        windows.update_maintenance(window, actor=lead, title="Other")


def test_the_author_cannot_approve_a_four_eyes_window_but_another_lead_can(lead, second_lead):
    window = new_window(lead, four_eyes=True)
    approval.submit(window, actor=lead)
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied, match="four eyes"):
        approval.approve(window, actor=lead)
    assert approval.approve(window, actor=second_lead).approval == MaintenanceApproval.APPROVED


def test_without_four_eyes_a_lead_approves_their_own_window(lead):
    window = new_window(lead)
    approval.submit(window, actor=lead)
    assert approval.approve(window, actor=lead).is_public


def test_support_cannot_approve_a_window(lead, support):
    window = new_window(lead)
    approval.submit(window, actor=lead)
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied, match="Only communications leads"):
        approval.approve(window, actor=support)


def test_a_draft_cannot_be_approved_before_it_is_submitted(lead):
    with pytest.raises(TransitionNotAllowed, match="Submit"):
        approval.approve(new_window(lead), actor=lead)


def test_an_open_incident_is_not_made_overdue_by_a_window_and_a_window_has_no_update_cadence(lead, second_lead):
    """Maintenance is not an incident: the cadence's overdue reminders never look at it."""
    from comms.overdue import remind_overdue

    window = approved_window(lead, second_lead, starts_in=-HOUR * 5, lasts=HOUR * 10)
    windows.move_due_windows()
    assert Maintenance.objects.get(pk=window.pk).state == MaintenanceState.IN_PROGRESS
    assert remind_overdue(now=timezone.now() + HOUR * 4) == 0
