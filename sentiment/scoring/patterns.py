"""The layer's patterns and word lookups: which terms and word lists a text holds, found through its words.

Cost: a pattern that starts with a look-behind or \b makes the engine try it at every position of a text; those run
on every text are written to start with the character the engine can skip to (SENTENCE_RE, HANDLE_RE), run without
IGNORECASE on lower-case plain text (ascii_twin) or after a substring test every match passes (REPEATED_HINT_RE).
tests/sentiment/test_scoring_shortcuts.py holds each to the pattern it stands for."""

import re
from functools import lru_cache
from typing import NamedTuple

from core.patterns import any_of
from sentiment.lexicon import (
    COURTESY,
    FIRST_PERSON,
    GRATITUDE,
    INFO_OPENERS,
    NEWS,
    NOT_A_COMPLAINT_WHY,
    NOT_RESOLVED,
    OWED,
    PRAISE,
    QUESTION_OPENERS,
    REMEDY,
    REPORTING,
    RESOLVED,
    RHETORICAL,
    WAIT_MARKERS,
    WEAK_QUESTION_OPENERS,
)
from sentiment.scoring.terms import WORD_RE, caseless_outside_ascii, plain, replaced, spans, words_of

# Sentences end at white space after ".", "!" or "?", or at line breaks: the same splits as (?<=[.!?])\s+|\n+, written
# to start with a white-space character, so that the regular expression engine skips to the spaces of a text rather
# than try a look-behind at every position (2.5 times faster).
SENTENCE_RE = re.compile(r"\s(?:(?<=[.!?]\s)\s*|(?<=\n)\n*)")
# An account's handle: "@united". As (?<!\w)@(\w+), written to start with "@": the engine skips to each "@" rather
# than try a look-behind at every position (ten times faster).
HANDLE_RE = re.compile(r"@(?<!\w@)(\w+)")
NEXT_WORD_RE = re.compile(r"\W*(\w+)")  # the word after a match
NEUTRAL_TOKEN = "ears_neutral"  # not in any lexicon: VADER reads it as a plain word
SARCASM_TOKEN = "ears_sarcasm"
QUESTION_TOKEN = "ears_complaint_question"
WAITING_TOKEN = "ears_time_passing"
REPEATED_TOKEN = "ears_again_and_again"
STRONG_FAILURE = -1.5  # a failure this bad (or a story of one) turns praise beside it into sarcasm
SEPARATION = " ".join([NEUTRAL_TOKEN] * 3)  # VADER looks three words back for a negation
SHORT_PRAISE_WORDS = 5  # "lovely." "Cool cool cool." "great, thanks": a sentence of praise alone, after a failure

# Time passing, told as a story ("been 5 days", "2 hours later", "since March"): all linear (no nested repeats).
_COUNT = r"(?:\d+(?:\.\d+)?|an?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|several|many|few)"
_UNIT = r"(?:mins?|minutes?|hrs?|hours?|h|days?|weeks?|wks?|months?)"  # years: loyalty ("been with them 8 years")
_DAY = r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|yesterday|last \w+|january|february|march|april|may|june|july|august|september|october|november|december)"  # noqa: E501
TIME_PASSING_RE = re.compile(
    rf"\b{_COUNT} ?-?{_UNIT} (?:and counting|running|in a row|delay|delayed|late|wait|queue|on hold|waiting|on the "
    rf"(?:tarmac|phone|line|runway)|in (?:line|the queue)|at the gate|stuck)\b"
    rf"|\b(?:delayed|late|waiting|waited|stuck|sat|sitting|on hold|on the (?:phone|line|tarmac))(?: for| by| over|"
    rf" on the tarmac for)? "
    rf"(?:over |almost |nearly |about )?{_COUNT} ?{_UNIT}\b"
    rf"|\bbeen (?:over |almost |nearly |about )?{_COUNT} ?{_UNIT}\b|\bit'?s been \d+\b"
    rf"|\b(?:\d+(?:st|nd|rd|th)|second|third|fourth|fifth) (?:day|week|month) (?:running|in a row)\b", re.IGNORECASE)
# … and, with a sign that something has not happened, a duration or a start alone ("for 12 days", "since March").
WAITED_RE = re.compile(rf"\b(?:for|over) (?:the (?:past|last) )?{_COUNT} ?{_UNIT}\b|\bsince {_DAY}"
                       rf"|\b{_COUNT} ?{_UNIT} (?:ago|later|after)\b"
                       r"|\b(?:all|whole|entire) (?:day|week|weekend|month|morning|night)\b", re.IGNORECASE)
SHORT_WAIT_RE = re.compile(r"\b(?:only|just|under|than)\s+$")  # before a wait: "only waited 5 minutes"
# Cheap tests first: the patterns above cost 15 µs a text each, a look at the text's words well under one.
TIME_WORDS = frozenset(("min", "mins", "minute", "minutes", "hr", "hrs", "hour", "hours", "h", "day", "days", "week",
                        "weeks", "wk", "wks", "month", "months", "since", "weekend", "morning", "night"))
TIME_PASSING_WORDS = frozenset(("been", "counting", "running", "row", "delay", "delayed", "late", "wait", "queue",
                                "hold", "waiting", "waited", "tarmac", "phone", "line", "runway", "gate", "stuck",
                                "sat", "sitting"))
REPEAT_WORDS = frozenset(("times", "time", "attempt", "call", "email", "delivery", "ticket", "chat"))
# The same thing again and again ("called 6 times", "uploaded it FIVE times", "4th delivery attempt").
REPEATED_RE = re.compile(r"\b(?:[2-9]|\d\d+|two|three|four|five|six|seven|eight|nine|ten|multiple|several|many) "
                         r"times\b|\b(?:[2-9](?:nd|rd|th)|\d+th|second|fourth|fifth) (?:time|attempt|call|email|"
                         r"delivery attempt|ticket|chat)\b", re.IGNORECASE)
# What every match of REPEATED_RE in lower-case ASCII text holds: " times", or an ordinal's ending and a noun (a fifth
# of its cost, and rarely there: "ticket" alone, in every text that quotes one, no longer runs the pattern).
REPEATED_HINT_RE = re.compile(r" times|(?:nd|rd|th) (?:time|attempt|call|email|delivery attempt|ticket|chat)")
# "why" asking it (at the start, after a name or before a verb: "why does the search never work", "Acme, why"),
# not "I don't get why people …" or "this is why".
WHY_RE = re.compile(r"(?:^|[.!?,:]\s*|ears_neutral\s+|@\w+\s+)why\b|\bwhy\s*[.?!]*$|\bwhy (?:is|are|was|were|does|do|"
                    r"did|has|have|would|will|won't|wont|can't|cant|can|should|on earth|the hell|tf)\b")
# What a text may start with before its first word: names, handles, a greeting ("@acme hi, can I …").
LEADING_ADDRESS_RE = re.compile(r"^(?:(?:ears_neutral|@\w+|hi|hello|hey|q:|question:)[\s,:!.]*)*")
CALM_OPENERS = (*INFO_OPENERS, "is the ", "is it ", "is my ", "are the ", "is this ", "how does", "how do",
                "what's the", "what is the", "anyone else", "anyone know", "does anyone know")


def ascii_twin(pattern: re.Pattern) -> re.Pattern:
    """The pattern for lower-case plain text (terms.plain): without IGNORECASE when the pattern itself is lower-case
    ASCII (it then matches there exactly what the case-insensitive one matches, at up to half the cost: case folding
    pairs an ASCII letter only with its capital and with ſ, ı or K, which plain text does not hold); otherwise the
    pattern."""
    source = pattern.pattern
    if pattern.flags & re.IGNORECASE and source.isascii() and source == source.lower():
        return re.compile(source, pattern.flags & ~re.IGNORECASE)
    return pattern


def without_leading_address(lowered: str) -> str:
    """LEADING_ADDRESS_RE.sub("", lowered): the pattern matches once, at the start."""
    return lowered[LEADING_ADDRESS_RE.match(lowered).end():]


TIME_PASSING_ASCII, WAITED_ASCII, REPEATED_ASCII = map(ascii_twin, (TIME_PASSING_RE, WAITED_RE, REPEATED_RE))


def split_sentences(text: str) -> list[str]:
    return [sentence for sentence in SENTENCE_RE.split(text.strip()) if sentence.strip()] or [text]


def _token(term: str) -> str:
    """The one word VADER sees for a phrase or a term with punctuation; an emoji by its code points."""
    word = re.sub(r"\W+", "_", term).strip("_")
    return "ears_" + (word or "_".join(f"{ord(char):x}" for char in term))


class WordList(NamedTuple):
    lowered: tuple[str, ...]  # the entries, lower case
    caseless: bool  # no entry has a letter outside ASCII (which may match through case folding: terms.spans)
    single: frozenset[str]  # found among a text's words: no pattern needed
    phrases: tuple[str, ...]  # tested as substrings, then confirmed by the pattern
    phrase_pattern: re.Pattern | None
    pattern: re.Pattern  # every entry, for replacing them
    # The phrases of plain words by their first word, and the others (_may_hold_phrase)
    phrases_by_first: dict[str, tuple[str, ...]]
    first_words: frozenset[str]
    other_phrases: tuple[str, ...]


@lru_cache(maxsize=64)
def _word_list(entries: tuple[str, ...]) -> WordList:
    lowered = [entry.lower() for entry in entries]
    single = frozenset(entry for entry in lowered if WORD_RE.fullmatch(entry))
    phrases = tuple(entry for entry in lowered if entry not in single)
    caseless = all(caseless_outside_ascii(entry) for entry in lowered)
    by_first: dict[str, tuple[str, ...]] = {}
    others: tuple[str, ...] = ()
    for phrase in phrases:
        words = WORD_RE.findall(phrase)
        if "'" not in phrase and words and " ".join(words) == phrase:
            by_first[words[0]] = (*by_first.get(words[0], ()), phrase)
        else:
            others += (phrase,)
    return WordList(tuple(lowered), caseless, single, phrases, any_of(phrases) if phrases else None, any_of(lowered),
                    by_first, frozenset(by_first), others)


def _may_hold_phrase(lowered: str, listed: WordList, words) -> bool:
    """any(phrase in lowered for phrase in listed.phrases), or False when that holds only for phrases that its
    phrase_pattern cannot find: in plain text (terms.plain) without an apostrophe, a phrase of plain words stands as
    a whole only where its first word is one of the text's words (words: its WORD_RE words)."""
    if "'" in lowered or not (lowered.isascii() or plain(lowered)):
        return any(phrase in lowered for phrase in listed.phrases)
    for first in listed.first_words.intersection(words):
        for phrase in listed.phrases_by_first[first]:
            if phrase in lowered:
                return True
    for phrase in listed.other_phrases:
        if phrase in lowered:
            return True
    return False


def _entry_spans(listed: WordList, text: str, lowered: str, words: set[str] | None = None) -> list[tuple[int, int]]:
    """Where listed.pattern matches in the text (lowered: text.lower()): in plain text, found from the entries that
    are substrings of it. words: the WORD_RE words of the text, or of a text it was made from by joining words into
    tokens (a superset of its own), when known: in plain text without an apostrophe an entry of one word stands there
    as a whole only as one of them, so only those are looked for."""
    if listed.caseless and plain(text):
        if words is not None and "'" not in lowered:
            present = [*listed.single.intersection(words), *(entry for entry in listed.phrases if entry in lowered)]
        else:
            present = [entry for entry in listed.lowered if entry in lowered]
        return spans(present, text, lowered)
    return spans(listed.lowered, text, lowered, listed.pattern)


# The layer's word lists, prepared once: looking one up by its tuple would hash the whole tuple at every call.
(PRAISE_LIST, COURTESY_LIST, GRATITUDE_LIST, REMEDY_LIST, RESOLVED_LIST, NOT_RESOLVED_LIST, REPORTING_LIST,
 FIRST_PERSON_LIST, NEWS_LIST, RHETORICAL_LIST, NOT_A_COMPLAINT_WHY_LIST, QUESTION_OPENERS_LIST, OWED_LIST,
 WEAK_QUESTION_OPENERS_LIST, WAIT_MARKERS_LIST) = map(_word_list, (
    PRAISE, COURTESY, GRATITUDE, REMEDY, RESOLVED, NOT_RESOLVED, REPORTING, FIRST_PERSON, NEWS, RHETORICAL,
    NOT_A_COMPLAINT_WHY, QUESTION_OPENERS, ("still", "again", *OWED), WEAK_QUESTION_OPENERS, WAIT_MARKERS))


def _praise_first(lowered: str, found: list[str], words: set[str] | None = None) -> bool:
    """Praise before the failure it mocks ("thanks for losing my order", "love how my invoices vanished") or a
    story without a failure word; praise after a failure is often praise ("lost my bag … love him"). found: the
    failure terms of the text."""
    first_praise = _entry_spans(PRAISE_LIST, lowered, lowered, words)
    if not first_praise:
        return False
    first_failure = spans(found, lowered, lowered) if found else None
    return not first_failure or first_praise[0][0] < first_failure[0][0]


def _replace_entries(listed: WordList, replacement: str, text: str, words: set[str] | None = None) -> str:
    """listed.pattern.sub(replacement, text); words as for _entry_spans."""
    return replaced(text, _entry_spans(listed, text, text.lower(), words), replacement)


def _repeated(lowered: str, plain_text: bool) -> re.Match | None:
    """REPEATED_RE.search(lowered); plain_text: whether it is plain (terms.plain)."""
    if plain_text:
        hinted = ("times" in lowered or "nd " in lowered or "rd " in lowered or "th " in lowered) and (
            REPEATED_HINT_RE.search(lowered))
        return REPEATED_ASCII.search(lowered) if hinted else None
    return REPEATED_RE.search(lowered)


_FILLERS = frozenset(("just", "so", "really", "real", "job", "one", "very", "well", "done", "a", "lot", "wow", "oh",
                      "much", "thanks", "guys", "you", "again", "work", "service"))
LAST_CLAUSE_RE = re.compile(r"[,;:\u2013\u2014]|\.\.\.|\s-\s")


def _praise_last(lowered: str) -> bool:
    """Praise alone in the last clause of a sentence about a failure: "delayed 3 hours, great", "lost my bag again,
    thanks a lot" (a clause of at most three words, all of praise or its fillers)."""
    parts = LAST_CLAUSE_RE.split(lowered)
    if len(parts) < 2:
        return False
    words = words_of(parts[-1])
    single = PRAISE_LIST.single
    return 0 < len(words) <= 3 and any(word in single for word in words) and all(
        word in single or word in _FILLERS for word in words)


def _settled(lowered: str, reported: bool, words: set[str]) -> str | None:
    """Why a sentence naming a failure is no complaint, or None: it says the failure was put right (or thanks for
    a remedy), it asks for information, or the text reports news without anyone saying it happened to them."""
    if (_any_word(lowered, GRATITUDE_LIST, words) and _any_word(lowered, REMEDY_LIST, words)
            and words.isdisjoint(("still", "yet", "never"))):
        return "put right"
    if _any_word(lowered, RESOLVED_LIST, words) and not _negated(lowered, words) and not lowered.rstrip().endswith("?"):
        return "put right"
    if "?" in lowered:  # a question: the rest costs more than the test
        stripped = without_leading_address(lowered.lstrip()).strip()  # "@acme hi, can I …" asks as "can I …" does
        if (stripped.endswith("?") and not stripped.endswith("??") and stripped.startswith(INFO_OPENERS)
                and words.isdisjoint(("still", "again", "yet", "why"))):
            return "asked about"
    return "reported" if reported else None


# "is the app down?", "is X down or is it just me?": a customer asking whether the service is down, once, calmly.
STATUS_QUESTION_RE = re.compile(r"(?:^|[.!?]\s+|@\w+\s+)(?:is|are)\s+(?:[\w'@.-]+\s+){0,4}?(?:down|offline|out)"
                                r"(?:\s+(?:for|in|right now|again|or is it just me|or what)\b[^.!?]*)?\?")
STATUS_PRESSURE = frozenset(("still", "again", "yet", "why", "hours", "days", "week", "weeks", "nobody", "never"))


def _status_question(lowered: str, words: set[str], story) -> str | None:
    """Why a complaint's words are no sentiment: the text asks, once and calmly, whether the service is down ("is the
    app down? getting error 503"), which people read as neutral; not with "??", time passing, "again", "still",
    "why", or a story."""
    if story or "??" in lowered or lowered.count("?") > 1 or not STATUS_PRESSURE.isdisjoint(words):
        return None
    return "a question whether it is down" if STATUS_QUESTION_RE.search(lowered) else None


def _negated(lowered: str, words: set[str]) -> bool:
    return "n't" in lowered or not words.isdisjoint(NOT_RESOLVED_LIST.single)


def _words(lowered: str, entries: tuple[str, ...] | WordList, words: set[str] | None = None) -> list[str]:
    """The entries in the text, as whole words. words: the text's words when they are known already."""
    listed = entries if type(entries) is WordList else _word_list(entries)
    if words is None:
        words = set(words_of(lowered))
    found = listed.single.intersection(words)
    if listed.phrases and _may_hold_phrase(lowered, listed, words):
        found = found.union(match.lower() for match in listed.phrase_pattern.findall(lowered))
    return sorted(found)


def _any_word(lowered: str, entries: tuple[str, ...] | WordList, words: set[str] | None = None) -> bool:
    listed = entries if type(entries) is WordList else _word_list(entries)
    if words is None:
        words = set(words_of(lowered))
    if not listed.single.isdisjoint(words):
        return True
    return (listed.phrase_pattern is not None and _may_hold_phrase(lowered, listed, words)
            and listed.phrase_pattern.search(lowered) is not None)
