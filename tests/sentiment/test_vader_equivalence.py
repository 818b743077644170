"""sentiment.scoring.vader gives vaderSentiment's polarity_scores, to the last digit, on thousands of varied texts:
the labelled sets, and texts made of what VADER's rules turn on (boosters, negations, "but", "kind of", idioms,
"no", "least", capitals, punctuation, emoji, emoticons), with VADER's lexicon and with the layer's."""

import json
import random
from pathlib import Path

import pytest
from vaderSentiment.vaderSentiment import (
    BOOSTER_DICT,
    NEGATE,
    SENTIMENT_LADEN_IDIOMS,
    SPECIAL_CASES,
    SentimentIntensityAnalyzer,
)

from sentiment.evaluation import FIXTURE, LABELLED
from sentiment.lexicon import DEFAULT_LEXICON
from sentiment.scoring import Scorer
from sentiment.scoring.vader import Vader

ROUNDS = 4000  # made-up texts per lexicon
KEY = ("but", "BUT", "kind of", "sort of", "no", "NO", "not", "isn't", "least", "at least", "very least", "never so",
       "never this", "without doubt", "nor", "or", "very", "SO", "the bomb", "yeah right", "kiss of death")


def labelled_texts() -> list[str]:
    texts = []
    for path in (*sorted(Path(LABELLED).glob("*.jsonl")), FIXTURE):
        texts += [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return texts


def vader_words(vader: SentimentIntensityAnalyzer, rng: random.Random) -> tuple[list[str], list[str]]:
    """What VADER's rules turn on, and a sample of its lexicon and emoji."""
    rules = [
        *BOOSTER_DICT, *NEGATE, *SPECIAL_CASES, *SENTIMENT_LADEN_IDIOMS, "but", "BUT", "But", "kind", "of", "kind of",
        "sort", "no", "No", "NO", "nor", "or", "least", "at", "very", "at least", "very least", "never", "so", "this",
        "without", "doubt", "isn't", "don't", "wasn't", "n't", "can't", "aint", ":)", ":-(", ":D", "<3", "</3", ";)",
        ":(", "(:", "!", "!!", "!!!!!", "?", "??", "????", "...", ",", "-", "'", '"', "good!", "(bad)", '"great"',
        "*love*", "GOOD", "Great", "HATE", "a", "the", "I", "it", "12", "©", "®", "ok", "okay", "X", "ab", "a.",
    ]
    lexicon, emoji = sorted(vader.lexicon), sorted(vader.emojis)
    sample = [*rng.sample(lexicon, 300), *(word.upper() for word in rng.sample(lexicon, 60)), *rng.sample(emoji, 60)]
    return rules, sample


def made_up_texts(rules: list[str], sample: list[str], rng: random.Random, count: int) -> list[str]:
    """Texts of 0 to 16 parts, half of them from the rules' words, joined by spaces or not, some in capitals."""
    texts = []
    for _ in range(count):
        parts = [rng.choice(KEY if (dice := rng.random()) < 0.2 else rules if dice < 0.55 else sample)
                 for _ in range(rng.randint(0, 16))]
        joiners = [rng.choice((" ", " ", " ", "  ", "", "\n", "\t", " . ", ", ")) for _ in parts]
        text = "".join(part + joiner for part, joiner in zip(parts, joiners, strict=True))
        if rng.random() < 0.15:
            text = text.upper()
        texts.append(text)
    return texts


def assert_same_scores(fast: Vader, vader: SentimentIntensityAnalyzer, texts: list[str]) -> None:
    different = [(text, vader.polarity_scores(text), fast.polarity_scores(text)) for text in texts
                 if repr(fast.polarity_scores(text)) != repr(vader.polarity_scores(text))]  # repr: -0.0 is not 0.0
    assert not different, f"{len(different)} of {len(texts)} differ, first: {different[:3]}"


def test_the_labelled_texts_score_as_vader_scores_them():
    texts = labelled_texts()
    assert len(texts) > 1500
    variants = [text.upper() for text in texts[::3]] + [text.replace(". ", " but ") + " !!??" for text in texts[::4]]
    assert_same_scores(Vader(), SentimentIntensityAnalyzer(), texts + variants)


def test_texts_made_of_what_vaders_rules_turn_on_score_as_vader_scores_them():
    vader = SentimentIntensityAnalyzer()
    rng = random.Random(12)
    texts = made_up_texts(*vader_words(vader, rng), rng, ROUNDS)
    assert sum("but" in text.lower().split() for text in texts) > 400  # the rules are there to be compared
    assert sum(any(idiom in text.lower() for idiom in SPECIAL_CASES) for text in texts) > 100
    assert_same_scores(Vader(), vader, texts)


def test_with_the_layers_lexicon_texts_score_as_vader_scores_them_with_it():
    """The layer adds its terms and tokens to the lexicon (and could add VADER's own modifiers: "least", "so")."""
    fast = Scorer(DEFAULT_LEXICON).analyzer
    fast.lexicon.update({"least": -0.5, "so": 0.3, "kind": 0.0, "no": 0.0})
    vader = SentimentIntensityAnalyzer()
    vader.lexicon = dict(fast.lexicon)
    rng = random.Random(13)
    layer_words = [*rng.sample(sorted(term for term in fast.lexicon if term.startswith("ears_")), 60),
                   *rng.sample(sorted(DEFAULT_LEXICON), 120)]
    rules, sample = vader_words(vader, rng)
    texts = made_up_texts(rules, sample + layer_words * 2, rng, ROUNDS)
    assert_same_scores(fast, vader, texts + labelled_texts()[::5])


@pytest.mark.parametrize("text", ["", "   ", "!!!", "😡", "no", "NO GOOD", "but", "kind of", "not bad at all"])
def test_edge_texts_score_as_vader_scores_them(text):
    assert_same_scores(Vader(), SentimentIntensityAnalyzer(), [text])


def test_a_long_lower_case_text_asks_whether_it_is_lower_case_once_not_once_a_word():
    """islower() of the whole text was asked for each word of the lexicon while the answer was yes: 10,000
    characters of "no no no …" took 140 ms, quadratic in the text (the review's worst case, a bulk request of them
    half a minute). Counted, not timed: the calls the interpreter makes to str.islower."""
    import sys

    text = "no " * 3000
    vader, calls = Vader(), []

    def count(frame, event, function):
        if event == "c_call" and getattr(function, "__name__", "") == "islower":
            calls.append(function)

    sys.setprofile(count)
    try:
        scores = vader.scores(text)
    finally:
        sys.setprofile(None)

    assert len(calls) == 1
    assert dict(zip(("neg", "neu", "pos", "compound"), scores, strict=True)) == \
        SentimentIntensityAnalyzer().polarity_scores(text)


def test_the_but_rule_changes_the_same_valences_as_vader_sentiments_own_however_many_repeat():
    """_but_check finds each valence again by its value, the first equal one, as vaderSentiment's does with
    list.index (quadratic: a text of 10,000 emoji after a "but" took 1.4 s); held to vaderSentiment's own function on
    lists full of repeated values, where finding "the first equal one" matters."""
    from sentiment.scoring.vader import _but_check

    rng = random.Random(11)
    values = [0, 0.0, 1.5, -2.0, 0.75, 3.0, -1.0, 2.25, -3.0, 4.5]  # some are others × 1.5 or × 0.5
    for _ in range(3000):
        size = rng.randint(1, 40)
        words = [rng.choice(["but", "x", "y"]) if rng.random() < 0.1 else "w" for _ in range(size)]
        if "but" not in words:
            words[rng.randrange(size)] = "but"
        sentiments = [rng.choice(values) for _ in range(size)]
        expected = SentimentIntensityAnalyzer._but_check(words, list(sentiments))
        assert _but_check([word.lower() for word in words], list(sentiments)) == expected


def test_a_text_of_emoji_after_a_but_is_scored_in_linear_time_counted_not_timed():
    """Counted: how many times the rule looks a value up (list.index), which was once a word."""
    import sys

    text = "but " + "😀" * 3000
    calls = []

    def count(frame, event, function):
        if event == "c_call" and getattr(function, "__name__", "") == "index":
            calls.append(function)

    vader = Vader()
    sys.setprofile(count)
    try:
        scores = vader.scores(text)
    finally:
        sys.setprofile(None)

    assert len(calls) <= 1  # lowered.index("but")
    assert dict(zip(("neg", "neu", "pos", "compound"), scores, strict=True)) == \
        SentimentIntensityAnalyzer().polarity_scores(text)
