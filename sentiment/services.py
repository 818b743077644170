"""Scoring, flagging and linking of stored mentions, in batches (run by the worker right after ingest)."""

import json

from django.db import connection, transaction
from django.utils import timezone

from config.db import bound_cursor
from sentiment.flagging import RuleSet
from sentiment.linking import AccountMatcher, IncidentLinker
from sentiment.models import Mention
from sentiment.scoring import get_scorer

SCORED_FIELDS = ["neg", "neu", "pos", "compound", "label", "scored_at", "flagged", "flag_reasons", "incident",
                 "account"]


def score_mentions(mention_ids, *, rescore: bool = False) -> int:
    """Score, flag and link these mentions (only unscored ones unless rescore). Returns how many."""
    mentions = Mention.objects.filter(pk__in=mention_ids)
    if not rescore:
        mentions = mentions.filter(scored_at__isnull=True)
    mentions = list(mentions.only("pk", "text", "posted_at", "author_followers", "author_handle", "incident_id",
                                   "account_id"))
    if not mentions:
        return 0
    scorer, rules = get_scorer(), RuleSet()
    linker = IncidentLinker(min(m.posted_at for m in mentions), max(m.posted_at for m in mentions))
    accounts = AccountMatcher(mentions)
    now = timezone.now()
    for mention in mentions:
        scores = scorer.score(mention.text)
        mention.neg, mention.neu, mention.pos, mention.compound = scores.neg, scores.neu, scores.pos, scores.compound
        mention.label = scores.label
        mention.scored_at = now
        if mention.incident_id is None:
            mention.incident = linker.incident_for(mention.text, mention.posted_at)
        account = accounts.account_for(mention)
        if account is not None:
            mention.account = account
        key_account = str(account) if account is not None and account.is_key else None
        mention.flag_reasons = rules.reasons(mention, key_account_name=key_account)
        mention.flagged = bool(mention.flag_reasons)
    write_scores(mentions)
    return len(mentions)


def write_scores(mentions: list[Mention]) -> None:
    """Store the scored fields. On PostgreSQL one UPDATE … FROM unnest(arrays) for the batch: Django's
    bulk_update builds a CASE per field and row, which costs ten times the scoring itself (docs/benchmarks.md)."""
    if connection.vendor != "postgresql":
        with transaction.atomic():
            Mention.objects.bulk_update(mentions, SCORED_FIELDS, batch_size=200)
        return
    meta = Mention._meta
    columns = [meta.get_field(name).column for name in SCORED_FIELDS]
    types = ["bigint", "double precision", "double precision", "double precision", "double precision", "varchar",
             "timestamptz", "boolean", "jsonb", "bigint", "bigint"]
    arrays = ", ".join(f"unnest(CAST(%s AS {t}[]))" for t in types)
    assignments = ", ".join(f"{column} = v.{column}" for column in columns)
    table = connection.ops.quote_name(meta.db_table)
    values = [
        [m.pk for m in mentions], [m.neg for m in mentions], [m.neu for m in mentions], [m.pos for m in mentions],
        [m.compound for m in mentions], [m.label for m in mentions], [m.scored_at for m in mentions],
        [m.flagged for m in mentions], [json.dumps(m.flag_reasons) for m in mentions],
        [m.incident_id for m in mentions], [m.account_id for m in mentions],
    ]
    with transaction.atomic(), bound_cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {assignments} FROM (SELECT {arrays}) AS v(id, {', '.join(columns)}) "
            f"WHERE {table}.{meta.pk.column} = v.id",
            values,
        )
