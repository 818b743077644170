"""manage.py evaluate_sentiment FILE [FILE …]: how the scoring reads a labelled set of mentions."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from sentiment.evaluation import UnreadableFile, evaluate, load
from sentiment.scoring import get_scorer


class Command(BaseCommand):
    help = ("Score labelled mentions (JSONL or CSV with text and label: negative, neutral or positive; optional "
            "brand and handles, read as neutral; optional rating) or VADER's tab-separated ground truth, and print "
            "precision, recall and F1 per label, flagged precision and recall, the confusion matrix and Pearson's r "
            "where there are ratings. Nothing is stored.")

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", type=Path)
        parser.add_argument("--plain", action="store_true", help="Plain VADER, without the customer-service layer.")
        parser.add_argument("--misses", type=int, default=0, metavar="N", help="Also print N misclassified texts.")

    def handle(self, *args, files, plain, misses, **options):
        scorer = get_scorer("plain" if plain else "incident")
        for path in files:
            if not path.is_file():
                raise CommandError(f"{path} is not a file.")
            try:
                rows = load(path)
            except (UnreadableFile, UnicodeDecodeError, ValueError) as error:
                raise CommandError(f"{path}: {error}") from None
            self.stderr.write(f"Scoring {len(rows):,} texts of {path.name} …")
            report = evaluate(scorer, rows, path.stem)
            self.stdout.write(report.summary())
            if report.labelled:
                self.stdout.write(report.table())
            for text, true, predicted in report.misses[:misses]:
                self.stdout.write(f"  {true} read as {predicted}: {' '.join(text.split())[:160]}")
            self.stdout.write("")
