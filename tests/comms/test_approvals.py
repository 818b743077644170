"""Approvals are visible and announced: the Approvals page lists everything waiting for the signed-in user
(messages, compensation), the dashboard and the menu count it, and the people who may approve are told once
(email, internal webhooks) when something starts waiting for them."""

import re
import smtplib
from decimal import Decimal
from unittest import mock

import pytest
from django.contrib.auth.models import Group
from django.core import mail

from accounts import hooks as account_hooks
from accounts import services as account_services
from accounts.choices import CompensationState
from comms import messaging
from comms.choices import MessageState
from comms.models import WebhookEndpoint
from core.roles import ACCOUNT_MANAGER, COMMS_LEAD
from core.statemachine import TransitionNotAllowed
from incidents.choices import Severity
from incidents.models import TimelineEntry
from tests.comms.test_transports import http_response
from tests.factories import AccountFactory, ImpactFactory, IncidentFactory, UserFactory
from tests.outermost_http import answer_requests_with

pytestmark = pytest.mark.django_db


@pytest.fixture
def other_lead(db):
    return UserFactory(username="lead2", role=COMMS_LEAD)


@pytest.fixture
def other_manager(db):
    return UserFactory(username="manager2", role=ACCOUNT_MANAGER)


@pytest.fixture
def sev1():
    return IncidentFactory(title="Checkout down", severity=Severity.SEV1)


@pytest.fixture
def sev3():
    return IncidentFactory(title="Slow search", severity=Severity.SEV3)


@pytest.fixture
def acme(manager, sev1):
    """An impact of the manager's account Acme (monthly fee 10,000.00 USD) on the SEV1."""
    return ImpactFactory(account=AccountFactory(name="Acme", owner=manager, arr=120_000), incident=sev1,
                         state="compensation")


def write(incident, author, *, submit=False, headline="Checkout is failing for some customers"):
    message = messaging.create_message(incident=incident, author=author, headline=headline,
                                       explain="Payments fail at checkout.", acknowledge="We are sorry.",
                                       channels=["statuspage"])
    return messaging.submit(message, actor=author) if submit else message


def propose(impact, actor, amount, kind="gift"):
    return account_services.propose_compensation(impact, actor=actor, kind=kind, amount=Decimal(amount),
                                                 reason="three hours down during their launch")


def make_owner(lead, impact):
    """The lead also works as the account manager of the impact's account, so that they may propose."""
    lead.groups.add(Group.objects.get(name=ACCOUNT_MANAGER))
    impact.account.owner = lead
    impact.account.save()
    return lead


def page(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def row(content: str, anchor: str) -> str:
    """The approvals page's row with this id."""
    return content.split(f'id="{anchor}"')[1].split("</li>")[0]


# --- The Approvals page ---------------------------------------------------------------------------------------


def test_a_lead_sees_messages_and_compensation_above_the_limit_waiting_for_them(
    client, lead, support, manager, sev1, acme
):
    message = write(sev1, support, submit=True)
    credit = propose(acme, manager, "20000.00")
    propose(acme, manager, "10.00")  # within the limit alone, but not with the credit: a lead's too
    client.force_login(lead)

    content = page(client, "/approvals/")

    assert "3 waiting for your approval" in content
    message_row = row(content, f"message-{message.pk}")
    assert f'href="/messages/{message.pk}/"' in message_row and "Checkout down" in message_row
    credit_row = row(content, f"compensation-{credit.pk}")
    assert f'href="/impacts/{acme.pk}/#compensation"' in credit_row
    assert "Gift 20,000.00 USD for Acme" in credit_row and "above the approval limit" in credit_row
    assert "Needs another lead" not in content


def test_a_lead_sees_what_they_wrote_or_proposed_as_needing_another_lead_and_it_is_not_counted(
    client, lead, sev1, acme
):
    message = write(sev1, lead, submit=True)
    credit = propose(acme, make_owner(lead, acme), "20000.00")
    client.force_login(lead)

    content = page(client, "/approvals/")

    assert "Nothing waiting for your approval" in content
    assert "2 more need another lead" in content
    message_row = row(content, f"message-{message.pk}")
    assert "Needs another lead" in message_row
    assert re.search(r'<button class="primary" disabled[^>]*>Approve</button>', message_row)
    assert "Needs another lead" in row(content, f"compensation-{credit.pk}")


def test_compensation_that_is_no_longer_proposed_leaves_the_page(client, lead, manager, acme):
    credit = propose(acme, manager, "20000.00")
    account_services.move_compensation(credit, CompensationState.APPROVED, actor=lead)
    client.force_login(lead)

    content = page(client, "/approvals/")

    assert f"compensation-{credit.pk}" not in content
    assert "Nothing waiting for your approval" in content


def test_an_account_manager_sees_the_compensation_of_their_own_accounts_that_they_approve(
    client, manager, other_manager, support, sev1, acme
):
    own = propose(acme, manager, "300.00")
    other = ImpactFactory(account=AccountFactory(name="Globex", owner=other_manager), incident=sev1,
                          state="compensation")
    theirs = propose(other, other_manager, "200.00")
    write(sev1, support, submit=True)
    client.force_login(manager)

    content = page(client, "/approvals/")

    assert "1 waiting for your approval" in content
    assert "Gift 300.00 USD for Acme" in row(content, f"compensation-{own.pk}")
    assert "within the approval limit: yours to approve" in content
    assert f"compensation-{theirs.pk}" not in content and "Globex" not in content
    assert 'id="message-' not in content and "Approved, waiting to be published" not in content


def test_above_the_limit_an_account_managers_own_proposal_waits_for_a_lead_not_for_them(client, manager, acme):
    credit = propose(acme, manager, "20000.00")
    client.force_login(manager)

    content = page(client, "/approvals/")

    assert f"compensation-{credit.pk}" not in content
    assert "Nothing is waiting for your approval" in content


def test_an_account_manager_may_read_the_page_but_still_not_approve_a_message(client, manager, support, sev3):
    message = write(sev3, support, submit=True)
    client.force_login(manager)

    assert client.get("/approvals/").status_code == 200
    assert client.post(f"/messages/{message.pk}/approve/", {"next": "/approvals/"}).status_code == 403
    message.refresh_from_db()
    assert message.state == MessageState.SUBMITTED


def test_the_empty_page_says_nothing_is_waiting(client, lead):
    client.force_login(lead)

    content = page(client, "/approvals/")

    assert "Nothing waiting for your approval" in content
    assert "Nothing is waiting for your approval" in content


# --- The dashboard and the menu -------------------------------------------------------------------------------


def test_the_dashboard_and_the_menu_count_messages_and_compensation_waiting_for_a_lead(
    client, lead, support, manager, sev1, sev3, acme
):
    write(sev1, support, submit=True)
    write(sev3, support, submit=True, headline="Search is slow")
    propose(acme, manager, "20000.00")
    write(sev1, lead, submit=True, headline="Their own")  # another lead's to approve: not counted for them
    client.force_login(lead)

    content = page(client, "/")

    assert re.search(r'<a href="/approvals/">3 waiting for your approval</a>', content)
    assert re.search(r'href="/approvals/"[^>]*>Approvals <span class="count"[^>]*>3</span>', content)


def test_an_account_manager_sees_the_count_of_what_they_approve_themselves(client, manager, support, sev3, acme):
    propose(acme, manager, "300.00")
    write(sev3, support, submit=True)
    client.force_login(manager)

    content = page(client, "/")

    assert re.search(r'<a href="/approvals/">1 waiting for your approval</a>', content)
    assert "awaiting approval" not in content  # the per-incident message count is the leads'


# --- Notifications: messages --------------------------------------------------------------------------------


def test_submitting_a_sev1_message_emails_every_other_active_lead_once(
    lead, other_lead, manager, sev1, django_capture_on_commit_callbacks
):
    UserFactory(username="away", role=COMMS_LEAD, is_active=False)
    UserFactory(username="no-address", role=COMMS_LEAD, email="")
    message = write(sev1, lead)

    with django_capture_on_commit_callbacks(execute=True):
        messaging.submit(message, actor=lead)
    with django_capture_on_commit_callbacks(execute=True):
        messaging.update_message(message, actor=lead, explain="Payments fail at checkout for some cards.")

    assert [email.to for email in mail.outbox] == [["lead2@example.com"]]
    assert mail.outbox[0].subject == "Waiting for your approval: Checkout is failing for some customers"
    assert f"/messages/{message.pk}/" in mail.outbox[0].body and "SEV1 “Checkout down”" in mail.outbox[0].body
    assert TimelineEntry.objects.filter(
        description="“Checkout is failing for some customers” is waiting for approval; 1 lead notified"
    ).count() == 1


def test_on_a_sev3_incident_every_active_lead_is_told(lead, other_lead, support, sev3,
                                                      django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        write(sev3, support, submit=True)

    assert sorted(address for email in mail.outbox for address in email.to) == [
        "lead2@example.com", "lead@example.com"]


def test_a_resubmission_after_a_rejection_notifies_again(lead, support, sev3, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        message = write(sev3, support, submit=True)
    messaging.reject(message, actor=lead, reason="Say which cards.")
    with django_capture_on_commit_callbacks(execute=True):
        messaging.submit(message, actor=support)

    assert len(mail.outbox) == 2
    assert TimelineEntry.objects.filter(data__message_id=message.pk, description__contains="is waiting for approval"
                                        ).count() == 2


def test_a_message_rejected_before_its_submission_commits_tells_nobody(lead, support, sev3,
                                                                       django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        message = write(sev3, support, submit=True)
        messaging.reject(message, actor=lead, reason="Say which cards.")

    assert mail.outbox == []


def test_a_draft_that_is_only_saved_notifies_nobody(lead, support, sev3, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        write(sev3, support)

    assert mail.outbox == []


def test_the_internal_webhooks_hear_that_a_message_waits_for_approval(
    lead, support, sev1, monkeypatch, django_capture_on_commit_callbacks
):
    calls = []
    answer_requests_with(monkeypatch, lambda self, method, url, **kw: calls.append(
        (method, url, kw["headers"]["X-EARS-Event"])) or http_response(200))
    WebhookEndpoint.objects.create(name="Ops", url="https://ops.example.test/hook", internal=True)
    WebhookEndpoint.objects.create(name="Public", url="https://public.example.test/hook", internal=False)

    with django_capture_on_commit_callbacks(execute=True):
        write(sev1, support, submit=True)

    assert calls == [("POST", "https://ops.example.test/hook", "message.awaiting_approval")]


def test_an_email_that_cannot_be_sent_does_not_stop_the_submission_and_is_on_the_timeline(
    lead, support, sev1, django_capture_on_commit_callbacks
):
    with mock.patch("core.notify.send_mail", side_effect=smtplib.SMTPServerDisconnected("gone")):
        with django_capture_on_commit_callbacks(execute=True):
            message = write(sev1, support, submit=True)

    message.refresh_from_db()
    assert message.state == MessageState.SUBMITTED
    assert sev1.timeline.filter(
        description="Emailing the leads that “Checkout is failing for some customers” is waiting for approval "
                    "failed: the email could not be sent (SMTPServerDisconnected)"
    ).exists()


# --- Notifications: compensation ------------------------------------------------------------------------------


def test_comms_registers_its_notifier_for_compensation_waiting_for_a_lead():
    assert {function.__module__ for function in account_hooks.awaiting_approval} == {"comms.approvals"}


def test_a_20000_usd_credit_emails_the_leads_once_and_never_its_proposer(
    lead, other_lead, manager, acme, django_capture_on_commit_callbacks
):
    make_owner(lead, acme)
    with django_capture_on_commit_callbacks(execute=True):
        credit = propose(acme, lead, "20000.00")

    assert [email.to for email in mail.outbox] == [["lead2@example.com"]]
    assert mail.outbox[0].subject == "Waiting for your approval: Gift 20,000.00 USD for Acme"
    assert f"/impacts/{acme.pk}/" in mail.outbox[0].body and "proposed by lead" in mail.outbox[0].body
    assert credit.state == CompensationState.PROPOSED


def test_compensation_within_the_limit_tells_nobody(lead, manager, acme, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        propose(acme, manager, "300.00")

    assert mail.outbox == []


def test_an_offer_sent_back_to_proposed_above_the_limit_tells_the_leads_again(
    lead, manager, acme, django_capture_on_commit_callbacks
):
    account_services.save_account(acme.account, actor=manager, arr=Decimal(0))
    discount = account_services.propose_compensation(acme, actor=manager, kind="discount",
                                                     percentage=Decimal("100"), reason="a month free")
    account_services.move_compensation(discount, CompensationState.APPROVED, actor=manager)  # worth 0.00 now
    account_services.save_account(acme.account, actor=manager, arr=Decimal(120_000))

    refused = pytest.raises(TransitionNotAllowed, match="back to proposed")
    with django_capture_on_commit_callbacks(execute=True), refused:
        account_services.move_compensation(discount, CompensationState.OFFERED, actor=manager)

    assert [email.to for email in mail.outbox] == [["lead@example.com"]]
    assert "Discount 100% of the monthly fee for Acme" in mail.outbox[0].subject


def test_an_email_about_compensation_that_cannot_be_sent_is_on_both_timelines(
    lead, manager, acme, django_capture_on_commit_callbacks
):
    with mock.patch("core.notify.send_mail", side_effect=smtplib.SMTPServerDisconnected("gone")):
        with django_capture_on_commit_callbacks(execute=True):
            credit = propose(acme, manager, "20000.00")

    credit.refresh_from_db()
    assert credit.state == CompensationState.PROPOSED
    assert acme.incident.timeline.filter(
        description="Acme: emailing the leads that Gift 20,000.00 USD is waiting for approval failed: the email "
                    "could not be sent (SMTPServerDisconnected)"
    ).exists()


def test_when_nobody_needs_telling_the_hook_does_nothing_for_a_compensation_approved_meanwhile(
    lead, manager, acme
):
    from comms.approvals import announce_compensation

    credit = propose(acme, manager, "20000.00")  # not committed in this test: nothing was announced yet
    account_services.move_compensation(credit, CompensationState.APPROVED, actor=lead)

    assert announce_compensation(credit) is False
    assert mail.outbox == []


def test_a_message_approved_before_its_announcement_commits_tells_nobody(lead, support, sev3):
    from comms.approvals import announce_message

    message = write(sev3, support, submit=True)
    submitted_at = message.submitted_at
    messaging.approve(message, actor=lead)

    assert announce_message(message.pk, submitted_at) is False
    assert mail.outbox == []


def test_the_timeline_claim_makes_a_second_announcement_of_one_submission_send_nothing(lead, support, sev3):
    from comms.approvals import announce_message

    message = write(sev3, support, submit=True)

    assert announce_message(message.pk, message.submitted_at) is True
    assert announce_message(message.pk, message.submitted_at) is False
    assert len(mail.outbox) == 1
