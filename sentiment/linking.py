"""Which incident, and which customer account, a mention is about."""

import re
from datetime import datetime

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from comms.choices import OPEN_STATUSES
from comms.models import Incident

# Words that make a mention attributable to the one incident that was open when it was posted.
OUTAGE_WORDS = re.compile(
    r"\b(down|outage|not working|doesn't work|broken|error|errors|fail(ed|ing|s)?|can'?t|cannot|unable|slow|"
    r"timeout|unavailable|crash(ed|ing)?|issue|problem)\b",
    re.IGNORECASE,
)


class IncidentLinker:
    """Incidents that a batch of mentions could be about, loaded once per batch."""

    def __init__(self, earliest: datetime, latest: datetime):
        window = timezone.timedelta(hours=settings.SENTIMENT_LINK_WINDOW_HOURS)
        self.incidents = list(
            Incident.objects.filter(started_at__lte=latest)
            .filter(Q(status__in=OPEN_STATUSES) | Q(resolved_at__gte=earliest - window))
            .prefetch_related("components")
            .order_by("severity", "-started_at")
        )
        self.window = window
        self.names = {
            incident.pk: [re.compile(rf"(?<!\w){re.escape(c.name)}(?!\w)", re.IGNORECASE)
                          for c in incident.components.all()]
            for incident in self.incidents
        }

    def incident_for(self, text: str, posted_at: datetime) -> Incident | None:
        live = [i for i in self.incidents if i.started_at <= posted_at and self._still_relevant(i, posted_at)]
        for incident in live:  # most severe first
            if any(pattern.search(text) for pattern in self.names[incident.pk]):
                return incident
        if len(live) == 1 and OUTAGE_WORDS.search(text):
            return live[0]
        return None

    def _still_relevant(self, incident: Incident, posted_at: datetime) -> bool:
        end = incident.resolved_at
        return end is None or incident.status in OPEN_STATUSES or posted_at <= end + self.window


class AccountMatcher:
    """The customer accounts a batch of mentions could come from, by social handle or email domain: two queries
    per batch, however many accounts there are. An author handle with an @ inside is an email address."""

    def __init__(self, mentions):
        from accounts.models import EmailDomain, SocialHandle

        handles, domains = set(), set()
        for mention in mentions:
            kind, key = self.key(mention.author_handle)
            (domains if kind == "domain" else handles).add(key)
        handles.discard("")
        domains.discard("")
        self.by_handle = {row.handle: row.account for row in
                          SocialHandle.objects.filter(handle__in=handles).select_related("account")} if handles else {}
        self.by_domain = {row.domain: row.account for row in
                          EmailDomain.objects.filter(domain__in=domains).select_related("account")} if domains else {}

    @staticmethod
    def key(handle: str) -> tuple[str, str]:
        handle = (handle or "").strip().lower()
        if "@" in handle.lstrip("@"):
            return "domain", handle.rsplit("@", 1)[1]
        return "handle", handle.lstrip("@")

    def account_for(self, mention):
        kind, key = self.key(mention.author_handle)
        return (self.by_domain if kind == "domain" else self.by_handle).get(key)
