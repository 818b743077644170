"""/api/v1/maintenances/: leads write, approve and move windows; everyone else reads; the same refusals as messages
(403 role, 409 state with a reason, 400 validation), each in the one error shape."""

import pytest
from django.utils import timezone

from incidents.models import Maintenance
from tests.factories import ComponentFactory, UserFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/maintenances/"


def body(**fields) -> dict:
    start = timezone.now() + timezone.timedelta(days=4)
    return {"title": "Database upgrade", "what": "We upgrade the main database.",
            "scheduled_for": start.isoformat(), "scheduled_until": (start + timezone.timedelta(hours=1)).isoformat(),
            **fields}


@pytest.fixture
def second_lead(db):
    return UserFactory(username="second-lead", role="Communications lead")


def test_a_lead_writes_submits_and_another_lead_approves_a_window(api_as, lead, second_lead):
    component = ComponentFactory(name="API")
    created = api_as(lead).post(URL, body(components=[component.pk], four_eyes=True), format="json")
    assert created.status_code == 201, created.json()
    window = created.json()
    assert window["approval"] == "draft" and window["state"] == "scheduled" and window["components"] == [component.pk]

    assert api_as(lead).post(f"{URL}{window['id']}/submit/").json()["approval"] == "submitted"
    refused = api_as(lead).post(f"{URL}{window['id']}/approve/")
    assert refused.status_code == 403 and "four eyes" in refused.json()["message"]
    approved = api_as(second_lead).post(f"{URL}{window['id']}/approve/")
    assert approved.status_code == 200 and approved.json()["is_public"] is True


def test_switching_four_eyes_off_does_not_let_the_author_approve_their_own_window(api_as, lead, second_lead):
    window = api_as(lead).post(URL, body(four_eyes=True), format="json").json()
    api_as(lead).post(f"{URL}{window['id']}/submit/")
    assert api_as(lead).patch(f"{URL}{window['id']}/", {"four_eyes": False}, format="json").status_code == 200
    refused = api_as(lead).post(f"{URL}{window['id']}/approve/")
    assert refused.status_code == 403 and "four eyes" in refused.json()["message"]
    assert api_as(second_lead).post(f"{URL}{window['id']}/approve/").status_code == 200


def test_support_and_managers_read_windows_but_cannot_write_or_approve_them(api_as, lead, support, manager):
    window = api_as(lead).post(URL, body(), format="json").json()
    api_as(lead).post(f"{URL}{window['id']}/submit/")
    for user in (support, manager):
        assert api_as(user).get(f"{URL}{window['id']}/").status_code == 200
        for refused in (api_as(user).post(URL, body(), format="json"),
                        api_as(user).post(f"{URL}{window['id']}/approve/"),
                        api_as(user).post(f"{URL}{window['id']}/cancel/"),
                        api_as(user).patch(f"{URL}{window['id']}/", {"title": "Mine"}, format="json")):
            assert refused.status_code == 403
            assert set(refused.json()) >= {"status", "code", "message"}


def test_approving_a_draft_is_a_conflict_with_the_reason(api_as, lead):
    window = api_as(lead).post(URL, body(), format="json").json()
    response = api_as(lead).post(f"{URL}{window['id']}/approve/")
    assert response.status_code == 409
    assert response.json()["message"] == "Submit the maintenance window for approval first."


def test_starting_a_window_no_lead_approved_is_a_conflict(api_as, lead):
    window = api_as(lead).post(URL, body(), format="json").json()
    response = api_as(lead).post(f"{URL}{window['id']}/start/")
    assert response.status_code == 409 and "not approved" in response.json()["message"]


def test_a_window_that_ends_before_it_starts_is_a_400_naming_the_field(api_as, lead):
    start = timezone.now() + timezone.timedelta(days=1)
    response = api_as(lead).post(URL, body(scheduled_until=(start - timezone.timedelta(hours=1)).isoformat(),
                                           scheduled_for=start.isoformat()), format="json")
    assert response.status_code == 400
    assert "scheduled_until" in response.json()["fields"]
    assert not Maintenance.objects.exists()


def test_the_state_and_approval_cannot_be_set_directly(api_as, lead):
    response = api_as(lead).post(URL, body(approval="approved", state="completed"), format="json")
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"approval", "state"}


def test_a_lead_reschedules_then_the_window_needs_approval_again(api_as, lead, second_lead):
    window = api_as(lead).post(URL, body(), format="json").json()
    api_as(lead).post(f"{URL}{window['id']}/submit/")
    api_as(second_lead).post(f"{URL}{window['id']}/approve/")
    later = timezone.now() + timezone.timedelta(days=9)
    response = api_as(lead).post(f"{URL}{window['id']}/reschedule/", {
        "scheduled_for": later.isoformat(), "scheduled_until": (later + timezone.timedelta(hours=2)).isoformat()},
        format="json")
    assert response.status_code == 200
    assert response.json()["approval"] == "submitted" and response.json()["schedule_version"] == 1
    assert response.json()["is_public"] is False


def test_cancelling_twice_is_a_conflict_and_a_reject_needs_a_reason(api_as, lead):
    window = api_as(lead).post(URL, body(), format="json").json()
    api_as(lead).post(f"{URL}{window['id']}/submit/")
    missing = api_as(lead).post(f"{URL}{window['id']}/reject/", {}, format="json")
    assert missing.status_code == 400 and "reason" in missing.json()["fields"]
    assert api_as(lead).post(f"{URL}{window['id']}/cancel/").status_code == 200
    again = api_as(lead).post(f"{URL}{window['id']}/cancel/")
    assert again.status_code == 409 and "cancelled" in again.json()["message"]
