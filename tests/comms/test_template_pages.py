import pytest

from comms.models import MessageTemplate

pytestmark = pytest.mark.django_db

NEW = {"name": "Short ack", "phase": "initial", "pre_approved": "on", "headline": "Problem with {components}",
       "explain": "We are looking into it.", "channels": ["statuspage"]}


def test_a_lead_creates_and_edits_a_template(client, lead):
    client.force_login(lead)
    response = client.post("/message-templates/new/", NEW)
    assert response.status_code == 302
    template = MessageTemplate.objects.get(name="Short ack")
    assert (template.pre_approved, template.channels) == (True, ["statuspage"])
    client.post(f"/message-templates/{template.pk}/edit/", {**NEW, "headline": "Trouble with {components}"})
    template.refresh_from_db()
    assert template.headline == "Trouble with {components}"


def test_an_unknown_placeholder_is_refused_with_the_known_ones(client, lead):
    client.force_login(lead)
    response = client.post("/message-templates/new/", {**NEW, "headline": "Problem with {component}"})
    assert response.status_code == 200
    assert "Unknown placeholder {component}; use {incident_title}" in response.content.decode()
    assert not MessageTemplate.objects.filter(name="Short ack").exists()


@pytest.mark.parametrize("role", ["support", "manager"])
def test_other_roles_read_templates_but_cannot_change_them(client, users, role):
    template = MessageTemplate.objects.first()
    client.force_login(users[role])
    page = client.get("/message-templates/")
    assert page.status_code == 200 and b"New template" not in page.content
    assert client.get("/message-templates/new/").status_code == 403
    assert client.post("/message-templates/new/", NEW).status_code == 403
    assert client.post(f"/message-templates/{template.pk}/edit/", {**NEW, "name": template.name}).status_code == 403
    assert not MessageTemplate.objects.filter(name="Short ack").exists()


def test_a_user_without_a_role_is_refused(client, roleless):
    client.force_login(roleless)
    assert client.get("/message-templates/").status_code == 403


def test_html_in_a_template_is_escaped(client, lead):
    MessageTemplate.objects.create(name="<b>bold</b>", phase="update", headline="<script>x</script>")
    client.force_login(lead)
    content = client.get("/message-templates/").content.decode()
    assert "<script>x</script>" not in content and "&lt;script&gt;x&lt;/script&gt;" in content
