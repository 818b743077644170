"""How well the scoring reads people: precision, recall and F1 per label, flagged precision and recall, the
confusion matrix and, where a set has human ratings, Pearson's r. Used by `manage.py evaluate_sentiment` and by
`make bench` (bench/data/sentiment/README.md says how its labelled sets were made and split)."""

import csv
import json
import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from sentiment.choices import Label
from sentiment.flagging import needs_answer
from sentiment.scoring import Scorer

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "incident_mentions.jsonl"
LABELLED = ROOT / "bench" / "data" / "sentiment"
LABELS = (Label.NEGATIVE, Label.NEUTRAL, Label.POSITIVE)


@dataclass
class Row:
    text: str
    label: str | None = None  # negative | neutral | positive
    rating: float | None = None  # a human rating (VADER's tweets: −4 … +4)
    neutral: tuple[str, ...] = ()  # the brand and its handles: no sentiment in this text


@dataclass
class Report:
    name: str
    rows: int
    confusion: Counter = field(default_factory=Counter)  # (true, predicted) → count
    flagged: Counter = field(default_factory=Counter)  # tp / fp / fn of "flagged" against negative
    pearson: float | None = None
    misses: list[tuple[str, str, str]] = field(default_factory=list)  # (text, true, predicted)

    def precision(self, label: str) -> float:
        predicted = sum(n for (_, p), n in self.confusion.items() if p == label)
        return self.confusion[(label, label)] / predicted if predicted else 0.0

    def recall(self, label: str) -> float:
        actual = sum(n for (t, _), n in self.confusion.items() if t == label)
        return self.confusion[(label, label)] / actual if actual else 0.0

    def f1(self, label: str) -> float:
        p, r = self.precision(label), self.recall(label)
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def flagged_precision(self) -> float:
        tp, fp = self.flagged["tp"], self.flagged["fp"]
        return tp / (tp + fp) if tp + fp else 0.0

    @property
    def flagged_recall(self) -> float:
        tp, fn = self.flagged["tp"], self.flagged["fn"]
        return tp / (tp + fn) if tp + fn else 0.0

    @property
    def labelled(self) -> bool:
        return bool(self.confusion)

    def summary(self) -> str:
        """`sentiment <name>: negative P p R r F1 f; flagged P p R r; pearson r` (what the set allows)."""
        parts = []
        if self.labelled:
            n = Label.NEGATIVE
            parts.append(f"negative P {self.precision(n):.2f} R {self.recall(n):.2f} F1 {self.f1(n):.2f}")
            parts.append(f"flagged P {self.flagged_precision:.2f} R {self.flagged_recall:.2f}")
        if self.pearson is not None:
            parts.append(f"pearson {self.pearson:.3f}")
        return f"sentiment {self.name}: " + "; ".join(parts)

    def table(self) -> str:
        lines = [f"{'':10} {'precision':>9} {'recall':>7} {'F1':>6}"]
        for label in LABELS:
            lines.append(f"{label:10} {self.precision(label):9.2f} {self.recall(label):7.2f} {self.f1(label):6.2f}")
        lines.append("")
        lines.append("true \\ predicted " + " ".join(f"{label:>9}" for label in LABELS))
        for true in LABELS:
            lines.append(f"{true:16} " + " ".join(f"{self.confusion[(true, p)]:9d}" for p in LABELS))
        return "\n".join(lines)


def evaluate(scorer: Scorer, rows: list[Row], name: str) -> Report:
    report = Report(name=name, rows=len(rows))
    ratings, compounds = [], []
    for row in rows:
        scores = scorer.score(row.text, neutral=row.neutral)
        if row.label:
            predicted = scores.label
            report.confusion[(row.label, predicted)] += 1
            if predicted != row.label:
                report.misses.append((row.text, row.label, predicted))
            negative, was_flagged = row.label == Label.NEGATIVE, needs_answer(scores)
            report.flagged["tp"] += negative and was_flagged
            report.flagged["fp"] += was_flagged and not negative
            report.flagged["fn"] += negative and not was_flagged
        if row.rating is not None:
            ratings.append(row.rating)
            compounds.append(scores.compound)
    if len(ratings) > 2:
        report.pearson = pearson(ratings, compounds)
    return report


def pearson(xs: list[float], ys: list[float]) -> float:
    n = len(xs)
    mean_x, mean_y = sum(xs) / n, sum(ys) / n
    covariance = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True))
    spread = math.sqrt(sum((x - mean_x) ** 2 for x in xs) * sum((y - mean_y) ** 2 for y in ys))
    return covariance / spread if spread else 0.0


class UnreadableFile(ValueError):
    pass


def load(path: Path) -> list[Row]:
    """A labelled file: JSONL or CSV with `text` and `label` (negative/neutral/positive; or `negative`: true/false),
    optionally `rating`, `brand` and `handles`; or VADER's ground truth (id, rating, text separated by tabs)."""
    path = Path(path)
    if path.suffix == ".txt":
        return [_vader_row(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if path.suffix == ".csv":
        with path.open(newline="", encoding="utf-8") as stream:
            return [_row(record, number) for number, record in enumerate(csv.DictReader(stream), start=2)]
    if path.suffix in (".jsonl", ".ndjson"):
        rows = []
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if line.strip():
                try:
                    rows.append(_row(json.loads(line), number))
                except json.JSONDecodeError as error:
                    raise UnreadableFile(f"line {number}: not JSON ({error.msg})") from None
        return rows
    raise UnreadableFile(f"{path.name}: name it .jsonl, .csv, or .txt (VADER's tab-separated ground truth)")


def _row(record: dict, number: int) -> Row:
    text = record.get("text")
    if not isinstance(text, str) or not text.strip():
        raise UnreadableFile(f"line {number}: no text")
    label = record.get("label")
    if label in (None, "") and "negative" in record:
        negative = record["negative"]
        label = Label.NEGATIVE if negative in (True, "true", "1", 1) else "not negative"
    if label not in (*LABELS, "not negative", None, ""):
        raise UnreadableFile(f"line {number}: label must be negative, neutral or positive, not {label!r}")
    rating = record.get("rating")
    handles = record.get("handles") or []
    if isinstance(handles, str):
        handles = handles.split()
    neutral = tuple(term for term in (record.get("brand"), *handles) if term)
    return Row(text=text, label=label or None, rating=float(rating) if rating not in (None, "") else None,
               neutral=neutral)


def _vader_row(line: str) -> Row:
    _, rating, text = line.split("\t", 2)
    return Row(text=text, rating=float(rating))
