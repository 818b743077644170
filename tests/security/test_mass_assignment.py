"""Mass assignment (OWASP API3): every writable API endpoint refuses, with 400 naming it, any field its serializer
does not let the client set — read-only fields (`state`, `approver`, `approved_by`, `proposed_by`, `confirmed_at`,
…) and unknown ones — instead of silently ignoring it. Each endpoint is first shown to accept its valid body, as
the least privileged role that may write there, so that each refusal is the field's doing."""

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.api.serializers import (
    AccountSerializer,
    CompensationMoveSerializer,
    CompensationSerializer,
    CompleteFollowUpSerializer,
    ContactSerializer,
    FollowUpSerializer,
    ImpactCreateSerializer,
    ImpactMoveSerializer,
    ImpactSerializer,
)
from accounts.models import Account, Contact, Impact
from comms.api.message_serializers import (
    DraftPreviewSerializer,
    MessageSerializer,
    MessageTemplateSerializer,
    PublishSerializer,
    ReasonSerializer,
    SubscriberSerializer,
)
from comms.choices import MessageState
from comms.models import Message
from incidents.api.serializers import ComponentSerializer, IncidentSerializer
from incidents.models import Component, Incident
from sentiment.api.serializers import AssignSerializer, DismissSerializer, EscalateSerializer, RespondSerializer
from sentiment.models import Mention
from tests.factories import AccountFactory
from tests.security.authorization import LEAD, MANAGER, SUPPORT

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Write:
    role: str  # the least privileged role that may write here
    method: str
    url: object  # (world) → path
    body: object  # (world) → a body the endpoint accepts
    serializer: type
    instance: object = None  # the model, for a serializer that changes an existing object


def _soon() -> str:
    return (timezone.now() + timedelta(hours=1)).isoformat()


def _new_account(world) -> Account:
    return AccountFactory(name="Umbrella", owner=world.user(MANAGER))


WRITES = {
    "create an incident": Write(LEAD, "POST", lambda w: reverse("api-incident-list"),
                                lambda w: {"title": "Disk full", "severity": "SEV3"}, IncidentSerializer),
    "change an incident": Write(LEAD, "PATCH", lambda w: reverse("api-incident-detail", args=[w.incident.pk]),
                                lambda w: {"title": "Checkout errors in the EU"}, IncidentSerializer, Incident),
    "create a component": Write(LEAD, "POST", lambda w: reverse("api-component-list"), lambda w: {"name": "Search"},
                                ComponentSerializer),
    "change a component": Write(LEAD, "PATCH", lambda w: reverse("api-component-detail", args=[w.component.pk]),
                                lambda w: {"description": "Card payments"}, ComponentSerializer, Component),
    "write a message": Write(SUPPORT, "POST", lambda w: reverse("api-message-list"),
                             lambda w: {"incident": w.incident.pk, "headline": "Checkout is slow",
                                        "channels": ["statuspage"]}, MessageSerializer),
    "edit one's message": Write(SUPPORT, "PATCH",
                                lambda w: reverse("api-message-detail", args=[w.own_message(SUPPORT).pk]),
                                lambda w: {"headline": "Checkout is slower"}, MessageSerializer, Message),
    "preview a draft": Write(SUPPORT, "POST", lambda w: reverse("api-message-preview-draft"),
                             lambda w: {"incident": w.incident.pk, "headline": "Checkout is slow"},
                             DraftPreviewSerializer),
    "publish a pre-approved draft": Write(SUPPORT, "POST",
                                          lambda w: reverse("api-message-publish", args=[w.preapproved_draft().pk]),
                                          lambda w: {}, PublishSerializer),
    "reject a message": Write(LEAD, "POST",
                              lambda w: reverse("api-message-reject", args=[w.message_in(MessageState.SUBMITTED).pk]),
                              lambda w: {"reason": "Say which customers."}, ReasonSerializer),
    "create a template": Write(LEAD, "POST", lambda w: reverse("api-template-list"),
                               lambda w: {"name": "Degraded", "phase": "update", "headline": "{incident_title}"},
                               MessageTemplateSerializer),
    "change a template": Write(LEAD, "PATCH", lambda w: reverse("api-template-detail", args=[w.template.pk]),
                               lambda w: {"pre_approved": False}, MessageTemplateSerializer),
    "add a subscriber": Write(LEAD, "POST", lambda w: reverse("api-subscriber-list"),
                              lambda w: {"email": "new@example.com"}, SubscriberSerializer),
    "assign a mention": Write(SUPPORT, "POST", lambda w: reverse("api-mention-assign", args=[w.mention.pk]),
                              lambda w: {}, AssignSerializer),
    "respond to a mention": Write(SUPPORT, "POST", lambda w: reverse("api-mention-respond", args=[w.mention.pk]),
                                  lambda w: {"text": "Sorry, we are on it."}, RespondSerializer),
    "escalate a mention": Write(SUPPORT, "POST", lambda w: reverse("api-mention-escalate", args=[w.mention.pk]),
                                lambda w: {}, EscalateSerializer),
    "dismiss a mention": Write(SUPPORT, "POST", lambda w: reverse("api-mention-dismiss", args=[w.mention.pk]),
                               lambda w: {"reason": "Not about us."}, DismissSerializer),
    "create an account": Write(MANAGER, "POST", lambda w: reverse("api-account-list"),
                               lambda w: {"name": "Hooli", "arr": "1000.00", "currency": "USD"}, AccountSerializer),
    "change one's account": Write(MANAGER, "PATCH", lambda w: reverse("api-account-detail", args=[w.account.pk]),
                                  lambda w: {"notes": "Renews in May."}, AccountSerializer, Account),
    "add a contact": Write(MANAGER, "POST", lambda w: reverse("api-contact-list"),
                           lambda w: {"account": w.account.pk, "name": "Bob", "email": "bob@acme.example"},
                           ContactSerializer),
    "change a contact": Write(MANAGER, "PATCH", lambda w: reverse("api-contact-detail", args=[w.contact.pk]),
                              lambda w: {"role": "CFO"}, ContactSerializer, Contact),
    "record an affected account": Write(MANAGER, "POST",
                                        lambda w: reverse("api-incident-impacts", args=[w.incident.pk]),
                                        lambda w: {"account": _new_account(w).pk}, ImpactCreateSerializer),
    "change one's impact": Write(MANAGER, "PATCH", lambda w: reverse("api-impact-detail", args=[w.impact.pk]),
                                 lambda w: {"level": "minor"}, ImpactSerializer, Impact),
    "move one's impact": Write(MANAGER, "POST", lambda w: reverse("api-impact-move", args=[w.impact.pk]),
                               lambda w: {"state": "contacted"}, ImpactMoveSerializer),
    "plan a follow-up": Write(MANAGER, "POST", lambda w: reverse("api-followup-list"),
                              lambda w: {"impact": w.impact.pk, "summary": "Call the CFO", "due_at": _soon()},
                              FollowUpSerializer),
    "complete a follow-up": Write(MANAGER, "POST", lambda w: reverse("api-followup-complete", args=[w.follow_up.pk]),
                                  lambda w: {"outcome": "They are fine."}, CompleteFollowUpSerializer),
    "propose compensation": Write(MANAGER, "POST", lambda w: reverse("api-compensation-list"),
                                  lambda w: {"impact": w.impact.pk, "kind": "gift", "amount": "50.00",
                                             "reason": "Down during their launch"}, CompensationSerializer),
    "approve compensation": Write(MANAGER, "POST",
                                  lambda w: reverse("api-compensation-move", args=[w.compensation.pk]),
                                  lambda w: {"state": "approved"}, CompensationMoveSerializer),
}

# Fields that decide who did what or where an object stands: each must be refused where it is named, whatever a
# serializer's Meta says tomorrow.
SENSITIVE = {
    "write a message": ["state", "approver", "author", "approved_at", "published_at"],
    "edit one's message": ["state", "approver", "author", "incident", "template", "approved_at"],
    "publish a pre-approved draft": ["approver", "state", "approved_at"],
    "reject a message": ["state", "approver"],
    "add a subscriber": ["confirmed_at", "confirm_token", "unsubscribe_token"],
    "assign a mention": ["review_state", "reviewed_at"],
    "respond to a mention": ["review_state", "assignee"],
    "dismiss a mention": ["review_state"],
    "change a contact": ["account"],
    "record an affected account": ["state", "source", "incident"],
    "change one's impact": ["state", "incident", "account", "source", "closed_at"],
    "move one's impact": ["owner"],
    "plan a follow-up": ["done_at", "outcome", "created_by"],
    "complete a follow-up": ["done_at", "owner"],
    "propose compensation": ["state", "proposed_by", "approved_by", "approved_at", "suggested_amount", "value"],
    "approve compensation": ["approved_by", "proposed_by"],
    "create an incident": ["resolved_at", "closed_at", "acknowledged_at"],
    "change an incident": ["resolved_at", "closed_at", "acknowledged_at", "public_status"],
}
UNKNOWN = "is_admin"


def read_only_fields(write: Write) -> list[str]:
    instance = write.instance() if write.instance else None
    serializer = write.serializer(instance=instance, context={"request": None})
    return sorted(name for name, field in serializer.fields.items() if field.read_only)


def _value(world, name: str):
    """Something plausible for the field: the caller's own user, a state they would like, a time."""
    if name in ("approver", "author", "assignee"):
        return world.user(LEAD).username
    if name in ("approved_by", "proposed_by", "created_by", "owner"):
        return world.user(LEAD).pk
    if name.endswith("_at"):
        return timezone.now().isoformat()
    return {"state": "approved", "review_state": "responded", "incident": world.incident.pk,
            "account": world.theirs.account.pk, "source": "import", "template": world.template.pk}.get(name, "x")


FIELD_CASES = sorted({
    (write, field)
    for write in WRITES
    for field in [*read_only_fields(WRITES[write]), *SENSITIVE.get(write, []), UNKNOWN]
})


def send(world, write: Write, body: dict, path: str = ""):
    return getattr(world.api(write.role), write.method.lower())(path or write.url(world), body, format="json")


@pytest.mark.parametrize("write", list(WRITES), ids=str)
def test_each_writable_endpoint_accepts_its_valid_body(world, write):
    response = send(world, WRITES[write], WRITES[write].body(world))
    assert response.status_code < 300, f"{write}: {response.status_code} {response.content[:400]!r}"


@pytest.mark.parametrize(("write", "field"), FIELD_CASES, ids=[f"{w}: {f}" for w, f in FIELD_CASES])
def test_a_field_the_client_may_not_set_is_refused_with_400_naming_it(world, write, field):
    endpoint = WRITES[write]
    model = getattr(getattr(endpoint.serializer, "Meta", None), "model", None)
    path, body = endpoint.url(world), {**endpoint.body(world), field: _value(world, field)}
    before = model.objects.count() if model else None
    response = send(world, endpoint, body, path)
    assert response.status_code == 400, f"{write} with {field}: {response.status_code} {response.content[:400]!r}"
    body = response.json()
    assert field in body["fields"], body
    assert body["fields"][field] in (["This field is read-only and cannot be set."], ["Unknown field."])
    if model is not None:
        assert model.objects.count() == before


def test_read_only_fields_are_found_in_every_serializer_that_has_them():
    """The introspection above is what proves most fields; check it sees the ones that matter."""
    assert {"state", "approver", "author"} <= set(read_only_fields(WRITES["write a message"]))
    assert {"state", "proposed_by", "approved_by"} <= set(read_only_fields(WRITES["propose compensation"]))
    assert {"incident", "template"} <= set(read_only_fields(WRITES["edit one's message"]))
    assert "confirmed_at" in read_only_fields(WRITES["add a subscriber"])


@pytest.mark.parametrize("write", ["create an account", "change one's impact", "plan a follow-up"], ids=str)
def test_an_owner_must_be_an_account_manager(world, write):
    """`owner` is writable where the README says so, but never to hand work to someone without the role."""
    endpoint = WRITES[write]
    response = send(world, endpoint, {**endpoint.body(world), "owner": world.user(SUPPORT).pk})
    assert response.status_code == 400, response.content
    assert "owner" in response.json()["fields"]


def test_an_ingested_mention_cannot_set_its_own_review_state_assignee_or_account(world):
    """The bulk ingest validates each item by hand: fields it does not take are left out, never stored."""
    item = {
        "external_id": "mass-1", "text": "I moved to the annual plan", "posted_at": timezone.now().isoformat(),
        "review_state": "dismissed", "assignee": world.user(SUPPORT).pk, "flagged": True, "compound": 0.9,
        "account": world.account.pk, "incident": world.incident.pk, "review_note": "ok", "label": "positive",
    }
    response = world.api(SUPPORT).post(reverse("api-mention-bulk"), [item], format="json")
    assert response.status_code == 200 and response.json()["created"] == 1, response.content
    mention = Mention.objects.get(external_id="mass-1")
    assert (mention.review_state, mention.assignee, mention.flagged, mention.review_note) == ("new", None, False, "")
    assert (mention.compound, mention.label, mention.account, mention.incident) == (0, "neutral", None, None)
