"""Object-level authorization (OWASP API1, broken object level authorization): an account manager works only the
accounts they own — not another manager's account, contact, impact, follow-up or compensation — through the API
and through the pages; support and account managers change only the messages they wrote; a manager reads only the
mentions of their own accounts. Every refused attempt is also made by the object's owner, who succeeds: the
request itself is sound, only the person is wrong."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.forms import AccountForm
from accounts.models import Account, Compensation, Contact, FollowUp, Impact
from comms.models import Message
from tests.security.authorization import LEAD, MANAGER, SUPPORT
from tests.security.world import LEAD2, MANAGER2

pytestmark = pytest.mark.django_db

INTRUDER, OWNER = MANAGER, MANAGER2


@dataclass(frozen=True)
class Attempt:
    """One change to the other manager's customer: where, what is sent, and how to tell it was made."""

    method: str
    url: Callable  # (world, books) → path
    body: Callable  # (world, books) → data
    done: Callable  # (world, books) → True once the change is made


def _soon() -> str:
    return (timezone.now() + timedelta(hours=1)).isoformat()


def _fresh(obj):
    return type(obj).objects.get(pk=obj.pk)


API_ATTEMPTS = {
    "rename the account (PATCH)": Attempt(
        "PATCH", lambda w, b: reverse("api-account-detail", args=[b.account.pk]), lambda w, b: {"notes": "Taken"},
        lambda w, b: _fresh(b.account).notes == "Taken"),
    "replace the account (PUT)": Attempt(
        "PUT", lambda w, b: reverse("api-account-detail", args=[b.account.pk]),
        lambda w, b: {"name": "Globex Renamed", "tier": "growth", "arr": "1000.00", "currency": "USD"},
        lambda w, b: _fresh(b.account).name == "Globex Renamed"),
    "give the account to oneself": Attempt(
        "PATCH", lambda w, b: reverse("api-account-detail", args=[b.account.pk]),
        lambda w, b: {"owner": w.user(INTRUDER).pk}, lambda w, b: _fresh(b.account).owner_id == w.user(INTRUDER).pk),
    "add a contact": Attempt(
        "POST", lambda w, b: reverse("api-contact-list"),
        lambda w, b: {"account": b.account.pk, "name": "Eve", "email": "eve@globex.example"},
        lambda w, b: Contact.objects.filter(email="eve@globex.example").exists()),
    "change a contact": Attempt(
        "PATCH", lambda w, b: reverse("api-contact-detail", args=[b.contact.pk]), lambda w, b: {"name": "Eve"},
        lambda w, b: _fresh(b.contact).name == "Eve"),
    "remove a contact": Attempt(
        "DELETE", lambda w, b: reverse("api-contact-detail", args=[b.contact.pk]), lambda w, b: None,
        lambda w, b: not Contact.objects.filter(pk=b.contact.pk).exists()),
    "change the impact": Attempt(
        "PATCH", lambda w, b: reverse("api-impact-detail", args=[b.impact.pk]), lambda w, b: {"level": "minor"},
        lambda w, b: _fresh(b.impact).level == "minor"),
    "take the impact": Attempt(
        "PATCH", lambda w, b: reverse("api-impact-detail", args=[b.impact.pk]),
        lambda w, b: {"owner": w.user(INTRUDER).pk}, lambda w, b: _fresh(b.impact).owner_id == w.user(INTRUDER).pk),
    "move the impact": Attempt(
        "POST", lambda w, b: reverse("api-impact-move", args=[b.impact.pk]), lambda w, b: {"state": "contacted"},
        lambda w, b: _fresh(b.impact).state == "contacted"),
    "draft a message to their contacts": Attempt(
        "POST", lambda w, b: reverse("api-impact-message", args=[b.impact.pk]), lambda w, b: None,
        lambda w, b: Message.objects.filter(account=b.account).exists()),
    "plan a follow-up": Attempt(
        "POST", lambda w, b: reverse("api-followup-list"),
        lambda w, b: {"impact": b.impact.pk, "summary": "Intruder call", "due_at": _soon()},
        lambda w, b: FollowUp.objects.filter(summary="Intruder call").exists()),
    "complete a follow-up": Attempt(
        "POST", lambda w, b: reverse("api-followup-complete", args=[b.follow_up.pk]),
        lambda w, b: {"outcome": "They are fine"}, lambda w, b: _fresh(b.follow_up).done_at is not None),
    "propose compensation": Attempt(
        "POST", lambda w, b: reverse("api-compensation-list"),
        lambda w, b: {"impact": b.impact.pk, "kind": "gift", "amount": "50.00", "reason": "Intruder gift"},
        lambda w, b: Compensation.objects.filter(reason="Intruder gift").exists()),
    "approve compensation": Attempt(
        "POST", lambda w, b: reverse("api-compensation-move", args=[b.compensation.pk]),
        lambda w, b: {"state": "approved"}, lambda w, b: _fresh(b.compensation).state == "approved"),
    "withdraw compensation": Attempt(
        "POST", lambda w, b: reverse("api-compensation-move", args=[b.compensation.pk]),
        lambda w, b: {"state": "withdrawn"}, lambda w, b: _fresh(b.compensation).state == "withdrawn"),
    "record their account as affected, for oneself": Attempt(
        "POST", lambda w, b: reverse("api-incident-impacts", args=[w.incident.pk]),
        lambda w, b: {"account": w.spare.pk, "owner": w.user(INTRUDER).pk},
        lambda w, b: Impact.objects.filter(account=w.spare, owner=w.user(INTRUDER)).exists()),
}


def _account_form(w, b):
    data = {key: ("" if value is None else value) for key, value in AccountForm.initial_for(b.account).items()}
    return {**data, "notes": "Taken"}


def _contact_form(w, b):
    prefix = f"contact-{b.contact.pk}"
    return {f"{prefix}-name": "Eve", f"{prefix}-email": b.contact.email, f"{prefix}-role": ""}


PAGE_ATTEMPTS = {
    "edit the account": Attempt(
        "POST", lambda w, b: reverse("account-update", args=[b.account.pk]), _account_form,
        lambda w, b: _fresh(b.account).notes == "Taken"),
    "add a contact": Attempt(
        "POST", lambda w, b: reverse("contact-create", args=[b.account.pk]),
        lambda w, b: {"new-contact-name": "Eve", "new-contact-email": "eve@globex.example", "new-contact-role": ""},
        lambda w, b: Contact.objects.filter(email="eve@globex.example").exists()),
    "change a contact": Attempt(
        "POST", lambda w, b: reverse("contact-update", args=[b.contact.pk]), _contact_form,
        lambda w, b: _fresh(b.contact).name == "Eve"),
    "remove a contact": Attempt(
        "POST", lambda w, b: reverse("contact-delete", args=[b.contact.pk]), lambda w, b: {},
        lambda w, b: not Contact.objects.filter(pk=b.contact.pk).exists()),
    "move the impact": Attempt(
        "POST", lambda w, b: reverse("impact-move", args=[b.impact.pk]), lambda w, b: {"state": "contacted"},
        lambda w, b: _fresh(b.impact).state == "contacted"),
    "change the impact": Attempt(
        "POST", lambda w, b: reverse("impact-update", args=[b.impact.pk]),
        lambda w, b: {"level": "minor", "downtime_minutes": "0", "affected_users": "", "affected_share": "",
                      "owner": b.impact.owner_id},
        lambda w, b: _fresh(b.impact).level == "minor"),
    "plan a follow-up": Attempt(
        "POST", lambda w, b: reverse("follow-up-create", args=[b.impact.pk]),
        lambda w, b: {"kind": "call", "summary": "Intruder call", "owner": "",
                      "due_at": timezone.localtime(timezone.now() + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")},
        lambda w, b: FollowUp.objects.filter(summary="Intruder call").exists()),
    "complete a follow-up": Attempt(
        "POST", lambda w, b: reverse("follow-up-complete", args=[b.follow_up.pk]),
        lambda w, b: {"outcome": "They are fine", "next_step": ""},
        lambda w, b: _fresh(b.follow_up).done_at is not None),
    "propose compensation": Attempt(
        "POST", lambda w, b: reverse("compensation-create", args=[b.impact.pk]),
        lambda w, b: {"kind": "gift", "amount": "50", "percentage": "", "currency": "", "reason": "Intruder gift",
                      "override_reason": ""},
        lambda w, b: Compensation.objects.filter(reason="Intruder gift").exists()),
    "approve compensation": Attempt(
        "POST", lambda w, b: reverse("compensation-move", args=[b.compensation.pk]), lambda w, b: {"state": "approved"},
        lambda w, b: _fresh(b.compensation).state == "approved"),
    "draft a message to their contacts": Attempt(
        "POST", lambda w, b: reverse("impact-message", args=[b.impact.pk]), lambda w, b: {},
        lambda w, b: Message.objects.filter(account=b.account).exists()),
}


def api_send(client, method: str, path: str, body):
    return getattr(client, method.lower())(path, body, format="json") if body is not None else getattr(
        client, method.lower())(path)


@pytest.mark.parametrize("attempt", list(API_ATTEMPTS), ids=str)
def test_an_account_manager_cannot_change_another_managers_customer_through_the_api(world, attempt):
    act = API_ATTEMPTS[attempt]
    theirs = world.theirs
    response = api_send(world.api(INTRUDER), act.method, act.url(world, theirs), act.body(world, theirs))
    assert response.status_code in (403, 404), f"{attempt}: {response.status_code} {response.content[:300]!r}"
    assert not act.done(world, theirs), f"{attempt} was refused ({response.status_code}) but happened anyway"


@pytest.mark.parametrize("attempt", list(API_ATTEMPTS), ids=str)
def test_the_owner_makes_the_same_change_through_the_api(world, attempt):
    act = API_ATTEMPTS[attempt]
    theirs = world.theirs
    response = api_send(world.api(OWNER), act.method, act.url(world, theirs), act.body(world, theirs))
    assert response.status_code < 300, f"{attempt}: {response.status_code} {response.content[:300]!r}"
    assert act.done(world, theirs)


def _refused_on_the_page(response) -> bool:
    """403, or back to a page that says why (the pages show a service's refusal as a message)."""
    return response.status_code == 403 or (
        response.status_code == 200 and "Only the owner of" in response.content.decode()
    )


@pytest.mark.parametrize("attempt", list(PAGE_ATTEMPTS), ids=str)
def test_an_account_manager_cannot_change_another_managers_customer_through_the_pages(world, attempt):
    act = PAGE_ATTEMPTS[attempt]
    theirs = world.theirs
    response = world.browser(INTRUDER).post(act.url(world, theirs), act.body(world, theirs), follow=True)
    assert _refused_on_the_page(response), f"{attempt}: {response.status_code}"
    assert not act.done(world, theirs), f"{attempt} was refused but happened anyway"


@pytest.mark.parametrize("attempt", list(PAGE_ATTEMPTS), ids=str)
def test_the_owner_makes_the_same_change_through_the_pages(world, attempt):
    act = PAGE_ATTEMPTS[attempt]
    theirs = world.theirs
    response = world.browser(OWNER).post(act.url(world, theirs), act.body(world, theirs), follow=True)
    assert response.status_code == 200
    assert act.done(world, theirs), f"{attempt}: not done; the page said {response.content.decode()[:2000]}"


def test_an_account_manager_cannot_open_the_edit_form_of_another_managers_account(world):
    path = reverse("account-update", args=[world.theirs.account.pk])
    assert world.browser(INTRUDER).get(path).status_code == 403
    assert world.browser(OWNER).get(path).status_code == 200


# --- Messages: support and account managers change only what they wrote --------------------------------------

MESSAGE_CHANGES = {
    "edit (API)": lambda w, m, key: w.api(key).patch(reverse("api-message-detail", args=[m.pk]),
                                                     {"headline": "Hijacked"}, format="json"),
    "submit (API)": lambda w, m, key: w.api(key).post(reverse("api-message-submit", args=[m.pk])),
    "cancel (API)": lambda w, m, key: w.api(key).post(reverse("api-message-cancel", args=[m.pk])),
    "edit (page)": lambda w, m, key: w.browser(key).post(
        reverse("message-update", args=[m.pk]),
        {"headline": "Hijacked", "phase": m.phase, "audience": m.audience, "channels": m.channels}),
    "submit (page)": lambda w, m, key: w.browser(key).post(reverse("message-action", args=[m.pk, "submit"])),
    "cancel (page)": lambda w, m, key: w.browser(key).post(reverse("message-action", args=[m.pk, "cancel"])),
}


@pytest.mark.parametrize("role", [SUPPORT, MANAGER])
@pytest.mark.parametrize("change", list(MESSAGE_CHANGES), ids=str)
def test_support_and_account_managers_cannot_change_a_message_someone_else_wrote(world, role, change):
    message = world.message_by(world.author)
    before = (message.headline, message.state)
    response = MESSAGE_CHANGES[change](world, message, role)
    message.refresh_from_db()
    assert (message.headline, message.state) == before
    if "API" in change:
        assert response.status_code == 403
    else:
        assert response.status_code in (302, 403)  # the page: 403, or back to the message with the reason


@pytest.mark.parametrize("change", list(MESSAGE_CHANGES), ids=str)
def test_the_author_and_any_lead_change_the_message(world, change):
    for key in (LEAD2, LEAD):
        message = world.message_by(world.author)
        before = (message.headline, message.state)
        MESSAGE_CHANGES[change](world, message, key)
        message.refresh_from_db()
        assert (message.headline, message.state) != before, f"{change} by {key} changed nothing"


def test_the_edit_form_of_someone_elses_message_is_refused_to_support(world):
    message = world.message_by(world.author)
    path = reverse("message-update", args=[message.pk])
    assert world.browser(SUPPORT).get(path).status_code == 403
    assert world.browser(LEAD2).get(path).status_code == 200


# --- Mentions: a manager reads only those of accounts they own -------------------------------------------------

def test_an_account_manager_cannot_read_a_mention_from_another_managers_customer(world):
    theirs = world.theirs.mention
    assert world.api(INTRUDER).get(reverse("api-mention-detail", args=[theirs.pk])).status_code == 404
    assert world.browser(INTRUDER).get(reverse("mention-detail", args=[theirs.pk])).status_code == 404
    listed = {row["id"] for row in world.api(INTRUDER).get(reverse("api-mention-list")).json()["results"]}
    assert listed == {world.mine.mention.pk}
    assert world.api(OWNER).get(reverse("api-mention-detail", args=[theirs.pk])).status_code == 200
    assert world.browser(OWNER).get(reverse("mention-detail", args=[theirs.pk])).status_code == 200


def test_every_accounts_role_still_reads_another_managers_accounts_as_the_readme_says(world):
    """Reading is not the hole: every accounts role reads every account (README "Roles"); only changes are the
    owner's. This pins that down, so that a change to reading is a decision, not an accident."""
    names = {row["name"] for row in world.api(INTRUDER).get(reverse("api-account-list")).json()["results"]}
    assert {"Acme", "Globex", "Initech"} <= names
    assert Account.objects.get(name="Globex").owner == world.user(OWNER)
