"""What a batch of mentions says and who it concerns: scores, the incident and customer account it belongs to,
whether someone should answer it, how soon, and why. The same for mentions about to be stored (ingest scores
them before its INSERT) and for stored ones scored again (the worker, `rescore_mentions`)."""

from django.utils import timezone

from incidents.choices import OPEN_STATUSES
from incidents.models import Incident
from sentiment.flagging import RuleSet, explanation, needs_answer, rank, reply_due
from sentiment.linking import AccountMatcher, IncidentLinker
from sentiment.scoring import get_scorer

# What assessment sets, each with the PostgreSQL type of its array in the batch INSERT and UPDATE … FROM unnest().
ASSESSED_TYPES = {
    "neg": "double precision", "neu": "double precision", "pos": "double precision", "compound": "double precision",
    "label": "varchar", "scored_at": "timestamptz", "flagged": "boolean", "flag_reasons": "jsonb",
    "incident": "bigint", "account": "bigint", "priority": "varchar", "reply_due_at": "timestamptz",
}
ASSESSED_FIELDS = list(ASSESSED_TYPES)


class Row:
    """One mention on its way through assessment: the fields it is read by, and those it gets. Plain rows, not
    model instances: building and filling a Mention cost more than the rules and the links together. pk is None
    for a mention not stored yet."""

    __slots__ = ("pk", "text", "posted_at", "received_at", "author_followers", "author_handle", "incident_id",
                 "account_id", "neg", "neu", "pos", "compound", "label", "scored_at", "flagged", "flag_reasons",
                 "priority", "reply_due_at")
    LOADED = __slots__[:8]

    def __init__(self, pk, text, posted_at, received_at, author_followers, author_handle, incident_id, account_id):
        # Spelled out: a loop of setattr over LOADED was 4 % of a bulk request.
        self.pk, self.text, self.posted_at, self.received_at = pk, text, posted_at, received_at
        self.author_followers, self.author_handle = author_followers, author_handle
        self.incident_id, self.account_id = incident_id, account_id


def assess(rows: list[Row]) -> None:
    """Score, link and flag the rows in place. A row already linked to an incident keeps its incident."""
    if not rows:
        return
    scorer, rules = get_scorer(), RuleSet()
    linker = IncidentLinker(min(r.posted_at for r in rows), max(r.posted_at for r in rows))
    accounts = AccountMatcher(rows)
    now = timezone.now()
    flagged = []  # (row, its account), ranked once the batch's open incidents are known
    for row in rows:
        scores = scorer.score(row.text)
        row.neg, row.neu, row.pos, row.compound = scores[:4]
        row.label = scores.label
        row.scored_at = now
        if row.incident_id is None and (incident := linker.incident_for(row.text, row.posted_at)) is not None:
            row.incident_id = incident.pk
        account = accounts.account_for(row)
        if account is not None:
            row.account_id = account.pk
        row.flagged = needs_answer(scores)
        row.priority, row.reply_due_at = "", None
        if row.flagged:
            key_account = str(account) if account and account.is_key else None
            row.flag_reasons = [explanation(scores), *rules.reasons(row, key_account_name=key_account)]
            flagged.append((row, account))
        else:
            row.flag_reasons = []
    prioritise(flagged)


def prioritise(flagged: list[tuple[Row, object]]) -> None:
    """Rank each flagged row (sentiment.flagging.rank), add the reason after its flag reasons, and set the reply
    target from its priority. One query for the batch: which of the incidents they are linked to are open."""
    linked = {row.incident_id for row, _ in flagged if row.incident_id is not None}
    open_incidents = Incident.objects.filter(pk__in=linked, status__in=OPEN_STATUSES).only(
        "pk", "severity", "title").in_bulk() if linked else {}
    for row, account in flagged:
        ranked = rank(row.compound, row.author_followers, account, open_incidents.get(row.incident_id))
        row.priority = str(ranked.priority)
        row.reply_due_at = reply_due(ranked.priority, row.received_at)
        row.flag_reasons.append(ranked.reason)
