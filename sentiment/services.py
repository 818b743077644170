"""Scoring, flagging and linking of stored mentions, in batches (run by the worker right after ingest)."""

import json

from django.db import connection, transaction
from django.utils import timezone

from comms import delivery
from core.broker import queue_of
from core.db import bound_cursor
from incidents.choices import OPEN_STATUSES
from incidents.models import Incident
from sentiment.flagging import RuleSet, explanation, needs_answer, rank, reply_due
from sentiment.ingest import enqueue_scoring
from sentiment.linking import AccountMatcher, IncidentLinker
from sentiment.models import Mention
from sentiment.scoring import get_scorer

# What scoring writes, each with the PostgreSQL type of its array in write_scores' UPDATE … FROM unnest().
SCORED_TYPES = {
    "neg": "double precision", "neu": "double precision", "pos": "double precision", "compound": "double precision",
    "label": "varchar", "scored_at": "timestamptz", "flagged": "boolean", "flag_reasons": "jsonb",
    "incident": "bigint", "account": "bigint", "priority": "varchar", "reply_due_at": "timestamptz",
}
SCORED_FIELDS = list(SCORED_TYPES)


class Row:
    """One mention on its way through scoring: the fields it is read by, and those it gets. Plain rows, not model
    instances: building and filling a Mention cost more than the rules and the links together."""

    __slots__ = ("pk", "text", "posted_at", "received_at", "author_followers", "author_handle", "incident_id",
                 "account_id", "neg", "neu", "pos", "compound", "label", "scored_at", "flagged", "flag_reasons",
                 "priority", "reply_due_at")
    LOADED = __slots__[:8]

    def __init__(self, *loaded):
        for name, value in zip(self.LOADED, loaded, strict=True):
            setattr(self, name, value)


def score_mentions(mention_ids, *, rescore: bool = False) -> int:
    """Score, flag and link these mentions (only unscored ones unless rescore). Returns how many."""
    rows = load_rows(mention_ids, rescore=rescore)
    if not rows:
        return 0
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
    write_scores(rows)
    return len(rows)


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


STRAGGLER_AGE = timezone.timedelta(minutes=2)  # when the queue is empty: nothing there can still score them
BUSY_STRAGGLER_AGE = timezone.timedelta(minutes=15)  # when tasks wait: theirs may be among them
STRAGGLERS_PER_RUN = 50_000


def score_stragglers() -> int:
    """Send scoring tasks for mentions still unscored a while after they arrived: their task was never sent (the
    broker was down at ingest) or was lost with a broker that restarted without persistence. Oldest first, a task
    per SCORE_CHUNK, so that the workers share them and a mention that cannot be scored holds up only its own
    chunk. Returns how many were sent."""
    waiting = delivery.waiting_messages(queue_of("sentiment.tasks.score_mentions"))  # in the ingest queue
    age = BUSY_STRAGGLER_AGE if waiting else STRAGGLER_AGE  # unknown (not Redis): the short wait
    stragglers = Mention.objects.filter(scored_at__isnull=True, received_at__lt=timezone.now() - age)
    ids = list(stragglers.order_by("received_at", "pk").values_list("pk", flat=True)[:STRAGGLERS_PER_RUN])
    enqueue_scoring(ids)
    return len(ids)


def load_rows(mention_ids, *, rescore: bool) -> list[Row]:
    """The rows by primary key; those already scored are left out here, not in SQL: told `scored_at IS NULL`, the
    planner may read the whole unscored index (mention_unscored: every mention still waiting, thousands during a
    burst) for each batch instead of looking up its 1,000 ids."""
    ids = [int(pk) for pk in mention_ids]
    if connection.vendor == "postgresql":
        # Results in binary: Django's loader of text timestamps parses each in Python, which cost ten times the
        # query (12 of 13 µs a mention); the binary one unpacks a number.
        meta = Mention._meta
        columns = ", ".join(meta.pk.column if name == "pk" else meta.get_field(name).column
                            for name in (*Row.LOADED, "scored_at"))
        with bound_cursor() as cursor:
            cursor.execute(f"SELECT {columns} FROM {connection.ops.quote_name(meta.db_table)} "
                           f"WHERE {meta.pk.column} = ANY(%s)", [ids], binary=True)
            found = cursor.fetchall()
    else:
        found = Mention.objects.filter(pk__any=ids).order_by().values_list(*Row.LOADED, "scored_at")
    return [Row(*values) for *values, scored_at in found if rescore or scored_at is None]


def write_scores(mentions: list[Row]) -> None:
    """Store the scored fields. On PostgreSQL one UPDATE … FROM unnest(arrays) for the batch: Django's
    bulk_update builds a CASE per field and row, which costs ten times the scoring itself (docs/benchmarks.md)."""
    if connection.vendor != "postgresql":
        fields = [Mention._meta.get_field(name).attname for name in SCORED_FIELDS]
        instances = [Mention(pk=m.pk, **{name: getattr(m, name) for name in fields}) for m in mentions]
        with transaction.atomic():
            Mention.objects.bulk_update(instances, SCORED_FIELDS, batch_size=200)
        return
    meta = Mention._meta
    fields = [meta.get_field(name) for name in SCORED_FIELDS]
    columns = [field.column for field in fields]
    types = ["bigint", *SCORED_TYPES.values()]
    arrays = ", ".join(f"unnest(CAST(%b AS {t}[]))" for t in types)  # %b: binary, no escaping in Python
    assignments = ", ".join(f"{column} = v.{column}" for column in columns)
    table = connection.ops.quote_name(meta.db_table)
    values = [[m.pk for m in mentions]] + [
        [json.dumps(getattr(m, field.attname)) for m in mentions] if SCORED_TYPES[field.name] == "jsonb"
        else [getattr(m, field.attname) for m in mentions]
        for field in fields
    ]
    with transaction.atomic(), bound_cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {assignments} FROM (SELECT {arrays}) AS v(id, {', '.join(columns)}) "
            f"WHERE {table}.{meta.pk.column} = v.id",
            values,
        )
