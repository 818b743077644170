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


def ingest_section(result: dict) -> str:
    ours, mib, n = result["ours"], 1024 * 1024, result["mentions"]
    rounds = "\n".join(
        f"| {i} | {r['ours_rate']:,.0f}/s ({r['ours']['seconds']:.1f} s; requests done after "
        f"{r['ours']['post_seconds']:.1f} s) | {r['vader_rate']:,.0f}/s ({r['vader']['seconds']:.1f} s) | "
        f"{r['ratio']:.2f} | {r['ours']['cpu_busy']:.1f} core-s, {r['ours']['cpu_utilisation']:.0%} |"
        for i, r in enumerate(result["rounds"], 1)
    )
    return f"""{n:,} mentions posted to `POST /api/v1/mentions/bulk/` in requests of 1,000, over HTTP to
`gunicorn --workers {result['concurrency']}` (the production command's sync workers, DEBUG off) by
{result['concurrency']} clients at once: validated, scored (the whole text, the customer-service layer), linked to
the open incident and to {result['world']['accounts']:,} customer accounts by handle, flagged by the rules and
stored idempotently, in one INSERT a request. A `celery worker --concurrency {result['concurrency']}` runs beside it,
as in production (it scores only what ingest could not). Against a plain loop of VADER's `polarity_scores` over the
same texts in one process. {len(result['rounds'])} rounds, each in five slices of the texts, ours and VADER taking
turns (the machine's speed drifts within seconds); the round with the median ratio is reported.

| round | ours (API) | plain VADER loop | ratio | machine busy during ours |
|---|---|---|---|---|
{rounds}

Median round: {ours['stored']:,} stored, {ours['linked']:,} linked to the incident, {ours['of_accounts']:,} to an
account, {ours['flagged']:,} flagged. Peak memory: web {result['peak_rss_web'] / mib:,.0f} MiB in all (largest
process {result['peak_rss_web_single'] / mib:,.0f} MiB); worker {result['peak_rss'] / mib:,.0f} MiB in all;
the benchmark process (the clients, VADER loop, the texts) {result['peak_rss_bench'] / mib:,.0f} MiB.

Ratio ours / VADER: **{result['ratio']:.2f}** (goal ≥ 0.7, issue 12).

`{result['summary']}`
"""


def impacts_section(result: dict) -> str:
    rows = ["| page size | API list | API queries | board page | board queries | baseline (one ORM query) |",
            "|---|---|---|---|---|---|"]
    for row in result["rows"]:
        rows.append(f"| {row['size']} | {row['api'][0] * 1000:,.0f} ms | {row['api'][1]} | "
                    f"{row['board'][0] * 1000:,.0f} ms | {row['board'][1]} | {row['baseline'][0] * 1000:,.1f} ms |")
    top = ", ".join(f"{name} ({score:.1f})" for name, score in result["top"])
    return (f"{result['accounts']:,} accounts, {result['impacts']:,} impacts on one incident, "
            f"{result['mentions']:,} negative mentions linked to impacted accounts; the board's manager owns "
            f"{result['board_owned']:,} of the impacted accounts. In-process (Django test client, no HTTP server), "
            "median of 7 after a warm-up. The API list ranks all the incident's impacts by the priority score in "
            "SQL and returns one page with each score's parts; the board ranks the manager's open impacts and shows "
            "the given number per state column. The baseline is the cheapest listing of the same page: one ORM "
            "query ordered by a stored column (revenue), dumped to JSON.\n\n" + "\n".join(rows)
            + f"\n\nTop three: {top}.\n\n`{result['summary']}`\n")


def statuspage_section(result: dict) -> str:
    served, static, ratios, kib = result["served"], result["static"], result["ratios"], 1024

    def row(label, run, ratio, cpu_ratio):
        rates = ", ".join(f"{rate:,.0f}" for rate in run["rates"])
        errors = run["non_2xx"] + run["socket_errors"]
        p99 = f"{run['p99_ms']:,.1f} ms" if run["p99_ms"] is not None else "—"
        cpu = f"{run['cpu_us']:,.0f}" if run["cpu_us"] >= 100 else f"{run['cpu_us']:,.1f}"
        return (f"| {label} | **{run['rate']:,.0f}** ({rates}) | {ratio} | {cpu} µs | {cpu_ratio} | "
                f"{p99} | {errors} |")

    header = ["| | req/s, median (each round) | ratio | server CPU per request | CPU ratio | p99 latency | errors |",
              "|---|---|---|---|---|---|---|"]
    app = [
        row("bare cached “hello” view", served["bare"], "1", "1"),
        row(f"`/status/` ({result['sizes']['page'] / kib:,.0f} KiB)", served["page"], f"**{ratios['page']:.2f}**",
            f"{ratios['page_cpu']:.2f}"),
        row(f"`/api/v2/summary.json` ({result['sizes']['summary'] / kib:,.0f} KiB)", served["summary"],
            f"**{ratios['summary']:.2f}**", f"{ratios['summary_cpu']:.2f}"),
    ]
    nginx = [
        row(f"plain static file ({result['export_sizes']['page'] / kib:,.0f} KiB)", static["plain"], "1", "1"),
        row("`/status/` from the export", static["export"], f"**{ratios['export']:.2f}**",
            f"{ratios['export_cpu']:.2f}"),
        row(f"`/api/v2/summary.json` from the export ({result['export_sizes']['summary'] / kib:,.0f} KiB)",
            static["export_summary"], f"{ratios['export_summary']:.2f}", f"{ratios['export_summary_cpu']:.2f}"),
    ]
    lines = "\n".join(f"`{line}`" + "  " for line in result["summary_lines"])
    return (
        f"A seeded status page (10 components, 3 open and 15 resolved incidents, 4 updates each) served by "
        f"`gunicorn --workers {result['workers']}` (sync workers, DEBUG off, PostgreSQL and Redis) and measured "
        f"with `wrk {result['wrk']}`, {result['rounds']} rounds, the targets interleaved and their order rotated "
        "each round. The median rate is shown; the ratio is the median of the per-round ratios, because the "
        "machine's load drifts during a run and each round's targets ran within seconds of each other. The bare "
        "view runs in the same server with the same settings and middleware: it reads one value from the cache "
        "and returns it, and is mounted next to the status page's URLs so that resolving it costs the same. Every "
        "request is a new visitor (wrk keeps no cookies); the page has no form, so it is the same cached bytes "
        "for each of them, with no CSRF token and no cookie. Server CPU per request is the user and system time of "
        "the server's processes (gunicorn's master "
        "and workers; nginx's) divided by the requests answered, median round; its ratio is the baseline's ÷ "
        "ours, so above 1 means ours costs the server less. It leaves out Redis and wrk, and other load on the "
        "machine disturbs it much less than it does the rate.\n\n"
        + "\n".join(header + app)
        + "\n\nnginx (1 worker) serving the static export with the configuration in docs/operations.md "
        "(`open_file_cache`, `try_files`, headers), against a plain static file of the same size from the same "
        "server (so with the same `open_file_cache`), same run, same wrk settings. Files exported: "
        f"{', '.join(f'`{name}`' for name in result['export_files'])}.\n\n"
        + "\n".join(header + nginx)
        + f"\n\nGoals: ≥ 0.95× the bare view (issue 13), ≥ 0.9× the plain file.\n\n{lines}\n"
    )


def retention_section(result: dict) -> str:
    ours, plain, n = result["ours"], result["plain"], result["rows"]
    rows = [
        "| | ours (batches) | one plain DELETE |",
        "|---|---|---|",
        f"| rows deleted | {ours['deleted']:,} (summarised: {ours['summarised']:,}) | {plain['deleted']:,} "
        "(no counts kept) |",
        f"| wall time | {ours['seconds']:.1f} s ({ours['rate']:,.0f} rows/s) | {plain['seconds']:.1f} s "
        f"({plain['rate']:,.0f} rows/s) |",
        f"| longest transaction (row locks held) | {ours['longest'] * 1000:,.0f} ms (median "
        f"{ours['median'] * 1000:,.0f} ms, {ours['batches']} batches) | {plain['seconds']:.1f} s |",
        f"| longest wait of the sending probe | {ours['probe_longest'] * 1000:,.1f} ms | "
        f"{plain['probe_longest'] * 1000:,.1f} ms |",
    ]
    return (
        f"{n:,} settled delivery rows of 10 messages finished 400 days ago (2 % failed), pruned by "
        "`comms.retention.prune_old_deliveries` (batches of 5,000: read the ids, add their counts per channel and "
        "status to `DeliverySummary`, delete them, commit); against one plain `DELETE … WHERE message_id = ANY(…)` "
        f"over another {n:,} such rows, same run. A probe updates a delivery of a message still sending every "
        "50 ms from a second connection, as a sending worker would.\n\n" + "\n".join(rows)
        + f"\n\nTable `comms_delivery`: {result['mib_before']:,.0f} MiB before, {result['mib_after_delete']:,.0f} "
        f"MiB after the delete, {result['mib_after_vacuum']:,.0f} MiB after `VACUUM` (plain VACUUM, as autovacuum "
        "runs it, marks the space free for new rows without giving it back to the file system; `VACUUM FULL` "
        f"would, under an exclusive lock).\n\n`{result['summary']}`\n"
    )


def fanout_scale_section(result: dict) -> str:
    mib, plain = 2**20, result["plain"]
    rows = ["| subscribers | throughput | publish → last received | delivery rows created in | publish request | "
            "peak worker memory (all processes / largest) | received |", "|---|---|---|---|---|---|---|"]
    for run in result["runs"]:
        fan_out = f"{run['fan_out_seconds']:.1f} s" if run["fan_out_seconds"] is not None else "—"
        rows.append(f"| {run['size']:,} | {run['rate']:,.0f} msg/s | {run['seconds']:.1f} s | {fan_out} | "
                    f"{run['publish_ms']:,.0f} ms | {run['peak_rss'] / mib:,.0f} / {run['peak_rss_single'] / mib:,.0f} "
                    f"MiB | {run['received']:,} / {run['size']:,} ({run['state']}) |")
    last = result["runs"][-1]
    return (
        "One approved update published by a lead (the page's POST, in-process) and fanned out by real workers "
        f"(`--concurrency {result['worker_concurrency']}`) over SMTP into Postfix's `smtp-sink` (C), at each size "
        "in turn, same run; the plain baseline is an smtplib loop over one connection into another `smtp-sink`, "
        f"{plain['received']:,} pre-built messages, run just before the first size and just after the last (the mean "
        "of the two is the baseline: the machine's speed drifts).\n\n" + "\n".join(rows)
        + f"\n\nPlain smtplib loop: {plain['rate']:,.0f} msg/s ({_either_side(plain)}). "
        f"Ours at {last['size']:,} / plain: "
        f"**{last['rate'] / plain['rate']:.2f}** (goal ≥ 0.7); {last['size']:,} / {result['runs'][0]['size']:,}: "
        f"**{result['ratio']:.2f}** (goal ≥ 0.85).\n\n" + hooks_section(result.get("hooks"), mib)
        + "\n".join(f"`{line}`  " for line in result.get("summary_lines", [result["summary"]])) + "\n"
    )


def _either_side(plain: dict) -> str:
    before, after = plain.get("rates", (plain["rate"], plain["rate"]))
    return f"{before:,.0f} before, {after:,.0f} after"


def hooks_section(hooks: dict | None, mib: int) -> str:
    if not hooks:
        return ""
    ours, plain = hooks["ours"], hooks["plain"]
    fan_out = f"{ours['fan_out_seconds']:.1f} s" if ours["fan_out_seconds"] is not None else "—"
    return (
        f"Webhook-style subscribers: the same kind of update to {ours['size']:,} confirmed generic-webhook endpoints "
        "(the `subscriber_hooks` channel: signed JSON with each endpoint's unsubscribe link, posted through the "
        "outbound guard), into nginx answering `204` to every POST (one worker, a line of access log per request, "
        "which is how received is counted); against a plain `httpx.Client` loop over one keep-alive connection "
        "posting the same pre-built bodies and headers into another such nginx, just before ours and just after "
        "(the mean of the two is the baseline).\n\n"
        "| | ours (workers) | plain httpx loop |\n|---|---|---|\n"
        f"| throughput | {ours['rate']:,.0f} msg/s | {plain['rate']:,.0f} msg/s ({_either_side(plain)}) |\n"
        f"| wall time | {ours['seconds']:.1f} s (publish → last received; rows created in {fan_out}) | "
        f"{plain['seconds']:.1f} s (sending only) |\n"
        f"| received by nginx | {ours['received']:,} / {ours['size']:,} ({ours['state']}) | "
        f"{plain['received']:,} / {plain['size']:,} |\n"
        f"| peak worker memory | {ours['peak_rss'] / mib:,.0f} MiB, all processes (largest "
        f"{ours['peak_rss_single'] / mib:,.0f} MiB) | — |\n\n"
        f"Ratio ours / httpx: **{hooks['ratio']:.2f}** (goal ≥ 0.7).\n\n"
    )


def social_section(result: dict) -> str:
    ours, mib, n = result["ours"], 1024 * 1024, result["mentions"]
    rounds = "\n".join(
        f"| {i} | {r['ours_rate']:,.0f}/s ({r['ours']['seconds']:.1f} s; "
        + ", ".join(f"{network} stored after {seconds:.1f} s"
                    for network, seconds in sorted(r["ours"]["stored_seconds"].items()))
        + f") | {r['vader_rate']:,.0f}/s ({r['vader']['seconds']:.1f} s) | {r['ratio']:.2f} | "
        f"{r['ours']['cpu_busy']:.1f} core-s, {r['ours']['cpu_utilisation']:.0%} |"
        for i, r in enumerate(result["rounds"], 1)
    )
    polls, requests = ours["polls"], ours["requests"]
    return f"""{result['posts']:,} posts mentioning our account on each of a fake Mastodon instance and a fake Bluesky
server (tests/fakes, Python HTTP servers on 127.0.0.1, in the benchmark process), read by the beat tasks
`poll_mastodon_searches` and `poll_bluesky_searches` in a real `celery worker --concurrency
{result['worker_concurrency']}`: each page stored idempotently in one transaction, then scored, linked to the open
incident and to {result['world']['accounts']:,} customer accounts by handle, and flagged, by scoring tasks on the
same worker; against a plain loop of VADER's `polarity_scores` over the same {n:,} texts (as stored) in one process.
The texts are the bulk-API benchmark's. The searches poll back to back (interval 0: the benchmark sends a network's
poll task as soon as its previous poll has ended, where beat waits up to 15 s), so the pipeline is measured, not the
schedule. {len(result['rounds'])} rounds, each ours then VADER moments apart; the round with the median ratio is
reported.

| round | ours (polling + worker) | plain VADER loop | ratio | machine busy during ours |
|---|---|---|---|---|
{rounds}

Median round: {ours['stored']:,} stored, {ours['linked']:,} linked to the incident, {ours['of_accounts']:,} to an
account, {ours['flagged']:,} flagged; polls: Mastodon {polls['mastodon']}, Bluesky {polls['bluesky']} (requests
to the fakes: {requests['mastodon']:,} and {requests['bluesky']:,}). Peak memory: workers
{result['peak_rss'] / mib:,.0f} MiB in all (largest process {result['peak_rss_single'] / mib:,.0f} MiB); the
benchmark process (the fakes, VADER loop, the texts) {result['peak_rss_bench'] / mib:,.0f} MiB.

Ratio ours / VADER: **{result['ratio']:.2f}** (goal ≥ 0.7).

`{result['summary']}`
"""


BENCHMARKS = ("fanout", "ingest", "social", "lexicon", "impacts", "statuspage", "retention", "scale")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--no-record", action="store_true", help="Print only; do not rewrite docs/benchmarks.md.")
    parser.add_argument("--only", choices=BENCHMARKS, action="append", help="Run only these (repeatable).")
    args = parser.parse_args()
    chosen = args.only or list(BENCHMARKS)

    var_dir = ROOT / "var" / "bench"
    var_dir.mkdir(parents=True, exist_ok=True)
    configure_environment(VAR_DIR=str(var_dir))
    started = datetime.datetime.now(datetime.UTC)
    where = (
        f"Run {started:%Y-%m-%d %H:%M} UTC on {machine()}; database "
        f"{os.environ['DATABASE_URL'].rsplit('@', 1)[-1]}, broker {os.environ['REDIS_URL'].rsplit('@', 1)[-1]}.\n\n"
    )
    sections = RecordingSections(None if args.no_record else ROOT / "docs" / "benchmarks.md")
    if "fanout" in chosen:
        from bench import fanout

        result = fanout.main(var_dir)
        print(result["summary"])
        sections["fanout"] = where + fanout_section(result)
    if "ingest" in chosen:
        from bench import ingest

        result = ingest.main(var_dir)
        print(result["summary"])
        sections["ingest"] = where + ingest_section(result)
    if "social" in chosen:
        from bench import social_ingest

        result = social_ingest.main(var_dir)
        print(result["summary"])
        sections["social"] = where + social_section(result)
    if "impacts" in chosen:
        from bench import impacts

        result = impacts.main()
        print(result["summary"])
        sections["impacts"] = where + impacts_section(result)
    if "statuspage" in chosen:
        from bench import statuspage

        result = statuspage.main(var_dir)
        print(result["summary"])
        sections["statuspage"] = where + statuspage_section(result)
    if "scale" in chosen:
        from bench import fanout_scale

        result = fanout_scale.main(var_dir)
        print(result["summary"])
        sections["scale"] = where + fanout_scale_section(result)
    if "retention" in chosen:
        from bench import retention

        result = retention.main()
        print(result["summary"])
        sections["retention"] = where + retention_section(result)
    if "lexicon" in chosen:
        from bench import sentiment_quality

        sections["lexicon"] = sentiment_quality.section(sentiment_quality.run())
    if not args.no_record:
        sys.stderr.write(f"recorded in docs/benchmarks.md: {', '.join(sections)}\n")


class RecordingSections(dict):
    """Each benchmark's section is written to docs/benchmarks.md as soon as it is done: a later benchmark that fails
    (a missing tool, a crash) does not lose the figures of those before it."""

    def __init__(self, path: Path | None):
        super().__init__()
        self.path = path

    def __setitem__(self, name: str, section: str) -> None:
        super().__setitem__(name, section)
        if self.path is not None:
            record(self.path, name, section)


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
