"""`make bench`: run the benchmarks on PostgreSQL and Redis, print them, record them in docs/benchmarks.md."""

import argparse
import datetime
import os
import sys
from pathlib import Path

from bench.common import ROOT, configure_environment, machine


def fanout_section(result: dict) -> str:
    ours, plain = result["ours"], result["plain"]
    mib, n = 1024 * 1024, result["subscribers"]
    largest = ours["peak_rss_single"] / mib
    return f"""One approved update, dispatched the way beat dispatches it (claim, one delivery row per recipient,
batches of `EMAIL_BATCH_SIZE` on Redis), sent by a real
`celery worker --concurrency {result['worker_concurrency']}` over SMTP to a local aiosmtpd sink; against a
plain `smtplib` loop sending the same pre-built messages over one connection to the same kind of sink, in the
same run.

| | ours (worker) | plain smtplib loop |
|---|---|---|
| throughput | {result['ours_rate']:,.0f} msg/s | {result['plain_rate']:,.0f} msg/s |
| wall time | {ours['seconds']:.1f} s (incl. fan-out of the rows) | {plain['seconds']:.1f} s (sending only) |
| received by the sink | {ours['received']:,} / {n:,} | {plain['received']:,} / {n:,} |
| duplicates | {ours['duplicates']} | {plain['duplicates']} |
| peak worker memory | {ours['peak_rss'] / mib:,.0f} MiB, all processes (largest {largest:,.0f} MiB) | — |

Ratio ours / smtplib: **{result['ratio']:.2f}** (goal ≥ 0.7). Message state at the end: `{ours['state']}`.

`{result['summary']}`
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--no-record", action="store_true", help="Print only; do not rewrite docs/benchmarks.md.")
    args = parser.parse_args()

    var_dir = ROOT / "var" / "bench"
    var_dir.mkdir(parents=True, exist_ok=True)
    configure_environment(VAR_DIR=str(var_dir))
    from bench import fanout

    started = datetime.datetime.now(datetime.UTC)
    result = fanout.main(var_dir)
    print(result["summary"])

    if not args.no_record:
        where = (
            f"Run {started:%Y-%m-%d %H:%M} UTC on {machine()}; database "
            f"{os.environ['DATABASE_URL'].rsplit('@', 1)[-1]}, broker {os.environ['REDIS_URL'].rsplit('@', 1)[-1]}.\n\n"
        )
        record(ROOT / "docs" / "benchmarks.md", "fanout", where + fanout_section(result))
        sys.stderr.write("recorded in docs/benchmarks.md\n")


def record(path: Path, name: str, section: str) -> None:
    """Replace this benchmark's marked section of the file, keeping everything else (notes, other runs)."""
    start, end = f"<!-- bench:{name}:start -->", f"<!-- bench:{name}:end -->"
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    block = f"{start}\n{section.strip()}\n{end}"
    if start in text and end in text:
        text = text[: text.index(start)] + block + text[text.index(end) + len(end) :]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    path.write_text(text)


if __name__ == "__main__":
    main()
