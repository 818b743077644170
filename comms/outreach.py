"""Messages to customer accounts, for the accounts app (registered into accounts.hooks by comms.apps)."""

from django.db.models import Q
from django.db.models.functions import Coalesce

from accounts.hooks import Entry
from accounts.models import Impact
from comms.choices import Audience, MessagePhase
from comms.messaging import create_message
from comms.models import Message


def draft_account_message(*, incident, author, account, **fields) -> Message:
    """A draft to one account's contacts after an incident (audience: affected accounts; phase: resolution;
    channel: email), approved and sent like any other message."""
    return create_message(incident=incident, author=author, account=account, audience=Audience.AFFECTED_ACCOUNTS,
                          phase=MessagePhase.RESOLUTION, channels=["email"], **fields)


def messages_to_account(account, user, limit: int) -> list[Entry]:
    """The messages to the account's contacts: targeted at it, or to all affected accounts of an incident it is
    affected by. Everyone who may read the account may read what was sent to it."""
    incidents = Impact.objects.filter(account=account).values("incident_id")
    to_them = Q(account=account) | Q(audience=Audience.AFFECTED_ACCOUNTS, account__isnull=True,
                                     incident_id__in=incidents)
    sent = (Message.objects.filter(to_them).select_related("incident")
            .annotate(at=Coalesce("dispatched_at", "created_at")).order_by("-at", "-pk")[:limit])
    return [Entry("message", message.at, message, "comms/_account_entry.html") for message in sent]
