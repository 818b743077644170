"""A new incident is internal: nothing about it reaches a public surface until a lead made it public, by its
first public message going out or by showing it on the status page. A security incident only the second way."""

import pytest

from comms import delivery, messaging
from comms.models import MessageTemplate
from incidents.models import Incident, TimelineEntry

pytestmark = pytest.mark.django_db

PUBLIC_URLS = [
    "/status/",
    "/status/feed.atom",
    "/api/v2/summary.json",
    "/api/v2/status.json",
    "/api/v2/incidents.json",
    "/api/v2/incidents/unresolved.json",
]
TITLE = "Suspicious sign-in attempts"
IMPACT = "Some customers were asked to sign in again"


def public_text(client) -> str:
    return "\n".join(client.get(url).content.decode() for url in PUBLIC_URLS)


def open_incident(api_as, lead, **fields) -> dict:
    response = api_as(lead).post("/api/v1/incidents/", {"title": TITLE, "impact_summary": IMPACT, "severity": "SEV2",
                                                        **fields}, format="json")
    assert response.status_code == 201
    return response.json()


def acknowledge(incident_id: int, actor):
    """Support's one click: the pre-approved acknowledgement, published at once; then beat's dispatch."""
    template = MessageTemplate.objects.get(name="Initial acknowledgement")
    message = messaging.create_message(incident=Incident.objects.get(pk=incident_id), author=actor, template=template)
    messaging.publish(message, actor=actor)
    delivery.dispatch_due_messages()
    return message


@pytest.mark.parametrize("kind", ["service", "security"])
def test_a_new_incident_shows_on_no_public_surface(client, api_as, lead, kind):
    incident = open_incident(api_as, lead, kind=kind)
    assert (incident["is_public"], incident["public_since"]) == (False, None)
    text = public_text(client)
    assert TITLE not in text and IMPACT not in text
    assert client.get("/api/v2/status.json").json()["status"]["indicator"] == "none"  # its SEV2 counts for nothing


def test_the_first_public_message_going_out_makes_a_service_incident_public(client, api_as, lead, support):
    incident = open_incident(api_as, lead)
    acknowledge(incident["id"], support)
    shown = Incident.objects.get(pk=incident["id"])
    assert shown.is_public
    assert TimelineEntry.objects.filter(incident=shown, kind="public").get().description.startswith(
        "Shown on the status page with “")
    text = public_text(client)
    assert TITLE in text and IMPACT in text
    assert client.get("/api/v2/status.json").json()["status"]["indicator"] == "major"


def test_a_message_for_affected_accounts_does_not_make_an_incident_public(client, lead, manager):
    incident = Incident.objects.create(title=TITLE, impact_summary=IMPACT)
    message = messaging.create_message(incident=incident, author=manager, audience="affected_accounts",
                                       channels=["email"], headline="About the sign-in prompts")
    messaging.submit(message, actor=manager)
    messaging.approve(message, actor=lead)
    messaging.publish(message, actor=lead)
    delivery.dispatch_due_messages()
    assert not Incident.objects.get(pk=incident.pk).is_public
    assert TITLE not in public_text(client)


def test_support_cannot_make_a_security_incident_public_with_a_one_click_acknowledgement(
        client, api_as, lead, support):
    incident = open_incident(api_as, lead, kind="security")
    template = MessageTemplate.objects.get(name="Initial acknowledgement")
    message = api_as(support).post("/api/v1/messages/", {"incident": incident["id"], "template": template.pk},
                                   format="json").json()

    refused = api_as(support).post(f"/api/v1/messages/{message['id']}/publish/")
    assert refused.status_code == 409
    assert "security incident, which is never public by default: only a communications lead" in refused.json()[
        "message"]
    assert TITLE not in public_text(client)

    assert api_as(support).post(f"/api/v1/incidents/{incident['id']}/show-on-status-page/").status_code == 403
    shown = api_as(lead).post(f"/api/v1/incidents/{incident['id']}/show-on-status-page/")
    assert shown.status_code == 200 and shown.json()["is_public"] is True
    assert api_as(support).post(f"/api/v1/messages/{message['id']}/publish/").status_code == 200
    assert TITLE in public_text(client)


def test_showing_on_the_status_page_is_idempotent_and_recorded_once(api_as, lead):
    incident = open_incident(api_as, lead)
    first = api_as(lead).post(f"/api/v1/incidents/{incident['id']}/show-on-status-page/").json()
    again = api_as(lead).post(f"/api/v1/incidents/{incident['id']}/show-on-status-page/").json()
    assert first["public_since"] == again["public_since"] is not None
    assert TimelineEntry.objects.filter(incident_id=incident["id"], kind="public").count() == 1


def test_the_incident_page_says_it_is_internal_and_offers_leads_the_button(client, api_as, lead, support):
    incident = open_incident(api_as, lead)
    client.force_login(support)
    page = client.get(f"/incidents/{incident['id']}/").content.decode()
    assert "Nothing about this incident is on the status page" in page and "Show on status page" not in page
    client.force_login(lead)
    assert "Show on status page</button>" in client.get(f"/incidents/{incident['id']}/").content.decode()
    response = client.post(f"/incidents/{incident['id']}/show-on-status-page/", follow=True)
    assert "The incident is now on the status page." in response.content.decode()
    assert TITLE in client.get("/status/").content.decode()


def test_support_cannot_show_an_incident_from_the_page(client, api_as, lead, support):
    incident = open_incident(api_as, lead)
    client.force_login(support)
    assert client.post(f"/incidents/{incident['id']}/show-on-status-page/").status_code == 403
    assert not Incident.objects.get(pk=incident["id"]).is_public


def test_the_incident_form_says_which_fields_are_public(client, lead):
    client.force_login(lead)
    form = client.get("/incidents/new/").content.decode()
    assert "Public once the incident is on the status page" in form
    assert "Internal only; never shown publicly." in form
    assert "A security incident is never public by default" in form


# --- Statuspage v2: what each update said when it appeared ------------------------------------------------


def send_on_the_status_page(message):
    """Dispatch, then the status page delivery, as a worker would."""
    from comms.models import Delivery

    delivery.dispatch_due_messages()
    delivery.send_deliveries(list(Delivery.objects.filter(message=message, channel="statuspage")
                                  .values_list("pk", flat=True)))


def test_each_update_keeps_the_status_and_component_statuses_it_was_published_with(client, lead, support):
    from incidents import services
    from tests.factories import ComponentFactory

    api = ComponentFactory(name="API", status="major_outage")
    incident = services.create_incident(actor=lead, title=TITLE, components=[api])
    template = MessageTemplate.objects.get(name="Initial acknowledgement")
    first = messaging.create_message(incident=incident, author=support, template=template)
    messaging.publish(first, actor=support)
    send_on_the_status_page(first)

    services.change_status(incident, "monitoring", actor=lead)
    api.status = "degraded_performance"
    api.save()
    second = messaging.create_message(incident=incident, author=support, headline="A fix is out",
                                      explain="We are watching the error rate.", channels=["statuspage"])
    messaging.submit(second, actor=support)
    messaging.approve(second, actor=lead)
    messaging.publish(second, actor=lead)
    send_on_the_status_page(second)

    [document] = client.get("/api/v2/incidents.json").json()["incidents"]
    newest, oldest = document["incident_updates"]
    assert (oldest["status"], newest["status"]) == ("investigating", "monitoring")
    assert oldest["affected_components"] == [
        {"code": str(api.pk), "name": "API", "old_status": "operational", "new_status": "major_outage"}]
    assert newest["affected_components"] == [
        {"code": str(api.pk), "name": "API", "old_status": "major_outage", "new_status": "degraded_performance"}]
    [component] = document["components"]
    assert component["created_at"] < component["updated_at"]


def test_a_lead_publishing_a_security_incidents_acknowledgement_makes_it_public(client, api_as, lead):
    incident = open_incident(api_as, lead, kind="security")
    acknowledge(incident["id"], lead)
    assert Incident.objects.get(pk=incident["id"]).is_public
    assert TITLE in public_text(client)


def test_a_support_published_message_is_held_when_the_incident_becomes_a_security_incident(client, api_as, lead,
                                                                                          support):
    from django.utils import timezone

    from comms.models import Message

    incident = open_incident(api_as, lead)
    template = MessageTemplate.objects.get(name="Initial acknowledgement")
    message = messaging.create_message(incident=Incident.objects.get(pk=incident["id"]), author=support,
                                       template=template)
    messaging.publish(message, actor=support, at=timezone.now() + timezone.timedelta(minutes=5))
    assert api_as(lead).patch(f"/api/v1/incidents/{incident['id']}/", {"kind": "security"},
                              format="json").status_code == 200

    assert Message.objects.get(pk=message.pk).state == "submitted"  # its approval lapsed with the kind change
    Message.objects.filter(pk=message.pk).update(state="scheduled", scheduled_for=timezone.now())  # even if not
    assert delivery.dispatch_due_messages() == []  # the last check before sending holds it
    assert Message.objects.get(pk=message.pk).state == "submitted"
    assert not Incident.objects.get(pk=incident["id"]).is_public
    assert TITLE not in public_text(client)


def test_the_leads_are_told_when_a_message_is_held_back_at_dispatch(api_as, lead, support,
                                                                   django_capture_on_commit_callbacks, mailoutbox):
    from django.utils import timezone

    from comms.models import Message

    incident = open_incident(api_as, lead, kind="security")
    template = MessageTemplate.objects.get(name="Initial acknowledgement")
    message = messaging.create_message(incident=Incident.objects.get(pk=incident["id"]), author=support,
                                       template=template)
    Message.objects.filter(pk=message.pk).update(state="scheduled", scheduled_for=timezone.now(), approver=support)
    with django_capture_on_commit_callbacks(execute=True):
        assert delivery.dispatch_due_messages() == []
    assert [email.to for email in mailoutbox] == [["lead@example.com"]]
    assert "Waiting for your approval" in mailoutbox[0].subject
