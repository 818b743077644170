"""Which incident, and which customer account, a mention is about."""

import re
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

from django.conf import settings
from django.db.models import Count, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.choices import KEY_TIERS
from accounts.hooks import Entry
from accounts.models import EmailDomain, SocialHandle
from core.patterns import any_of
from incidents.choices import OPEN_STATUSES
from incidents.models import Incident
from sentiment.choices import Label
from sentiment.models import Mention
from sentiment.review import visible_mentions
from sentiment.scoring.patterns import ascii_twin
from sentiment.scoring.terms import caseless_outside_ascii, holds, plain

# Words that make a mention attributable to the one incident that was open when it was posted.
OUTAGE_WORDS = re.compile(
    r"\b(down|outage|not working|doesn't work|broken|error|errors|fail(ed|ing|s)?|can'?t|cannot|unable|slow|"
    r"timeout|unavailable|crash(ed|ing)?|issue|problem)\b",
    re.IGNORECASE,
)
OUTAGE_WORDS_PLAIN = ascii_twin(OUTAGE_WORDS)  # for lower-case plain text (sentiment.scoring.terms.plain)


class IncidentLinker:
    """Incidents that a batch of mentions could be about, loaded once per batch."""

    def __init__(self, earliest: datetime, latest: datetime):
        window = timezone.timedelta(hours=settings.SENTIMENT_LINK_WINDOW_HOURS)
        try:
            resolved_since = earliest - window
        except OverflowError:  # a mention dated in the year 1: no incident was resolved before it anyway
            resolved_since = earliest
        incidents = (
            Incident.objects.filter(started_at__lte=latest)
            .filter(Q(status__in=OPEN_STATUSES) | Q(resolved_at__gte=resolved_since))
            .prefetch_related("components")
            .order_by("severity", "-started_at")
        )
        # Per incident, most severe first: from when to when a mention may be about it (None: still open), and
        # the names of all its components: lower-cased for plain text, one pattern for any other.
        self.spans = [
            (incident, incident.started_at, self._relevant_until(incident, window),
             *self.names_of(component.name for component in incident.components.all()))
            for incident in incidents
        ]

    @staticmethod
    def names_of(names) -> tuple[tuple[str, ...] | None, re.Pattern | None]:
        """The names lower-cased for plain text, unless lower() changes one in more than case ("İstanbul": those are
        left to the pattern, on the text as it is); and one pattern for all of them (None: no names)."""
        names = [name for name in names if name]
        lowered = tuple({name.lower() for name in names}) if all(map(caseless_outside_ascii, names)) else None
        return lowered, any_of(names)

    @staticmethod
    def _relevant_until(incident: Incident, window) -> datetime | None:
        if incident.resolved_at is None or incident.status in OPEN_STATUSES:
            return None
        return incident.resolved_at + window

    def incident_for(self, text: str, posted_at: datetime) -> Incident | None:
        live = [(incident, names, pattern) for incident, start, end, names, pattern in self.spans
                if start <= posted_at and (end is None or posted_at <= end)]
        if not live:
            return None
        lowered = text.lower()
        # Plain text (ASCII, emoji, punctuation): the names are found in its lower case by str.find, a pattern
        # without IGNORECASE finds the outage words; the same as the patterns on the text, at a fraction of the cost.
        simple = plain(text)
        for incident, names, pattern in live:  # most severe first
            if pattern is not None and (holds(names, lowered) if simple and names is not None
                                        else pattern.search(text)):
                return incident
        if len(live) == 1 and (OUTAGE_WORDS_PLAIN.search(lowered) if simple else OUTAGE_WORDS.search(text)):
            return live[0][0]
        return None


class MatchedAccount(NamedTuple):
    pk: int
    name: str
    tier: str
    arr: Decimal
    currency: str

    @property
    def is_key(self) -> bool:
        return self.tier in KEY_TIERS

    def __str__(self):
        return self.name


class AccountMatcher:
    """The customer accounts a batch of mentions could come from, by social handle or email domain: two queries
    per batch, however many accounts there are, of plain rows (a model instance per match cost more than the
    query). An author handle with an @ inside is an email address."""

    def __init__(self, mentions):
        handles, domains = set(), set()
        for mention in mentions:
            kind, key = self.key(mention.author_handle)
            (domains if kind == "domain" else handles).add(key)
        handles.discard("")
        domains.discard("")
        self.by_handle = self._accounts(SocialHandle.objects.filter(handle__any=handles), "handle") if handles else {}
        self.by_domain = self._accounts(EmailDomain.objects.filter(domain__any=domains), "domain") if domains else {}

    @staticmethod
    def _accounts(rows, key: str) -> dict[str, MatchedAccount]:
        fields = (key, "account_id", "account__name", "account__tier", "account__arr", "account__currency")
        return {found: MatchedAccount(*account) for found, *account in rows.order_by().values_list(*fields)}

    @staticmethod
    def key(handle: str) -> tuple[str, str]:
        handle = (handle or "").strip().lower()
        if "@" in handle.lstrip("@"):
            return "domain", handle.rsplit("@", 1)[1]
        return "handle", handle.lstrip("@")

    def account_for(self, mention) -> MatchedAccount | None:
        kind, key = self.key(mention.author_handle)
        return (self.by_domain if kind == "domain" else self.by_handle).get(key)


# --- What the accounts app asks of mentions (registered into accounts.hooks by sentiment.apps) --------------

def negative_mentions_of_impact():
    """The negative mentions from the impact's account during its incident, for the priority score."""
    counted = (
        Mention.objects.filter(account=OuterRef("account_id"), incident=OuterRef("incident_id"), label=Label.NEGATIVE)
        .order_by().values("account").annotate(n=Count("pk")).values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def mentions_from_account(account, user, limit: int) -> list[Entry]:
    """The mentions from the account's people that this user may read (a manager: only of accounts they own)."""
    from_them = (visible_mentions(user).filter(account=account).select_related("incident")
                 .order_by("-posted_at", "-pk")[:limit])
    return [Entry("mention", mention.posted_at, mention, "sentiment/_account_entry.html") for mention in from_them]
