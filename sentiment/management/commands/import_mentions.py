import csv
import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from core.progress import Progress
from sentiment.choices import Source
from sentiment.ingest import ingest

BATCH = 1000
FIELDS = ["external_id", "text", "posted_at", "author_handle", "author_name", "author_followers", "url", "language",
          "source", "in_reply_to_id", "in_reply_to_url"]
REQUIRED = ["external_id", "text", "posted_at"]
FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}


class Command(BaseCommand):
    help = (
        "Import mentions from a CSV file (a header row naming the columns: " + ", ".join(FIELDS) + ") or a JSON Lines "
        "file (one object with those keys per line). Every mention goes through the same validation as the API and "
        "is scored by the worker. Bad lines are reported with their line number and reason and skipped; the good "
        "ones are imported, and the command then exits with status 1. Re-running it imports nothing twice: "
        "mentions already stored (same source and external_id) are counted as duplicates."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--format", choices=["csv", "jsonl"],
                            help="csv or jsonl; by default from the file's extension (.csv, .jsonl or .ndjson).")
        parser.add_argument("--source", default=Source.IMPORT, choices=Source.values,
                            help="The source of rows that do not name one (default: import).")

    def handle(self, file: Path, format, source, **options):
        format = format or FORMATS.get(file.suffix.lower())
        if format is None:
            raise CommandError(f"Can't tell the format of {file.name}: name it .csv or .jsonl, or pass --format.")
        if not file.is_file():
            raise CommandError(f"{file} is not a file.")
        progress = Progress(f"Importing {file.name}", count_lines(file), options.get("stderr") or sys.stderr)
        counts = {"created": 0, "duplicate": 0, "bad": 0}
        batch, problems = [], []  # (line number, item); (line number, reason)

        def store():
            results = ingest([item for _, item in batch], default_source=source) if batch else []
            for result in results:
                if result.status == "error":
                    problems.append((batch[result.index][0], result.reason))
                else:
                    counts[result.status] += 1
            counts["bad"] += len(problems)
            for line, reason in sorted(problems):
                progress.echo(f"Line {line}: {reason}")
            batch.clear()
            problems.clear()

        try:
            with file.open(encoding="utf-8-sig", newline="") as handle:
                rows = read_csv(handle) if format == "csv" else read_jsonl(handle)
                for line, item, problem in rows:
                    if problem:
                        problems.append((line, problem))
                    else:
                        batch.append((line, item))
                        if len(batch) == BATCH:
                            store()
                    progress.update(line)
        except UnicodeDecodeError as error:
            store()
            raise CommandError(f"{file.name} is not UTF-8 text ({error.reason}); lines before that point were "
                               "imported. Save it as UTF-8 and run the import again.") from None
        store()
        progress.update(progress.total)
        progress.finish()

        created, duplicates, bad = counts["created"], counts["duplicate"], counts["bad"]
        self.stdout.write(f"{created:,} created, {duplicates:,} duplicate{_s(duplicates)}, {bad:,} bad line{_s(bad)}")
        if bad:
            raise CommandError(f"{bad:,} bad line{_s(bad)} skipped (listed above); the other lines were imported.")


def count_lines(path: Path) -> int:
    lines, last = 0, b"\n"
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    return lines + (last != b"\n")


def read_csv(handle):
    """(line number, row as a dict, None) or (line number, None, what is wrong) per record; the header is line 1."""
    reader = csv.reader(handle)
    header = [name.strip() for name in next(reader, [])]
    unknown = [name for name in header if name not in FIELDS]
    missing = [name for name in REQUIRED if name not in header]
    if unknown or missing:
        raise CommandError(
            "The CSV header (line 1) must name the columns; "
            + (f"unknown: {', '.join(unknown)}; " if unknown else "")
            + (f"missing: {', '.join(missing)}; " if missing else "")
            + f"known columns: {', '.join(FIELDS)}."
        )
    while True:
        line = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            yield line, None, f"not valid CSV ({error})"
            continue
        if not any(cell.strip() for cell in row):
            continue  # a blank line
        if len(row) != len(header):
            yield line, None, f"{len(row)} columns where the header has {len(header)}"
        else:
            yield line, dict(zip(header, row, strict=True)), None


def read_jsonl(handle):
    for line, text in enumerate(handle, start=1):
        if not text.strip():
            continue
        try:
            yield line, json.loads(text.rstrip("\r\n")), None
        except json.JSONDecodeError as error:
            yield line, None, f"not valid JSON: {error.msg} (column {error.colno})"


def _s(count: int) -> str:
    return "" if count == 1 else "s"
