"""The pages people use to write, approve and follow messages: composer, message page, approvals queue,
and the message and cadence parts of the incident page and dashboard."""

import re

import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from django.utils import timezone

from comms import messaging
from comms.choices import DeliveryStatus, MessageState
from comms.models import Delivery, Message, MessageTemplate
from core.roles import COMMS_LEAD
from incidents.choices import Severity
from tests.factories import ComponentFactory, DeliveryFactory, IncidentFactory, MessageFactory, UserFactory

pytestmark = pytest.mark.django_db

XSS = "<script>alert(1)</script>"
XSS_ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


# --- helpers ----------------------------------------------------------------------------------------------


@pytest.fixture
def incident():
    incident = IncidentFactory(title="Payments failing", severity=Severity.SEV3)
    incident.components.add(ComponentFactory(name="Payments"))
    return incident


@pytest.fixture
def other_lead(db):
    return UserFactory(username="lead2", role=COMMS_LEAD)


@pytest.fixture
def ack_template(db):
    return MessageTemplate.objects.create(
        name="Test acknowledgement",
        phase="initial",
        pre_approved=True,
        channels=["statuspage", "email"],
        headline="We are investigating a problem with {components}",
        explain="Reports say {components} is failing.\nEngineers are on it.",
        acknowledge="We are sorry for the disruption. ",  # the form strips this space: still "unchanged"
    )


def filled(template_text: str) -> str:
    return template_text.replace("{components}", "Payments")


def template_post(template, **overrides) -> dict:
    """What a browser posts for the composer left exactly as the template filled it (textareas send CRLF)."""
    data = {
        "template": template.pk,
        "headline": filled(template.headline),
        "explain": filled(template.explain).replace("\n", "\r\n"),
        "acknowledge": filled(template.acknowledge).strip(),
        "resolve": "",
        "study": "",
        "phase": template.phase,
        "audience": "public",
        "channels": ["statuspage", "email"],
        "scheduled_for": "",
        "action": "save",
    }
    data.update(overrides)
    return data


def draft_post(**overrides) -> dict:
    data = {
        "headline": "Card payments are failing",
        "explain": "Card payments fail for most customers. We are working on it.",
        "acknowledge": "We are sorry.",
        "resolve": "",
        "study": "",
        "phase": "update",
        "audience": "public",
        "channels": ["statuspage"],
        "scheduled_for": "",
        "action": "save",
    }
    data.update(overrides)
    return data


def write(incident, author, *, submit=False, **fields) -> Message:
    fields = {"headline": "Card payments are failing", "explain": "We are on it.", "channels": ["statuspage"],
              **fields}
    message = messaging.create_message(incident=incident, author=author, **fields)
    if submit:
        message = messaging.submit(message, actor=author)
    return message


def page(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def flashes(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def compose_url(incident) -> str:
    return f"/incidents/{incident.pk}/messages/new/"


# --- the composer -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["lead", "manager", "support"])
def test_every_role_that_writes_messages_can_open_the_composer(client, users, incident, role):
    client.force_login(users[role])
    content = page(client, compose_url(incident))
    assert "Save draft" in content and "Submit for approval" in content
    assert 'data-preview-url="/api/v1/messages/preview/"' in content


def test_a_user_without_a_role_is_refused_the_composer_and_cannot_post_a_message(client, roleless, incident):
    client.force_login(roleless)
    assert client.get(compose_url(incident)).status_code == 403
    assert client.post(compose_url(incident), draft_post()).status_code == 403
    assert not Message.objects.exists()


def test_an_anonymous_visitor_is_sent_to_sign_in_from_the_composer(client, incident):
    response = client.get(compose_url(incident))
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


def test_choosing_a_template_fills_the_composer_with_the_incidents_details(client, support, incident, ack_template):
    client.force_login(support)
    content = page(client, f"{compose_url(incident)}?template={ack_template.pk}")
    assert "We are investigating a problem with Payments" in content
    assert "{components}" not in content
    assert "Test acknowledgement (pre-approved)" in content


def test_saving_a_draft_from_an_untouched_template_keeps_it_publishable_without_approval(
    client, support, incident, ack_template
):
    client.force_login(support)
    response = client.post(compose_url(incident), template_post(ack_template))
    message = Message.objects.get()
    assert response.status_code == 302 and response["Location"] == message.get_absolute_url()
    assert message.state == MessageState.DRAFT
    assert message.author == support and message.template == ack_template
    assert message.headline == "We are investigating a problem with Payments"
    assert message.is_unchanged_preapproved  # the browser's CRLF line ends did not count as an edit


def test_saving_a_blank_draft_stores_what_was_written(client, manager, incident):
    client.force_login(manager)
    client.post(compose_url(incident), draft_post(explain="Line one.\r\nLine two."))
    message = Message.objects.get()
    assert (message.headline, message.explain, message.channels) == (
        "Card payments are failing", "Line one.\nLine two.", ["statuspage"]
    )
    assert message.template is None and message.state == MessageState.DRAFT


def test_submitting_from_the_composer_puts_the_message_in_the_approvals_queue(client, manager, incident):
    client.force_login(manager)
    client.post(compose_url(incident), draft_post(action="submit"))
    assert Message.objects.get().state == MessageState.SUBMITTED


def test_support_publishes_an_unchanged_pre_approved_template_at_once(client, support, incident, ack_template):
    client.force_login(support)
    response = client.post(compose_url(incident), template_post(ack_template, action="publish"), follow=True)
    message = Message.objects.get()
    assert message.state == MessageState.SCHEDULED
    assert message.approver == support and message.scheduled_for <= timezone.now()
    assert "Published; it is being sent now." in flashes(response)


def test_the_publish_button_is_offered_only_for_an_unchanged_pre_approved_template_to_those_allowed(
    client, users, incident, ack_template
):
    url = f"{compose_url(incident)}?template={ack_template.pk}"
    client.force_login(users["support"])
    assert "Publish now" in page(client, url)
    assert "Publish now" not in page(client, compose_url(incident))  # blank message
    client.force_login(users["manager"])
    assert "Publish now" not in page(client, url)  # account managers cannot publish
    ack_template.pre_approved = False
    ack_template.save()
    client.force_login(users["support"])
    assert "Publish now" not in page(client, url)


def test_an_edited_template_cannot_be_published_from_the_composer_and_nothing_is_saved(
    client, support, incident, ack_template
):
    client.force_login(support)
    data = template_post(ack_template, action="publish", headline="We are looking into payments")
    response = client.post(compose_url(incident), data)
    assert response.status_code == 200
    assert "needs a communications lead&#x27;s approval" in response.content.decode()
    assert "We are looking into payments" in response.content.decode()  # the text is kept to submit instead
    assert not Message.objects.exists()


def test_an_edited_template_draft_cannot_be_published_from_the_message_page(client, support, incident, ack_template):
    message = messaging.create_message(incident=incident, author=support, template=ack_template)
    messaging.update_message(message, actor=support, headline="We are looking into payments")
    client.force_login(support)
    assert "Publish now" not in page(client, message.get_absolute_url())
    response = client.post(f"/messages/{message.pk}/publish/", follow=True)
    assert any("needs a communications lead's approval" in text for text in flashes(response))
    message.refresh_from_db()
    assert message.state == MessageState.DRAFT and message.approver is None


def test_the_preview_button_shows_lint_warnings_without_javascript(client, lead, incident):
    client.force_login(lead)
    data = draft_post(action="preview", phase="resolution", acknowledge="We are sorry.", resolve="It works again.")
    content = client.post(compose_url(incident), data).content.decode()
    assert "A resolution message should thank customers for their patience." in content
    assert 'data-preview="statuspage-title">Card payments are failing<' in content  # and every rendering
    assert "/280" in content and "&quot;event&quot;: &quot;message.published&quot;" in content
    assert not Message.objects.exists()  # previewing saves nothing


def test_a_resolution_that_thanks_customers_has_no_thank_you_warning(client, lead, incident):
    client.force_login(lead)
    data = draft_post(action="preview", phase="resolution", resolve="It works again. Thank you for your patience.")
    content = client.post(compose_url(incident), data).content.decode()
    assert "should thank customers" not in content
    assert "It works again. Thank you for your patience." in content


def test_a_channel_that_is_not_configured_is_shown_disabled_with_the_reason(client, settings, support, incident):
    settings.X_CONFIGURED = False
    client.force_login(support)
    content = page(client, compose_url(incident))
    assert re.search(r'<input type="checkbox" name="channels" value="x"[^>]*disabled', content)
    assert "X is not configured: set X_API_KEY" in content

    settings.X_CONFIGURED = True
    content = page(client, compose_url(incident))
    assert not re.search(r'<input type="checkbox" name="channels" value="x"[^>]*disabled', content)


def test_posting_an_unconfigured_channel_is_refused_on_the_form(client, settings, support, incident):
    settings.X_CONFIGURED = False
    client.force_login(support)
    response = client.post(compose_url(incident), draft_post(channels=["statuspage", "x"]))
    assert response.status_code == 200
    assert "X is not configured" in response.content.decode()
    assert not Message.objects.exists()


def test_the_live_preview_endpoint_accepts_the_pages_csrf_token_in_a_header(support, incident):
    client = Client(enforce_csrf_checks=True)
    client.force_login(support)
    content = page(client, compose_url(incident))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', content).group(1)
    body = {"incident": incident.pk, "phase": "update", "channels": ["statuspage"], "headline": "Still on it",
            "explain": "We are working on it.", "acknowledge": "", "resolve": "", "study": "", "audience": "public",
            "is_announcement": False}
    refused = client.post("/api/v1/messages/preview/", body, content_type="application/json")
    assert refused.status_code == 403
    response = client.post("/api/v1/messages/preview/", body, content_type="application/json",
                           HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 200
    assert response.json()["x"]["text"].startswith("Still on it")


def test_every_page_loads_the_composer_script_from_this_site(client, support):
    client.force_login(support)
    content = page(client, "/")
    assert '<script src="/static/ears/composer.js" defer></script>' in content
    assert finders.find("ears/composer.js")


# --- editing ------------------------------------------------------------------------------------------------


def test_saving_an_approved_message_untouched_does_not_send_it_back_for_approval(client, lead, support, incident):
    message = write(incident, support, submit=True, channels=["statuspage", "email"],
                    scheduled_for=timezone.now() + timezone.timedelta(hours=2, seconds=17))
    messaging.approve(message, actor=lead)
    client.force_login(support)
    local = timezone.localtime(message.scheduled_for)
    data = draft_post(headline=message.headline, explain=message.explain, acknowledge="", phase=message.phase,
                      channels=["email", "statuspage"], scheduled_for=local.strftime("%Y-%m-%dT%H:%M"))
    response = client.post(f"/messages/{message.pk}/edit/", data)
    assert response.status_code == 302
    message.refresh_from_db()
    assert message.state == MessageState.SCHEDULED and message.approver == lead

    client.post(f"/messages/{message.pk}/edit/", {**data, "headline": "Card payments fail for some"})
    message.refresh_from_db()
    assert message.state == MessageState.SUBMITTED and message.headline == "Card payments fail for some"


def test_a_sent_message_cannot_be_edited(client, support, incident):
    message = write(incident, support)
    Message.objects.filter(pk=message.pk).update(state=MessageState.SENT)
    client.force_login(support)
    response = client.get(f"/messages/{message.pk}/edit/", follow=True)
    assert "A sent message can no longer be edited." in flashes(response)
    assert response.redirect_chain[-1][0] == message.get_absolute_url()


# --- the message page and its actions -----------------------------------------------------------------------


def test_the_message_page_shows_the_parts_renderings_and_warnings(client, manager, incident):
    message = write(incident, manager, phase="resolution", explain="Fixed.", acknowledge="Sorry.",
                    resolve="All restored.", study="We will add capacity.")
    client.force_login(manager)
    content = page(client, message.get_absolute_url())
    for text in ("Fixed.", "Sorry.", "All restored.", "We will add capacity.", "Resolve &amp; compensate",
                 "should thank customers", "Draft", "Payments failing"):
        assert text in content
    assert re.search(r">\d+/280</span> weighted characters", content)
    assert ">Submit for approval</button>" in content


@pytest.mark.parametrize(("role", "sees"), [("lead", True), ("manager", False), ("support", False)])
def test_only_leads_see_approve_and_reject_on_a_submitted_message(client, users, incident, role, sees):
    message = write(incident, users["manager"], submit=True)
    client.force_login(users[role])
    content = page(client, message.get_absolute_url())
    assert (">Approve</button>" in content) is sees
    assert (">Reject</button>" in content) is sees
    assert ">Submit for approval</button>" not in content


def test_a_user_without_a_role_cannot_read_a_message(client, roleless, support, incident):
    message = write(incident, support)
    client.force_login(roleless)
    assert client.get(message.get_absolute_url()).status_code == 403
    assert client.post(f"/messages/{message.pk}/submit/").status_code == 403


def test_the_author_submits_and_cancels_from_the_message_page(client, manager, incident):
    message = write(incident, manager)
    client.force_login(manager)
    client.post(f"/messages/{message.pk}/submit/")
    message.refresh_from_db()
    assert message.state == MessageState.SUBMITTED
    response = client.post(f"/messages/{message.pk}/cancel/", follow=True)
    message.refresh_from_db()
    assert message.state == MessageState.CANCELLED
    assert "Cancelled; it will not be sent." in flashes(response)
    assert "Cancel message" not in response.content.decode()


def test_an_unknown_action_is_not_found(client, lead, incident):
    message = write(incident, lead)
    client.force_login(lead)
    assert client.post(f"/messages/{message.pk}/explode/").status_code == 404


def test_an_action_never_redirects_off_site(client, lead, support, incident):
    message = write(incident, support, submit=True)
    client.force_login(lead)
    response = client.post(f"/messages/{message.pk}/approve/", {"next": "https://evil.example/"})
    assert response["Location"] == message.get_absolute_url()


def test_a_rejection_needs_a_reason_and_the_author_sees_it(client, lead, support, incident):
    message = write(incident, support, submit=True)
    client.force_login(lead)
    response = client.post(f"/messages/{message.pk}/reject/", {"reason": "   "}, follow=True)
    assert "Say why, so the author knows what to change." in flashes(response)
    message.refresh_from_db()
    assert message.state == MessageState.SUBMITTED

    client.post(f"/messages/{message.pk}/reject/", {"reason": "Say which cards are affected."})
    message.refresh_from_db()
    assert message.state == MessageState.DRAFT and message.rejection_reason == "Say which cards are affected."
    client.force_login(support)
    assert "Say which cards are affected." in page(client, message.get_absolute_url())


def sent_with_failures(incident, author, state=MessageState.PARTIALLY_FAILED) -> Message:
    message = MessageFactory(incident=incident, author=author, channels=["email", "statuspage"], state=state)
    DeliveryFactory(message=message, channel="statuspage", recipient="statuspage", status=DeliveryStatus.SENT,
                    attempts=1, sent_at=timezone.now(), external_id="sp-1")
    DeliveryFactory(message=message, recipient="ada@example.com", status=DeliveryStatus.FAILED, attempts=5,
                    last_error="550 mailbox unavailable")
    return message


def test_a_lead_retries_the_failed_deliveries_of_a_partly_failed_message(client, lead, support, incident):
    message = sent_with_failures(incident, support)
    client.force_login(lead)
    assert "Retry failed deliveries" in page(client, message.get_absolute_url())
    response = client.post(f"/messages/{message.pk}/retry/", follow=True)
    assert "1 failed delivery queued again." in flashes(response)
    failed = Delivery.objects.get(recipient="ada@example.com")
    assert (failed.status, failed.attempts) == (DeliveryStatus.QUEUED, 0)
    message.refresh_from_db()
    assert message.state == MessageState.SENDING


@pytest.mark.parametrize("role", ["support", "manager"])
def test_only_leads_may_retry_failed_deliveries(client, users, incident, role):
    message = sent_with_failures(incident, users["support"])
    client.force_login(users[role])
    assert "Retry failed deliveries" not in page(client, message.get_absolute_url())
    assert client.post(f"/messages/{message.pk}/retry/").status_code == 403
    assert Delivery.objects.get(recipient="ada@example.com").status == DeliveryStatus.FAILED


def test_a_message_that_is_not_failed_cannot_be_retried(client, lead, support, incident):
    message = sent_with_failures(incident, support, state=MessageState.SENT)
    client.force_login(lead)
    assert "Retry failed deliveries" not in page(client, message.get_absolute_url())
    response = client.post(f"/messages/{message.pk}/retry/", follow=True)
    assert "Only a message with failed deliveries can be retried." in flashes(response)
    assert Delivery.objects.get(recipient="ada@example.com").status == DeliveryStatus.FAILED
    message.refresh_from_db()
    assert message.state == MessageState.SENT


def test_the_message_page_lists_deliveries_failed_first_with_their_last_error(client, lead, support, incident):
    message = sent_with_failures(incident, support)
    client.force_login(lead)  # addresses are for those who may read subscribers (tests/comms/test_recipient_privacy.py)
    content = page(client, message.get_absolute_url())
    assert "550 mailbox unavailable" in content and "sp-1" in content
    assert content.index("ada@example.com") < content.index("sp-1")  # failed first

    only_sent = page(client, f"{message.get_absolute_url()}?status=sent")
    assert "sp-1" in only_sent and "ada@example.com" not in only_sent


def test_the_deliveries_list_is_paginated(client, lead, support, incident):
    message = write(incident, support, channels=["email"])
    Delivery.objects.bulk_create(
        Delivery(message=message, channel="email", recipient=f"r{n:03}@example.com") for n in range(60)
    )
    client.force_login(lead)  # who may read the addresses, so that each page's rows can be told apart
    first = page(client, message.get_absolute_url())
    assert "r000@example.com" in first and "r059@example.com" not in first and "Page 1 of 2" in first
    assert "r059@example.com" in page(client, f"{message.get_absolute_url()}?page=2")


# --- the approvals queue ------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["support", "roleless"])
def test_the_approvals_queue_is_not_for_support_or_users_without_a_role(client, users, incident, role):
    message = write(incident, users["support"], submit=True)
    client.force_login(users[role])
    assert client.get("/approvals/").status_code == 403
    assert client.post("/approvals/").status_code == 403
    assert client.post(f"/messages/{message.pk}/approve/", {"next": "/approvals/"}).status_code == 403
    assert client.post(f"/messages/{message.pk}/reject/", {"reason": "no"}).status_code == 403
    message.refresh_from_db()
    assert message.state == MessageState.SUBMITTED and message.approver is None


def test_the_approvals_queue_lists_waiting_messages_oldest_first_with_their_details(client, lead, support, incident):
    newer = write(incident, support, submit=True, headline="Newer update")
    older = write(incident, support, submit=True, headline="Older update", phase="resolution")
    Message.objects.filter(pk=older.pk).update(submitted_at=timezone.now() - timezone.timedelta(minutes=42))
    Message.objects.filter(pk=newer.pk).update(submitted_at=timezone.now() - timezone.timedelta(minutes=5))
    write(incident, support, headline="Still a draft")
    client.force_login(lead)
    content = page(client, "/approvals/")
    assert "2 waiting for your approval" in content
    assert content.index("Older update") < content.index("Newer update")
    assert "Still a draft" not in content
    assert "42m" in content and "sev-sev3" in content and "Payments failing" in content
    assert "warning" in content  # the resolution has lint warnings (no thank-you, empty acknowledge)


def test_a_lead_approves_from_the_queue_and_returns_to_it(client, lead, support, incident):
    message = write(incident, support, submit=True)
    client.force_login(lead)
    response = client.post(f"/messages/{message.pk}/approve/", {"next": "/approvals/"})
    assert response["Location"] == "/approvals/"
    message.refresh_from_db()
    assert message.state == MessageState.APPROVED and message.approver == lead
    content = page(client, "/approvals/")
    assert "Nothing waiting for your approval" in content
    assert "Approved, waiting to be published" in content and message.headline in content


def test_a_lead_publishes_an_approved_message_from_the_queue(client, lead, support, incident):
    message = write(incident, support, submit=True)
    messaging.approve(message, actor=lead)
    client.force_login(lead)
    client.post(f"/messages/{message.pk}/publish/", {"next": "/approvals/"})
    message.refresh_from_db()
    assert message.state == MessageState.SCHEDULED


def test_the_queue_shows_scheduled_messages_with_their_time(client, lead, support, incident):
    when = timezone.now() + timezone.timedelta(hours=3)
    message = write(incident, support, submit=True, scheduled_for=when)
    messaging.approve(message, actor=lead)
    client.force_login(lead)
    content = page(client, "/approvals/").split("Scheduled")[-1]
    assert message.headline in content and timezone.localtime(when).strftime("%Y-%m-%d %H:%M") in content


def test_four_eyes_a_lead_cannot_approve_their_own_message_on_a_sev1_incident(client, lead, other_lead):
    incident = IncidentFactory(title="Everything is down", severity=Severity.SEV1)
    message = write(incident, lead, submit=True)
    client.force_login(lead)
    content = page(client, "/approvals/")
    assert "approve it: you wrote or changed its text" in content
    assert re.search(r"<button class=\"primary\" disabled[^>]*>Approve</button>", content)

    response = client.post(f"/messages/{message.pk}/approve/", {"next": "/approvals/"}, follow=True)
    assert any("another communications lead must approve it" in text for text in flashes(response))
    message.refresh_from_db()
    assert message.state == MessageState.SUBMITTED and message.approver is None

    client.force_login(other_lead)
    assert not re.search(r"disabled[^>]*>Approve</button>", page(client, "/approvals/"))
    client.post(f"/messages/{message.pk}/approve/", {"next": "/approvals/"})
    message.refresh_from_db()
    assert message.state == MessageState.APPROVED and message.approver == other_lead


def test_on_a_sev3_incident_a_lead_may_approve_their_own_message(client, lead, incident):
    message = write(incident, lead, submit=True)
    client.force_login(lead)
    client.post(f"/messages/{message.pk}/approve/")
    message.refresh_from_db()
    assert message.state == MessageState.APPROVED


def test_a_lead_rejects_from_the_queue_only_with_a_reason(client, lead, support, incident):
    message = write(incident, support, submit=True)
    client.force_login(lead)
    response = client.post(f"/messages/{message.pk}/reject/", {"next": "/approvals/", "reason": ""}, follow=True)
    assert response.redirect_chain[-1][0] == "/approvals/"
    assert "Say why, so the author knows what to change." in response.content.decode()
    message.refresh_from_db()
    assert message.state == MessageState.SUBMITTED
    client.post(f"/messages/{message.pk}/reject/", {"next": "/approvals/", "reason": "Too vague."})
    message.refresh_from_db()
    assert (message.state, message.rejection_reason) == (MessageState.DRAFT, "Too vague.")


# --- the incident page, dashboard and navigation --------------------------------------------------------------


def test_the_incident_page_lists_its_messages_newest_first_with_their_state(client, manager, incident):
    write(incident, manager, headline="First word")
    write(incident, manager, headline="Second word", submit=True)
    client.force_login(manager)
    content = page(client, incident.get_absolute_url())
    messages_section = content.split('id="messages"')[1]
    assert messages_section.index("Second word") < messages_section.index("First word")
    assert "Submitted for approval" in messages_section
    assert f'href="/incidents/{incident.pk}/messages/new/"' in content


def test_users_who_cannot_write_messages_see_no_composer_on_the_incident_page(client, users, incident):
    client.force_login(users["admin"])  # the superuser can; sanity check that the button exists at all
    assert "Write an update" in page(client, incident.get_absolute_url())
    reader = UserFactory(username="reader")
    from django.contrib.auth.models import Permission

    reader.user_permissions.add(Permission.objects.get(codename="view_incident"))
    client.force_login(reader)
    content = page(client, incident.get_absolute_url())
    assert "Write an update" not in content and "data-composer" not in content


def test_the_incident_page_shows_an_overdue_update_and_time_to_acknowledge(client, support):
    incident = IncidentFactory(severity=Severity.SEV1)
    incident.next_update_due_at = timezone.now() - timezone.timedelta(minutes=7, seconds=5)
    incident.save()
    client.force_login(support)
    content = page(client, incident.get_absolute_url())
    assert "OVERDUE" in content and "overdue by 7m" in content
    assert re.search(r"Time to first public acknowledgement</dt>\s*<dd>not yet</dd>", content)

    incident.detected_at = timezone.now() - timezone.timedelta(minutes=40)
    incident.acknowledged_at = incident.detected_at + timezone.timedelta(minutes=12)
    incident.last_public_update_at = incident.acknowledged_at
    incident.next_update_due_at = timezone.now() + timezone.timedelta(minutes=25, seconds=30)
    incident.save()
    content = page(client, incident.get_absolute_url())
    assert "OVERDUE" not in content and "in 25m" in content
    assert re.search(r"Time to first public acknowledgement</dt>\s*<dd>12m</dd>", content)


def test_the_dashboard_shows_the_next_update_countdown_and_overdue_badge(client, support):
    IncidentFactory(title="Late one", next_update_due_at=timezone.now() - timezone.timedelta(minutes=3))
    IncidentFactory(title="On time", next_update_due_at=timezone.now() + timezone.timedelta(minutes=50))
    client.force_login(support)
    content = page(client, "/")
    late_row = content.split("Late one")[1].split("</tr>")[0]
    on_time_row = content.split("On time")[1].split("</tr>")[0]
    assert "OVERDUE" in late_row and "overdue by 3m" in late_row
    assert "OVERDUE" not in on_time_row and "in 49m" in on_time_row


def test_leads_see_how_many_messages_wait_for_approval_on_the_dashboard_and_in_the_menu(
    client, lead, support, incident
):
    write(incident, support, submit=True)
    write(incident, support, submit=True, headline="Another")
    client.force_login(lead)
    content = page(client, "/")
    assert "2 waiting for your approval" in content
    assert re.search(r'href="/approvals/"[^>]*>Approvals <span class="count"[^>]*>2</span>', content)
    assert "2 awaiting approval" in content

    client.force_login(support)
    content = page(client, "/")
    assert "waiting for your approval" not in content and 'href="/approvals/"' not in content
    assert 'href="/status/"' in content


def test_html_in_a_headline_is_escaped_on_every_message_page(client, lead, support, incident):
    message = write(incident, support, submit=True, headline=XSS)
    client.force_login(lead)
    preview = client.post(compose_url(incident), draft_post(action="preview", headline=XSS)).content.decode()
    for content in (
        preview,
        page(client, message.get_absolute_url()),
        page(client, "/approvals/"),
        page(client, incident.get_absolute_url()),
    ):
        assert XSS not in content
        assert XSS_ESCAPED in content


def test_the_template_picker_offers_the_template_of_the_likely_phase(client, lead):
    from comms.models import MessageTemplate

    incident = IncidentFactory()
    client.force_login(lead)
    ack = MessageTemplate.objects.get(name="Initial acknowledgement")
    page = client.get(f"/incidents/{incident.pk}/messages/new/").content.decode()
    assert f'<option value="{ack.pk}" selected>' in page  # nothing said yet: the acknowledgement
    incident.status = "resolved"
    incident.save()
    resolution = MessageTemplate.objects.get(name="Resolution")
    page = client.get(f"/incidents/{incident.pk}/messages/new/").content.decode()
    assert f'<option value="{resolution.pk}" selected>' in page
