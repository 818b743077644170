"""The customer-service layer over VADER (sentiment.scoring says what it does)."""

import re

from vaderSentiment.vaderSentiment import NEGATE, SentimentIntensityAnalyzer

from core.patterns import any_of_these, inflected
from sentiment.lexicon import (
    COMPLAINT_QUESTION_VALENCE,
    COURTESY,
    FIRST_PERSON,
    NEWS,
    NOT_A_COMPLAINT_WHY,
    OWED,
    PRAISE,
    QUESTION_OPENERS,
    REPEATED_VALENCE,
    REPORTING,
    RHETORICAL,
    SARCASM_VALENCE,
    WAIT_MARKERS,
    WAITING_VALENCE,
    WEAK_QUESTION_OPENERS,
)
from sentiment.scoring.patterns import (
    CALM_OPENERS,
    HANDLE_RE,
    LEADING_ADDRESS_RE,
    NEUTRAL_TOKEN,
    NEXT_WORD_RE,
    QUESTION_TOKEN,
    REPEAT_WORDS,
    REPEATED_RE,
    REPEATED_TOKEN,
    SARCASM_TOKEN,
    SENTENCE_RE,
    SEPARATION,
    SHORT_PRAISE_WORDS,
    SHORT_WAIT_RE,
    STRONG_FAILURE,
    TIME_PASSING_RE,
    TIME_PASSING_WORDS,
    TIME_WORDS,
    WAITED_RE,
    WAITING_TOKEN,
    WHY_RE,
    WORD_RE,
    TermIndex,
    _any_word,
    _pattern,
    _praise_first,
    _praise_last,
    _settled,
    _spaced,
    _token,
    _word_list,
    _words,
)
from sentiment.scoring.scores import Scores


class Scorer:
    """terms: the layer's lexicon (term → valence; 0 makes a term neutral). neutral: more neutral terms (the
    components' names). layer=False is plain VADER. A single word with a negative valence also matches its
    regular inflections ("vanish": "vanished", "vanishes"), unless VADER or the lexicon knows that form."""

    def __init__(self, terms: dict[str, float] | None = None, neutral=(), layer: bool = True):
        self.analyzer = SentimentIntensityAnalyzer()
        self.polarity_scores = self.analyzer.polarity_scores
        self.layer = layer and terms is not None
        self.tokens: dict[str, str] = {}  # phrase (or term with punctuation) → the single token VADER sees
        self.valences: dict[str, float] = {}  # term → valence, for the reasons
        self.inflection_of: dict[str, str] = {}  # "vanished" → "vanish": the entry an inflected form comes from
        self.neutral: set[str] = {term.lower().strip() for term in neutral if term and term.strip()}
        lowered_terms = {term.lower().strip(): valence for term, valence in (terms or {}).items() if term.strip()}
        for term, valence in list(lowered_terms.items()):
            if valence < 0 and term.isalpha():
                for form in inflected((term,))[1:]:
                    if form not in lowered_terms and form not in self.analyzer.lexicon:
                        lowered_terms[form] = valence
                        self.inflection_of[form] = term
        self.negating: dict[str, str] = {}  # "still not" → "not": a phrase that ends in a negation
        for term, valence in lowered_terms.items():
            if valence == 0:
                self.neutral.add(term)
                continue
            if " " in term or not term.isalnum():
                self.tokens[term] = _token(term)
                if (last := term.rsplit(" ", 1)[-1]) in NEGATE or last == "no":
                    self.negating[term] = last
            self.analyzer.lexicon[self.tokens.get(term, term)] = valence
            self.valences[term] = valence
        if self.layer:
            for token, valence in ((SARCASM_TOKEN, SARCASM_VALENCE), (QUESTION_TOKEN, COMPLAINT_QUESTION_VALENCE),
                                   (WAITING_TOKEN, WAITING_VALENCE), (REPEATED_TOKEN, REPEATED_VALENCE)):
                self.analyzer.lexicon[token] = valence
        self._failures = TermIndex(term for term, valence in self.valences.items() if valence < 0)
        self._phrases = TermIndex(self.tokens)
        self._neutral = TermIndex(self.neutral)

    def score(self, text: str, neutral=()) -> Scores:
        """neutral: terms to read as no sentiment in this text only (the brand a mention was found by)."""
        if not self.layer:
            p = self.polarity_scores(text)
            return Scores(p["neg"], p["neu"], p["pos"], p["compound"])
        reasons: list[str] = []
        if "’" in text:  # a phone's apostrophe: VADER's negation and the lexicon know "can't", not "can’t"
            text = text.replace("’", "'")
        lowered = text.lower()
        tokens = WORD_RE.findall(lowered)
        words = set(tokens)
        text, lowered, tokens = self._neutralise(text, lowered, words, tokens, neutral, reasons)
        words, spaced = set(tokens), _spaced(tokens)
        failure, found = self._failures.found(lowered, words, spaced)
        story = self._story(text, lowered, words, reasons)
        complaint = bool(found or story)
        if complaint:
            text, complaint = self._complaint(text, words, failure, found, story, reasons)
        strong = bool(story) or any(self.valences.get(term, 0) <= STRONG_FAILURE for term in found)
        asked = self._questions(lowered, words, failure, strong, reasons)
        added = [*(story if complaint else ()), *((QUESTION_TOKEN,) if asked else ())]
        if added:  # after the text, beyond the reach of its last words' negation ("never find anything")
            text = f"{text} {SEPARATION} {' '.join(added)}"
        if self.tokens:
            text = self._join_phrases(text, lowered, words, spaced)
        p = self.polarity_scores(text)
        compound = p["compound"]
        reasons[:0] = [self._reason(term) for term in found if term in self.valences]
        if compound < 0 and not (complaint or asked) and (calm := self._calm(lowered, NEUTRAL_TOKEN in lowered)):
            reasons.append(f"{calm}: VADER's {compound:+.2f} not counted")
            compound = 0.0
        return Scores(p["neg"], p["neu"], p["pos"], compound, tuple(reasons))

    def _reason(self, term: str) -> str:
        """"on hold (-2.0)"; an inflected form names its lexicon entry: "vanished (vanish -1.8)"."""
        entry = self.inflection_of.get(term)
        return f"{term} ({entry + ' ' if entry else ''}{self.valences[term]:+.1f})"

    def _neutralise(self, text: str, lowered: str, words: set[str], tokens: list[str], neutral, reasons: list[str]):
        if "@" in lowered:
            text, lowered, tokens = self._neutral_handles(text, lowered, tokens, reasons)
        present = [*self._neutral.candidates(lowered, words, _spaced(tokens)),
                   *(term.lower() for term in neutral if term and term.lower() in lowered)]
        if not present:
            return text, lowered, tokens
        pattern = any_of_these(tuple(sorted(set(present))))
        hits = sorted({match.lower() for match in pattern.findall(text)})
        if not hits:
            return text, lowered, tokens
        reasons.append(f"{', '.join(hits)} (a name: neutral)")
        text = pattern.sub(NEUTRAL_TOKEN, text)
        lowered = text.lower()
        return text, lowered, WORD_RE.findall(lowered)

    def _neutral_handles(self, text: str, lowered: str, tokens: list[str], reasons: list[str]):
        """An account's handle is a name, whatever its word means: VADER reads "@united" as united (+1.8)."""
        handles = tuple(sorted({handle for handle in HANDLE_RE.findall(lowered) if handle in self.analyzer.lexicon}))
        if not handles:
            return text, lowered, tokens
        reasons.append(f"{', '.join('@' + handle for handle in handles)} (a handle: neutral)")
        text = any_of_these(tuple(f"@{handle}" for handle in handles)).sub(f"@{NEUTRAL_TOKEN}", text)
        lowered = text.lower()
        return text, lowered, WORD_RE.findall(lowered)

    @staticmethod
    def _story(text: str, lowered: str, words: set[str], reasons: list[str]) -> list[str]:
        """Tokens for a complaint told as a story: time passing while nothing happens, the same thing again (or
        "AGAIN" shouted, in a text without praise or thanks: "internet down AGAIN", "joycons drifting AGAIN")."""
        story = []
        passing = None
        if not words.isdisjoint(TIME_PASSING_WORDS) and ("been" in words or not words.isdisjoint(TIME_WORDS)):
            passing = TIME_PASSING_RE.search(lowered)
        if (passing is None and not words.isdisjoint(TIME_WORDS)
                and ("n't" in lowered or not words.isdisjoint(_word_list(WAIT_MARKERS).single))):
            passing = WAITED_RE.search(lowered)
        if passing and SHORT_WAIT_RE.search(lowered, max(0, passing.start() - 8), passing.start()):
            passing = None  # "only waited 5 minutes", "just 2 days late": a short wait is no complaint
        if passing:
            story.append(WAITING_TOKEN)
            reasons.append(f"“{passing.group(0)}” (time passing {WAITING_VALENCE:+.1f})")
        if not words.isdisjoint(REPEAT_WORDS) and (repeated := REPEATED_RE.search(lowered)):
            story.append(REPEATED_TOKEN)
            reasons.append(f"“{repeated.group(0)}” (again and again {REPEATED_VALENCE:+.1f})")
        elif "AGAIN" in text and not text.isupper() and not _any_word(lowered, PRAISE, words):
            story.append(REPEATED_TOKEN)
            reasons.append(f"“AGAIN” (again and again {REPEATED_VALENCE:+.1f})")
        return story

    def _complaint(self, text: str, words: set[str], failure: re.Pattern | None, found: list[str],
                   story: list[str], reasons: list[str]):
        """Sentence by sentence: a failure put right, asked about or reported by a third party is no complaint;
        in a complaint, courtesy is no praise, and praise beside the failure (or alone in a short sentence after
        it) is sarcasm. Returns the text and whether it is still a complaint."""
        lowered_text = text.lower()
        reported = (_any_word(lowered_text, REPORTING, words) and not _any_word(lowered_text, FIRST_PERSON, words)
                    and not lowered_text.lstrip().startswith("@"))  # news is not addressed to the company
        sentences = SENTENCE_RE.split(text)
        complaining, settled_any = [], False
        for index, sentence in enumerate(sentences):
            lowered = sentence.lower()
            if failure is not None and failure.search(lowered) is not None:
                if settled := _settled(lowered, reported, set(WORD_RE.findall(lowered))):
                    reasons.append(f"{', '.join(sorted(set(failure.findall(lowered))))} ({settled}: neutral)")
                    sentences[index] = failure.sub(NEUTRAL_TOKEN, sentence)
                    settled_any = True
                else:
                    complaining.append(index)
        if story and not settled_any and not reported:
            complaining = complaining or [len(sentences) - 1]
        if not complaining:
            return " ".join(sentences), False
        strong = story or any(self.valences.get(term, 0) <= STRONG_FAILURE for term in found)
        if not strong:  # a weak failure word alone ("late", "gone") makes no sarcasm of praise
            return " ".join(sentences), True
        if not (_any_word(lowered_text, PRAISE, words) or _any_word(lowered_text, COURTESY, words)):
            return " ".join(sentences), True
        praised, courteous = set(), set()
        for index, sentence in enumerate(sentences):
            lowered = sentence.lower()
            sentence_words = set(WORD_RE.findall(lowered))
            beside = (index > complaining[0] and len(sentence_words) <= SHORT_PRAISE_WORDS) or (
                index in complaining and (_praise_first(lowered, failure) or _praise_last(lowered)))
            if beside and (praise := _words(lowered, PRAISE, sentence_words)):
                praised.update(praise)
                sentence = _pattern(PRAISE).sub(SARCASM_TOKEN, self._join_phrases(sentence, lowered))
                lowered = sentence.lower()
                sentence_words = set(WORD_RE.findall(lowered))
            if courtesy := _words(lowered, COURTESY, sentence_words):
                courteous.update(courtesy)
                sentence = _pattern(COURTESY).sub(NEUTRAL_TOKEN, self._join_phrases(sentence, lowered))
            sentences[index] = sentence
        if praised:
            reasons.append(f"{', '.join(sorted(praised))} beside a failure (sarcasm {SARCASM_VALENCE:+.1f})")
        if courteous:
            reasons.append(f"{', '.join(sorted(courteous))} (courtesy in a complaint: neutral)")
        return " ".join(sentences), True

    def _questions(self, lowered: str, words: set[str], failure, strong: bool, reasons: list[str]) -> bool:
        """A complaint question: why or when about a failure (or about waiting: "still", "again"); "why" about
        anything but one's own choice; "??"; a rhetorical one ("who thought this was a good idea"). "anyone?" is
        one only about a failure."""
        if "?" not in lowered and "why" not in words:
            return False
        asked = "??" in lowered or _any_word(lowered, RHETORICAL)
        if not asked and "why" in words and WHY_RE.search(lowered) and not _any_word(lowered, NOT_A_COMPLAINT_WHY):
            asked = True
        if not asked:
            for sentence in SENTENCE_RE.split(lowered):
                sentence = sentence.strip()
                if not sentence.endswith("?"):
                    continue
                failing = failure is not None and failure.search(sentence) is not None
                if _any_word(sentence, QUESTION_OPENERS) and (failing or _any_word(sentence, ("still", "again",
                                                                                             *OWED))):
                    asked = True
                elif (failing and strong and _any_word(sentence, WEAK_QUESTION_OPENERS)
                      and not _settled(sentence, False, set(WORD_RE.findall(sentence)))):
                    asked = True
                if asked:
                    break
        if asked:
            reasons.append(f"a complaint question ({COMPLAINT_QUESTION_VALENCE:+.1f})")
        return asked

    @staticmethod
    def _calm(lowered: str, named: bool) -> str | None:
        """Why VADER's negative words in a text that shows no complaint are no sentiment: the text asks for
        information ("do you deliver to PO boxes?") or reports news about a name we know ("Acme cuts 200 jobs,
        company says"; news of anything else keeps its sentiment: "woman reported dead in fire")."""
        stripped = LEADING_ADDRESS_RE.sub("", lowered.lstrip())
        if "?" in stripped and stripped.startswith(CALM_OPENERS):
            return "an informational question"
        if named and _any_word(lowered, NEWS) and not _any_word(lowered, FIRST_PERSON):
            return "news, not a complaint"
        return None

    def _join_phrases(self, text: str, lowered: str | None = None, words: set[str] | None = None,
                      spaced: str | None = None) -> str:
        """Phrases become the single tokens VADER knows them by. The words of the text find the few phrases it may
        hold; a pattern of those alone (longest first, so "lost my data" wins over "lost data") then replaces
        whole-word matches."""
        lowered = lowered if lowered is not None else text.lower()
        if words is None:
            tokens = WORD_RE.findall(lowered)
            words, spaced = set(tokens), _spaced(tokens)
        present = self._phrases.candidates(lowered, words, spaced)
        if not present:
            return text
        return any_of_these(present).sub(self._token_for, text)

    def _token_for(self, match: re.Match) -> str:
        """The token of a matched phrase; an emoji's token is set apart by spaces, so that "🤬🤬🤬" is three
        tokens VADER knows rather than one word it does not; a phrase that ends in a negation ("still not") keeps
        it for a word of praise after it ("still not happy" is not happy). .get: a match through a case folding
        that lower() does not share (İ) keeps its text rather than fail."""
        term = match.group(0)
        token = self.tokens.get(term.lower(), term)
        if token is not term and not term[0].isalnum():
            return f" {token} "
        if (negation := self.negating.get(term.lower())) and (after := NEXT_WORD_RE.match(match.string, match.end())):
            if self.analyzer.lexicon.get(after.group(1).lower(), 0) > 0:  # "STILL not honored": "honored" negated
                return f"{token} {negation}"
        return token
