"""A targeted EARS message to one account's contacts, drafted from its impact and sent through the usual
approval and delivery flow (audience: affected accounts, limited to this account; channel: email). comms writes
the draft, through accounts.hooks.message_drafter.

The draft says what is true now: while the incident is open that it is still being worked on, and only once it
is resolved that things work normally again. The headline leaves out the incident's title, which the email's
subject already carries ("[Investigating] <title>: <headline>")."""

from django.core.exceptions import ValidationError

from accounts import hooks, rules
from accounts.choices import AccountEventKind, CompensationState
from accounts.models import Impact
from accounts.services import record_impact
from core.words import english_list
from incidents.choices import IncidentStatus

OFFERABLE = (CompensationState.APPROVED, CompensationState.OFFERED, CompensationState.ACCEPTED,
             CompensationState.APPLIED)

# While the incident is open: where the work stands, per status ({components}, {verb}: "is" or "are").
PROGRESS = {
    IncidentStatus.INVESTIGATING: "We are still investigating why {components} {verb} not working properly, and we "
                                  "will keep you informed until this is fixed.",
    IncidentStatus.IDENTIFIED: "We have found the cause and are still working on a fix for {components}; we will "
                               "keep you informed until this is fixed.",
    IncidentStatus.MONITORING: "A fix is in place and we are watching {components} closely before we call this "
                               "resolved; we will let you know when it is.",
}


def draft_text(impact: Impact) -> dict[str, str]:
    """Headline and the four parts: what happened, their experience, the fix (or where it stands) and the
    compensation, what changes. True to the incident's status when drafted."""
    names = [component.name for component in impact.incident.components.all()]
    components = english_list(names) or "our service"
    verb = "are" if len(names) > 1 else "is"
    if impact.incident.is_open:
        return _while_open(impact, components, verb)
    return _once_resolved(impact, components, verb)


def _while_open(impact: Impact, components: str, verb: str) -> dict[str, str]:
    incident, account = impact.incident, impact.account
    downtime = impact.downtime_minutes
    experienced = f"for about {downtime} minutes so far" if downtime else "since this began"
    progress = PROGRESS.get(incident.status, PROGRESS[IncidentStatus.INVESTIGATING])
    return {
        "headline": f"What we are doing for {account} while we fix this"[:140],
        "explain": incident.impact_summary or f"{components} {verb} not working properly.",
        "acknowledge": (f"We know {account} has not been able to rely on {components} {experienced}, and we are "
                        "sorry for the disruption this is causing your team."),
        "resolve": " ".join([progress.format(components=components, verb=verb), _making_up(impact),
                             "Thank you for your patience while we work on this."]),
        "study": ("Once this is resolved we will review what caused it and share what we change so that it does "
                  "not happen again."),
    }


def _once_resolved(impact: Impact, components: str, verb: str) -> dict[str, str]:
    incident, account = impact.incident, impact.account
    downtime = impact.downtime_minutes
    experienced = f"for about {downtime} minutes" if downtime else "during the incident"
    return {
        "headline": f"What happened and what we are doing for {account}"[:140],
        "explain": incident.impact_summary or f"{components} did not work properly.",
        "acknowledge": (f"We know {account} could not rely on {components} {experienced}, and we are sorry for "
                        "the disruption this caused your team."),
        "resolve": " ".join([f"{components} {verb} working normally again.", _making_up(impact),
                             "Thank you for your patience while we put this right."]),
        "study": ("We are reviewing what caused this and will share what we change so that it does not happen "
                  "again."),
    }


def _making_up(impact: Impact) -> str:
    """The compensation approved (or further along) and who confirms it; else who will be in touch about it."""
    offers = [c for c in impact.compensations.all() if c.state in OFFERABLE]
    if not offers:
        return f"{_owner(impact)} will be in touch about what we can do to make this right for you."
    offered = "; ".join(f"a {c.get_kind_display().lower()} of {c.value_display}" for c in offers)
    return (f"To make up for the disruption we are offering {impact.account}: {offered}. {_owner(impact)} will "
            "confirm the details with you.")


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
