"""Incident status moves: allowed and refused, through the service and the API, each on the timeline."""

import pytest

from core.statemachine import TransitionNotAllowed
from incidents import hooks, services
from incidents.choices import INCIDENT_MACHINE, IncidentStatus, Severity, TimelineKind
from incidents.models import TimelineEntry
from tests.factories import ComponentFactory, IncidentFactory

pytestmark = pytest.mark.django_db

ALLOWED = [
    (IncidentStatus.INVESTIGATING, IncidentStatus.IDENTIFIED),
    (IncidentStatus.INVESTIGATING, IncidentStatus.MONITORING),
    (IncidentStatus.INVESTIGATING, IncidentStatus.RESOLVED),
    (IncidentStatus.IDENTIFIED, IncidentStatus.INVESTIGATING),
    (IncidentStatus.IDENTIFIED, IncidentStatus.MONITORING),
    (IncidentStatus.IDENTIFIED, IncidentStatus.RESOLVED),
    (IncidentStatus.MONITORING, IncidentStatus.INVESTIGATING),
    (IncidentStatus.MONITORING, IncidentStatus.IDENTIFIED),
    (IncidentStatus.MONITORING, IncidentStatus.RESOLVED),
    (IncidentStatus.RESOLVED, IncidentStatus.INVESTIGATING),
    (IncidentStatus.RESOLVED, IncidentStatus.IDENTIFIED),
    (IncidentStatus.RESOLVED, IncidentStatus.MONITORING),
    (IncidentStatus.RESOLVED, IncidentStatus.CLOSED),
]
ALL_PAIRS = [(a, b) for a in IncidentStatus for b in IncidentStatus]
REFUSED = [(a, b) for a, b in ALL_PAIRS if (a, b) not in ALLOWED and a != b]


@pytest.fixture
def open_incident(lead):
    return services.create_incident(actor=lead, title="Checkout errors", severity=Severity.SEV2)


def test_the_declared_moves_are_exactly_the_allowed_list():
    assert {(a, b) for a in IncidentStatus for b in IncidentStatus if INCIDENT_MACHINE.can(a, b)} == set(ALLOWED)


@pytest.mark.parametrize(("source", "target"), ALLOWED)
def test_an_allowed_move_changes_the_status_and_is_written_to_the_timeline(lead, source, target):
    incident = IncidentFactory(status=source)
    services.change_status(incident, target, actor=lead, note="checked")
    incident.refresh_from_db()
    assert incident.status == target
    entry = incident.timeline.get()
    assert (entry.kind, entry.actor, entry.data["old"], entry.data["new"]) == ("status", lead, source, target)
    assert entry.description.endswith(": checked")


@pytest.mark.parametrize(("source", "target"), REFUSED)
def test_a_refused_move_changes_nothing_and_says_why(lead, source, target):
    incident = IncidentFactory(status=source)
    with pytest.raises(TransitionNotAllowed) as refusal:
        services.change_status(incident, target, actor=lead)
    incident.refresh_from_db()
    assert incident.status == source
    assert not incident.timeline.exists()
    assert str(refusal.value).endswith(".")


@pytest.mark.parametrize("status", list(IncidentStatus))
def test_setting_the_status_it_already_has_changes_nothing_and_writes_nothing(lead, status):
    incident = IncidentFactory(status=status)
    services.change_status(incident, status, actor=lead)
    assert not incident.timeline.exists()


def test_a_closed_incident_is_final():
    with pytest.raises(TransitionNotAllowed, match="A closed incident cannot change state any more."):
        INCIDENT_MACHINE.check(IncidentStatus.CLOSED, IncidentStatus.INVESTIGATING)


def test_a_refusal_lists_where_the_incident_can_go_instead():
    allowed = "from investigating it can move to: identified, monitoring, resolved"
    with pytest.raises(TransitionNotAllowed, match=allowed):
        INCIDENT_MACHINE.check(IncidentStatus.INVESTIGATING, IncidentStatus.CLOSED)


def test_resolving_stamps_the_time_and_reopening_clears_it(lead, open_incident):
    services.change_status(open_incident, IncidentStatus.RESOLVED, actor=lead)
    open_incident.refresh_from_db()
    assert open_incident.resolved_at is not None

    services.change_status(open_incident, IncidentStatus.IDENTIFIED, actor=lead)
    open_incident.refresh_from_db()
    assert open_incident.resolved_at is None
    assert open_incident.timeline.last().description == "Reopened as identified"


def test_closing_stamps_the_closed_time(lead, open_incident):
    services.change_status(open_incident, IncidentStatus.RESOLVED, actor=lead)
    services.change_status(open_incident, IncidentStatus.CLOSED, actor=lead)
    open_incident.refresh_from_db()
    assert open_incident.closed_at is not None
    assert open_incident.public_status == IncidentStatus.RESOLVED


def test_a_registered_close_check_blocks_closing_and_lists_the_blockers(lead, open_incident, monkeypatch):
    monkeypatch.setattr(hooks.close_checks, "_functions", [lambda incident: ["2 follow-ups are still open"]])
    services.change_status(open_incident, IncidentStatus.RESOLVED, actor=lead)
    with pytest.raises(TransitionNotAllowed, match="cannot be closed yet: 2 follow-ups are still open"):
        services.change_status(open_incident, IncidentStatus.CLOSED, actor=lead)


def test_every_change_is_recorded_with_its_actor(lead, open_incident):
    api, web = ComponentFactory(name="API"), ComponentFactory(name="Web")
    services.update_incident(open_incident, actor=lead, severity=Severity.SEV1, components=[api, web])
    services.update_incident(open_incident, actor=lead, components=[web], title="Checkout down")
    services.update_incident(open_incident, actor=lead, title="Checkout down")  # no change, no entry

    entries = list(open_incident.timeline.values_list("kind", "description"))
    assert entries == [
        (TimelineKind.CREATED, "Incident opened as SEV2, investigating"),
        (TimelineKind.SEVERITY, "Severity changed from SEV2 to SEV1"),
        (TimelineKind.COMPONENTS, "Components added API, Web"),
        (TimelineKind.EDITED, "Edited title"),
        (TimelineKind.COMPONENTS, "Components removed API"),
    ]
    assert set(open_incident.timeline.values_list("actor", flat=True)) == {lead.pk}


def test_timeline_entries_cannot_be_changed_or_deleted(lead, open_incident):
    entry = open_incident.timeline.get()
    entry.description = "rewritten history"
    with pytest.raises(TypeError, match="append-only"):
        entry.save()
    with pytest.raises(TypeError, match="append-only"):
        entry.delete()
    with pytest.raises(TypeError, match="append-only"):
        TimelineEntry.objects.filter(pk=entry.pk).update(description="rewritten")


class TestThroughTheApi:
    def test_a_refused_move_is_a_409_with_the_reason(self, api_as, lead):
        incident = IncidentFactory(status=IncidentStatus.INVESTIGATING)
        response = api_as(lead).patch(f"/api/v1/incidents/{incident.pk}/", {"status": "closed"})
        assert response.status_code == 409
        body = response.json()
        assert body["code"] == "conflict"
        assert "cannot move from investigating to closed" in body["message"]

    def test_an_allowed_move_with_a_note_lands_on_the_timeline(self, api_as, lead):
        incident = IncidentFactory(status=IncidentStatus.INVESTIGATING)
        response = api_as(lead).patch(
            f"/api/v1/incidents/{incident.pk}/", {"status": "resolved", "note": "rolled back release 42"}
        )
        assert response.status_code == 200, response.content
        assert response.json()["resolved_at"] is not None
        timeline = api_as(lead).get(f"/api/v1/incidents/{incident.pk}/timeline/").json()["results"]
        assert timeline[-1]["description"] == "Status changed from investigating to resolved: rolled back release 42"
        assert timeline[-1]["actor"] == "lead"

    def test_a_refused_move_in_a_larger_update_changes_nothing_at_all(self, api_as, lead):
        incident = IncidentFactory(status=IncidentStatus.CLOSED, title="Before")
        response = api_as(lead).patch(f"/api/v1/incidents/{incident.pk}/", {"title": "After", "status": "monitoring"})
        assert response.status_code == 409
        incident.refresh_from_db()
        assert incident.title == "Before"
        assert not incident.timeline.exists()
