"""Scoring, flagging and linking of stored mentions, in batches: those ingest could not score as it stored them
(the worker, score_stragglers) and those scored again (`rescore_mentions`)."""

import json
import logging

from django.db import connection, transaction
from django.utils import timezone

from comms import delivery
from core.broker import queue_of
from core.db import bound_cursor
from sentiment.assessment import ASSESSED_FIELDS, ASSESSED_TYPES, Row, assess
from sentiment.ingest import enqueue_scoring
from sentiment.models import Mention

log = logging.getLogger(__name__)


def score_mentions(mention_ids, *, rescore: bool = False) -> int:
    """Score, flag and link these stored mentions (only unscored ones unless rescore). Returns how many. Should the
    batch fail, each mention is tried alone, so that one that cannot be scored keeps only itself out of the queue,
    not the 999 others of its task (it stays unscored, and its error is logged)."""
    rows = load_rows(mention_ids, rescore=rescore)
    try:
        assess(rows)
    except Exception:  # whatever it was, it is logged and the other mentions are scored
        log.exception("Scoring %d mentions failed; scoring them one by one.", len(rows))
        rows = [row for row in rows if _assessed_alone(row)]
    if rows:
        write_scores(rows)
    return len(rows)


def _assessed_alone(row: Row) -> bool:
    try:
        assess([row])
    except Exception:  # logged: the mention stays unscored, score_stragglers tries it again
        log.exception("Mention %s cannot be scored; it stays unscored.", row.pk)
        return False
    return True


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
        fields = [Mention._meta.get_field(name).attname for name in ASSESSED_FIELDS]
        instances = [Mention(pk=m.pk, **{name: getattr(m, name) for name in fields}) for m in mentions]
        with transaction.atomic():
            Mention.objects.bulk_update(instances, ASSESSED_FIELDS, batch_size=200)
        return
    meta = Mention._meta
    fields = [meta.get_field(name) for name in ASSESSED_FIELDS]
    columns = [field.column for field in fields]
    types = ["bigint", *ASSESSED_TYPES.values()]
    arrays = ", ".join(f"unnest(CAST(%b AS {t}[]))" for t in types)  # %b: binary, no escaping in Python
    assignments = ", ".join(f"{column} = v.{column}" for column in columns)
    table = connection.ops.quote_name(meta.db_table)
    values = [[m.pk for m in mentions]] + [
        [json.dumps(getattr(m, field.attname)) for m in mentions] if ASSESSED_TYPES[field.name] == "jsonb"
        else [getattr(m, field.attname) for m in mentions]
        for field in fields
    ]
    with transaction.atomic(), bound_cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {assignments} FROM (SELECT {arrays}) AS v(id, {', '.join(columns)}) "
            f"WHERE {table}.{meta.pk.column} = v.id",
            values,
        )
