import sys
from pathlib import Path

from django.core.management.base import BaseCommand

from accounts.csv_io import export_accounts


class Command(BaseCommand):
    help = "Write every customer account as CSV in the import format, to a file or to standard output."

    def add_arguments(self, parser):
        parser.add_argument("--output", "-o", type=Path, help="The file to write (default: standard output).")

    def handle(self, output: Path | None, **options):
        if output is None:
            count = export_accounts(sys.stdout)
        else:
            with output.open("w", encoding="utf-8", newline="") as stream:
                count = export_accounts(stream)
        self.stderr.write(f"{count:,} accounts exported" + (f" to {output}" if output else ""))
