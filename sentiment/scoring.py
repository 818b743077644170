"""VADER, tuned for incidents: one analyzer per process (per lexicon version), texts split into sentences.

VADER's own documentation advises scoring a paragraph sentence by sentence and averaging, so that “but”
and contrast are read within each sentence; labels use its documented thresholds (compound ≥ 0.05
positive, ≤ −0.05 negative, neutral between). The incident vocabulary layer (LexiconEntry, shipped with
sentiment.lexicon.DEFAULT_LEXICON) is added to a copy of VADER's lexicon; phrases become single tokens.
SENTIMENT_LEXICON = "plain" keeps plain VADER behaviour.
"""

import re
from functools import lru_cache
from typing import NamedTuple

from django.conf import settings
from django.db.models import Count, Max
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from core.patterns import any_of_these, maybe_in
from sentiment.choices import Label

POSITIVE_THRESHOLD = 0.05
NEGATIVE_THRESHOLD = -0.05
SENTENCE_RE = re.compile(r"(?<=[.!?])\s+|\n+")


class Scores(NamedTuple):  # a tuple: made for every mention, and a frozen dataclass costs 1.5 µs to build
    neg: float
    neu: float
    pos: float
    compound: float

    @property
    def label(self) -> str:
        return label_for(self.compound)


def label_for(compound: float) -> str:
    if compound >= POSITIVE_THRESHOLD:
        return Label.POSITIVE
    if compound <= NEGATIVE_THRESHOLD:
        return Label.NEGATIVE
    return Label.NEUTRAL


def split_sentences(text: str) -> list[str]:
    return [sentence for sentence in SENTENCE_RE.split(text.strip()) if sentence.strip()] or [text]


class Scorer:
    def __init__(self, terms: dict[str, float] | None = None):
        self.analyzer = SentimentIntensityAnalyzer()
        self.tokens: dict[str, str] = {}  # phrase (or term with punctuation) → the single token VADER sees
        for term, valence in (terms or {}).items():
            term = term.lower().strip()
            if " " in term or not term.isalnum():
                token = "ears_" + re.sub(r"\W+", "_", term).strip("_")
                self.tokens[term] = token
                term = token
            self.analyzer.lexicon[term] = valence
        self.polarity_scores = self.analyzer.polarity_scores

    def score(self, text: str) -> Scores:
        if self.tokens:
            text = self._join_phrases(text)
        sentences = split_sentences(text)
        if len(sentences) == 1:
            p = self.polarity_scores(sentences[0])  # VADER rounds them already
            return Scores(p["neg"], p["neu"], p["pos"], p["compound"])
        neg = neu = pos = compound = 0.0
        for sentence in sentences:
            p = self.polarity_scores(sentence)
            neg, neu, pos, compound = neg + p["neg"], neu + p["neu"], pos + p["pos"], compound + p["compound"]
        n = len(sentences)
        return Scores(round(neg / n, 4), round(neu / n, 4), round(pos / n, 4), round(compound / n, 4))

    def _join_phrases(self, text: str) -> str:
        """Phrases become the single tokens VADER knows them by. A substring test finds the few phrases a text
        may hold; a pattern of those alone (longest first, so "lost my data" wins over "lost data") then
        replaces whole-word matches."""
        present = maybe_in(text, self.tokens)
        if not present:
            return text
        # .get: a match through a case folding that lower() does not share (İ) keeps its text rather than fail
        return any_of_these(present).sub(lambda match: self.tokens.get(match.group(0).lower(), match.group(0)), text)


def lexicon_version() -> tuple:
    from sentiment.models import LexiconEntry

    state = LexiconEntry.objects.aggregate(count=Count("pk"), latest=Max("updated_at"))
    return (state["count"], state["latest"])


def get_scorer(mode: str | None = None) -> Scorer:
    """The scorer for the configured mode, rebuilt only when the lexicon entries change."""
    mode = mode or settings.SENTIMENT_LEXICON
    if mode == "plain":
        return _plain_scorer()
    return _incident_scorer(lexicon_version())


@lru_cache(maxsize=1)
def _plain_scorer() -> Scorer:
    return Scorer()


@lru_cache(maxsize=1)
def _incident_scorer(version) -> Scorer:
    from sentiment.models import LexiconEntry

    return Scorer(dict(LexiconEntry.objects.values_list("term", "valence")))
