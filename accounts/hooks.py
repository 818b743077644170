"""What accounts asks of the apps above it. comms and sentiment register in their AppConfig.ready(); accounts
imports neither."""

from dataclasses import dataclass
from datetime import datetime

from core.hooks import Hook


@dataclass(frozen=True)
class Entry:
    """One line of an account's timeline: an AccountEvent, or what another app registered (a message, a mention)."""

    kind: str  # event, message, mention
    at: datetime
    item: object
    template: str = ""  # how an entry that is not an event is shown (the registering app's template)


timeline_sources = Hook(
    "timeline_sources",
    "f(account, user, limit) -> list of Entry, newest first, at most limit, only what this user may read "
    "(comms: the messages to the account's contacts; sentiment: the mentions from its people).",
)

negative_mentions = Hook(
    "negative_mentions",
    "f() -> a query expression counting the negative mentions of an impact's account during its incident, "
    "with OuterRef('account_id') and OuterRef('incident_id') (sentiment). The priority score adds them up.",
)

message_drafter = Hook(
    "message_drafter",
    "f(*, incident, author, account, **fields) -> a draft message to one account's contacts, approved and "
    "sent like any other (comms).",
)

awaiting_approval = Hook(
    "awaiting_approval",
    "f(compensation), result ignored: the compensation now waits for a communications lead's approval (proposed above "
    "the limit, or back to proposed because its value rose); called once per time it starts waiting, after the "
    "change is committed. comms tells the leads who may approve it (email, internal webhooks). Must not raise.",
)
