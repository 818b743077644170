"""The draft of a message to one account's contacts says what is true when it is drafted: still being worked on
while the incident is open, working normally again only once it is resolved. It passes comms' own lint, and the
email's subject names the incident's title once."""

from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import Compensation
from accounts.outreach import draft_account_message
from comms.lint import lint_message
from comms.rendering import render_email
from core.words import english_list
from incidents.choices import IncidentStatus
from incidents.models import Component
from tests.factories import AccountFactory, ComponentFactory, ContactFactory, ImpactFactory, IncidentFactory

pytestmark = pytest.mark.django_db

OPEN = [IncidentStatus.INVESTIGATING, IncidentStatus.IDENTIFIED, IncidentStatus.MONITORING]
DONE = [IncidentStatus.RESOLVED, IncidentStatus.CLOSED]


def draft_for(manager, status, components=("API", "Payments"), impact_summary="", downtime=45):
    resolved_at = None if status in OPEN else timezone.now()
    incident = IncidentFactory(title="API and payments errors", status=status, resolved_at=resolved_at,
                               impact_summary=impact_summary)
    incident.components.set([Component.objects.get(name=name) if Component.objects.filter(name=name).exists()
                             else ComponentFactory(name=name) for name in components])
    account = AccountFactory(owner=manager)
    ContactFactory(account=account, name="Ada", email=f"ada@{account.pk}.example")
    impact = ImpactFactory(account=account, incident=incident, downtime_minutes=downtime, state="contacted")
    return impact, draft_account_message(impact, actor=manager)


def text_of(message) -> str:
    return "\n".join(message.parts().values())


@pytest.mark.parametrize("status", OPEN)
def test_while_the_incident_is_open_the_draft_says_it_is_still_being_worked_on(manager, status):
    _, message = draft_for(manager, status)

    text = text_of(message)
    assert "working normally again" not in text
    assert "API and Payments are not working properly" in message.explain  # what customers experience
    assert message.acknowledge.startswith(
        f"We know {message.account} has not been able to rely on API and Payments for about 45 minutes so far")
    assert "still" in message.resolve or "before we call this resolved" in message.resolve
    assert message.study.startswith("Once this is resolved")


@pytest.mark.parametrize("status", DONE)
def test_once_the_incident_is_resolved_the_draft_says_it_works_normally_again(manager, status):
    _, message = draft_for(manager, status)

    assert message.resolve.startswith("API and Payments are working normally again.")
    assert "could not rely on API and Payments for about 45 minutes" in message.acknowledge
    assert "still" not in text_of(message)


def test_an_open_draft_uses_the_incidents_own_words_for_what_customers_experience(manager):
    _, message = draft_for(manager, IncidentStatus.IDENTIFIED, impact_summary="Card payments fail for some.")

    assert message.explain == "Card payments fail for some."
    assert message.resolve.startswith("We have found the cause and are still working on a fix for API and Payments")


@pytest.mark.parametrize("status", OPEN + DONE)
def test_the_draft_passes_comms_lint_with_no_warning_or_error(manager, status):
    _, message = draft_for(manager, status)

    assert list(lint_message(message)) == []


def test_the_draft_offering_approved_compensation_passes_lint_and_thanks_them(manager):
    impact, _ = draft_for(manager, IncidentStatus.RESOLVED)
    Compensation.objects.create(impact=impact, kind="service_credit", amount=Decimal("250.00"), currency="USD",
                                reason="downtime", proposed_by=manager, state="approved")

    message = draft_account_message(impact, actor=manager)

    assert f"we are offering {impact.account}: a service credit of 250.00 USD" in message.resolve
    assert message.resolve.endswith("Thank you for your patience while we put this right.")
    assert list(lint_message(message)) == []


@pytest.mark.parametrize("status", [IncidentStatus.INVESTIGATING, IncidentStatus.RESOLVED])
def test_the_email_subject_names_the_incident_title_once(manager, status):
    _, message = draft_for(manager, status)

    subject, _, _ = render_email(message)

    assert subject.count("API and payments errors") == 1
    assert f"What {'happened and what ' if status == 'resolved' else ''}we are doing for {message.account}" in subject


@pytest.mark.parametrize(("names", "joined"), [
    ([], ""),
    (["API"], "API"),
    (["API", "Payments"], "API and Payments"),
    (["API", "Payments", "Webhooks"], "API, Payments and Webhooks"),
])
def test_component_names_are_joined_in_plain_english(names, joined):
    assert english_list(names) == joined


def test_one_component_takes_the_singular_and_three_are_listed_with_and(manager):
    _, one = draft_for(manager, IncidentStatus.RESOLVED, components=("API",))
    _, three = draft_for(manager, IncidentStatus.INVESTIGATING, components=("API", "Payments", "Webhooks"))

    assert one.resolve.startswith("API is working normally again.")
    assert three.explain == "API, Payments and Webhooks are not working properly."
