"""Mentions in, from the API, the social networks and files: validated one by one, scored, stored idempotently.

Each item is created, a duplicate (the same source and external id was stored before: nothing changes), or
an error with the reason; valid items are kept even when others in the batch are not. Storing is one
transaction per batch, so a batch is never half stored. A mention is stored scored, linked and flagged (one
INSERT, no UPDATE after it): the review queue shows it as soon as the request that brought it has answered. Should
scoring fail, the batch is stored unscored all the same and the worker scores it (sentiment.services), as it
scores what polls of the networks store (scoring_in_batches).
"""

import json
import logging
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from core.api import lone_surrogate
from core.db import bound_cursor
from core.validators import web_url
from sentiment.assessment import ASSESSED_FIELDS, ASSESSED_TYPES, Row, assess
from sentiment.choices import ReviewState, Source
from sentiment.models import Mention

log = logging.getLogger(__name__)

SCORE_CHUNK = 1000  # a scoring task per bulk request: its setup (rules, lexicon, incidents) is paid once
# Ingest scores a batch itself up to this many characters of text (1,000 tweets are about 110,000): about a second
# for the slowest texts found (40 ms per 10,000 characters: emoji, each read as the words of its description, after
# a "but"); a longer batch is left to the worker.
SCORE_NOW_CHARS = 250_000
TEXT_LIMIT = 10_000
MAX_FOLLOWERS = 2_147_483_647  # the column's range
REF_LIMIT = 200  # in_reply_to_id and network_ref (a Delivery's in_reply_to holds as much)
TEXT_FIELDS = ("external_id", "text", "author_handle", "author_name", "url", "language", "in_reply_to_id",
               "in_reply_to_url", "network_ref")
SOURCES = frozenset(Source.values)  # Source.values builds a new list on every call


@dataclass
class ItemResult:
    index: int
    status: str  # created | duplicate | error
    id: int | None = None
    external_id: str | None = None
    reason: str | None = None

    def as_dict(self) -> dict:  # dataclasses.asdict deep-copies every value: a third of a bulk request's time
        found = {"index": self.index, "status": self.status}
        for key in ("id", "external_id", "reason"):
            if (value := getattr(self, key)) is not None:
                found[key] = value
        return found


def clean_item(raw, default_source: str) -> dict:
    """A mention's fields from one input item, or ValidationError saying what to fix."""
    if not isinstance(raw, dict):
        raise ValidationError("Each item must be an object.")
    problems = []
    source = _source(raw.get("source") or default_source, problems)
    external_id = _external_id(raw.get("external_id"), problems)
    text = _text(raw.get("text"), problems)
    posted_at = _datetime(raw.get("posted_at"))
    if posted_at is None:
        problems.append("posted_at must be an ISO 8601 date and time, e.g. 2026-11-23T12:30:00Z")
    followers = _followers(raw.get("author_followers"), problems)
    texts = [str(raw.get(key) or "") for key in TEXT_FIELDS]
    if any("\x00" in text for text in texts):
        problems.append("text fields cannot contain NUL characters")
    if any(lone_surrogate(text) for text in texts):
        problems.append("text fields cannot contain lone surrogates (\\ud800–\\udfff), which are not characters")
    url = _http_url(raw.get("url") or "", problems)
    handle, name, language = (str(raw.get(key) or "") for key in ("author_handle", "author_name", "language"))
    if len(handle) > 100 or len(name) > 200 or len(language) > 12 or len(url) > 500:
        problems.append("author_handle ≤ 100, author_name ≤ 200, language ≤ 12 and url ≤ 500 characters")
    parent_id, network_ref = (str(raw.get(key) or "").strip() for key in ("in_reply_to_id", "network_ref"))
    parent_url = _http_url(raw.get("in_reply_to_url") or "", problems, name="in_reply_to_url")
    if len(parent_id) > REF_LIMIT or len(network_ref) > REF_LIMIT:
        problems.append(f"in_reply_to_id and network_ref ≤ {REF_LIMIT} characters")
    if problems:
        raise ValidationError("; ".join(problems) + ".")
    return {
        "source": source,
        "external_id": external_id,
        "text": text,
        "posted_at": posted_at,
        "author_handle": handle.lstrip("@"),
        "author_name": name,
        "author_followers": followers,
        "url": url,
        "language": language,
        "in_reply_to_id": parent_id,
        "in_reply_to_url": parent_url,
        "network_ref": network_ref,
    }


# The checks below add what is wrong to problems and return the value (cleaned where valid): clean_item reports
# every problem of an item at once, and stores nothing when there is one.


def _source(source, problems: list[str]):
    if not isinstance(source, str) or source not in SOURCES:  # a list is unhashable: `in` would raise
        problems.append(f"source must be one of {', '.join(Source.values)}")
    return source


def _external_id(value, problems: list[str]) -> str:
    external_id = str(value or "").strip()
    if not external_id or len(external_id) > 100:
        problems.append("external_id is required (at most 100 characters)")
    return external_id


def _text(text, problems: list[str]):
    if not isinstance(text, str) or not text.strip():
        problems.append("text is required")
    elif len(text) > TEXT_LIMIT:
        problems.append(f"text is longer than {TEXT_LIMIT:,} characters")
    return text


def _followers(value, problems: list[str]) -> int | None:
    """A whole number written plainly ("1200", not "1,200" or "1e3"); None when missing or empty."""
    if value in (None, ""):
        return None
    try:
        followers = int(str(value).strip(), 10)
    except ValueError:
        followers = None
    if followers is None or str(followers) != str(value).strip() or not 0 <= followers <= MAX_FOLLOWERS:
        problems.append(f"author_followers must be a whole number from 0 to {MAX_FOLLOWERS:,}")
    return followers


def _http_url(url, problems: list[str], name: str = "url") -> str:
    if url == "":
        return url
    try:
        return web_url(url)
    except ValidationError:
        problems.append(f"{name} must be an http(s) URL written as RFC 3986 says (spaces, quotes, <, > and non-ASCII "
                        "characters percent-encoded), at most 500 characters")
        return ""


def usable_url(url) -> str:
    """The URL when ingest takes it, else "": a source stores a mention without a derived link (the thread's) rather
    than have the whole mention refused for it."""
    try:
        return web_url(url) if url else ""
    except ValidationError:
        return ""


def _datetime(value) -> datetime | None:
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = parse_datetime(value.strip())
        except ValueError:
            return None
    else:
        return None
    if parsed is None:
        return None
    if timezone.is_naive(parsed):
        return timezone.make_aware(parsed, UTC)  # was timezone.UTC, which does not exist: a naive time was a 500
    try:
        return parsed.astimezone(UTC)  # PostgreSQL refuses offsets beyond ±15:59 (Python reads ±23:59)
    except OverflowError:  # 9999-12-31T23:00:00-05:00 is in the year 10000
        return None


def ingest(items, default_source: str = Source.API) -> list[ItemResult]:
    results: list[ItemResult] = []
    clean: dict[tuple[str, str], tuple[int, dict]] = {}
    for index, raw in enumerate(items):
        try:
            fields = clean_item(raw, default_source)
        except ValidationError as error:
            results.append(ItemResult(index, "error", reason=" ".join(error.messages)))
            continue
        key = (fields["source"], fields["external_id"])
        if key in clean:
            results.append(ItemResult(index, "duplicate", external_id=fields["external_id"],
                                      reason=f"the same as item {clean[key][0]}"))
            continue
        clean[key] = (index, fields)

    # Those stored before are duplicates, and not scored again: tools and polls send overlapping batches.
    known = _existing_ids(list(clean))
    fresh = [fields for key, (_, fields) in clean.items() if key not in known]
    received = timezone.now()
    assessed = _assessed(fresh, received) if fresh and _scores_now(fresh) else None
    with transaction.atomic():
        created = _insert_new(fresh, received, assessed)
        if assessed is None:
            # robust: with the broker down the mentions are still stored and reported created; the beat task
            # score_stragglers scores them once it is back (an exception here was a 500 for a stored batch).
            transaction.on_commit(lambda: queue_for_scoring(list(created.values())), robust=True)
    raced = [key for key in clean if key not in created and key not in known]  # stored meanwhile by another call
    duplicates = {**known, **_existing_ids(raced)}
    for key, (index, fields) in clean.items():
        if key in created:
            results.append(ItemResult(index, "created", id=created[key], external_id=fields["external_id"]))
        else:
            results.append(ItemResult(index, "duplicate", id=duplicates.get(key), external_id=fields["external_id"]))
    return sorted(results, key=lambda result: result.index)


INSERTED_FIELDS = ["source", "external_id", "text", "posted_at", "author_handle", "author_name", "author_followers",
                   "url", "language", "in_reply_to_id", "in_reply_to_url", "network_ref"]


def _scores_now(rows: list[dict]) -> bool:
    """Whether ingest scores these itself. Not in a poll (scoring_in_batches), which waits on the network between
    its pages: tasks in the other worker processes score what it stores meanwhile. Not a batch of long texts, past
    SCORE_NOW_CHARS: 1,000 texts of 10,000 characters would keep a request busy for up to half a minute."""
    return _scoring_batch.get() is None and sum(len(row["text"]) for row in rows) <= SCORE_NOW_CHARS


def _assessed(rows: list[dict], received) -> list[Row] | None:
    """The rows scored, linked and flagged (sentiment.assessment), in their order; None when that failed: the
    mentions are then stored unscored rather than lost. A savepoint around it, so that a database error in its
    queries would leave a caller's transaction usable, should one call ingest inside its own."""
    batch = [Row(None, r["text"], r["posted_at"], received, r["author_followers"], r["author_handle"], None, None)
             for r in rows]
    try:
        with transaction.atomic():
            assess(batch)
    except Exception:  # the boundary of a request that must not lose what it was sent
        log.exception("Scoring %d mentions at ingest failed; they are stored unscored for the worker.", len(batch))
        return None
    return batch


def row_defaults(received, *, assessed: bool) -> dict:
    """The other NOT NULL columns of a mention, which the PostgreSQL INSERT must name: Django keeps field defaults in
    Python, not in the table, so a column left out here fails every insert. Those assessment sets are left out
    when it did."""
    defaults = {"review_state": ReviewState.NEW, "review_note": "", "received_at": received, "dismiss_reason": "",
                "spot_check": False}
    if not assessed:
        defaults.update({"flagged": False, "flag_reasons": "[]", "label": "", "priority": ""})
    return defaults


def _insert_new(rows: list[dict], received, assessed: list[Row] | None) -> dict[tuple[str, str], int]:
    """Insert the rows that are not stored yet, with what assessment found (assessed: a Row for each row, in
    order, or None); return {(source, external_id): id} of those inserted.

    On PostgreSQL: one INSERT … SELECT FROM unnest(arrays) ON CONFLICT DO NOTHING RETURNING, which tells
    which rows were new without building a model instance per row or querying again."""
    if not rows:
        return {}
    scored_fields = ASSESSED_FIELDS if assessed is not None else []
    meta = Mention._meta
    attnames = [meta.get_field(name).attname for name in scored_fields]
    if connection.vendor != "postgresql":
        existing = _existing_ids([(r["source"], r["external_id"]) for r in rows])
        scored = [{name: getattr(row, name) for name in attnames} for row in assessed or [None] * len(rows)]
        Mention.objects.bulk_create(
            [Mention(received_at=received, **r, **s) for r, s in zip(rows, scored, strict=True)
             if (r["source"], r["external_id"]) not in existing],
            ignore_conflicts=True,
        )
        stored = _existing_ids([(r["source"], r["external_id"]) for r in rows])
        return {key: pk for key, pk in stored.items() if key not in existing}
    defaults = row_defaults(received, assessed=assessed is not None)
    types = {"author_followers": "integer", "posted_at": "timestamptz"}
    types.update({meta.get_field(name).column: kind for name, kind in ASSESSED_TYPES.items()})
    array_columns = [meta.get_field(name).column for name in (*INSERTED_FIELDS, *scored_fields)]
    columns = array_columns + [meta.get_field(name).column for name in defaults]
    # %b: arrays go in binary format, without escaping every string of them in Python.
    arrays = [f"unnest(CAST(%b AS {types.get(name, 'text')}[]))" for name in array_columns]
    constants = ["CAST(%s AS jsonb)" if name == "flag_reasons" else "%s" for name in defaults]
    values = [[r[name] for r in rows] for name in INSERTED_FIELDS]
    for name in attnames:
        values.append([json.dumps(row.flag_reasons) for row in assessed] if name == "flag_reasons"
                      else [getattr(row, name) for row in assessed])
    table = connection.ops.quote_name(meta.db_table)
    with bound_cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(arrays + constants)} "
            f"ON CONFLICT DO NOTHING RETURNING {meta.pk.column}, source, external_id",
            values + list(defaults.values()),
        )
        return {(source, external_id): pk for pk, source, external_id in cursor.fetchall()}


def _existing_ids(keys) -> dict[tuple[str, str], int]:
    found = {}
    by_source: dict[str, list[str]] = {}
    for source, external_id in keys:
        by_source.setdefault(source, []).append(external_id)
    for source, external_ids in by_source.items():
        for start in range(0, len(external_ids), 1000):
            rows = Mention.objects.filter(source=source, external_id__any=external_ids[start : start + 1000])
            found.update({(source, ext): pk for pk, ext in rows.values_list("pk", "external_id")})
    return found


def enqueue_scoring(mention_ids: list[int]) -> None:
    from sentiment.tasks import score_mentions

    for start in range(0, len(mention_ids), SCORE_CHUNK):
        score_mentions.delay(mention_ids[start : start + SCORE_CHUNK])


_scoring_batch: ContextVar[list[int] | None] = ContextVar("scoring_batch", default=None)


@contextmanager
def scoring_in_batches():
    """Mentions stored page by page (a poll: 40 a page on Mastodon) are stored unscored and scored in tasks of
    SCORE_CHUNK, which other worker processes run while the poll waits for its next page; a task, not a task per
    page: a scoring task's setup is paid per task (250 tasks for 10,000 statuses, docs/benchmarks.md). What is
    left when the block ends is enqueued then, also after an error (the mentions are stored; score_stragglers would
    find them anyway)."""
    pending: list[int] = []
    token = _scoring_batch.set(pending)
    try:
        yield
    finally:
        _scoring_batch.reset(token)
        enqueue_scoring(pending)


def queue_for_scoring(mention_ids: list[int]) -> None:
    pending = _scoring_batch.get()
    if pending is None:
        enqueue_scoring(mention_ids)
        return
    pending.extend(mention_ids)
    while len(pending) >= SCORE_CHUNK:
        enqueue_scoring(pending[:SCORE_CHUNK])
        del pending[:SCORE_CHUNK]
