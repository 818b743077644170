"""Precision and recall of the "negative" label on a labelled file of mentions, plain VADER vs the layer."""

import json
from dataclasses import dataclass
from pathlib import Path

from sentiment.choices import Label
from sentiment.lexicon import DEFAULT_LEXICON
from sentiment.scoring import Scorer

FIXTURE = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "incident_mentions.jsonl"


@dataclass
class Quality:
    precision: float
    recall: float
    true_positives: int
    false_positives: int
    false_negatives: int
    misses: list[str]

    @property
    def f1(self) -> float:
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0


def load(path: Path = FIXTURE) -> list[tuple[str, bool]]:
    return [(row["text"], row["negative"]) for row in map(json.loads, path.read_text().splitlines()) if row]


def evaluate(scorer: Scorer, rows: list[tuple[str, bool]]) -> Quality:
    tp = fp = fn = 0
    misses = []
    for text, negative in rows:
        predicted = scorer.score(text).label == Label.NEGATIVE
        tp += predicted and negative
        fp += predicted and not negative
        fn += negative and not predicted
        if predicted != negative:
            misses.append(text)
    return Quality(
        precision=tp / (tp + fp) if tp + fp else 0.0,
        recall=tp / (tp + fn) if tp + fn else 0.0,
        true_positives=tp, false_positives=fp, false_negatives=fn, misses=misses,
    )


def compare(path: Path = FIXTURE) -> dict[str, Quality]:
    rows = load(path)
    return {"plain VADER": evaluate(Scorer(), rows), "with incident layer": evaluate(Scorer(DEFAULT_LEXICON), rows)}
