"""The customer-service layer over VADER (sentiment.scoring says what it does)."""

from vaderSentiment.vaderSentiment import NEGATE

from core.patterns import inflected
from sentiment.lexicon import (
    COMPLAINT_QUESTION_VALENCE,
    REPEATED_VALENCE,
    SARCASM_VALENCE,
    WAITING_VALENCE,
)
from sentiment.scoring.patterns import (
    CALM_OPENERS,
    COURTESY_LIST,
    FIRST_PERSON_LIST,
    HANDLE_RE,
    NEUTRAL_TOKEN,
    NEWS_LIST,
    NEXT_WORD_RE,
    NOT_A_COMPLAINT_WHY_LIST,
    OWED_LIST,
    PRAISE_LIST,
    QUESTION_OPENERS_LIST,
    QUESTION_TOKEN,
    REPEAT_WORDS,
    REPEATED_TOKEN,
    REPORTING_LIST,
    RHETORICAL_LIST,
    SARCASM_TOKEN,
    SENTENCE_RE,
    SEPARATION,
    SHORT_PRAISE_WORDS,
    SHORT_WAIT_RE,
    STRONG_FAILURE,
    TIME_PASSING_ASCII,
    TIME_PASSING_RE,
    TIME_PASSING_WORDS,
    TIME_WORDS,
    WAIT_MARKERS_LIST,
    WAITED_ASCII,
    WAITED_RE,
    WAITING_TOKEN,
    WEAK_QUESTION_OPENERS_LIST,
    WHY_RE,
    _any_word,
    _praise_first,
    _praise_last,
    _repeated,
    _replace_entries,
    _settled,
    _status_question,
    _token,
    _words,
    without_leading_address,
)
from sentiment.scoring.scores import Scores
from sentiment.scoring.terms import TermIndex, _spaced, holds, plain, replaced, spans, words_of
from sentiment.scoring.vader import Vader


class Scorer:
    """terms: the layer's lexicon (term → valence; 0 makes a term neutral). neutral: more neutral terms (the
    components' names). layer=False is plain VADER. A single word with a negative valence also matches its
    regular inflections ("vanish": "vanished", "vanishes"), unless VADER or the lexicon knows that form."""

    def __init__(self, terms: dict[str, float] | None = None, neutral=(), layer: bool = True):
        self.analyzer = Vader()
        self.polarity_scores = self.analyzer.polarity_scores
        self._vader_scores = self.analyzer.scores  # (neg, neu, pos, compound)
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
        self._reason_of = {term: self._reason(term) for term in self.valences}  # each term's reason, made once
        self._lexicon = TermIndex(self.valences)
        self._failures = frozenset(term for term, valence in self.valences.items() if valence < 0)
        self._strong = frozenset(term for term, valence in self.valences.items() if valence <= STRONG_FAILURE)
        self._neutral = TermIndex(self.neutral)

    def score(self, text: str, neutral=()) -> Scores:
        """neutral: terms to read as no sentiment in this text only (the brand a mention was found by)."""
        if not self.layer:
            return Scores(*self._vader_scores(text))
        reasons: list[str] = []
        if "’" in text:  # a phone's apostrophe: VADER's negation and the lexicon know "can't", not "can’t"
            text = text.replace("’", "'")
        lowered = text.lower()
        plain_text = plain(text)  # then the story's patterns run without IGNORECASE (patterns.py)
        tokens = words_of(lowered)
        text, lowered, words, spaced = self._neutralise(text, lowered, set(tokens), tokens, neutral, reasons)
        present = self._lexicon.candidates(lowered, words, spaced)
        found = self._lexicon.found(tuple(filter(self._failures.__contains__, present)), lowered, spaced)
        phrases = tuple(filter(self.tokens.__contains__, present))
        story = self._story(text, lowered, words, reasons, plain_text)
        complaint = bool(found or story)
        if complaint:
            text, complaint = self._complaint(text, lowered, words, found, phrases, story, reasons)
        strong = bool(story) or not self._strong.isdisjoint(found)
        asked = self._questions(lowered, words, found, strong, reasons)
        added = [*(story if complaint else ()), *((QUESTION_TOKEN,) if asked else ())]
        if added:  # after the text, beyond the reach of its last words' negation ("never find anything")
            text = f"{text} {SEPARATION} {' '.join(added)}"
        if self.tokens:
            text = self._join_phrases(text, phrases)
        neg, neu, pos, compound = self._vader_scores(text)
        reasons[:0] = [self._reason_of[term] for term in found if term in self._reason_of]
        if compound < 0 and not asked and (
                calm := self._calm(lowered, NEUTRAL_TOKEN in lowered, words) if not complaint
                else _status_question(lowered, words, story)):
            reasons.append(f"{calm}: VADER's {compound:+.2f} not counted")
            compound = 0.0
        return Scores(neg, neu, pos, compound, tuple(reasons))

    def _reason(self, term: str) -> str:
        """"on hold (-2.0)"; an inflected form names its lexicon entry: "vanished (vanish -1.8)"."""
        entry = self.inflection_of.get(term)
        return f"{term} ({entry + ' ' if entry else ''}{self.valences[term]:+.1f})"

    def _neutralise(self, text: str, lowered: str, words: set[str], tokens: list[str], neutral, reasons: list[str]):
        """Names and handles replaced by a neutral word. Returns the text, its lower case, its words (a set) and
        _spaced of them."""
        if "@" in lowered and (handled := self._neutral_handles(text, lowered, reasons)):
            text, lowered, new_tokens = handled
        else:
            new_tokens = tokens
        new_words = words if new_tokens is tokens else set(new_tokens)
        spaced = _spaced(new_tokens)
        present = [*self._neutral.candidates(lowered, words, spaced, new_words),  # words: before handles were replaced
                   *(term.lower() for term in neutral if term and term.lower() in lowered)]
        names = spans(present, text, lowered) if present else ()
        if not names:
            return text, lowered, new_words, spaced
        reasons.append(f"{', '.join(sorted({text[start:end].lower() for start, end in names}))} (a name: neutral)")
        text = replaced(text, names, NEUTRAL_TOKEN)
        lowered = text.lower()
        tokens = words_of(lowered)
        return text, lowered, set(tokens), _spaced(tokens)

    def _neutral_handles(self, text: str, lowered: str, reasons: list[str]):
        """An account's handle is a name, whatever its word means: VADER reads "@united" as united (+1.8). Returns
        the text, lowered and its words, or None when it holds no such handle."""
        handles = tuple(sorted({handle for handle in HANDLE_RE.findall(lowered) if handle in self.analyzer.lexicon}))
        if not handles:
            return None
        reasons.append(f"{', '.join('@' + handle for handle in handles)} (a handle: neutral)")
        text = replaced(text, spans([f"@{handle}" for handle in handles], text, lowered), f"@{NEUTRAL_TOKEN}")
        lowered = text.lower()
        return text, lowered, words_of(lowered)

    @staticmethod
    def _story(text: str, lowered: str, words: set[str], reasons: list[str], plain_text: bool) -> list[str]:
        """Tokens for a complaint told as a story: time passing while nothing happens, the same thing again (or
        "AGAIN" shouted, in a text without praise or thanks: "internet down AGAIN", "joycons drifting AGAIN")."""
        story = []
        passing = None
        if not words.isdisjoint(TIME_PASSING_WORDS) and ("been" in words or not words.isdisjoint(TIME_WORDS)):
            passing = (TIME_PASSING_ASCII if plain_text else TIME_PASSING_RE).search(lowered)
        if (passing is None and not words.isdisjoint(TIME_WORDS)
                and ("n't" in lowered or not words.isdisjoint(WAIT_MARKERS_LIST.single))):
            passing = (WAITED_ASCII if plain_text else WAITED_RE).search(lowered)
        if passing and SHORT_WAIT_RE.search(lowered, max(0, passing.start() - 8), passing.start()):
            passing = None  # "only waited 5 minutes", "just 2 days late": a short wait is no complaint
        if passing:
            story.append(WAITING_TOKEN)
            reasons.append(f"“{passing.group(0)}” (time passing {WAITING_VALENCE:+.1f})")
        if not words.isdisjoint(REPEAT_WORDS) and (repeated := _repeated(lowered, plain_text)):
            story.append(REPEATED_TOKEN)
            reasons.append(f"“{repeated.group(0)}” (again and again {REPEATED_VALENCE:+.1f})")
        elif "AGAIN" in text and not text.isupper() and not _any_word(lowered, PRAISE_LIST, words):
            story.append(REPEATED_TOKEN)
            reasons.append(f"“AGAIN” (again and again {REPEATED_VALENCE:+.1f})")
        return story

    def _complaint(self, text: str, lowered_text: str, words: set[str], found: list[str], phrases: tuple[str, ...],
                   story: list[str], reasons: list[str]):
        """Sentence by sentence: a failure put right, asked about or reported by a third party is no complaint;
        in a complaint, courtesy is no praise, and praise beside the failure (or alone in a short sentence after
        it) is sarcasm. Returns the text and whether it is still a complaint. lowered_text: text.lower(); phrases:
        the phrases it may hold (self._phrases_in)."""
        reported = (_any_word(lowered_text, REPORTING_LIST, words)
                    and not _any_word(lowered_text, FIRST_PERSON_LIST, words)
                    and not lowered_text.lstrip().startswith("@"))  # news is not addressed to the company
        sentences = SENTENCE_RE.split(text)
        read: dict[int, tuple[str, list[str]]] = {}  # index → a sentence's lowered text and words, while unchanged
        complaining, changed = [], set()  # the sentences that name a failure, and those put right
        for index, sentence in enumerate(sentences):
            lowered = sentence.lower()
            if found and holds(found, lowered):
                tokens = words_of(lowered)
                if settled := _settled(lowered, reported, set(tokens)):
                    named = spans(found, lowered, lowered)
                    reasons.append(f"{', '.join(sorted({lowered[start:end] for start, end in named}))} "
                                   f"({settled}: neutral)")
                    sentences[index] = replaced(sentence, spans(found, sentence, lowered), NEUTRAL_TOKEN)
                    changed.add(index)
                else:
                    complaining.append(index)
                    read[index] = lowered, tokens
        if story and not changed and not reported:
            complaining = complaining or [len(sentences) - 1]
        if not complaining:
            return " ".join(sentences), False
        strong = story or not self._strong.isdisjoint(found)
        if not strong:  # a weak failure word alone ("late", "gone") makes no sarcasm of praise
            return " ".join(sentences), True
        if not (_any_word(lowered_text, PRAISE_LIST, words) or _any_word(lowered_text, COURTESY_LIST, words)):
            return " ".join(sentences), True
        praised, courteous = set(), set()
        for index, sentence in enumerate(sentences):
            if index in read:
                lowered, tokens = read[index]
            else:
                lowered = sentence.lower()
                tokens = words_of(lowered)
            sentence_words = set(tokens)
            in_text = None if index in changed else phrases  # the phrases it may hold, while it is as in the text
            if (praise := _words(lowered, PRAISE_LIST, sentence_words)) and (
                    (index > complaining[0] and len(sentence_words) <= SHORT_PRAISE_WORDS)
                    or (index in complaining
                        and (_praise_first(lowered, found, sentence_words) or _praise_last(lowered)))):
                praised.update(praise)
                joined = self._join_phrases(sentence, self._phrases_in(lowered, tokens, sentence_words, in_text))
                sentence = _replace_entries(PRAISE_LIST, SARCASM_TOKEN, joined, sentence_words)
                lowered = sentence.lower()
                tokens = words_of(lowered)
                sentence_words = set(tokens)
                in_text = None
            if courtesy := _words(lowered, COURTESY_LIST, sentence_words):
                courteous.update(courtesy)
                joined = self._join_phrases(sentence, self._phrases_in(lowered, tokens, sentence_words, in_text))
                sentence = _replace_entries(COURTESY_LIST, NEUTRAL_TOKEN, joined, sentence_words)
            sentences[index] = sentence
        if praised:
            reasons.append(f"{', '.join(sorted(praised))} beside a failure (sarcasm {SARCASM_VALENCE:+.1f})")
        if courteous:
            reasons.append(f"{', '.join(sorted(courteous))} (courtesy in a complaint: neutral)")
        return " ".join(sentences), True

    def _questions(self, lowered: str, words: set[str], found: list[str], strong: bool, reasons: list[str]) -> bool:
        """A complaint question: why or when about a failure (or about waiting: "still", "again"); "why" about
        anything but one's own choice; "??"; a rhetorical one ("who thought this was a good idea"). "anyone?" is
        one only about a failure."""
        if "?" not in lowered and "why" not in words:
            return False
        asked = "??" in lowered or _any_word(lowered, RHETORICAL_LIST, words)
        if (not asked and "why" in words and WHY_RE.search(lowered)
                and not _any_word(lowered, NOT_A_COMPLAINT_WHY_LIST, words)):
            asked = True
        if not asked:
            for sentence in SENTENCE_RE.split(lowered):
                sentence = sentence.strip()
                if not sentence.endswith("?"):
                    continue
                sentence_words = set(words_of(sentence))
                if _any_word(sentence, QUESTION_OPENERS_LIST, sentence_words):  # and about a failure, or what is owed
                    asked = ((found and holds(found, sentence))
                             or _any_word(sentence, OWED_LIST, sentence_words))
                else:  # "anyone?" about a strong failure that is not put right
                    asked = (strong and found
                             and _any_word(sentence, WEAK_QUESTION_OPENERS_LIST, sentence_words)
                             and holds(found, sentence)
                             and not _settled(sentence, False, sentence_words))
                if asked:
                    break
        if asked:
            reasons.append(f"a complaint question ({COMPLAINT_QUESTION_VALENCE:+.1f})")
        return bool(asked)

    @staticmethod
    def _calm(lowered: str, named: bool, words: set[str]) -> str | None:
        """Why VADER's negative words in a text that shows no complaint are no sentiment: the text asks for
        information ("do you deliver to PO boxes?") or reports news about a name we know ("Acme cuts 200 jobs,
        company says"; news of anything else keeps its sentiment: "woman reported dead in fire")."""
        stripped = without_leading_address(lowered.lstrip())
        if "?" in stripped and stripped.startswith(CALM_OPENERS):
            return "an informational question"
        if named and _any_word(lowered, NEWS_LIST, words) and not _any_word(lowered, FIRST_PERSON_LIST, words):
            return "news, not a complaint"
        return None

    def _join_phrases(self, text: str, phrases: tuple[str, ...]) -> str:
        """Phrases become the single tokens VADER knows them by. phrases: those the text may hold (the phrases of
        self._lexicon.candidates: found through its words); each is replaced where it stands as a whole (the longest
        first, so "lost my data" wins over "lost data")."""
        if not phrases:
            return text
        return replaced(text, spans(phrases, text, text.lower()), self._token_for)

    def _phrases_in(self, lowered: str, tokens: list[str], words: set[str], in_text: tuple[str, ...] | None):
        """The phrases (terms VADER sees as one token) a sentence may hold: lowered, its lower case; tokens, its
        WORD_RE words; words, set(tokens); in_text: those of the text it is a sentence of, if it is. In plain text
        (terms.plain) without an apostrophe, a phrase stands as a whole only where its words follow each other, so
        those of the text find the same there (and TermIndex.candidates would cost more)."""
        if in_text is not None and "'" not in lowered and plain(lowered):
            return in_text
        return tuple(filter(self.tokens.__contains__, self._lexicon.candidates(lowered, words, _spaced(tokens))))

    def _token_for(self, text: str, start: int, end: int) -> str:
        """The token of the phrase matched at text[start:end]; an emoji's token is set apart by spaces, so that
        "🤬🤬🤬" is three tokens VADER knows rather than one word it does not; a phrase that ends in a negation ("still
        not") keeps it for a word of praise after it ("still not happy" is not happy). .get: a match through a case
        folding that lower() does not share (İ) keeps its text rather than fail."""
        term = text[start:end]
        token = self.tokens.get(term.lower(), term)
        if token is not term and not term[0].isalnum():
            return f" {token} "
        if (negation := self.negating.get(term.lower())) and (after := NEXT_WORD_RE.match(text, end)):
            if self.analyzer.lexicon.get(after.group(1).lower(), 0) > 0:  # "STILL not honored": "honored" negated
                return f"{token} {negation}"
        return token
