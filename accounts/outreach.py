"""A targeted EARS message to one account's contacts, drafted from its impact and sent through the usual
approval and delivery flow (audience: affected accounts, limited to this account; channel: email). comms writes
the draft, through accounts.hooks.message_drafter."""

from django.core.exceptions import ValidationError

from accounts import hooks, rules
from accounts.choices import AccountEventKind, CompensationState
from accounts.models import Impact
from accounts.services import record_impact

OFFERABLE = (CompensationState.APPROVED, CompensationState.OFFERED, CompensationState.ACCEPTED,
             CompensationState.APPLIED)


def draft_text(impact: Impact) -> dict[str, str]:
    """Headline and the four parts: what happened, their experience, the fix and the compensation, what changes."""
    incident, account = impact.incident, impact.account
    components = ", ".join(c.name for c in incident.components.all()) or "our service"
    downtime = impact.downtime_minutes
    experienced = f"for about {downtime} minutes" if downtime else "during the incident"
    offers = [c for c in impact.compensations.all() if c.state in OFFERABLE]
    if offers:
        offered = "; ".join(f"a {c.get_kind_display().lower()} of {c.value_display}" for c in offers)
        resolve = (f"{components} is working normally again. To make up for the disruption we are offering "
                   f"{account}: {offered}. {_owner(impact)} will confirm the details with you.")
    else:
        resolve = (f"{components} is working normally again. {_owner(impact)} will be in touch about what we can "
                   "do to make this right for you.")
    return {
        "headline": f"{incident.title}: what happened and what we are doing for {account}"[:140],
        "explain": incident.impact_summary or f"{components} did not work as it should.",
        "acknowledge": (f"We know {account} could not rely on {components} {experienced}, and we are sorry for "
                        "the disruption this caused your team."),
        "resolve": resolve,
        "study": ("We are reviewing what caused this and will share what we change so that it does not happen "
                  "again."),
    }


def _owner(impact: Impact) -> str:
    owner = impact.owner or impact.account.owner
    return (owner.get_full_name() or owner.username) if owner else "Your account manager"


def draft_account_message(impact: Impact, *, actor):
    """Draft the message; it is then edited, submitted and approved like any other."""
    impact = Impact.objects.select_related("account", "incident", "owner", "account__owner").get(pk=impact.pk)
    rules.check_work_impact(actor, impact)
    if not impact.account.contacts.exists():
        raise ValidationError({"account": f"{impact.account} has no contacts to write to; add one first."})
    drafter, = hooks.message_drafter  # comms registers the one drafter
    message = drafter(incident=impact.incident, author=actor, account=impact.account, **draft_text(impact))
    record_impact(impact, AccountEventKind.MESSAGE, f"message “{message.headline}” drafted for its contacts", actor,
                  message_id=message.pk)
    return message
