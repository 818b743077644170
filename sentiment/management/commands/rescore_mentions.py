import sys

from django.core.management.base import BaseCommand

from core.progress import Progress
from sentiment.models import Mention
from sentiment.services import score_mentions

BATCH = 1000


class Command(BaseCommand):
    help = (
        "Score, flag and link stored mentions again, in batches of 1,000 — after changing lexicon entries or flag "
        "rules in the admin. Mentions already linked to an incident keep that link."
    )

    def add_arguments(self, parser):
        parser.add_argument("--only-unscored", action="store_true",
                            help="Only mentions the worker has not scored yet (e.g. after the worker was down).")

    def handle(self, only_unscored, **options):
        mentions = Mention.objects.filter(scored_at__isnull=True) if only_unscored else Mention.objects.all()
        progress = Progress("Rescoring", mentions.count(), options.get("stderr") or sys.stderr)
        rescored, last_pk = 0, 0
        while ids := list(mentions.filter(pk__gt=last_pk).order_by("pk").values_list("pk", flat=True)[:BATCH]):
            rescored += score_mentions(ids, rescore=True)
            last_pk = ids[-1]
            progress.update(rescored)
        progress.finish()
        flagged = Mention.objects.filter(flagged=True).count()
        self.stdout.write(f"{rescored:,} mention{'s' if rescored != 1 else ''} rescored; {flagged:,} flagged now.")
