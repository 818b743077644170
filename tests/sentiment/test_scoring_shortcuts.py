"""The scoring layer's shortcuts find exactly what the patterns they stand for find: terms found with str.find
rather than a pattern compiled for them, words without WORD_RE, patterns rewritten to start with a character the
engine can skip to, and prefilters that rule a pattern out before it runs. Each is compared with the pattern on
thousands of made-up texts: capitals, apostrophes, underscores, digits, punctuation, emoji, and the letters outside
ASCII that case folding pairs with ASCII ones (ſ, ı, K, İ) and those without case (emoji, "£", "—")."""

import random
import re

import pytest

from core.patterns import any_of
from sentiment.lexicon import COURTESY, DEFAULT_LEXICON, PRAISE, REPORTING, RHETORICAL
from sentiment.scoring import patterns
from sentiment.scoring.terms import (
    NOT_ASCII_RE,
    WORD_RE,
    TermIndex,
    _spaced,
    holds,
    plain,
    replaced,
    spans,
    words_of,
)
from tests.test_linear_patterns import ADVERSARIAL

PIECES = ("still", "waiting", "on", "hold", "still waiting", "thanks", "Thanks", "THANK YOU", "love", "nice", "a", "A",
          "a a", "it", "don't", "can't", "'", "''", "_", "-", "?", "??", ".", "!", "...", ",", " ", "\n", "@", "#",
          "@acme", "10/10", "eta?", "auto-renewed", "again", "2nd", "time", "times", "3", "ticket", "per their",
          "according to", "ſ", "ſtill", "ı", "K", "İ", "é", "café", "😡", "🤬", "👏", "ears_neutral", "why", "hi",
          "£5", "—", "’", "👍")
TERMS = ("still", "waiting", "still waiting", "on hold", "hold", "a", "a a", "a a a", "nice", "thanks", "thank you",
         "eta?", "10/10", "auto-renewed", "@acme", "😡", "👏", "don't", "t", "it's", "café", "ſtill", "kelvin",
         "great 👍", "—")


def made_up(rng: random.Random, count: int) -> list[str]:
    texts = []
    for _ in range(count):
        parts = [rng.choice(PIECES) for _ in range(rng.randint(0, 10))]
        texts.append("".join(part + rng.choice((" ", " ", "", ". ", "'", "\n")) for part in parts))
    return texts


@pytest.fixture(scope="module")
def texts() -> list[str]:
    rng = random.Random(5)
    made = made_up(rng, 6000)
    assert sum(text.isascii() for text in made) > 1000 and sum(not text.isascii() for text in made) > 3000
    assert sum(plain(text) and not text.isascii() for text in made) > 500  # emoji, "£", "—": found with str.find too
    return made


def test_terms_found_with_find_are_where_a_pattern_of_them_matches(texts):
    rng = random.Random(6)
    for text in texts:
        terms = rng.sample(TERMS, rng.randint(1, 6))
        expected = [match.span() for match in any_of(terms).finditer(text)]
        assert spans(terms, text, text.lower()) == expected, (terms, text)
        lowered = text.lower()
        assert holds(terms, lowered) == (any_of(terms).search(lowered) is not None), (terms, lowered)


def test_spans_replaced_are_what_the_pattern_substitutes(texts):
    for text in texts[:2000]:
        terms = ("still waiting", "thanks", "a a", "😡")
        assert (replaced(text, spans(terms, text, text.lower()), "X")
                == any_of(terms).sub("X", text))
        assert (replaced(text, spans(terms, text, text.lower()), lambda whole, start, end: whole[start:end].upper())
                == any_of(terms).sub(lambda match: match.group(0).upper(), text))


def test_words_are_what_word_re_finds(texts):
    for text in texts:
        assert words_of(text.lower()) == WORD_RE.findall(text.lower()), text


def test_the_rewritten_patterns_match_as_the_ones_they_replace(texts):
    sentence = re.compile(r"(?<=[.!?])\s+|\n+")
    handle = re.compile(r"(?<!\w)@(\w+)")
    for text in [*texts, "a.\n\nb", "a. . b", "a.. b", "x\n.\n y", "done!  \n\tnext", "\n\n", ".\u2028x"]:
        assert patterns.SENTENCE_RE.split(text) == sentence.split(text), text
        assert patterns.HANDLE_RE.findall(text) == handle.findall(text), text
        lowered = text.lower()
        assert (patterns.without_leading_address(lowered.lstrip())
                == patterns.LEADING_ADDRESS_RE.sub("", lowered.lstrip()))


def test_the_story_patterns_without_ignorecase_match_as_they_do_on_lower_case_ascii():
    rng = random.Random(7)
    pieces = ("been", "5", "days", "for", "12", "hours", "waiting", "on hold", "called", "6", "times", "2nd", "3rd",
              "time", "attempt", "ticket", "delivery attempt", "fifth", "second", "since", "monday", "ago", "later",
              "it's been", "2", "weeks", "the past", "over", "all day", "late", "h", "th", "nd", "rd", "😡", "—")
    for _ in range(6000):
        lowered = " ".join(rng.choice(pieces) for _ in range(rng.randint(1, 9))).lower()
        assert plain(lowered)
        for pattern, twin in ((patterns.TIME_PASSING_RE, patterns.TIME_PASSING_ASCII),
                              (patterns.WAITED_RE, patterns.WAITED_ASCII)):
            found, expected = twin.search(lowered), pattern.search(lowered)
            assert (found and found.span()) == (expected and expected.span()), lowered
        repeated, expected = patterns._repeated(lowered, True), patterns.REPEATED_RE.search(lowered)
        assert (repeated and repeated.span()) == (expected and expected.span()), lowered
    assert not patterns.REPEATED_ASCII.flags & re.IGNORECASE  # the twin is the faster one


def old_any_word(lowered: str, entries: tuple[str, ...], words) -> bool:
    """_any_word as it was: a word of the list among the text's words, or a phrase of it as a substring and then as a
    whole."""
    listed = patterns._word_list(entries)
    if not listed.single.isdisjoint(words):
        return True
    return (listed.phrase_pattern is not None and any(phrase in lowered for phrase in listed.phrases)
            and listed.phrase_pattern.search(lowered) is not None)


def old_words(lowered: str, entries: tuple[str, ...], words) -> list[str]:
    listed = patterns._word_list(entries)
    found = set(listed.single.intersection(words))
    if listed.phrases and any(phrase in lowered for phrase in listed.phrases):
        found.update(match.lower() for match in listed.phrase_pattern.findall(lowered))
    return sorted(found)


@pytest.mark.parametrize("entries", [PRAISE, COURTESY, REPORTING, RHETORICAL])
def test_word_lists_are_found_as_they_were(entries):
    rng = random.Random(8)
    listed = patterns._word_list(entries)
    pieces = (*listed.lowered, *PIECES, "upper their", "per theirs", "thank youu")
    for _ in range(4000):
        text = "".join(rng.choice(pieces) + rng.choice((" ", "", ", ", "'")) for _ in range(rng.randint(1, 8)))
        lowered = text.lower()
        words = set(WORD_RE.findall(lowered))
        assert patterns._any_word(lowered, listed, words) == old_any_word(lowered, entries, words), lowered
        assert patterns._words(lowered, listed, words) == old_words(lowered, entries, words), lowered
        assert (patterns._replace_entries(listed, "X", text) == listed.pattern.sub("X", text)), text


def old_candidates(terms, lowered: str, words) -> tuple[str, ...]:
    """TermIndex.candidates as it was: a phrase under its first word, confirmed in the words joined by spaces."""
    spaced = _spaced(WORD_RE.findall(lowered))
    found = []
    for term in terms:
        term_words = WORD_RE.findall(term)
        if term_words and " ".join(term_words) == term:
            if term_words[0] in words and (len(term_words) == 1 or f" {term} " in spaced):
                found.append(term)
        elif term in lowered:
            found.append(term)
    return tuple(sorted(found))


def test_the_lexicon_finds_the_terms_it_found_before():
    terms = sorted(DEFAULT_LEXICON)
    index = TermIndex(terms)
    rng = random.Random(9)
    pieces = (*rng.sample(terms, 200), *PIECES, "can't log", "not loading", "no one", "🤬", "again?")
    for _ in range(4000):
        lowered = "".join(rng.choice(pieces) + rng.choice((" ", "", ". ", "!")) for _ in range(rng.randint(1, 10)))
        lowered = lowered.lower()
        words = set(WORD_RE.findall(lowered))
        candidates = index.candidates(lowered, words, _spaced(WORD_RE.findall(lowered)))
        assert candidates == old_candidates(terms, lowered, words), lowered


@pytest.mark.parametrize("name", ["sentences", "handles", "repeated hint", "outside ascii"])
@pytest.mark.parametrize("shape", ADVERSARIAL)
def test_each_rewritten_pattern_finishes_on_a_megabyte_of_its_worst_input(name, shape):
    pattern = {"sentences": patterns.SENTENCE_RE, "handles": patterns.HANDLE_RE,
               "repeated hint": patterns.REPEATED_HINT_RE, "outside ascii": NOT_ASCII_RE}[name]
    assert isinstance(pattern.findall(ADVERSARIAL[shape]), list)
