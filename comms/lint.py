"""Lint on a draft: errors that block approval, and warnings shown on the page and in the API that never block.

Errors (level "error", listed first; approval_blockers gives them as sentences for the approval and publish
checks): [[guidance]] from a template still in the text, a "[[" or "]]" left over, a {placeholder} not filled in.

Warning rules (thresholds in config/settings.py): a missing EARS part for the phase; an ETA or time promise before
the incident is resolved; jargon from COMMS_JARGON; an X post over 280 weighted characters (a Mastodon or Bluesky
post over its own limit); a tone that reads as hype (VADER compound ≥ 0.8, or repeated exclamation marks) or blame
(blaming phrases); a resolution without a thank-you; an announcement on social channels during the quiet period
after a SEV1/SEV2.
"""

import re
import unicodedata
from dataclasses import asdict, dataclass

from django.conf import settings
from django.utils import timezone

from comms.choices import MessagePhase
from comms.models import Message
from comms.rendering import (
    BLUESKY_LIMIT,
    FACEBOOK_LIMIT,
    LINKEDIN_LIMIT,
    MASTODON_URL_WEIGHT,
    PLACEHOLDER_RE,
    PLACEHOLDERS,
    SEND_TIME_PLACEHOLDERS,
    X_LIMIT,
    X_URL_WEIGHT,
    bluesky_length,
    facebook_length,
    guidance_in,
    has_stray_guidance_mark,
    linkedin_length,
    long_post_text,
    mastodon_length,
    mastodon_limit,
    status_page_url,
    x_weighted_length,
)
from core.vader import compound
from core.words import with_article
from incidents.choices import IncidentStatus, Severity
from incidents.models import Incident

REQUIRED_PARTS = {
    MessagePhase.INITIAL: ("explain", "acknowledge"),
    MessagePhase.UPDATE: ("explain",),
    MessagePhase.RESOLUTION: ("explain", "acknowledge", "resolve"),
    MessagePhase.REVIEW: ("explain", "study"),
}
PART_LABELS = {"explain": "Explain", "acknowledge": "Acknowledge", "resolve": "Resolve", "study": "Study"}
FIELD_LABELS = {"headline": "Headline", **PART_LABELS}
QUOTE_LENGTH = 60

_UNIT = r"(?:minutes?|mins?|hours?|hrs?|days?)"
TIME_PROMISE_RE = re.compile(
    rf"\bETA\b|\bestimated time\b|\bwithin (?:the next )?(?:\d+|an?|one|two|few) {_UNIT}"
    rf"|\bin (?:the next )?(?:\d+|an?|one|two|few) {_UNIT}"
    # The gap is bounded, so a long sentence costs at most 80 steps per "will be fixed" (an unbounded [^.]* was
    # quadratic: 56 KB took 5 s). A clock time alone is no promise ("we rolled it back at 10:55"); "by 11:00" is.
    r"|\b(?:will|should|'ll) be (?:fixed|resolved|back|restored|up)\b[^.]{0,80}?\b(?:by|in|within|shortly|soon|today)\b"
    r"|\bby \d{1,2}(?::\d{2})?\s*(?:am|pm|utc)?\b",
    re.IGNORECASE,
)
BLAME_RE = re.compile(
    r"\b(?:third[- ]party|our (?:vendor|provider|supplier)|(?:vendor|provider|supplier)'s fault|user error"
    r"|your fault|not our fault|misconfigured by (?:you|customers)|customers who failed)\b",
    re.IGNORECASE,
)
THANKS_RE = re.compile(r"\bthank", re.IGNORECASE)
HYPE_COMPOUND = 0.8


ERROR, WARNING = "error", "warning"


@dataclass(frozen=True)
class LintWarning:
    """One finding. level is "error" (must be fixed before approval) or "warning" (advice, never blocks)."""

    code: str
    message: str
    field: str | None = None
    level: str = WARNING

    @property
    def is_error(self) -> bool:
        return self.level == ERROR


class LintResults(list):
    """lint_message's list of findings, errors first, with each kind to hand for templates."""

    @property
    def errors(self) -> list[LintWarning]:
        return [finding for finding in self if finding.is_error]

    @property
    def warnings(self) -> list[LintWarning]:
        return [finding for finding in self if not finding.is_error]


_UNKNOWN = object()


def approval_blockers(message: Message) -> list[str]:
    """Why message cannot be approved or published yet, one plain sentence per problem; empty when it can.

    The problems are the text's (guidance left in, placeholders not filled in), not who may approve or when.
    """
    return [finding.message for finding in blocking_problems(message)]


def blocking_problems(message: Message) -> list[LintWarning]:
    """The lint errors: per part, in the order headline, explain, acknowledge, resolve, study."""
    problems = []
    for field, value in message.parts().items():
        value = as_checked(value)
        problems += _guidance_left(field, value)
        problems += _unfilled_placeholders(field, value)
        problems += _placeholder_lookalikes(field, value)
    return problems


# Characters that hide between brackets or braces without showing: "[\u200b[…]]" must count as "[[…]]".
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))
_BRACED_RE = re.compile(r"\{[^{}\n]{1,60}\}")


def as_checked(text: str) -> str:
    """The text as the checks read it: compatibility forms folded (fullwidth ［［ and ｛ are [[ and {) and invisible
    characters dropped, so guidance or a placeholder cannot slip past in disguise."""
    return unicodedata.normalize("NFKC", text or "").translate(_INVISIBLE)


def _placeholder_lookalikes(field: str, value: str) -> list[LintWarning]:
    """Braces around text that is not a placeholder ("{incident title}", "{ status }"): a placeholder mistyped,
    which would go out as written."""
    label = FIELD_LABELS[field]
    found = sorted({match for match in _BRACED_RE.findall(value) if not PLACEHOLDER_RE.fullmatch(match)})
    return [LintWarning("placeholder", f"{label} has “{_shorten(match)}” in braces, like a placeholder that is not "
                                       "one: write the text in its place.", field, ERROR) for match in found]


def lint_message(message: Message, quiet_until=_UNKNOWN) -> LintResults:
    """Errors first, then warnings. quiet_until: pass quiet_period_until() when linting many messages, so it is
    looked up once."""
    text = "\n".join(message.parts().values())
    if quiet_until is _UNKNOWN:
        quiet_until = quiet_period_until()
    return LintResults([
        *blocking_problems(message),
        *_missing_parts(message),
        *_time_promises(message),
        *_jargon(message),
        *_x_length(message),
        *_social_lengths(message),
        *_tone(text),
        *_missing_thanks(message, text),
        *_quiet_period(message, quiet_until),
        *_stale(message),
    ])


def _guidance_left(field: str, value: str) -> list[LintWarning]:
    """Each [[guidance]] still in a part, quoted; and a "[[" or "]]" left over from guidance half deleted."""
    label = FIELD_LABELS[field]
    problems = [
        LintWarning(
            "guidance",
            f"{label} still has the template's guidance “{_shorten(snippet)}”: replace it with what customers "
            "should read, or delete it.",
            field,
            ERROR,
        )
        for snippet in guidance_in(value)
    ]
    if has_stray_guidance_mark(value):
        problems.append(LintWarning(
            "guidance_mark", f"{label} has a “[[” or “]]” left over from guidance: finish the edit or remove it.",
            field, ERROR,
        ))
    return problems


def _unfilled_placeholders(field: str, value: str) -> list[LintWarning]:
    """Each {placeholder} left in a part, once, in name order: a message's placeholders are filled when it is
    made from a template, so one left in the text would go out as written."""
    label = FIELD_LABELS[field]
    problems = []
    for name in sorted(set(PLACEHOLDER_RE.findall(value)) - SEND_TIME_PLACEHOLDERS):
        if name in PLACEHOLDERS:
            reason = f"write {PLACEHOLDERS[name]} in its place"
        else:
            reason = "it is not a placeholder EARS knows; write the text in its place"
        problems.append(LintWarning(
            "placeholder", f"{label} has the placeholder {{{name}}}, which is not filled in: {reason}.", field, ERROR,
        ))
    return problems


def _shorten(text: str, limit: int = QUOTE_LENGTH) -> str:
    """text cut at a word to at most limit characters, with an ellipsis when cut."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut:
        cut = cut[: cut.rfind(" ")]
    return cut.rstrip(" ,;:.") + "…"


def _missing_parts(message: Message) -> list[LintWarning]:
    """The EARS parts the message's phase needs that are empty."""
    return [
        LintWarning(
            "missing_part",
            f"{PART_LABELS[part]} is empty; {with_article(message.get_phase_display().lower())} should say it.",
            part,
        )
        for part in REQUIRED_PARTS[message.phase]
        if not getattr(message, part).strip()
    ]


def _time_promises(message: Message) -> list[LintWarning]:
    """A promised time in an initial message or an update: before the fix is confirmed it may not hold."""
    if message.phase not in (MessagePhase.INITIAL, MessagePhase.UPDATE):
        return []
    warnings = []
    for field, value in message.parts().items():
        promise = _time_promise(value)
        if promise:
            warnings.append(LintWarning(
                "time_promise",
                f"“{promise}” promises a time before the fix is confirmed; promise the next update instead.",
                field,
            ))
    return warnings


def _jargon(message: Message) -> list[LintWarning]:
    """One warning per jargon word, on the first part that uses it."""
    warnings = []
    for word in settings.COMMS_JARGON:
        for field, value in message.parts().items():
            if re.search(rf"(?<!\w){re.escape(word)}(?!\w)", value, re.IGNORECASE):
                warnings.append(LintWarning("jargon", f"“{word}” is jargon; say what customers experience.", field))
                break
    return warnings


def _x_length(message: Message) -> list[LintWarning]:
    """The X post (headline — explain, then a link) over X's weighted limit."""
    if "x" not in message.channels:
        return []
    full = " ".join(f"{message.headline} — {message.explain}".split())
    length = x_weighted_length(full) + 1 + X_URL_WEIGHT
    if length <= X_LIMIT:
        return []
    return [LintWarning(
        "x_length",
        f"The X post would be {length} of {X_LIMIT} weighted characters; it will be cut after the "
        "headline and link to the status page for the rest.",
        "explain",
    )]


def _social_lengths(message: Message) -> list[LintWarning]:
    """The Mastodon and Bluesky posts (headline — explain, then a link) over each network's own limit."""
    full = " ".join(f"{message.headline} — {message.explain}".split())
    checks = []
    if "mastodon" in message.channels:
        checks.append(("Mastodon", mastodon_length(full) + 1 + MASTODON_URL_WEIGHT, mastodon_limit()))
    if "bluesky" in message.channels:
        checks.append(("Bluesky", bluesky_length(full) + 1 + bluesky_length(status_page_url()), BLUESKY_LIMIT))
    if {"facebook", "linkedin"} & set(message.channels):  # these two carry the whole message
        whole = long_post_text(message)
        if "facebook" in message.channels:
            checks.append(("Facebook", facebook_length(whole) + 2 + facebook_length(status_page_url()), FACEBOOK_LIMIT))
        if "linkedin" in message.channels:
            checks.append(("LinkedIn", linkedin_length(whole) + 2 + linkedin_length(status_page_url()), LINKEDIN_LIMIT))
    return [
        LintWarning(
            f"{network.lower()}_length",
            f"The {network} post would be {length} of {limit} characters; it will be cut after the headline and "
            "link to the status page for the rest.",
            "explain",
        )
        for network, length, limit in checks if length > limit
    ]


def _tone(text: str) -> list[LintWarning]:
    """Hype (a high VADER compound or repeated exclamation marks) and blame."""
    warnings = []
    tone = compound(text)
    if tone >= HYPE_COMPOUND or text.count("!") >= 2:
        warnings.append(LintWarning(
            "tone_hype", f"The tone reads as hype (VADER {tone:+.2f}); during an incident keep it plain and calm."
        ))
    blame = BLAME_RE.search(text)
    if blame:
        warnings.append(LintWarning(
            "tone_blame", f"“{blame.group(0)}” reads as blame; own the problem instead (VADER {tone:+.2f})."
        ))
    return warnings


def _missing_thanks(message: Message, text: str) -> list[LintWarning]:
    if message.phase == MessagePhase.RESOLUTION and not THANKS_RE.search(text):
        return [LintWarning("no_thanks", "A resolution message should thank customers for their patience.")]
    return []


def _stale(message: Message) -> list[LintWarning]:
    """Written while the incident had another status: "we are reversing it now" may be false once resolved."""
    if message.incident_id is None or not message.stale_since:
        return []
    then = IncidentStatus(message.stale_since).label.lower()
    now = message.incident.get_status_display().lower()
    return [LintWarning("stale", f"Written while the incident was {then}; it is now {now}. Check that the text "
                                 "still holds: approving or publishing it asks you to confirm.")]


def _quiet_period(message: Message, quiet_until) -> list[LintWarning]:
    """An announcement on social channels while the quiet period after a SEV1/SEV2 lasts."""
    social = {"x", "mastodon", "bluesky", "facebook", "linkedin", "webhook"}
    if message.is_announcement and social & set(message.channels) and quiet_until:
        return [LintWarning(
            "quiet_period",
            f"Quiet period after a major incident: hold announcements on social channels until {quiet_until:%Y-%m-%d}.",
        )]
    return []


def quiet_period_until():
    """The end of the quiet period, if a SEV1/SEV2 resolved within COMMS_QUIET_PERIOD_DAYS; else None."""
    days = timezone.timedelta(days=settings.COMMS_QUIET_PERIOD_DAYS)
    latest = (
        Incident.objects.filter(severity__in=[Severity.SEV1, Severity.SEV2], resolved_at__gte=timezone.now() - days)
        .order_by("-resolved_at")
        .values_list("resolved_at", flat=True)
        .first()
    )
    return latest + days if latest else None


def _time_promise(value: str) -> str | None:
    for sentence in re.split(r"(?<=[.!?])\s+|\n+", value):
        if "update" in sentence.lower():
            continue  # "next update by 14:30" is the cadence we want, not a promise about the fix
        match = TIME_PROMISE_RE.search(sentence)
        if match:
            return match.group(0).strip()
    return None


def as_dicts(warnings: list[LintWarning]) -> list[dict]:
    return [asdict(warning) for warning in warnings]



