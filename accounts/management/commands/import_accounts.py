import sys
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.csv_io import COLUMNS, import_accounts
from core.progress import Progress


class Command(BaseCommand):
    help = (
        "Import customer accounts from a CSV file with a header row (columns: " + ", ".join(COLUMNS) + "; only name "
        "is required). Accounts are matched by name, so re-importing a file updates them. Every row is checked "
        "first; by default one bad row means nothing is imported, and every bad row is listed with its line "
        "number. --keep-valid imports the good rows anyway. Exits with status 1 when any row was bad."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--keep-valid", action="store_true",
                            help="Import the good rows even when some are bad (default: all or nothing).")

    def handle(self, file: Path, keep_valid: bool, **options):
        if not file.is_file():
            raise CommandError(f"{file} is not a file.")
        try:
            text = file.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as error:
            raise CommandError(f"{file.name} is not UTF-8 text ({error.reason}); save it as UTF-8.") from None
        lines = max(text.count("\n") - 1, 0) + (0 if text.endswith("\n") else 1)
        progress = Progress(f"Checking {file.name}", lines, options.get("stderr") or sys.stderr)
        try:
            report = import_accounts(text, partial=keep_valid, progress=progress.update)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        progress.update(progress.total)
        progress.finish()
        for line, problem in report.errors:
            self.stderr.write(f"Line {line}: {problem}")
        self.stdout.write(report.summary)
        if report.errors:
            raise CommandError(f"{len(report.errors)} bad line{'s' if len(report.errors) != 1 else ''} (listed above).")
