"""Flagging: a mention is flagged when someone should answer it — negative about us, with evidence of a complaint
(a failure, a complaint question, sarcasm) or strongly negative on its own. The flag rules, configured in the
admin, then say what makes it matter (very negative, churn words, a key customer, a large audience); a rule never
flags a mention that needs no answer ("is there a refund policy?")."""

import re
from datetime import datetime, timedelta
from typing import NamedTuple

from django.conf import settings

from core.patterns import inflected
from sentiment.choices import Label, Priority, RuleKind
from sentiment.models import FlagRule
from sentiment.scoring.terms import spans

DEFAULT_RULES = [
    {"name": "Very negative", "kind": RuleKind.COMPOUND_AT_MOST, "threshold": -0.5},
    {"name": "Churn, refund or legal words", "kind": RuleKind.KEYWORDS,
     "keywords": ["cancel", "cancelling", "refund", "chargeback", "lawsuit", "lawyer", "sue", "switching",
                  "moving to", "not renewing", "data loss", "lost data"]},
    {"name": "Key customer account", "kind": RuleKind.KEY_ACCOUNT},
    {"name": "Large audience", "kind": RuleKind.FOLLOWERS_AT_LEAST, "threshold": 10000},
]


# A reason with a negative weight: "on hold (-2.0)", "vanished (vanish -1.8)", "“for 12 days” (time passing -1.6)",
# "thanks beside a failure (sarcasm -2.0)"; not "support (a name: neutral)".
NEGATIVE_WEIGHT = re.compile(r"[(\s]-\d+(?:\.\d+)?\)$")
STRONGLY_NEGATIVE = -0.6  # a priority point (rank)
NEGATIVE_ENOUGH_TO_ANSWER = -0.4  # negative enough to answer without a complaint sign the layer knows


def needs_answer(scores) -> bool:
    """Negative, and either a complaint the layer recognised (a failure term, time passing, the same thing again,
    sarcasm, a complaint question: a reason with a negative weight) or negative enough on VADER's words alone. On
    the labelled tuning set (bench/data/sentiment) this kept 0.91 of flags right and found 0.84 of the negatives."""
    if scores.label != Label.NEGATIVE:
        return False
    evidence = any(NEGATIVE_WEIGHT.search(reason) for reason in scores.reasons)
    return evidence or scores.compound <= NEGATIVE_ENOUGH_TO_ANSWER


def explanation(scores) -> str:
    """'Negative because: on hold (-2.0), a complaint question (-1.6); compound -0.72' for the mention's page."""
    because = ", ".join(scores.reasons) or "VADER's own words"
    return f"{Label(scores.label).label} because: {because}; compound {scores.compound:+.2f}"


class RuleSet:
    """The enabled rules, loaded once per batch; a keyword rule's words with their inflections, lower-cased, made
    once here too (per mention they cost more than the rest of flagging)."""

    def __init__(self, rules=None):
        self.rules = list(rules if rules is not None else FlagRule.objects.filter(enabled=True))
        self._keywords = {id(rule): tuple((word, word.lower()) for word in inflected(rule.keywords) if word)
                          for rule in self.rules if rule.kind == RuleKind.KEYWORDS}

    def reasons(self, mention, key_account_name: str | None = None) -> list[str]:
        reasons = []
        lowered = None
        for rule in self.rules:
            if rule.kind == RuleKind.COMPOUND_AT_MOST:
                if mention.compound is not None and rule.threshold is not None and mention.compound <= rule.threshold:
                    reasons.append(f"{rule.name}: compound {mention.compound:+.2f} ≤ {rule.threshold:+.2f}")
            elif rule.kind == RuleKind.KEYWORDS:
                lowered = mention.text.lower() if lowered is None else lowered
                if found := keywords_in(mention.text, lowered, self._keywords[id(rule)]):
                    reasons.append(f"{rule.name}: {', '.join(found)}")
            elif rule.kind == RuleKind.FOLLOWERS_AT_LEAST:
                followers = mention.author_followers
                if followers is not None and rule.threshold is not None and followers >= rule.threshold:
                    reasons.append(f"{rule.name}: {followers:,} followers")
            elif rule.kind == RuleKind.KEY_ACCOUNT and key_account_name:
                reasons.append(f"{rule.name}: {key_account_name}")
        return reasons


def keywords_in(text: str, lowered: str, keywords: tuple[tuple[str, str], ...]) -> list[str]:
    """The keywords that stand in the text as whole words, ignoring case, in the order given; where two overlap the
    longer one counts ("moving to" rather than "to"). lowered: text.lower(); keywords: (keyword, its lower case)."""
    candidates = [(word, low) for word, low in keywords if low in lowered]
    if not candidates:
        return []
    # The words as configured: one that lower() changes in length ("İptal") is then matched by the pattern, as before.
    seen = {text[start:end].lower() for start, end in spans([word for word, _ in candidates], text, lowered)}
    return [word for word, low in candidates if low in seen]


# --- Priority: how soon a flagged mention should be answered ------------------------------------------------
#
# Points for what makes an answer urgent; 4 or more is critical, 2 or 3 high, fewer normal:
#   how negative   compound ≤ −0.8: 2 points; ≤ −0.6: 1
#   reach          100,000 followers or more: 2 points; 10,000 or more: 1
#   who            a key (strategic or enterprise) customer account's person: 2 points; an account with
#                  1,000,000 or more a year (in its own currency): 1 more
#   incident       linked to an incident still open: 1 point
# So a key customer who is very negative, or a very negative post to 100,000 followers, is critical; a key
# customer, a very negative post or 100,000 followers alone is high; a plain complaint is normal.

VERY_NEGATIVE = -0.8
LARGE_AUDIENCE, HUGE_AUDIENCE = 10_000, 100_000
LARGE_ACCOUNT_ARR = 1_000_000
CRITICAL_POINTS, HIGH_POINTS = 4, 2
NOTHING_MORE = "not very negative, no large audience, no key account, no open incident"


class Ranked(NamedTuple):
    priority: str
    points: int
    reason: str  # "Critical priority (5 points): compound -0.82, 25,000 followers, key account Bigco"


def rank(compound: float, followers: int | None, account=None, open_incident=None) -> Ranked:
    """The priority of a flagged mention and why. `account`: the author's customer account (name, tier, arr,
    currency; is_key), `open_incident`: the open incident it is linked to (severity, title), or None."""
    parts = []  # (points, what)
    if compound <= VERY_NEGATIVE:
        parts.append((2, f"compound {compound:+.2f}"))
    elif compound <= STRONGLY_NEGATIVE:
        parts.append((1, f"compound {compound:+.2f}"))
    if followers is not None and followers >= LARGE_AUDIENCE:
        parts.append((2 if followers >= HUGE_AUDIENCE else 1, f"{followers:,} followers"))
    if account is not None:
        large = account.arr is not None and account.arr >= LARGE_ACCOUNT_ARR
        points = (2 if account.is_key else 0) + (1 if large else 0)
        if points:
            revenue = f" ({account.arr:,.0f} {account.currency} a year)" if large else ""
            parts.append((points, f"{'key account' if account.is_key else 'account'} {account.name}{revenue}"))
    if open_incident is not None:
        parts.append((1, f"open incident {open_incident.severity} {open_incident.title}"))
    points = sum(part for part, _ in parts)
    priority = (Priority.CRITICAL if points >= CRITICAL_POINTS else Priority.HIGH if points >= HIGH_POINTS
                else Priority.NORMAL)
    because = ", ".join(what for _, what in parts) or NOTHING_MORE
    return Ranked(priority, points, f"{priority.label} priority ({points} point{'s' if points != 1 else ''}): "
                                    f"{because}")


def reply_due(priority: str, received_at: datetime) -> datetime:
    """When a mention of this priority should have been answered: received_at + its SENTIMENT_REPLY_TARGETS.
    From when we received it rather than when it was posted: the team cannot answer before it arrives, and a file
    import of last week's posts must not start overdue and alert everyone at once."""
    return received_at + timedelta(seconds=settings.SENTIMENT_REPLY_TARGETS[priority])
