"""VADER's polarity_scores, the same numbers for the same text and lexicon, at about a third of the cost.

vaderSentiment 3.3.2 lower-cases the text's words again for every rule it tries (a list of all of them for each
negation check: quadratic in the length of the text), looks every word up twice and builds the idiom strings for
every sentiment word. Here the words are lower-cased once, only the words of the lexicon go through the rules, and
the idioms are looked for only when one of their first words is there. Every rule, its order and its floating-point
arithmetic are vaderSentiment's own, quirks included (its "but" rule finds a sentiment by value, not by position);
tests/sentiment/test_vader_equivalence.py holds it to vaderSentiment's results on thousands of varied texts.
"""

import heapq
import math
import re
import string

from vaderSentiment.vaderSentiment import (
    B_INCR,
    BOOSTER_DICT,
    C_INCR,
    N_SCALAR,
    NEGATE,
    SPECIAL_CASES,
    SentimentIntensityAnalyzer,
)

NEGATIONS = frozenset(NEGATE)
# The first words of the idioms and of the boosters of two or three words ("the bomb", "kind of"): the idiom rule
# can change a valence only when one of them is among the words it looks at.
IDIOM_FIRST_WORDS = frozenset(key.split(" ", 1)[0] for key in (*SPECIAL_CASES, *BOOSTER_DICT) if " " in key)
SO_OR_THIS = ("so", "this")
OR_NOR = ("or", "nor")
PUNCTUATION = string.punctuation
# A character outside ASCII, each of them looked up among the emoji: a pattern of the 1,200 emoji themselves would be
# tried as a list of ranges at every character (those outside the first 65,536 code points), 200 µs a text.
NOT_ASCII_RE = re.compile(r"[^\x00-\x7f]")
assert B_INCR > 0  # a booster's sign is flipped for a negative valence below, as vaderSentiment does


class Vader(SentimentIntensityAnalyzer):
    """SentimentIntensityAnalyzer with a faster polarity_scores; its lexicon is read at every call, so words added
    to it (the layer's terms and tokens) count as they do in vaderSentiment."""

    def __init__(self):
        super().__init__()

    def polarity_scores(self, text: str) -> dict[str, float]:
        neg, neu, pos, compound = self.scores(text)
        return {"neg": neg, "neu": neu, "pos": pos, "compound": compound}

    def scores(self, text: str) -> tuple[float, float, float, float]:
        """(neg, neu, pos, compound), as polarity_scores gives them."""
        if not text.isascii():  # every emoji is outside ASCII
            text = NOT_ASCII_RE.sub(self._describe_emoji, text)
        text = text.strip()
        words = [stripped if len(stripped := token.strip(PUNCTUATION)) > 2 else token for token in text.split()]
        lowered = [word.lower() for word in words]
        lexicon = self.lexicon
        scored: dict[int, float] = {}  # word index → valence, for the words of the lexicon; every other word is 0
        cap_differential = None  # some words in capitals, not all: found when a word in capitals needs it
        last = len(words) - 1
        for index, word in enumerate(lowered):
            if word not in lexicon or word in BOOSTER_DICT or (word == "kind" and index < last
                                                                 and lowered[index + 1] == "of"):
                continue
            if cap_differential is None:  # once a text: asked for each word, islower() made long texts quadratic
                upper = 0 if text.islower() else sum(1 for each in words if each.isupper())
                cap_differential = 0 < upper < len(words)
            scored[index] = self._valence(words, lowered, index, bool(cap_differential))
        if "but" in lowered:
            sentiments: list[float] = [0] * len(words)
            for index, valence in scored.items():
                sentiments[index] = valence
            return _score_valence(_but_check(lowered, sentiments), len(words), text)
        return _score_valence(list(scored.values()), len(words), text)

    def _describe_emoji(self, match: re.Match) -> str:
        """A character that is an emoji (vaderSentiment looks up one character at a time) as its description, after
        a space unless the text has one before it, as vaderSentiment does; any other character as it is."""
        char = match.group(0)
        if char not in self.emojis:
            return char
        start = match.start()
        return (" " if start and match.string[start - 1] != " " else "") + self.emojis[char]

    def _valence(self, words: list[str], lowered: list[str], index: int, cap_differential: bool) -> float:
        """vaderSentiment's sentiment_valence for a word of the lexicon (not a booster, not "kind" of "kind of")."""
        lexicon = self.lexicon
        word = lowered[index]
        valence = lexicon[word]
        if word == "no" and index != len(words) - 1 and lowered[index + 1] in lexicon:
            valence = 0.0  # "no" negates the word after it rather than counting itself
        if ((index > 0 and lowered[index - 1] == "no") or (index > 1 and lowered[index - 2] == "no")
                or (index > 2 and lowered[index - 3] == "no" and lowered[index - 1] in OR_NOR)):
            valence = lexicon[word] * N_SCALAR
        if cap_differential and words[index].isupper():
            valence = valence + C_INCR if valence > 0 else valence - C_INCR
        for distance in (1, 2, 3):
            if index < distance:
                break
            before = lowered[index - distance]
            if before in lexicon:
                continue
            if before in BOOSTER_DICT:
                valence = valence + _boost(valence, before, words[index - distance], distance, cap_differential)
            else:
                valence = valence + 0.0  # as vaderSentiment adds its scalar of 0.0 (a -0.0 becomes 0.0)
            # vaderSentiment's _negation_check for the word `distance` words before
            if distance == 1:
                if before in NEGATIONS or "n't" in before:
                    valence = valence * N_SCALAR
            elif distance == 2:
                if before == "never" and lowered[index - 1] in SO_OR_THIS:
                    valence = valence * 1.25
                elif not (before == "without" and lowered[index - 1] == "doubt") and (
                        before in NEGATIONS or "n't" in before):
                    valence = valence * N_SCALAR
            else:
                valence = _three_before(valence, lowered, index)
        if index > 0 and lowered[index - 1] == "least" and "least" not in lexicon:
            if index == 1 or lowered[index - 2] not in ("at", "very"):
                valence = valence * N_SCALAR
        return valence


def _boost(valence: float, before: str, word: str, distance: int, cap_differential: bool) -> float:
    """vaderSentiment's scalar_inc_dec for a booster `distance` words before (before: lower case; word: as written),
    dampened by the distance."""
    scalar = BOOSTER_DICT[before]
    if valence < 0:
        scalar *= -1
    if cap_differential and word.isupper():
        scalar = scalar + C_INCR if valence > 0 else scalar - C_INCR
    if distance == 2:
        scalar = scalar * 0.95
    elif distance == 3:
        scalar = scalar * 0.9
    return scalar


def _three_before(valence: float, lowered: list[str], index: int) -> float:
    """vaderSentiment's _negation_check and _special_idioms_check for the word three before the sentiment word."""
    before = lowered[index - 3]
    if (before == "never" and lowered[index - 2] in SO_OR_THIS) or lowered[index - 1] in SO_OR_THIS:
        valence = valence * 1.25
    elif not (before == "without" and (lowered[index - 2] == "doubt" or lowered[index - 1] == "doubt")) and (
            before in NEGATIONS or "n't" in before):
        valence = valence * N_SCALAR
    if not IDIOM_FIRST_WORDS.isdisjoint(lowered[index - 3:index + 1]):
        valence = _special_idioms_check(valence, lowered, index)
    return valence


def _special_idioms_check(valence: float, lowered: list[str], index: int) -> float:
    """vaderSentiment's _special_idioms_check (index ≥ 3)."""
    three, two, one, zero = lowered[index - 3], lowered[index - 2], lowered[index - 1], lowered[index]
    one_zero, two_one, three_two = f"{one} {zero}", f"{two} {one}", f"{three} {two}"
    two_one_zero, three_two_one = f"{two_one} {zero}", f"{three_two} {one}"
    for sequence in (one_zero, two_one_zero, two_one, three_two_one, three_two):
        if sequence in SPECIAL_CASES:
            valence = SPECIAL_CASES[sequence]
            break
    if len(lowered) - 1 > index:
        zero_one = f"{zero} {lowered[index + 1]}"
        if zero_one in SPECIAL_CASES:
            valence = SPECIAL_CASES[zero_one]
    if len(lowered) - 1 > index + 1:
        zero_one_two = f"{zero} {lowered[index + 1]} {lowered[index + 2]}"
        if zero_one_two in SPECIAL_CASES:
            valence = SPECIAL_CASES[zero_one_two]
    for n_gram in (three_two_one, three_two, two_one):
        if n_gram in BOOSTER_DICT:
            valence = valence + BOOSTER_DICT[n_gram]
    return valence


def _but_check(lowered: list[str], sentiments: list[float]) -> list[float]:
    """vaderSentiment's _but_check, as it is: the sentiment at each position in turn is found again by its value
    (the first equal one, which may be an earlier position) and that one is halved before "but", raised by half
    after it. vaderSentiment finds it with list.index, once a word: quadratic, and 1.4 s for a text of 10,000
    emoji (each several words of its description) after a "but". Here the positions of each value are kept in a
    heap, so the first is at hand."""
    but = lowered.index("but")
    where: dict[float, list[int]] = {}
    for position, value in enumerate(sentiments):
        where.setdefault(value, []).append(position)  # in ascending order: already a heap
    for position in range(len(sentiments)):
        value = sentiments[position]
        first = where[value][0]
        if first == but:
            continue
        changed = value * 0.5 if first < but else value * 1.5
        heapq.heappop(where[value])
        if not where[value]:
            del where[value]
        sentiments[first] = changed
        heapq.heappush(where.setdefault(changed, []), first)
    return sentiments


def _score_valence(sentiments: list[float], words: int, text: str) -> tuple[float, float, float, float]:
    """vaderSentiment's score_valence, rounded as polarity_scores rounds: (neg, neu, pos, compound). sentiments: the
    valences of the text's words in order, or of some of them when the others are 0 (adding 0 to a sum changes
    nothing, since the sum is never -0.0); words: how many words the text has."""
    if not words:
        return 0.0, 0.0, 0.0, 0.0
    total = float(sum(sentiments))
    exclamations = min(text.count("!"), 4)
    questions = text.count("?")
    emphasis = exclamations * 0.292 + ((questions * 0.18 if questions <= 3 else 0.96) if questions > 1 else 0)
    if total > 0:
        total += emphasis
    elif total < 0:
        total -= emphasis
    compound = total / math.sqrt((total * total) + 15)
    compound = -1.0 if compound < -1.0 else 1.0 if compound > 1.0 else compound
    pos_sum = neg_sum = 0.0
    neutral = words
    for sentiment in sentiments:
        if sentiment > 0:
            pos_sum += float(sentiment) + 1
            neutral -= 1
        elif sentiment < 0:
            neg_sum += float(sentiment) - 1
            neutral -= 1
    if pos_sum > math.fabs(neg_sum):
        pos_sum += emphasis
    elif pos_sum < math.fabs(neg_sum):
        neg_sum -= emphasis
    whole = pos_sum + math.fabs(neg_sum) + neutral
    return (round(math.fabs(neg_sum / whole), 3), round(math.fabs(neutral / whole), 3),
            round(math.fabs(pos_sum / whole), 3), round(compound, 4))
