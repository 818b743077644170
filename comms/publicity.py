"""Who may make an incident public with a message: the one rule both approval (comms.messaging) and dispatch
(comms.delivery) apply, the second as the last check before anything goes out."""

from comms.choices import Audience
from incidents.choices import IncidentKind
from incidents.services import may_show_on_status_page


def may_make_public(message, user) -> bool:
    """A public message may make its incident public unless the incident is a security incident not yet public
    and user (who approved or publishes it) is not a communications lead: a security incident is never public
    by default."""
    incident = message.incident
    if message.audience != Audience.PUBLIC or incident.kind != IncidentKind.SECURITY or incident.is_public:
        return True
    return may_show_on_status_page(user)
