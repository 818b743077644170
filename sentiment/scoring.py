"""VADER, with a customer-service layer: the whole text scored at once, and what VADER misreads in complaints put
right before it reads them. Each change is named in the score's reasons, so a mention explains its label.

What the layer does (sentiment.lexicon holds the words; every term is a LexiconEntry, editable in the admin):
- Terms of the layer's lexicon are added to VADER's (phrases become single tokens): failure in neutral words
  ("on hold", "cancelled", "still waiting"), outages, churn and legal threats.
- Neutral terms (a lexicon entry with valence 0: the company's name, its handles, product names) and the
  components' names are read as no sentiment at all: "Happy Parcel lost my order" is not half happy.
- In a complaint (a failure term in the text), pleas and courtesy ("please help", "thanks") carry no positive
  weight, and praise in the same sentence as a failure ("thanks for losing my order again") is sarcasm.
- A question that asks why or when about a failure ("why is it still down?") is a complaint; a question
  without one ("is there a refund policy?") is not.

Labels use VADER's documented thresholds (compound ≥ 0.05 positive, ≤ −0.05 negative). VADER scores a text of
several sentences as a whole (its "but" and negation rules work within it); averaging sentence scores, as this
module once did, pulled every longer complaint toward zero. SENTIMENT_LEXICON = "plain" keeps plain VADER.
"""

import re
from functools import lru_cache
from typing import NamedTuple

from django.conf import settings
from django.db.models import Count, Max
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from core.patterns import any_of, any_of_these, maybe_in
from sentiment.choices import Label
from sentiment.lexicon import (
    COMPLAINT_QUESTION_VALENCE,
    COURTESY,
    FIRST_PERSON,
    INFO_OPENERS,
    NOT_RESOLVED,
    OWED,
    PRAISE,
    QUESTION_OPENERS,
    REPORTING,
    RESOLVED,
    SARCASM_VALENCE,
    WEAK_QUESTION_OPENERS,
)

POSITIVE_THRESHOLD = 0.05
NEGATIVE_THRESHOLD = -0.05
SENTENCE_RE = re.compile(r"(?<=[.!?])\s+|\n+")
NEUTRAL_TOKEN = "ears_neutral"  # not in any lexicon: VADER reads it as a plain word
SARCASM_TOKEN = "ears_sarcasm"
QUESTION_TOKEN = "ears_complaint_question"


class Scores(NamedTuple):  # a tuple: made for every mention, and a frozen dataclass costs 1.5 µs to build
    neg: float
    neu: float
    pos: float
    compound: float
    reasons: tuple[str, ...] = ()

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


def _token(term: str) -> str:
    """The one word VADER sees for a phrase or a term with punctuation; an emoji by its code points."""
    word = re.sub(r"\W+", "_", term).strip("_")
    return "ears_" + (word or "_".join(f"{ord(char):x}" for char in term))


class Scorer:
    """terms: the layer's lexicon (term → valence; 0 makes a term neutral). neutral: more neutral terms (the
    components' names). layer=False is plain VADER."""

    def __init__(self, terms: dict[str, float] | None = None, neutral=(), layer: bool = True):
        self.analyzer = SentimentIntensityAnalyzer()
        self.polarity_scores = self.analyzer.polarity_scores
        self.layer = layer and terms is not None
        self.tokens: dict[str, str] = {}  # phrase (or term with punctuation) → the single token VADER sees
        self.valences: dict[str, float] = {}  # term → valence, for the reasons
        self.neutral: set[str] = {term.lower().strip() for term in neutral if term and term.strip()}
        for term, valence in (terms or {}).items():
            term = term.lower().strip()
            if not term:
                continue
            if valence == 0:
                self.neutral.add(term)
                continue
            if " " in term or not term.isalnum():
                self.tokens[term] = _token(term)
            self.analyzer.lexicon[self.tokens.get(term, term)] = valence
            self.valences[term] = valence
        if self.layer:
            self.analyzer.lexicon[SARCASM_TOKEN] = SARCASM_VALENCE
            self.analyzer.lexicon[QUESTION_TOKEN] = COMPLAINT_QUESTION_VALENCE
        self._failures = tuple(term for term, valence in self.valences.items() if valence < 0)

    def score(self, text: str, neutral=()) -> Scores:
        """neutral: terms to read as no sentiment in this text only (the brand a mention was found by)."""
        if not self.layer:
            p = self.polarity_scores(text)
            return Scores(p["neg"], p["neu"], p["pos"], p["compound"])
        reasons: list[str] = []
        text = self._neutralise(text, (*self.neutral, *(term.lower() for term in neutral if term)), reasons)
        if failure := self._failures_in(text):
            text = self._complaint(text, failure, reasons)
            failure = self._failures_in(text)
        text = self._questions(text, failure, reasons)
        found = sorted(set(failure.findall(text.lower())), key=text.lower().find) if failure else []
        if self.tokens:
            text = self._join_phrases(text)
        p = self.polarity_scores(text)
        reasons[:0] = [f"{term} ({self.valences[term]:+.1f})" for term in found if term in self.valences]
        return Scores(p["neg"], p["neu"], p["pos"], p["compound"], tuple(reasons))

    def _failures_in(self, text: str) -> re.Pattern | None:
        """A pattern of the layer's failure terms in the text, or None when there are none."""
        candidates = maybe_in(text, self._failures)
        if not candidates:
            return None
        pattern = any_of_these(candidates)
        return pattern if pattern.search(text) else None

    def _neutralise(self, text: str, terms, reasons: list[str]) -> str:
        present = maybe_in(text, terms)
        if not present:
            return text
        pattern = any_of_these(tuple(sorted(set(present))))
        hits = sorted({match.lower() for match in pattern.findall(text)})
        if hits:
            reasons.append(f"{', '.join(hits)} (a name: neutral)")
        return pattern.sub(NEUTRAL_TOKEN, text)

    def _complaint(self, text: str, failure: re.Pattern, reasons: list[str]) -> str:
        """Sentence by sentence: a failure put right, asked about or reported by a third party is no complaint;
        in a complaint, courtesy is no praise, and praise beside the failure is sarcasm."""
        lowered_text = text.lower()
        reported = _any_word(lowered_text, REPORTING) and not _any_word(lowered_text, FIRST_PERSON)
        sentences = []
        for sentence in SENTENCE_RE.split(text):
            lowered = sentence.lower()
            if failure.search(lowered) is None:
                sentences.append(sentence)
                continue
            settled = _settled(lowered, reported)
            if settled:
                reasons.append(f"{', '.join(sorted(set(failure.findall(lowered))))} ({settled}: neutral)")
                sentence = failure.sub(NEUTRAL_TOKEN, sentence)
            else:
                if praise := _words(lowered, PRAISE):
                    reasons.append(f"{', '.join(praise)} beside a failure (sarcasm {SARCASM_VALENCE:+.1f})")
                    sentence = _pattern(PRAISE).sub(SARCASM_TOKEN, sentence)
                    lowered = sentence.lower()
                if courtesy := _words(lowered, COURTESY):
                    reasons.append(f"{', '.join(courtesy)} (courtesy in a complaint: neutral)")
                    sentence = _pattern(COURTESY).sub(NEUTRAL_TOKEN, sentence)
            sentences.append(sentence)
        return " ".join(sentences)

    def _questions(self, text: str, failure: re.Pattern | None, reasons: list[str]) -> str:
        """A why/when question about a failure (or about waiting: "still", "again") is a complaint; "anyone?" is
        one only about a failure."""
        if "?" not in text:
            return text
        asked = []
        for sentence in SENTENCE_RE.split(text):
            lowered = sentence.lower().strip()
            if not lowered.endswith("?"):
                continue
            failing = failure is not None and failure.search(lowered) is not None
            if _any_word(lowered, QUESTION_OPENERS) and (failing or _any_word(lowered, ("still", "again", *OWED))):
                asked.append(sentence.strip())
            elif failing and _any_word(lowered, WEAK_QUESTION_OPENERS):
                asked.append(sentence.strip())
        if not asked:
            return text
        reasons.append(f"a complaint question ({COMPLAINT_QUESTION_VALENCE:+.1f})")
        return f"{text} {QUESTION_TOKEN}"

    def _join_phrases(self, text: str) -> str:
        """Phrases become the single tokens VADER knows them by. A substring test finds the few phrases a text
        may hold; a pattern of those alone (longest first, so "lost my data" wins over "lost data") then
        replaces whole-word matches."""
        present = maybe_in(text, self.tokens)
        if not present:
            return text
        # .get: a match through a case folding that lower() does not share (İ) keeps its text rather than fail
        return any_of_these(present).sub(lambda match: self.tokens.get(match.group(0).lower(), match.group(0)), text)


@lru_cache(maxsize=16)
def _pattern(words: tuple[str, ...]) -> re.Pattern:
    return any_of(words)


def _settled(lowered: str, reported: bool) -> str | None:
    """Why a sentence naming a failure is no complaint, or None: it says the failure was put right, it asks for
    information, or the text reports news without anyone saying it happened to them."""
    if _any_word(lowered, RESOLVED) and not _any_word(lowered, NOT_RESOLVED):
        return "put right"
    stripped = lowered.strip()
    if (stripped.endswith("?") and not stripped.endswith("??") and stripped.startswith(INFO_OPENERS)
            and not _any_word(stripped, ("still", "again", "yet", "why"))):
        return "asked about"
    return "reported" if reported else None


def _words(lowered: str, words: tuple[str, ...]) -> list[str]:
    candidates = maybe_in(lowered, words)
    return sorted(set(_pattern(words).findall(lowered))) if candidates else []


def _any_word(lowered: str, words: tuple[str, ...]) -> bool:
    return bool(maybe_in(lowered, words)) and _pattern(words).search(lowered) is not None


def lexicon_version() -> tuple:
    from incidents.models import Component
    from sentiment.models import LexiconEntry

    state = LexiconEntry.objects.aggregate(count=Count("pk"), latest=Max("updated_at"))
    components = Component.objects.aggregate(count=Count("pk"), latest=Max("created_at"))
    return (state["count"], state["latest"], components["count"], components["latest"])


def get_scorer(mode: str | None = None) -> Scorer:
    """The scorer for the configured mode, rebuilt only when the lexicon entries or the components change."""
    mode = mode or settings.SENTIMENT_LEXICON
    if mode == "plain":
        return _plain_scorer()
    return _incident_scorer(lexicon_version())


@lru_cache(maxsize=1)
def _plain_scorer() -> Scorer:
    return Scorer(layer=False)


@lru_cache(maxsize=1)
def _incident_scorer(version) -> Scorer:
    from incidents.models import Component
    from sentiment.models import LexiconEntry

    return Scorer(dict(LexiconEntry.objects.values_list("term", "valence")),
                  neutral=Component.objects.values_list("name", flat=True))
