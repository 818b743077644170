"""The layer's patterns and word lookups: which terms and word lists a text holds, found through its words."""

import re
from functools import lru_cache
from typing import NamedTuple

from core.patterns import any_of, any_of_these
from sentiment.lexicon import (
    GRATITUDE,
    INFO_OPENERS,
    NOT_RESOLVED,
    PRAISE,
    REMEDY,
    RESOLVED,
)

SENTENCE_RE = re.compile(r"(?<=[.!?])\s+|\n+")
WORD_RE = re.compile(r"\w+(?:'\w+)?")  # the words of a text, for finding which terms it may hold
HANDLE_RE = re.compile(r"(?<!\w)@(\w+)")  # an account's handle: "@united"
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
# "why" asking it (at the start, after a name or before a verb: "why does the search never work", "Acme, why"),
# not "I don't get why people …" or "this is why".
WHY_RE = re.compile(r"(?:^|[.!?,:]\s*|ears_neutral\s+|@\w+\s+)why\b|\bwhy\s*[.?!]*$|\bwhy (?:is|are|was|were|does|do|"
                    r"did|has|have|would|will|won't|wont|can't|cant|can|should|on earth|the hell|tf)\b")
# What a text may start with before its first word: names, handles, a greeting ("@acme hi, can I …").
LEADING_ADDRESS_RE = re.compile(r"^(?:(?:ears_neutral|@\w+|hi|hello|hey|q:|question:)[\s,:!.]*)*")
CALM_OPENERS = (*INFO_OPENERS, "is the ", "is it ", "is my ", "are the ", "is this ", "how does", "how do",
                "what's the", "what is the", "anyone else", "anyone know", "does anyone know")


def split_sentences(text: str) -> list[str]:
    return [sentence for sentence in SENTENCE_RE.split(text.strip()) if sentence.strip()] or [text]


def _token(term: str) -> str:
    """The one word VADER sees for a phrase or a term with punctuation; an emoji by its code points."""
    word = re.sub(r"\W+", "_", term).strip("_")
    return "ears_" + (word or "_".join(f"{ord(char):x}" for char in term))


class TermIndex:
    """Which of many terms a text holds, found through its words rather than a pattern of them all (Python's re
    tries every alternative at every position: 15 µs a text for the lexicon). A term of plain words is looked up
    under its first word and confirmed as " term " in the text's words joined by spaces; a term with other
    characters (emoji, "10/10", "auto-renewed") is tested as a substring and confirmed by a pattern."""

    def __init__(self, terms):
        self.by_word: dict[str, list[str]] = {}
        self.phrases_by_word: dict[str, list[tuple[str, str]]] = {}  # first word → (" phrase ", phrase)
        self.others: list[str] = []
        for term in terms:
            words = WORD_RE.findall(term)
            if words and " ".join(words) == term:
                self.by_word.setdefault(words[0], []).append(term)
                if len(words) > 1:
                    self.phrases_by_word.setdefault(words[0], []).append((f" {term} ", term))
            else:
                self.others.append(term)
        self.single = frozenset(term for terms in self.by_word.values() for term in terms if " " not in term)
        self.first_words = frozenset(self.phrases_by_word)
        self.other_set = frozenset(self.others)

    def candidates(self, lowered: str, words: set[str], spaced: str | None = None) -> tuple[str, ...]:
        """The terms in the text (those of plain words for certain, the others possibly)."""
        if spaced is None:
            spaced = _spaced(WORD_RE.findall(lowered))
        found = list(self.single.intersection(words))
        found += [term for word in self.first_words.intersection(words) for padded, term in self.phrases_by_word[word]
                  if padded in spaced]
        found += [term for term in self.others if term in lowered]
        return tuple(sorted(found))

    def found(self, lowered: str, words: set[str], spaced: str) -> tuple[re.Pattern | None, list[str]]:
        """A pattern of the terms in the text and the terms in the order found (a term inside a longer one found
        is left out, as the pattern's longest match would), or (None, [])."""
        candidates = self.candidates(lowered, words, spaced)
        if not candidates:
            return None, []
        if self.others:
            others = tuple(term for term in candidates if term in self.other_set)
            if others:
                confirmed = {match.lower() for match in any_of_these(others).findall(lowered)}
                candidates = tuple(term for term in candidates if term not in others or term in confirmed)
        if len(candidates) > 1:
            padded = {term: f" {term} " for term in candidates}
            found = [term for term in candidates
                     if not any(term != longer and padded[term] in padded[longer] for longer in candidates)]
        else:
            found = list(candidates)
        if not found:
            return None, []
        if len(found) > 1:
            found.sort(key=lambda term: lowered.find(term) if term in self.other_set else spaced.find(f" {term} "))
        return any_of_these(tuple(sorted(found))), found


def _spaced(words: list[str]) -> str:
    return " " + " ".join(words) + " "



class WordList(NamedTuple):
    single: frozenset[str]  # found among a text's words: no pattern needed
    phrases: tuple[str, ...]  # tested as substrings, then confirmed by the pattern
    phrase_pattern: re.Pattern | None
    pattern: re.Pattern  # every entry, for replacing them


@lru_cache(maxsize=64)
def _word_list(entries: tuple[str, ...]) -> WordList:
    lowered = [entry.lower() for entry in entries]
    single = frozenset(entry for entry in lowered if WORD_RE.fullmatch(entry))
    phrases = tuple(entry for entry in lowered if entry not in single)
    return WordList(single, phrases, any_of(phrases) if phrases else None, any_of(lowered))


def _pattern(entries: tuple[str, ...]) -> re.Pattern:
    return _word_list(entries).pattern


def _praise_first(lowered: str, failure: re.Pattern | None) -> bool:
    """Praise before the failure it mocks ("thanks for losing my order", "love how my invoices vanished") or a
    story without a failure word; praise after a failure is often praise ("lost my bag … love him")."""
    first_failure = failure.search(lowered) if failure is not None else None
    first_praise = _word_list(PRAISE).pattern.search(lowered)
    return first_praise is not None and (first_failure is None or first_praise.start() < first_failure.start())


_FILLERS = frozenset(("just", "so", "really", "real", "job", "one", "very", "well", "done", "a", "lot", "wow", "oh",
                      "much", "thanks", "guys", "you", "again", "work", "service"))
LAST_CLAUSE_RE = re.compile(r"[,;:\u2013\u2014]|\.\.\.|\s-\s")


def _praise_last(lowered: str) -> bool:
    """Praise alone in the last clause of a sentence about a failure: "delayed 3 hours, great", "lost my bag again,
    thanks a lot" (a clause of at most three words, all of praise or its fillers)."""
    parts = LAST_CLAUSE_RE.split(lowered)
    if len(parts) < 2:
        return False
    words = WORD_RE.findall(parts[-1])
    single = _word_list(PRAISE).single
    return 0 < len(words) <= 3 and any(word in single for word in words) and all(
        word in single or word in _FILLERS for word in words)


def _settled(lowered: str, reported: bool, words: set[str]) -> str | None:
    """Why a sentence naming a failure is no complaint, or None: it says the failure was put right (or thanks for
    a remedy), it asks for information, or the text reports news without anyone saying it happened to them."""
    if (_any_word(lowered, GRATITUDE, words) and _any_word(lowered, REMEDY, words)
            and words.isdisjoint(("still", "yet", "never"))):
        return "put right"
    if _any_word(lowered, RESOLVED, words) and not _negated(lowered, words) and not lowered.rstrip().endswith("?"):
        return "put right"
    stripped = LEADING_ADDRESS_RE.sub("", lowered.lstrip()).strip()  # "@acme hi, can I …" asks as "can I …" does
    if (stripped.endswith("?") and not stripped.endswith("??") and stripped.startswith(INFO_OPENERS)
            and words.isdisjoint(("still", "again", "yet", "why"))):
        return "asked about"
    return "reported" if reported else None


def _negated(lowered: str, words: set[str]) -> bool:
    return "n't" in lowered or not words.isdisjoint(_word_list(NOT_RESOLVED).single)


def _words(lowered: str, entries: tuple[str, ...], words: set[str] | None = None) -> list[str]:
    """The entries in the text, as whole words. words: the text's words when they are known already."""
    listed = _word_list(entries)
    found = set(listed.single.intersection(words if words is not None else WORD_RE.findall(lowered)))
    if listed.phrases and any(phrase in lowered for phrase in listed.phrases):
        found.update(match.lower() for match in listed.phrase_pattern.findall(lowered))
    return sorted(found)


def _any_word(lowered: str, entries: tuple[str, ...], words: set[str] | None = None) -> bool:
    listed = _word_list(entries)
    if not listed.single.isdisjoint(words if words is not None else WORD_RE.findall(lowered)):
        return True
    return (listed.phrase_pattern is not None and any(phrase in lowered for phrase in listed.phrases)
            and listed.phrase_pattern.search(lowered) is not None)
