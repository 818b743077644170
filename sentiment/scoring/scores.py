"""What scoring returns: VADER's four numbers and the layer's reasons, and the label VADER's thresholds give."""

from typing import NamedTuple

from sentiment.choices import Label

POSITIVE_THRESHOLD = 0.05
NEGATIVE_THRESHOLD = -0.05


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
