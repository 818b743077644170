"""A targeted message to one account's contacts, who the email transport sends affected-account messages to,
and how mentions are tied to accounts: linking, the key-account flag, what managers see, and escalation."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from accounts import services
from accounts.models import AccountEvent, Compensation, EmailDomain, FollowUp, Impact, SocialHandle
from accounts.outreach import draft_account_message
from comms import messaging
from comms.channels import get_transport
from comms.choices import Audience
from comms.models import Message
from core.roles import ACCOUNT_MANAGER, COMMS_LEAD
from incidents.models import TimelineEntry
from sentiment import review
from sentiment.models import Mention
from sentiment.services import score_mentions
from tests.factories import (
    AccountFactory,
    ComponentFactory,
    ContactFactory,
    ImpactFactory,
    IncidentFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def incident():
    incident = IncidentFactory(title="Checkout down", impact_summary="Card payments failed for most customers.")
    incident.components.set([ComponentFactory(name="Checkout")])
    return incident


@pytest.fixture
def acme(manager):
    account = AccountFactory(name="Acme", owner=manager, tier="enterprise")
    ContactFactory(account=account, name="Ada", email="ada@acme.example")
    ContactFactory(account=account, name="Bob", email="bob@acme.example")
    return account


@pytest.fixture
def impact(acme, incident):
    return ImpactFactory(account=acme, incident=incident, downtime_minutes=45, state="contacted")


def addresses(message):
    return sorted(recipient.address for recipient in get_transport("email").recipients(message))


# --- Drafting a message to one account -------------------------------------------------------------------

def test_a_drafted_account_message_is_a_targeted_email_with_every_ears_part(manager, impact, acme):
    message = draft_account_message(impact, actor=manager)

    message.refresh_from_db()
    assert (message.state, message.audience, message.account, message.channels, message.phase, message.author) == (
        "draft", Audience.AFFECTED_ACCOUNTS, acme, ["email"], "resolution", manager)
    assert message.headline == "What we are doing for Acme while we fix this"  # the subject carries the title
    assert message.explain == "Card payments failed for most customers."
    assert message.acknowledge == ("We know Acme has not been able to rely on Checkout for about 45 minutes so far, "
                                   "and we are sorry for the disruption this is causing your team.")
    assert message.resolve == ("We are still investigating why Checkout is not working properly, and we will keep "
                               "you informed until this is fixed. manager will be in touch about what we can do to "
                               "make this right for you. Thank you for your patience while we work on this.")
    assert message.study.startswith("Once this is resolved we will review what caused it")


def test_the_draft_offers_approved_compensation_and_leaves_out_what_is_only_proposed(manager, impact):
    Compensation.objects.create(impact=impact, kind="service_credit", amount=Decimal("250.00"), currency="USD",
                                reason="downtime", proposed_by=manager, state="approved")
    Compensation.objects.create(impact=impact, kind="gift", amount=Decimal("80.00"), currency="USD",
                                reason="sorry", proposed_by=manager, state="proposed")

    message = draft_account_message(impact, actor=manager)

    assert message.resolve.split(". ", 1)[1] == (
        "To make up for the disruption we are offering Acme: a service credit of 250.00 USD. manager will confirm "
        "the details with you. Thank you for your patience while we work on this.")


def test_drafting_is_recorded_on_both_timelines(manager, impact):
    message = draft_account_message(impact, actor=manager)

    event = AccountEvent.objects.get()
    assert (event.kind, event.data["message_id"]) == ("message", message.pk)
    assert event.description == f"message “{message.headline}” drafted for its contacts"
    assert list(TimelineEntry.objects.values_list("kind", "description")) == [
        ("message", f"Draft “{message.headline}” written"),
        ("account", f"Acme: message “{message.headline}” drafted for its contacts"),
    ]


def test_an_account_without_contacts_cannot_be_written_to(manager, incident):
    impact = ImpactFactory(account=AccountFactory(name="Quiet", owner=manager), incident=incident)
    with pytest.raises(ValidationError) as refusal:
        draft_account_message(impact, actor=manager)
    assert refusal.value.message_dict == {"account": ["Quiet has no contacts to write to; add one first."]}
    assert not Message.objects.exists()


@pytest.mark.parametrize("who", ["another_manager", "lead", "support"])
def test_only_whoever_works_the_impact_drafts_its_message(request, impact, who):
    if who == "another_manager":
        actor = UserFactory(username="other-manager", role=ACCOUNT_MANAGER)
    else:
        actor = request.getfixturevalue(who)
    with pytest.raises(PermissionDenied):
        draft_account_message(impact, actor=actor)
    assert not Message.objects.exists() and not AccountEvent.objects.exists()


# --- Recipients of affected-account messages -------------------------------------------------------------

def test_a_targeted_message_goes_to_exactly_that_accounts_contacts(manager, impact, incident):
    other = AccountFactory(name="Other")
    ContactFactory(account=other, email="carol@other.example")
    ImpactFactory(account=other, incident=incident)

    message = draft_account_message(impact, actor=manager)

    assert addresses(message) == ["ada@acme.example", "bob@acme.example"]


def test_an_untargeted_message_goes_to_the_contacts_of_every_affected_account_once(lead, impact, incident):
    other = AccountFactory(name="Other")
    ContactFactory(account=other, email="carol@other.example")
    ContactFactory(account=other, email="ada@acme.example")  # the same person at two customers: one email
    ImpactFactory(account=other, incident=incident)
    unaffected = AccountFactory(name="Unaffected")
    ContactFactory(account=unaffected, email="dan@unaffected.example")
    elsewhere = AccountFactory(name="Elsewhere")
    ContactFactory(account=elsewhere, email="eve@elsewhere.example")
    ImpactFactory(account=elsewhere)  # an impact on another incident

    message = messaging.create_message(incident=incident, author=lead, audience=Audience.AFFECTED_ACCOUNTS,
                                       channels=["email"], headline="Checkout is back")

    assert message.account is None
    assert addresses(message) == ["ada@acme.example", "bob@acme.example", "carol@other.example"]


# --- Linking mentions to accounts ------------------------------------------------------------------------

def scored(author_handle, text="hello from the team", **fields):
    mention = Mention.objects.create(source="x", external_id=f"m{Mention.objects.count() + 1}", text=text,
                                     author_handle=author_handle, posted_at=timezone.now(), **fields)
    assert score_mentions([mention.pk]) == 1
    mention.refresh_from_db()
    return mention


@pytest.mark.parametrize("handle", ["AcmeOps", "@AcmeOps", "@acmeops", " ACMEOPS "])
def test_a_mention_is_linked_by_its_x_handle_whatever_the_case_or_at_sign(acme, handle):
    SocialHandle.objects.create(account=acme, handle="acmeops")
    assert scored(handle).account == acme


@pytest.mark.parametrize(("author", "linked"), [
    ("jane@acme.example", True),
    ("Jane.Doe@ACME.Example", True),
    ("jane@mail.acme.example", False),   # only the domain itself
    ("jane@other.example", False),
    ("acme.example", False),             # a handle, not an address
])
def test_an_email_author_is_linked_by_the_domain_of_the_address(acme, author, linked):
    EmailDomain.objects.create(account=acme, domain="acme.example")
    assert scored(author).account == (acme if linked else None)


def test_a_handle_does_not_match_a_domain_and_a_domain_does_not_match_a_handle(acme):
    EmailDomain.objects.create(account=acme, domain="acme.example")
    SocialHandle.objects.create(account=acme, handle="acmeops")
    assert scored("acmeops@gmail.example").account is None


@pytest.mark.parametrize("tier", ["strategic", "enterprise"])
def test_a_key_account_adds_its_own_flag_reason_to_a_complaint(tier):
    account = AccountFactory(name="Bigco", tier=tier)
    SocialHandle.objects.create(account=account, handle="bigco")

    mention = scored("@bigco", text="our dashboard has been down for hours, still no answer")

    assert (mention.account, mention.flagged) == (account, True)
    assert mention.flag_reasons[0].startswith("Negative because: ")
    assert "Key customer account: Bigco" in mention.flag_reasons


def test_a_key_customer_saying_hello_is_linked_but_needs_no_answer():
    account = AccountFactory(name="Bigco", tier="enterprise")
    SocialHandle.objects.create(account=account, handle="bigco")

    mention = scored("@bigco")

    assert (mention.account, mention.flagged, mention.flag_reasons) == (account, False, [])


@pytest.mark.parametrize("tier", ["growth", "self_serve"])
def test_other_tiers_are_linked_but_not_flagged(tier):
    account = AccountFactory(name="Smallco", tier=tier)
    SocialHandle.objects.create(account=account, handle="smallco")

    mention = scored("@smallco")

    assert (mention.account, mention.flagged, mention.flag_reasons) == (account, False, [])


def test_an_unknown_author_is_linked_to_no_account_and_not_flagged():
    mention = scored("@stranger")
    assert (mention.account, mention.flagged, mention.flag_reasons) == (None, False, [])


def test_account_managers_see_only_mentions_of_the_accounts_they_own(manager, support, roleless, acme):
    deputy = UserFactory(username="deputy", role=ACCOUNT_MANAGER)
    theirs = AccountFactory(name="Theirs", owner=deputy)
    ours = Mention.objects.create(source="x", external_id="1", text="a", posted_at=timezone.now(), account=acme)
    other = Mention.objects.create(source="x", external_id="2", text="b", posted_at=timezone.now(), account=theirs)
    unlinked = Mention.objects.create(source="x", external_id="3", text="c", posted_at=timezone.now())

    assert list(review.visible_mentions(manager)) == [ours]
    assert list(review.visible_mentions(deputy)) == [other]
    assert set(review.visible_mentions(support)) == {ours, other, unlinked}
    assert list(review.visible_mentions(roleless)) == []


# --- Escalation to the account's owner -------------------------------------------------------------------

def mention_from(account, incident, handle="acmeops", text="Still cannot pay, this is costing us orders"):
    return Mention.objects.create(source="x", external_id=f"e{Mention.objects.count() + 1}", text=text,
                                  author_handle=handle, posted_at=timezone.now(), account=account,
                                  incident=incident, flagged=True)


def test_escalating_a_linked_mention_plans_a_call_for_the_account_owner_on_the_impact(support, manager, impact,
                                                                                       incident, acme, mailoutbox,
                                                                                       settings):
    mention = mention_from(acme, incident)
    before = timezone.now()

    review.escalate(mention, actor=support, note="angry, big customer")

    follow_up = FollowUp.objects.get()
    assert (follow_up.impact, follow_up.owner, follow_up.created_by, follow_up.kind) == (
        impact, manager, support, "call")
    assert follow_up.summary == f"Answer the author of mention #{mention.pk}: support escalated it"
    assert before + timedelta(hours=4) <= follow_up.due_at <= timezone.now() + timedelta(hours=4)
    assert Impact.objects.count() == 1
    (email,) = mailoutbox
    assert email.to == ["manager@example.com"]
    assert email.subject == "Escalated: acmeops needs account follow-up"
    assert "Note: angry, big customer" in email.body
    assert f"{settings.SITE_URL}{impact.get_absolute_url()}" in email.body
    mention.refresh_from_db()
    assert mention.review_state == "escalated"


def test_escalating_records_an_impact_for_the_account_when_there_is_none(support, manager, incident, acme,
                                                                          mailoutbox):
    mention = mention_from(acme, incident)

    review.escalate(mention, actor=support)

    impact = Impact.objects.get()
    assert (impact.incident, impact.account, impact.owner, impact.source, impact.state) == (
        incident, acme, manager, "escalation", "identified")
    assert FollowUp.objects.get().impact == impact
    assert list(AccountEvent.objects.order_by("id").values_list("kind", "description")) == [
        ("impact", "identified as affected (escalated from a mention)"),
        ("follow_up", f"call planned for manager: Answer the author of mention #{mention.pk}: support escalated it"),
    ]
    assert [email.to for email in mailoutbox] == [["manager@example.com"]]


def test_escalating_a_mention_without_an_account_emails_the_leads_not_every_account_manager(
        support, manager, lead, incident, mailoutbox):
    UserFactory(username="deputy", role=ACCOUNT_MANAGER)
    UserFactory(username="silent", role=COMMS_LEAD, email="")
    mention = mention_from(None, incident, handle="stranger")

    review.escalate(mention, actor=support)

    assert not FollowUp.objects.exists() and not Impact.objects.exists()
    (email,) = mailoutbox
    assert sorted(email.to) == ["lead@example.com"]
    assert f"/mentions/{mention.pk}/" in email.body


def test_escalating_a_mention_of_an_account_but_no_incident_emails_every_account_manager(support, manager, acme,
                                                                                          mailoutbox):
    mention = mention_from(acme, None)

    review.escalate(mention, actor=support)

    assert not FollowUp.objects.exists() and not Impact.objects.exists()
    assert [email.to for email in mailoutbox] == [["manager@example.com"]]


def test_an_escalation_on_a_closed_impact_reopens_it_for_the_owner(support, manager):
    incident = IncidentFactory()
    account = AccountFactory(owner=manager)
    impact = ImpactFactory(incident=incident, account=account)
    services.move_impact(impact, "contacted", actor=manager)
    services.move_impact(impact, "closed", actor=manager)
    mention = Mention.objects.create(source="x", external_id="1", author_handle="acme", text="still broken",
                                     posted_at=timezone.now() - timedelta(minutes=1), account=account,
                                     incident=incident, flagged=True)

    review.escalate(mention, actor=support)

    impact.refresh_from_db()
    assert impact.state == "follow_up" and impact.follow_ups.filter(done_at__isnull=True).count() == 1
