"""One VADER analyzer per process: building it loads the lexicon, which is far too slow to do per text."""

from functools import lru_cache

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer


@lru_cache(maxsize=1)
def get_analyzer() -> SentimentIntensityAnalyzer:
    return SentimentIntensityAnalyzer()


def compound(text: str) -> float:
    return get_analyzer().polarity_scores(text)["compound"]
