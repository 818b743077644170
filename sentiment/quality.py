"""Quality you can see in production: every review outcome is a label, a daily spot-check finds missed complaints.

- A flag is **right** when the review ended in an answer (responded, escalated, or dismissed as "already answered
  elsewhere"), **false** when dismissed as "not negative" or "not about us", and **needless** when dismissed as
  "negative, but needs no answer". A dismissal without a reason (made before reasons existed) labels nothing.
- The **spot-check** (`sample_spot_checks`, beat, hourly) puts a few unflagged mentions a day into the review queue.
  Those that needed an answer are missed complaints; their share estimates how many the flags miss.
- **Estimated recall** = right flags ÷ (right flags + missed), with right flags = flag precision × flagged mentions
  and missed = the spot-checks' miss rate × unflagged mentions, over the same window. Every rate comes with its 95 %
  Wilson interval, and the recall with the range those intervals give, because a few spot-checks a day say little
  on their own.
- **Suggested lexicon entries**: words over-represented in missed complaints (against unflagged mentions that needed
  no answer) as new negative terms, and negative words over-represented in false flags (against right flags) as
  neutral ones. An admin accepts one in one click (`accept_suggestion`); the scorer picks it up at its next batch.
"""

import math
import random
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from core.vader import get_analyzer
from incidents.models import Component
from sentiment.choices import ANSWERED_STATES, DismissReason, ReviewState
from sentiment.models import LexiconEntry, Mention

RIGHT = Q(review_state__in=ANSWERED_STATES) | Q(review_state=ReviewState.DISMISSED,
                                                dismiss_reason=DismissReason.ALREADY_HANDLED)
FALSE = Q(review_state=ReviewState.DISMISSED, dismiss_reason__in=(DismissReason.NOT_NEGATIVE,
                                                                  DismissReason.NOT_ABOUT_US))
NEEDLESS = Q(review_state=ReviewState.DISMISSED, dismiss_reason=DismissReason.NO_ANSWER_NEEDED)
LABELLED = RIGHT | FALSE | NEEDLESS

SPOT_CHECK_POOL = 5_000  # the spot-check draws from the latest this many mentions (one index range, any table size)
SAMPLE_LIMIT = 5_000  # texts read for the word counts of the suggestions, per side
MIN_DOCUMENTS = 2  # a word must appear in at least this many missed complaints (or false flags) to be suggested
MIN_RATIO = 3.0  # … and be this many times as frequent there as on the other side
SUGGESTED_NEGATIVE = -1.5
WORD = re.compile(r"[a-z][a-z']{2,29}")
STOPWORDS = frozenset("""
the and for you your yours with this that these those have has had was were are been being from they them their
what which who whom whose when where why how all any both each few more most other some such only own same than
too very can will just should now about again into over under then once here there does did doing our ours out off
its it's i'm i've i'll you're you've we're we've don't didn't isn't wasn't aren't weren't won't can't couldn't
would could also get got just one two three today yesterday tomorrow day days hour hours minute minutes week weeks
still even ever since because while until after before during through between http https www com
""".split())


@dataclass
class Rate:
    hits: int
    total: int
    value: float | None = None
    low: float | None = None
    high: float | None = None

    def __post_init__(self):
        if self.total:
            self.value = self.hits / self.total
            self.low, self.high = wilson(self.hits, self.total)


def wilson(hits: int, total: int, z: float = 1.96) -> tuple[float, float]:
    """The 95 % Wilson score interval of a proportion: sound for small samples and for 0 or all hits."""
    share = hits / total
    centre = share + z * z / (2 * total)
    spread = z * math.sqrt(share * (1 - share) / total + z * z / (4 * total * total))
    scale = 1 + z * z / total
    return max(0.0, (centre - spread) / scale), min(1.0, (centre + spread) / scale)


@dataclass
class Suggestion:
    term: str
    valence: float
    documents: int  # missed complaints (or false flags) that contain it
    ratio: float  # how many times as frequent there as on the other side
    why: str
    examples: list[int] = field(default_factory=list)  # mention ids, for whoever may read them


@dataclass
class QualityReport:
    days: int
    since: datetime
    flagged: int
    unflagged: int
    flags: dict  # right, false, needless, unlabelled, open
    flag_precision: Rate
    flag_negative: Rate  # flags that were negative at all (right + needless among the labelled)
    spot_checks: dict  # sampled, reviewed, missed, open
    miss_rate: Rate
    recall: float | None
    recall_low: float | None
    recall_high: float | None
    false_flag_reasons: list[tuple[str, int]]
    dismiss_reasons: list[tuple[str, int]]
    suggestions: list[Suggestion]

    def as_dict(self) -> dict:
        data = asdict(self)
        data["false_flag_reasons"] = [{"reason": text, "count": count} for text, count in self.false_flag_reasons]
        data["dismiss_reasons"] = [{"reason": text, "count": count} for text, count in self.dismiss_reasons]
        return data


# --- The daily spot-check ---------------------------------------------------------------------------------------

def sample_spot_checks(now: datetime | None = None, rng: random.Random | None = None) -> int:
    """Top up today's spot-check sample: by this hour of the (site's) day, its share of
    SENTIMENT_SPOT_CHECKS_PER_DAY, drawn at random from scored, unflagged, unreviewed mentions received in the last
    24 hours (among the latest SPOT_CHECK_POOL). Run hourly by beat; running it twice in an hour adds nothing."""
    per_day = settings.SENTIMENT_SPOT_CHECKS_PER_DAY
    if not per_day:
        return 0
    now = now or timezone.now()
    day_start = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    elapsed = (now - day_start) / timedelta(days=1)
    due = math.ceil(per_day * min(1.0, elapsed + 1 / 24)) - Mention.objects.filter(
        spot_check=True, spot_checked_at__gte=day_start).count()
    if due <= 0:
        return 0
    latest = Mention.objects.order_by("-pk").values_list("pk", flat=True)[:SPOT_CHECK_POOL]
    candidates = list(Mention.objects.filter(
        pk__in=list(latest), flagged=False, spot_check=False, scored_at__isnull=False,
        review_state=ReviewState.NEW, received_at__gte=now - timedelta(days=1),
    ).values_list("pk", flat=True))
    chosen = (rng or random.SystemRandom()).sample(candidates, min(due, len(candidates)))
    # Conditional: a mention flagged or sampled meanwhile (a rescore, a second beat) is left as it is.
    return Mention.objects.filter(pk__in=chosen, spot_check=False, flagged=False).update(
        spot_check=True, spot_checked_at=now)


# --- The report ---------------------------------------------------------------------------------------------------

def first_pk_received_since(since: datetime) -> int | None:
    """The first mention received at or after `since`, by a binary search on the primary key (mentions are stored
    in the order they arrive, and received_at has no index of its own: one would slow every ingest)."""
    low = Mention.objects.order_by("pk").values_list("pk", flat=True).first()
    high = Mention.objects.order_by("-pk").values_list("pk", flat=True).first()
    if low is None or Mention.objects.filter(pk=high, received_at__lt=since).exists():
        return None
    # The smallest bound b such that the first mention at or after b was received since: the answer's pk, or a
    # number between it and the one before (which no row has).
    while low < high:
        middle = (low + high) // 2
        pk, received_at = Mention.objects.filter(pk__gte=middle).order_by("pk").values_list("pk", "received_at")[0]
        if received_at < since:
            low = pk + 1
            high = max(high, low)
        else:
            high = middle
    return low


def quality_report(days: int = 30, now: datetime | None = None, *, suggestions: bool = True) -> QualityReport:
    now = now or timezone.now()
    since = now - timedelta(days=days)
    first = first_pk_received_since(since)
    window = Mention.objects.filter(pk__gte=first) if first is not None else Mention.objects.none()
    flagged = window.filter(flagged=True).count()
    unflagged = window.filter(flagged=False, scored_at__isnull=False).count()

    decided = Mention.objects.filter(reviewed_at__gte=since).exclude(review_state__in=(ReviewState.NEW,
                                                                                      ReviewState.IN_REVIEW))
    flags = decided.filter(flagged=True).aggregate(
        right=Count("pk", filter=RIGHT), false=Count("pk", filter=FALSE), needless=Count("pk", filter=NEEDLESS),
        unlabelled=Count("pk", filter=~LABELLED))
    flags["open"] = window.filter(flagged=True, review_state__in=(ReviewState.NEW, ReviewState.IN_REVIEW)).count()
    labelled = flags["right"] + flags["false"] + flags["needless"]
    precision = Rate(flags["right"], labelled)
    negative = Rate(flags["right"] + flags["needless"], labelled)

    sampled = Mention.objects.filter(spot_check=True, spot_checked_at__gte=since)
    spot = sampled.aggregate(sampled=Count("pk"), missed=Count("pk", filter=RIGHT),
                             fine=Count("pk", filter=FALSE | NEEDLESS),
                             open=Count("pk", filter=Q(review_state__in=(ReviewState.NEW, ReviewState.IN_REVIEW))))
    spot["reviewed"] = spot["missed"] + spot.pop("fine")
    miss_rate = Rate(spot["missed"], spot["reviewed"])
    recall = recall_low = recall_high = None
    if precision.total and miss_rate.total:
        recall = estimated_recall(precision.value, miss_rate.value, flagged, unflagged)
        recall_low = estimated_recall(precision.low, miss_rate.high, flagged, unflagged)
        recall_high = estimated_recall(precision.high, miss_rate.low, flagged, unflagged)

    false_flags = decided.filter(FALSE, flagged=True)
    return QualityReport(
        days=days, since=since, flagged=flagged, unflagged=unflagged, flags=flags, flag_precision=precision,
        flag_negative=negative, spot_checks=spot, miss_rate=miss_rate, recall=recall, recall_low=recall_low,
        recall_high=recall_high,
        false_flag_reasons=false_flag_reasons(false_flags.values_list("flag_reasons", flat=True)[:SAMPLE_LIMIT]),
        dismiss_reasons=[(DismissReason(row["dismiss_reason"]).label, row["count"]) for row in
                         decided.filter(flagged=True, review_state=ReviewState.DISMISSED).exclude(dismiss_reason="")
                         .values("dismiss_reason").annotate(count=Count("pk")).order_by("-count", "dismiss_reason")],
        suggestions=suggest_entries(since) if suggestions else [],
    )


def estimated_recall(precision: float, miss_rate: float, flagged: int, unflagged: int) -> float | None:
    right = precision * flagged
    missed = miss_rate * unflagged
    return right / (right + missed) if right + missed else None


def false_flag_reasons(reason_lists, limit: int = 10) -> list[tuple[str, int]]:
    """What the false flags were flagged for: the layer's evidence ("on hold (−2.0)" counts as "on hold") and the
    names of the rules that matched, most frequent first."""
    counts = Counter()
    for reasons in reason_lists:
        for reason in reasons or []:
            counts.update(set(evidence_of(reason)))
    return counts.most_common(limit)


def evidence_of(reason: str) -> list[str]:
    """'Negative because: on hold (-2.0), still (complaint marker); compound -0.72' → ['on hold', 'still'];
    'Very negative: compound -0.72 ≤ -0.50' → ['rule: Very negative']."""
    if "because:" in reason:
        listed = reason.split("because:", 1)[1].rsplit("; compound", 1)[0]
        return [item.split(" (", 1)[0].strip() for item in listed.split(", ") if item.strip()]
    name = reason.split(":", 1)[0].strip()
    return [f"rule: {name}"] if name and not name.startswith("Priority") else []


# --- Suggested lexicon entries ------------------------------------------------------------------------------------

def suggest_entries(since: datetime, limit: int = 15) -> list[Suggestion]:
    known = set(LexiconEntry.objects.values_list("term", flat=True))
    neutral = {word for name in Component.objects.values_list("name", flat=True) for word in WORD.findall(name.lower())}
    vader = get_analyzer().lexicon
    unflagged = Mention.objects.filter(flagged=False, reviewed_at__gte=since)
    missed = list(unflagged.filter(RIGHT).order_by("-pk").values_list("pk", "text")[:SAMPLE_LIMIT])
    fine = list(Mention.objects.filter(flagged=False, scored_at__gte=since).exclude(RIGHT)
                .order_by("-pk").values_list("pk", "text")[:SAMPLE_LIMIT])
    new_negative = [
        Suggestion(word, SUGGESTED_NEGATIVE, documents, ratio,
                   f"in {documents} missed complaint{'s' if documents != 1 else ''}, {ratio:.1f}× as often as in "
                   "mentions that needed no answer", examples)
        for word, documents, ratio, examples in over_represented(missed, fine)
        if word not in known and word not in neutral and vader.get(word, 0.0) > -0.5
    ]
    flags = Mention.objects.filter(flagged=True, reviewed_at__gte=since)
    false = list(flags.filter(FALSE).order_by("-pk").values_list("pk", "text")[:SAMPLE_LIMIT])
    right = list(flags.filter(RIGHT).order_by("-pk").values_list("pk", "text")[:SAMPLE_LIMIT])
    entries = dict(LexiconEntry.objects.values_list("term", "valence"))
    new_neutral = [
        Suggestion(word, 0.0, documents, ratio,
                   f"in {documents} false flag{'s' if documents != 1 else ''}, {ratio:.1f}× as often as in right "
                   "ones: treat as neutral", examples)
        for word, documents, ratio, examples in over_represented(false, right)
        if entries.get(word, vader.get(word, 0.0)) < 0
    ]
    ranked = sorted(new_negative, key=lambda s: (-s.documents, -s.ratio, s.term))[:limit]
    return ranked + sorted(new_neutral, key=lambda s: (-s.documents, -s.ratio, s.term))[:limit]


def over_represented(these: list[tuple[int, str]], others: list[tuple[int, str]]):
    """(word, documents, ratio, example ids) for words in at least MIN_DOCUMENTS of `these` and at least MIN_RATIO
    times as frequent there (share of documents, add-half smoothing) as in `others`."""
    if not these:
        return
    in_these, examples = Counter(), {}
    for pk, text in these:
        for word in set(WORD.findall(text.lower())) - STOPWORDS:
            in_these[word] += 1
            examples.setdefault(word, []).append(pk)
    in_others = Counter(word for _, text in others for word in set(WORD.findall(text.lower())))
    for word, documents in in_these.items():
        if documents < MIN_DOCUMENTS:
            continue
        ratio = ((documents + 0.5) / (len(these) + 1)) / ((in_others[word] + 0.5) / (len(others) + 1))
        if ratio >= MIN_RATIO:
            yield word, documents, round(ratio, 1), examples[word][:5]


@transaction.atomic
def accept_suggestion(term: str, valence: float, *, actor, why: str = "") -> LexiconEntry:
    """Add (or re-weight) a lexicon entry from the quality page: admins, and whoever may edit the lexicon."""
    if not (actor.has_perm("sentiment.add_lexiconentry") and actor.has_perm("sentiment.change_lexiconentry")):
        raise PermissionDenied("Only those who may edit the lexicon (admins) accept suggested entries.")
    term = " ".join((term or "").lower().split())
    limit = LexiconEntry._meta.get_field("term").max_length
    if not term or len(term) > limit:
        raise ValidationError({"term": f"A word or phrase of 1 to {limit} characters."})
    if not isinstance(valence, int | float) or isinstance(valence, bool) or not -4 <= valence <= 4:
        raise ValidationError({"valence": "A number from -4 (most negative) to +4 (most positive)."})
    note = f"Accepted from the quality page by {actor}" + (f": {why}" if why else "")
    entry, _ = LexiconEntry.objects.update_or_create(term=term, defaults={"valence": valence,
                                                                          "note": note[:200]})
    return entry
