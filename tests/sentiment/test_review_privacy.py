"""A mention is read by reviewers and by the manager who owns its account, while everyone who reads the incident reads
its timeline: the timeline names a mention by number only, and an escalation email goes only to people who may read
the mention — the owner of its account, or the communications leads when there is no account or no owner."""

import smtplib
from unittest import mock

import pytest

from core.roles import ACCOUNT_MANAGER
from sentiment.models import Mention
from tests.factories import AccountFactory, IncidentFactory, UserFactory
from tests.sentiment.helpers import mention

pytestmark = pytest.mark.django_db

SECRET = "CONFIDENTIAL: our CFO says the migration lost the Q3 ledger"


def act(api_as, user, item, action, body=None):
    response = api_as(user).post(f"/api/v1/mentions/{item.pk}/{action}/", body or {}, format="json")
    assert response.status_code == 200, response.content
    return response


@pytest.fixture
def other_manager(db):
    return UserFactory(username="manager2", role=ACCOUNT_MANAGER)


@pytest.fixture
def incident(db):
    return IncidentFactory(title="Ledger sync failing")


@pytest.fixture
def owned(incident, manager):
    """A mention from the people of an account the manager owns, about the incident."""
    account = AccountFactory(name="Lena Corp", owner=manager)
    return mention(SECRET, incident=incident, account=account, author_handle="cto_lena")


def timeline_as(api_as, client, user, incident) -> str:
    """Everything the user reads of the incident's timeline: the API's descriptions and data, and the page."""
    entries = api_as(user).get(f"/api/v1/incidents/{incident.pk}/timeline/").json()["results"]
    client.force_login(user)
    page = client.get(incident.get_absolute_url())
    assert page.status_code == 200
    return repr(entries) + page.content.decode()


def test_the_timeline_never_carries_a_dismissed_mentions_text_handle_or_reason(
        api_as, client, support, other_manager, incident, owned):
    act(api_as, support, owned, "dismiss", {"reason": f"Already handled; they wrote: {SECRET}"})
    shown = timeline_as(api_as, client, other_manager, incident)
    assert f"Mention {owned.pk} dismissed" in shown
    assert "CONFIDENTIAL" not in shown and "Q3 ledger" not in shown and "cto_lena" not in shown


def test_the_timeline_never_carries_an_escalated_mentions_text(api_as, client, support, other_manager, incident,
                                                               owned):
    act(api_as, support, owned, "assign")
    act(api_as, support, owned, "escalate", {"note": f"Quote: {SECRET}"})
    shown = timeline_as(api_as, client, other_manager, incident)
    assert f"Mention {owned.pk} escalated to account management" in shown
    assert "CONFIDENTIAL" not in shown and "Q3 ledger" not in shown


def test_the_sentiment_entries_of_the_timeline_name_the_mention_only_by_its_number(api_as, support, incident):
    item = mention(SECRET, incident=incident, author_handle="cto_lena")  # no account: no follow-up entry either
    act(api_as, support, item, "assign")
    act(api_as, support, item, "respond", {"text": f"Answered: {SECRET}"})
    entries = list(incident.timeline.values_list("description", "data"))
    assert [description for description, _ in entries] == [
        f"Mention {item.pk} assigned to support", f"Mention {item.pk} answered"]
    assert all(data["mention_id"] == item.pk for _, data in entries)
    assert "cto_lena" not in repr(entries) and "CONFIDENTIAL" not in repr(entries)


def test_an_escalation_of_a_mention_with_an_owned_account_emails_only_the_owner(
        api_as, support, manager, other_manager, lead, mailoutbox):
    item = mention(SECRET, account=AccountFactory(owner=manager), author_handle="cto_lena")  # no incident, no impact
    act(api_as, support, item, "escalate", {"note": "Their CFO is angry"})
    assert [email.to for email in mailoutbox] == [[manager.email]]
    body = mailoutbox[0].body
    assert SECRET in body and "Their CFO is angry" in body  # the owner may read the mention
    assert f"/mentions/{item.pk}/" in body


def test_an_escalation_about_the_incident_emails_the_owner_the_mention_and_the_follow_up_planned(
        api_as, support, manager, other_manager, lead, owned, mailoutbox):
    act(api_as, support, owned, "escalate")
    assert [email.to for email in mailoutbox] == [[manager.email]]
    follow_up = owned.account.impacts.get().follow_ups.get()
    assert follow_up.owner == manager
    assert f"/mentions/{owned.pk}/" in mailoutbox[0].body
    assert f"/impacts/{follow_up.impact_id}/" in mailoutbox[0].body


def test_an_escalation_of_a_mention_without_an_account_emails_the_leads(
        api_as, support, manager, other_manager, lead, incident, mailoutbox):
    second_lead = UserFactory(username="lead2", role="Communications lead")
    item = mention(SECRET, incident=incident, author_handle="cto_lena")
    act(api_as, support, item, "escalate")
    assert len(mailoutbox) == 1
    assert sorted(mailoutbox[0].to) == sorted([lead.email, second_lead.email])
    assert manager.email not in mailoutbox[0].to and other_manager.email not in mailoutbox[0].to


def test_an_escalation_of_a_mention_whose_account_has_no_owner_emails_the_leads(
        api_as, support, manager, lead, incident, mailoutbox):
    item = mention(SECRET, incident=incident, account=AccountFactory(owner=None))
    act(api_as, support, item, "escalate")
    assert [email.to for email in mailoutbox] == [[lead.email]]


def test_an_escalation_goes_to_the_leads_when_the_owner_may_not_read_mentions(
        api_as, support, lead, incident, mailoutbox):
    former = UserFactory(username="former-manager")  # owns the account but holds no role any more
    item = mention(SECRET, incident=incident, account=AccountFactory(owner=former))
    act(api_as, support, item, "escalate")
    assert [email.to for email in mailoutbox] == [[lead.email]]


def test_a_failed_escalation_email_is_recorded_on_the_timeline_without_the_mention(
        api_as, support, lead, incident, mailoutbox):
    item = mention(SECRET, incident=incident, author_handle="cto_lena")
    with mock.patch("django.core.mail.backends.locmem.EmailBackend.send_messages",
                    side_effect=smtplib.SMTPServerDisconnected("gone")):
        act(api_as, support, item, "escalate")
    last = incident.timeline.last()
    assert last.description == (f"Emailing about the escalation of mention {item.pk} failed: the email could not be "
                                "sent (SMTPServerDisconnected)")
    assert last.data == {"mention_id": item.pk}
    assert Mention.objects.get(pk=item.pk).review_state == "escalated"
