"""Changes to impacts, follow-ups and compensation. The API, the pages and the admin all go through here:
each function checks the role and ownership rules (PermissionDenied → 403), the state machines
(TransitionNotAllowed → 409) and the input (ValidationError → 400), and writes both timelines: the
incident's and the account's."""

import re
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import hooks, rules
from accounts.choices import (
    COMPENSATION_MACHINE,
    IMPACT_MACHINE,
    AccountEventKind,
    CompensationKind,
    CompensationState,
    ImpactLevel,
    ImpactSource,
    ImpactState,
)
from accounts.models import Account, AccountEvent, Compensation, Contact, EmailDomain, FollowUp, Impact, SocialHandle
from accounts.sla import suggest_for
from core.statemachine import TransitionNotAllowed
from incidents.choices import IncidentStatus, Severity, TimelineKind
from incidents.models import Incident
from incidents.services import record as record_on_incident

IMPACT_FIELDS = ("level", "affected_users", "affected_share", "downtime_minutes", "sla_breached", "owner")
SEVERITY_LEVELS = {Severity.SEV1: ImpactLevel.CRITICAL, Severity.SEV2: ImpactLevel.MAJOR}


def record(account: Account, kind: str, description: str, actor=None, impact: Impact | None = None, **data):
    return AccountEvent.objects.create(
        account=account, impact=impact, kind=kind, description=description[:500], actor=actor, data=data
    )


def record_impact(impact: Impact, kind: str, description: str, actor=None, **data) -> None:
    """On the account's timeline and, naming the account, on the incident's."""
    record(impact.account, kind, description, actor, impact=impact, incident_id=impact.incident_id, **data)
    record_on_incident(impact.incident, TimelineKind.ACCOUNT, f"{impact.account}: {description}", actor,
                       impact_id=impact.pk, account_id=impact.account_id)


# --- Impacts -----------------------------------------------------------------------------------------

@transaction.atomic
def create_impact(*, incident: Incident, account: Account, actor, source: str = ImpactSource.MANUAL,
                  **fields) -> Impact:
    rules.check_identify(actor)
    unknown = set(fields) - set(IMPACT_FIELDS)
    if unknown:
        raise ValueError(f"{', '.join(sorted(unknown))} cannot be set on a new impact")
    fields.setdefault("owner", account.owner)
    _check_owner(fields["owner"])
    rules.check_assign(actor, account, fields["owner"])
    _check_incident_open(Incident.objects.select_for_update().get(pk=incident.pk))  # closing waits for this
    impact = Impact(incident=incident, account=account, source=source, **fields)
    try:
        with transaction.atomic():
            impact.save()
    except IntegrityError:
        raise ValidationError({"account": f"{account} is already recorded as affected by this incident."}) from None
    record_impact(impact, AccountEventKind.IMPACT, f"identified as affected ({impact.get_level_display().lower()})",
                  actor, state=impact.state)
    return impact


@transaction.atomic
def derive_impacts(incident: Incident, *, actor) -> int:
    """Record every account that uses one of the incident's components and is not recorded yet.
    Level follows severity (SEV1 critical, SEV2 major, else minor); downtime is how long the incident has lasted."""
    rules.check_identify(actor)
    Incident.objects.select_for_update().filter(pk=incident.pk).first()  # one derivation at a time per incident
    component_ids = list(incident.components.values_list("pk", flat=True))
    if not component_ids:
        return 0
    already = Impact.objects.filter(incident=incident).values("account_id")
    accounts = (Account.objects.filter(components__in=component_ids).exclude(pk__in=already).distinct()
                .values_list("pk", "owner_id"))
    level = SEVERITY_LEVELS.get(incident.severity, ImpactLevel.MINOR)
    downtime = int(incident.age.total_seconds() // 60)
    now = timezone.now()
    created = 0
    batch = []
    for account_id, owner_id in accounts.iterator(2000):
        batch.append(Impact(incident=incident, account_id=account_id, owner_id=owner_id, level=level,
                            downtime_minutes=downtime, source=ImpactSource.COMPONENTS, state_changed_at=now))
        if len(batch) == 2000:
            created += _store_derived(batch, actor)
            batch = []
    created += _store_derived(batch, actor)
    if created:
        record_on_incident(incident, TimelineKind.ACCOUNT,
                           f"{created:,} affected account{'s' if created != 1 else ''} identified from the "
                           "components they use", actor, count=created)
    return created


def _store_derived(impacts: list[Impact], actor) -> int:
    if not impacts:
        return 0
    Impact.objects.bulk_create(impacts)  # sets primary keys on PostgreSQL and SQLite ≥ 3.35
    AccountEvent.objects.bulk_create(
        AccountEvent(account_id=impact.account_id, impact_id=impact.pk, actor=actor, kind=AccountEventKind.IMPACT,
                     description="identified as affected (from the components it uses)",
                     data={"incident_id": impact.incident_id})
        for impact in impacts
    )
    return len(impacts)


def _locked(impact: Impact) -> Impact:
    return Impact.objects.select_for_update(of=("self",)).select_related("account", "incident").get(pk=impact.pk)


@transaction.atomic
def update_impact(impact: Impact, *, actor, **changes) -> Impact:
    impact = _locked(impact)
    rules.check_work_impact(actor, impact)
    changed = []
    for name, value in changes.items():
        if name not in IMPACT_FIELDS:
            raise ValueError(f"{name} cannot be changed through update_impact")
        if name == "owner":
            _check_owner(value)
        if getattr(impact, name) != value:
            setattr(impact, name, value)
            changed.append(Impact._meta.get_field(name).verbose_name)
    if changed:
        impact.save()
        record_impact(impact, AccountEventKind.EDITED, f"impact edited: {', '.join(changed)}", actor)
    return impact


def impact_close_blockers(impact: Impact) -> list[str]:
    blockers = []
    open_follow_ups = [f.summary for f in impact.follow_ups.all() if f.is_open]
    if open_follow_ups:
        blockers.append(f"{_count(open_follow_ups, 'follow-up')} still open ({'; '.join(open_follow_ups)})")
    open_compensation = [c for c in impact.compensations.all() if c.is_open]
    if open_compensation:
        listed = "; ".join(f"{c} {c.get_state_display().lower()}" for c in open_compensation)
        blockers.append(f"{_count(open_compensation, 'compensation')} not settled ({listed})")
    return blockers


@transaction.atomic
def move_impact(impact: Impact, state: str, *, actor, note: str = "") -> Impact:
    impact = _locked(impact)
    rules.check_work_impact(actor, impact)
    IMPACT_MACHINE.check(impact.state, state)
    note = (note or "").strip()
    reopening = impact.state == ImpactState.CLOSED
    if reopening and not note:
        raise ValidationError({"note": "Say why the impact is reopened."})
    if reopening:
        _check_incident_open(impact.incident)
    if state == ImpactState.CLOSED:
        blockers = impact_close_blockers(impact)
        if blockers:
            raise TransitionNotAllowed(f"{impact.account} cannot be closed yet: " + "; ".join(blockers) + ".")
    old = impact.state
    impact.state = state
    impact.state_changed_at = timezone.now()
    impact.closed_at = impact.state_changed_at if state == ImpactState.CLOSED else None
    impact.save()
    verb = "reopened as" if reopening else "moved to"
    description = f"{verb} {impact.get_state_display().lower()}" + (f": {note}" if note else "")
    record_impact(impact, AccountEventKind.IMPACT, description, actor, old=old, new=state, note=note)
    return impact


def _check_incident_open(incident: Incident) -> None:
    if incident.status == IncidentStatus.CLOSED:
        raise TransitionNotAllowed(f"The incident “{incident.title}” is closed; its affected accounts are final.")


def _check_impact_open(impact: Impact, what: str) -> None:
    if impact.state == ImpactState.CLOSED:
        raise TransitionNotAllowed(f"{impact.account}'s impact is closed; reopen it (with a reason) to {what}.")


def incident_close_blockers(incident: Incident) -> list[str]:
    """Registered in incidents.hooks.close_checks: the top N impacts must be closed."""
    from accounts.priority import ranked

    top = list(ranked(Impact.objects.filter(incident=incident)).select_related("account")[:settings.IMPACT_TOP_N])
    still_open = [impact for impact in top if impact.is_open]
    if not still_open:
        return []
    listed = ", ".join(f"{impact.account} ({impact.get_state_display().lower()})" for impact in still_open)
    return [f"{len(still_open)} of the top {len(top)} affected accounts {'is' if len(still_open) == 1 else 'are'} "
            f"still open: {listed}"]


# --- Follow-ups --------------------------------------------------------------------------------------

@transaction.atomic
def add_follow_up(impact: Impact, *, actor, summary: str, due_at, kind: str = "call", owner=None) -> FollowUp:
    impact = _locked(impact)
    rules.check_work_impact(actor, impact)
    _check_impact_open(impact, "plan a follow-up")
    summary = (summary or "").strip()
    if not summary:
        raise ValidationError({"summary": "Say what is to be done, e.g. call the CTO about the credit."})
    if due_at is None:
        raise ValidationError({"due_at": "Give the time by which it is due."})
    owner = owner or actor
    _check_owner(owner)
    return _new_follow_up(impact, actor=actor, summary=summary, due_at=due_at, kind=kind, owner=owner)


def _new_follow_up(impact: Impact, *, actor, summary: str, due_at, kind: str, owner) -> FollowUp:
    follow_up = FollowUp.objects.create(impact=impact, kind=kind, summary=summary[:200], due_at=due_at, owner=owner,
                                        created_by=actor)
    record_impact(impact, AccountEventKind.FOLLOW_UP,
                  f"{follow_up.get_kind_display().lower()} planned for {owner}: {follow_up.summary}", actor,
                  follow_up_id=follow_up.pk)
    return follow_up


ESCALATION_DUE = timezone.timedelta(hours=4)


@transaction.atomic
def follow_up_escalation(mention, *, actor) -> FollowUp | None:
    """Support escalated a mention from an account's people about an incident: a call for the account's owner
    on that account's impact (recorded now if it was not yet). The caller has checked the reviewer role; the
    follow-up is made on the account manager's behalf. None when there is no account, incident or owner."""
    account = mention.account
    if account is None or mention.incident_id is None:
        return None
    if Incident.objects.select_for_update().get(pk=mention.incident_id).status == IncidentStatus.CLOSED:
        return None
    impact = Impact.objects.select_for_update().filter(incident_id=mention.incident_id, account=account).first()
    if impact is None:
        impact = Impact.objects.create(incident_id=mention.incident_id, account=account, owner=account.owner,
                                       source=ImpactSource.ESCALATION)
        record_impact(impact, AccountEventKind.IMPACT, "identified as affected (escalated from a mention)", actor)
    elif impact.state == ImpactState.CLOSED:
        impact.state, impact.state_changed_at, impact.closed_at = ImpactState.FOLLOW_UP, timezone.now(), None
        impact.save(update_fields=["state", "state_changed_at", "closed_at", "updated_at"])
        record_impact(impact, AccountEventKind.IMPACT, "reopened as follow-up: a mention was escalated", actor,
                      old=ImpactState.CLOSED, new=ImpactState.FOLLOW_UP)
    owner = impact.owner or account.owner
    if owner is None:
        return None
    # No author or text here: the summary is copied onto the incident's timeline, which every role reads; the
    # owner, who may read the mention, follows its number.
    summary = f"Answer the author of mention #{mention.pk}: support escalated it"
    return _new_follow_up(impact, actor=actor, summary=summary,
                          due_at=timezone.now() + ESCALATION_DUE, kind="call", owner=owner)


@transaction.atomic
def complete_follow_up(follow_up: FollowUp, *, actor, outcome: str, next_step: str = "") -> FollowUp:
    follow_up = FollowUp.objects.select_for_update().select_related("impact__account", "impact__incident").get(
        pk=follow_up.pk)
    rules.check_complete_follow_up(actor, follow_up)
    if follow_up.done_at is not None:
        raise TransitionNotAllowed("This follow-up is already done.")
    outcome = (outcome or "").strip()
    if not outcome:
        raise ValidationError({"outcome": "Write what came of it, e.g. what the customer said."})
    follow_up.done_at = timezone.now()
    follow_up.outcome = outcome
    follow_up.next_step = (next_step or "").strip()
    follow_up.save(update_fields=["done_at", "outcome", "next_step"])
    record_impact(follow_up.impact, AccountEventKind.FOLLOW_UP,
                  f"{follow_up.get_kind_display().lower()} done: {outcome}", actor, follow_up_id=follow_up.pk)
    return follow_up


# --- Compensation ------------------------------------------------------------------------------------

@transaction.atomic
def propose_compensation(impact: Impact, *, actor, kind: str, reason: str, amount: Decimal | None = None,
                         percentage: Decimal | None = None, currency: str = "", override_reason: str = ""
                         ) -> Compensation:
    """Propose compensation. A service credit records the SLA calculator's suggestion; an amount that differs
    from it needs an override reason."""
    impact = _locked(impact)
    rules.check_work_impact(actor, impact)
    _check_impact_open(impact, "propose compensation")
    errors = {}
    if not (reason or "").strip():
        errors["reason"] = "Say why it is offered, e.g. 3 hours of downtime during their launch."
    if (amount is None) == (percentage is None):
        errors["amount"] = "Give either an amount or a percentage, not both."
    elif percentage is not None and (kind != CompensationKind.DISCOUNT or not 0 <= percentage <= 100):
        errors["percentage"] = "A percentage is for a discount, between 0 and 100."
    elif amount is not None and amount < 0:
        errors["amount"] = "The amount cannot be negative."
    account_currency = impact.account.currency.upper()
    if currency and currency.upper() != account_currency:
        errors["currency"] = (f"Compensation is in the account's currency, {account_currency}; the approval limit is "
                              "compared in it.")
    compensation = Compensation(impact=impact, kind=kind, amount=amount, percentage=percentage,
                                currency=account_currency, reason=(reason or "").strip(),
                                override_reason=(override_reason or "").strip(), proposed_by=actor)
    compensation.value = compensation.worth()
    if kind == CompensationKind.SERVICE_CREDIT:
        suggestion = suggest_for(impact)
        compensation.suggested_amount = suggestion.amount
        compensation.suggestion = {**suggestion.as_dict(), "summary": suggestion.summary}
        if amount is not None and amount != suggestion.amount and not compensation.override_reason:
            errors["override_reason"] = (
                f"The SLA calculator suggests {suggestion.amount:,.2f} {suggestion.currency}; say why this credit "
                "differs."
            )
    if errors:
        raise ValidationError(errors)
    compensation.save()
    record_impact(impact, AccountEventKind.COMPENSATION, f"{compensation} proposed: {compensation.reason}", actor,
                  compensation_id=compensation.pk)
    if rules.needs_lead_approval(compensation):
        _announce_awaiting_approval(compensation)
    return compensation


def _announce_awaiting_approval(compensation: Compensation) -> None:
    """Once the change is committed, tell whoever registered (comms: the leads who may approve it). A failure to
    notify never undoes or stops the change."""
    for notify in hooks.awaiting_approval:
        transaction.on_commit(lambda notify=notify: notify(compensation), robust=True)


def move_compensation(compensation: Compensation, state: str, *, actor, note: str = "") -> Compensation:
    """Approving and offering first value the compensation again from the account as it is now (a discount follows
    the monthly fee), and store that value. An offer whose value has risen so that it now needs a lead's approval
    is refused: the compensation goes back to proposed, with the reason on both timelines, and
    TransitionNotAllowed is raised once that is saved."""
    with transaction.atomic():
        compensation, refusal = _move_compensation(compensation, state, actor=actor, note=(note or "").strip())
    if refusal:
        raise TransitionNotAllowed(refusal)
    return compensation


def _move_compensation(compensation: Compensation, state: str, *, actor, note: str) -> tuple[Compensation, str]:
    """The move, or (when an offer needs a lead's approval again) the return to proposed and why."""
    impact = (Impact.objects.select_for_update(of=("self",)).select_related("account", "incident")
              .get(pk=compensation.impact_id))  # one move per impact at a time: the approval limit adds them up
    compensation = Compensation.objects.select_for_update(of=("self",)).get(pk=compensation.pk)
    compensation.impact = impact
    stored_value = compensation.value
    if state in (CompensationState.APPROVED, CompensationState.OFFERED):
        compensation.value = compensation.worth()
    if state == CompensationState.APPROVED:
        rules.check_approve(actor, compensation)
    else:
        rules.check_work_impact(actor, impact)
    COMPENSATION_MACHINE.check(compensation.state, state)
    revalued = (f"now worth {compensation.value:,.2f} {compensation.currency}, was "
                f"{stored_value:,.2f} {compensation.currency}" if compensation.value != stored_value else "")
    if state == CompensationState.OFFERED and compensation.value > stored_value and rules.needs_lead_approval(
            compensation):
        return compensation, _return_for_approval(compensation, actor, revalued)
    compensation.state = state
    compensation.state_changed_at = timezone.now()
    if state == CompensationState.APPROVED:
        compensation.approved_by, compensation.approved_at = actor, compensation.state_changed_at
    compensation.save()
    description = f"{compensation} {compensation.get_state_display().lower()}"
    record_impact(impact, AccountEventKind.COMPENSATION,
                  description + (f" ({revalued})" if revalued else "") + (f": {note}" if note else ""),
                  actor, compensation_id=compensation.pk, state=state, value=str(compensation.value))
    return compensation, ""


def _return_for_approval(compensation: Compensation, actor, revalued: str) -> str:
    """Back to proposed, no longer approved, so that a lead approves the new value; the reason, for the refusal."""
    compensation.state, compensation.state_changed_at = CompensationState.PROPOSED, timezone.now()
    compensation.approved_by = compensation.approved_at = None
    compensation.save()
    record_impact(compensation.impact, AccountEventKind.COMPENSATION,
                  f"{compensation} back to proposed instead of offered: {revalued} when approved, above the "
                  "approval limit", actor, compensation_id=compensation.pk, state=CompensationState.PROPOSED,
                  value=str(compensation.value))
    _announce_awaiting_approval(compensation)
    return (f"{compensation} was not offered: it is {revalued} when approved. {rules.above_limit_text(compensation)} "
            "It is back to proposed until a lead approves it.")


def _check_owner(owner) -> None:
    """Impacts and follow-ups belong to account managers (or nobody, for an impact)."""
    if owner is not None and not rules.is_account_manager(owner):
        raise ValidationError({"owner": f"{owner} is not an account manager."})


def _count(items, noun: str) -> str:
    return f"{len(items)} {noun}{'' if len(items) == 1 else 's'}"



# --- Accounts and contacts ---------------------------------------------------------------------------

ACCOUNT_FIELDS = ("name", "tier", "arr", "currency", "renewal_date", "owner", "notes")
DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
HANDLE = re.compile(r"^[a-z0-9_]{1,50}$")


def clean_domains(values) -> list[str]:
    """Lower-cased, de-duplicated email domains; ValidationError naming each bad one."""
    domains = _clean_list(values, lambda value: value.lower().lstrip("@"))
    bad = [domain for domain in domains if not DOMAIN.match(domain)]
    if bad:
        raise ValidationError({"email_domains": f"Not an email domain: {', '.join(bad)} (write e.g. example.com)."})
    return domains


def clean_handles(values) -> list[str]:
    handles = _clean_list(values, lambda value: value.lower().lstrip("@"))
    bad = [handle for handle in handles if not HANDLE.match(handle)]
    if bad:
        raise ValidationError({"social_handles": f"Not a social handle: {', '.join(bad)} (letters, digits and _)."})
    return handles


def _clean_list(values, normalise) -> list[str]:
    if isinstance(values, str):
        values = re.split(r"[\s,;]+", values)
    seen = []
    for value in values or ():
        value = normalise(str(value).strip())
        if value and value not in seen:
            seen.append(value)
    return seen


def identity_conflicts(account_pk, domains: list[str], handles: list[str]) -> dict[str, str]:
    """Domains and handles that already belong to another account, as field errors."""
    errors = {}
    taken = EmailDomain.objects.filter(domain__in=domains).exclude(account_id=account_pk).select_related("account")
    if taken:
        errors["email_domains"] = "; ".join(f"{row.domain} already belongs to {row.account}" for row in taken)
    taken = SocialHandle.objects.filter(handle__in=handles).exclude(account_id=account_pk).select_related("account")
    if taken:
        errors["social_handles"] = "; ".join(f"@{row.handle} already belongs to {row.account}" for row in taken)
    return errors


@transaction.atomic
def save_account(account: Account | None, *, actor, email_domains=None, social_handles=None, components=None,
                 **fields) -> Account:
    """Create (account None) or change an account. Lists left None are not changed. A new account made by an
    account manager is theirs unless they name another owner."""
    if account is None:
        _check_add_account(actor)
        account = Account()
        fields.setdefault("owner", actor if not actor.is_superuser else None)
    else:
        account = Account.objects.select_for_update().get(pk=account.pk)
        rules.check_edit_account(actor, account)
    unknown = set(fields) - set(ACCOUNT_FIELDS)
    if unknown:
        raise ValueError(f"{', '.join(sorted(unknown))} cannot be set on an account")
    domains = clean_domains(email_domains) if email_domains is not None else None
    handles = clean_handles(social_handles) if social_handles is not None else None
    changed = _assign_account_fields(account, fields)
    _check_account(account, domains, handles)
    adding = account.pk is None
    account.save()
    changed += _save_identities(account, domains, handles)
    if components is not None and set(components) != set(account.components.all()):
        account.components.set(components)
        changed.append("components")
    if adding:
        record(account, AccountEventKind.EDITED, "account created", actor)
    elif changed:
        labels = [Account._meta.get_field(name).verbose_name if name in ACCOUNT_FIELDS else name for name in changed]
        record(account, AccountEventKind.EDITED, f"edited: {', '.join(labels)}", actor)
    return account


def _check_add_account(actor) -> None:
    if not (actor.is_superuser or actor.has_perm("accounts.add_account")):
        raise PermissionDenied("Only account managers and admins add customer accounts.")


def _assign_account_fields(account: Account, fields: dict) -> list[str]:
    """Set the fields on the account (not saved); the names of those whose value changed."""
    changed = [name for name, value in fields.items() if getattr(account, name) != value]
    for name, value in fields.items():
        setattr(account, name, value)
    account.currency = (account.currency or "").upper()
    return changed


def _check_account(account: Account, domains: list[str] | None, handles: list[str] | None) -> None:
    """One ValidationError with every field error, including domains and handles another account holds."""
    errors = identity_conflicts(account.pk, domains or [], handles or [])
    try:
        account.full_clean(exclude=["components"])
    except ValidationError as error:
        errors = {**error.message_dict, **errors}
    if errors:
        raise ValidationError(errors)


def _save_identities(account: Account, domains: list[str] | None, handles: list[str] | None) -> list[str]:
    """Replace the account's email domains and social handles where the lists differ from what is stored (None:
    leave them); the labels of what changed."""
    changed = []
    try:
        with transaction.atomic():  # another account may claim the same domain between the check and here
            if domains is not None and set(domains) != {d.domain for d in account.email_domains.all()}:
                account.email_domains.all().delete()
                EmailDomain.objects.bulk_create(EmailDomain(account=account, domain=domain) for domain in domains)
                changed.append("email domains")
            if handles is not None and set(handles) != {h.handle for h in account.social_handles.all()}:
                account.social_handles.all().delete()
                SocialHandle.objects.bulk_create(SocialHandle(account=account, handle=handle) for handle in handles)
                changed.append("social handles")
    except IntegrityError:
        raise ValidationError(identity_conflicts(account.pk, domains or [], handles or [])
                              or {"email_domains": "Another account took one of these at the same moment."}) from None
    return changed


CONTACT_FIELDS = ("name", "email", "role", "is_primary")


@transaction.atomic
def save_contact(contact: Contact | None, *, actor, account: Account | None = None, **fields) -> Contact:
    """Create (contact None, account given) or change a contact. One primary contact per account: marking one
    primary clears the others."""
    contact = contact or Contact(account=account)
    rules.check_edit_account(actor, contact.account)
    for name, value in fields.items():
        if name not in CONTACT_FIELDS:
            raise ValueError(f"{name} cannot be set on a contact")
        setattr(contact, name, value)
    contact.email = (contact.email or "").strip().lower()
    try:
        contact.full_clean(exclude=["account"])
    except ValidationError as error:
        raise ValidationError(error.message_dict) from None
    if Contact.objects.filter(account=contact.account, email=contact.email).exclude(pk=contact.pk).exists():
        raise ValidationError({"email": f"{contact.account} already has a contact with {contact.email}."})
    adding = contact.pk is None
    try:
        with transaction.atomic():
            contact.save()
    except IntegrityError:
        raise ValidationError({"email": f"{contact.account} already has a contact with {contact.email}."}) from None
    if contact.is_primary:
        Contact.objects.filter(account=contact.account, is_primary=True).exclude(pk=contact.pk).update(
            is_primary=False)
    record(contact.account, AccountEventKind.EDITED, f"contact {contact.name} {'added' if adding else 'edited'}",
           actor)
    return contact


@transaction.atomic
def delete_contact(contact: Contact, *, actor) -> None:
    rules.check_edit_account(actor, contact.account)
    record(contact.account, AccountEventKind.EDITED, f"contact {contact.name} removed", actor)
    contact.delete()
