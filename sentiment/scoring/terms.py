"""Which of many terms a text holds, and where: found through its words and with str.find, not with a pattern
compiled for each new set of terms (a compile costs 50 to 150 µs, as much as scoring a text; Python's re tries
every alternative of a pattern of the whole lexicon at every position: 15 µs a text)."""

import re

from core.patterns import any_of_these

WORD_RE = re.compile(r"\w+(?:'\w+)?")  # the words of a text, for finding which terms it may hold
# Bytes of ASCII text: those that are neither word characters (\w) nor an apostrophe become spaces (words_of).
_SPACED_OUT = bytes(code if code < 128 and (chr(code).isalnum() or chr(code) in "_'") else 32 for code in range(256))


NOT_ASCII_RE = re.compile(r"[^\x00-\x7f]")


def plain(text: str) -> bool:
    """Whether the text is ASCII, or ASCII and characters without case that are not word characters (emoji, "£",
    "—"). In such text lower() keeps every character in its place, case folding pairs a letter only with its ASCII
    capital (not with ſ, ı, K or İ), and a character outside ASCII parts words as a space does."""
    return text.isascii() or all(char.lower() == char == char.upper() and not (char.isalnum() or char == "_")
                                 for char in set(NOT_ASCII_RE.findall(text)))


def caseless_outside_ascii(term: str) -> bool:
    return term.isascii() or all(char.lower() == char == char.upper() for char in term if not char.isascii())


def words_of(lowered: str) -> list[str]:
    """WORD_RE.findall(lowered): in plain text, the runs of word characters (and apostrophes) between the others,
    apart from the few with an apostrophe that WORD_RE reads (a fifth cheaper than the pattern)."""
    if not lowered.isascii():
        if not plain(lowered):
            return WORD_RE.findall(lowered)
        lowered = NOT_ASCII_RE.sub(" ", lowered)
    runs = lowered.encode("ascii").translate(_SPACED_OUT).decode("ascii").split()  # bytes: 3 times as fast as str
    if "'" not in lowered:
        return runs
    return [word for run in runs for word in (WORD_RE.findall(run) if "'" in run else (run,))]


class TermIndex:
    """A term of plain words is looked up among a text's words (a phrase under its first two) and confirmed as
    " term " in the text's words joined by spaces; a term with other characters (emoji, "10/10", "auto-renewed") is
    tested as a substring and confirmed where it stands."""

    def __init__(self, terms):
        single: set[str] = set()
        self.phrases: dict[str, dict[str, list[tuple[str, str]]]] = {}  # "a" → "b" → [(" a b c ", "a b c")]
        self.others: list[str] = []
        for term in terms:
            words = WORD_RE.findall(term)
            if words and " ".join(words) == term:
                if len(words) > 1:
                    self.phrases.setdefault(words[0], {}).setdefault(words[1], []).append((f" {term} ", term))
                else:
                    single.add(term)
            else:
                self.others.append(term)
        self.single = frozenset(single)
        self.first_words = frozenset(self.phrases)
        self.other_set = frozenset(self.others)
        # Each by a character of it that is not a word character (it has one): a substring test of the text for
        # that character rules out most of them at once. ASCII ones apart: all an ASCII text may hold.
        self.others_by_char: dict[str, list[str]] = {}
        self.ascii_others_by_char: dict[str, list[str]] = {}
        for term in self.others:
            char = next((char for char in term if not (char.isalnum() or char == "_")), term[0])
            self.others_by_char.setdefault(char, []).append(term)
            if term.isascii():
                self.ascii_others_by_char.setdefault(char, []).append(term)

    def candidates(self, lowered: str, words: set[str], spaced: str | None = None,
                   second_words: set[str] | None = None) -> tuple[str, ...]:
        """The terms in the text (those of plain words for certain, the others possibly). spaced: _spaced of its
        WORD_RE words, when known already; second_words: the words a phrase's second word is looked up in, when
        spaced is not of the words (it never holds a phrase whose second word it does not hold)."""
        if spaced is None:
            spaced = _spaced(words_of(lowered))
        found = [*self.single.intersection(words)]
        for first in self.first_words.intersection(words):
            by_second = self.phrases[first]
            for second in by_second.keys() & (words if second_words is None else second_words):
                for padded, term in by_second[second]:
                    if padded in spaced:
                        found.append(term)
        for char, others in (self.ascii_others_by_char if lowered.isascii() else self.others_by_char).items():
            if char in lowered:
                found += [term for term in others if term in lowered]
        found.sort()
        return tuple(found)

    def found(self, candidates: tuple[str, ...], lowered: str, spaced: str) -> list[str]:
        """Of the candidates in a text (some or all of those candidates() gave), those there in the order found; a
        term inside a longer one found is left out, as a pattern of them all would match the longer one."""
        if not candidates:
            return []
        if self.others:
            others = tuple(term for term in candidates if term in self.other_set)
            if others:
                confirmed = {lowered[start:end].lower() for start, end in spans(others, lowered, lowered)}
                candidates = tuple(term for term in candidates if term not in others or term in confirmed)
        # Only a term with a space can hold another as a whole (" a " in " b " only when a is b otherwise).
        spaced_ones = [f" {term} " for term in candidates if " " in term] if len(candidates) > 1 else ()
        if spaced_ones:
            found = []
            for term in candidates:
                padded = f" {term} "
                if not any(padded in longer and padded != longer for longer in spaced_ones):
                    found.append(term)
        else:
            found = list(candidates)
        if len(found) > 1:
            found.sort(key=lambda term: lowered.find(term) if term in self.other_set else spaced.find(f" {term} "))
        return found


def _spaced(words: list[str]) -> str:
    return " " + " ".join(words) + " "


def spans(terms, text: str, lowered: str, pattern: re.Pattern | None = None) -> list[tuple[int, int]]:
    """Where any_of(terms) matches in the text, as (start, end): the spans of its finditer(text). lowered:
    text.lower(); pattern: any_of(terms), when it is compiled already.

    In plain text a term matches where it stands as a whole word in lowered, so the terms are found with str.find:
    at each place the longest term there, then on after its end, as the pattern (longest first) does. A term with a
    letter outside ASCII may match there through case folding ("ſtill" matches "still"): it is left to the pattern."""
    if not plain(text) or not all(caseless_outside_ascii(term) for term in terms):
        pattern = pattern or any_of_these(tuple(sorted(set(terms))))
        return [match.span() for match in pattern.finditer(text)] if pattern is not None else []
    ends: dict[int, int] = {}  # start → the end of the longest term there
    for term in terms:
        for start, end in _whole_word_places(term, lowered):
            if end > ends.get(start, 0):
                ends[start] = end
    found, reached = [], 0
    for start in sorted(ends):
        if start >= reached:
            reached = ends[start]
            found.append((start, reached))
    return found


def holds(terms, lowered: str) -> bool:
    """any_of(terms).search(lowered) is not None (lowered: a lower-case text)."""
    if not (lowered.isascii() or plain(lowered)) or not all(caseless_outside_ascii(term) for term in terms):
        return bool(spans(terms, lowered, lowered))
    return any(next(_whole_word_places(term, lowered), None) for term in terms)


def _whole_word_places(term: str, lowered: str):
    """(start, end) of each place in lowered where term (lower-cased) stands as a whole word, left to right."""
    if not term:
        return
    term = term.lower()
    start = lowered.find(term)
    while start >= 0:
        end = start + len(term)
        if _alone(lowered, start, end):
            yield start, end
        start = lowered.find(term, start + 1)


def _alone(text: str, start: int, end: int) -> bool:
    """Whether text[start:end] stands between characters that are not word characters (\\w)."""
    return ((start == 0 or not (text[start - 1].isalnum() or text[start - 1] == "_"))
            and (end == len(text) or not (text[end].isalnum() or text[end] == "_")))


def replaced(text: str, found: list[tuple[int, int]], replacement) -> str:
    """The text with each span replaced: by replacement, or by replacement(text, start, end) when it is callable."""
    pieces, reached = [], 0
    for start, end in found:
        pieces += (text[reached:start], replacement(text, start, end) if callable(replacement) else replacement)
        reached = end
    pieces.append(text[reached:])
    return "".join(pieces)
