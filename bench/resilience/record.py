"""Write the figures of a `make resilience` run into docs/reliability.md, between its markers: the faults in one
block, the ingest flood (its own worker layout and sizes) in another, and each outage of the far side
(bench/resilience/outages.py) in one of its own, so that `--only` one of them rewrites just its figures."""

import os
from pathlib import Path

START, END = "<!-- resilience:start -->", "<!-- resilience:end -->"
FLOOD_START, FLOOD_END = "<!-- resilience:flood:start -->", "<!-- resilience:flood:end -->"


def figures(results, started, machine: str, args) -> str:
    from django.conf import settings

    from comms import delivery

    sweep = f"every {args.sweep_seconds:g} s (shortened)" if args.sweep_seconds else "every 30 s (beat's schedule)"
    lines = [
        f"Run {started:%Y-%m-%d %H:%M} UTC on {machine}; PostgreSQL "
        f"{os.environ['DATABASE_URL'].rsplit('@', 1)[-1]}, a private redis-server without persistence, "
        f"`celery worker --concurrency {args.concurrency}`, {args.subscribers:,} confirmed subscribers. Sweeper "
        f"{sweep}; dead-claim grace {delivery.sweep.DEAD_CLAIM_GRACE_SECONDS:g} s; `CELERY_TASK_TIME_LIMIT` "
        f"{settings.CELERY_TASK_TIME_LIMIT} s (not shortened: recovery does not wait for it). Load average "
        f"{args.load_before:.1f} when it started (the machine is shared: timings vary with it; counts do not).",
        "",
        "| scenario | what | rows | sent | lost | duplicated | failed | stuck | message ends |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, result in results:
        for what, c in result.counts.items():
            lines.append(f"| {name} | {what} | {c.rows:,} | {c.sent:,} | {c.lost:,} | {c.duplicated:,} | "
                         f"{c.failed:,} | {c.stuck:,} | `{result.states.get(what, '?')}` |")
    lines.append("")
    for name, result in results:
        verdict = "held" if not result.failures else "**did not hold**: " + "; ".join(result.failures)
        lines.append(f"**{name}** ({verdict})")
        lines.append("")
        for key, value in result.facts.items():
            lines.append(f"- {key}: {value}")
        for what, counts in result.counts.items():
            for error, n in counts.errors.items():
                lines.append(f"- {what}: {n:,} failed with “{error}”")
        lines.append("- checked: " + "; ".join(d for d, _ in result.expectations))
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def flood_figures(result, started, machine: str, args) -> str:
    """The ingest-flood scenario: its own worker layout and sizes, the counts of its two fan-outs, the times and
    the one-line summary."""
    lowered = (f" with its CPU priority lowered by {args.ingest_nice} (nice and its session's autogroup)"
               if args.ingest_nice else " at the same CPU priority (`--ingest-nice 0`)")
    lines = [
        f"Run {started:%Y-%m-%d %H:%M} UTC on {machine}; PostgreSQL "
        f"{os.environ['DATABASE_URL'].rsplit('@', 1)[-1]}, a private redis-server without persistence; the Procfile's "
        f"layout: `celery worker --queues deliveries --concurrency {args.concurrency}` and `celery worker --queues "
        f"default,ingest --concurrency {args.ingest_concurrency}`{lowered}, one beat; {args.subscribers:,} confirmed "
        f"subscribers, a flood of {args.mentions:,} mentions posted by {args.flood_posters} processes. Load average "
        f"{args.load_before:.1f} when it started (the machine is shared: timings vary with it; counts do not).",
        "",
        "| fan-out | rows | sent | lost | duplicated | failed | stuck | message ends |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for what, c in result.counts.items():
        lines.append(f"| {what} | {c.rows:,} | {c.sent:,} | {c.lost:,} | {c.duplicated:,} | {c.failed:,} | "
                     f"{c.stuck:,} | `{result.states.get(what, '?')}` |")
    verdict = "held" if not result.failures else "**did not hold**: " + "; ".join(result.failures)
    lines += ["", f"**ingest-flood** ({verdict})", ""]
    facts = dict(result.facts)
    line = facts.pop("line", None)
    lines += [f"- {key}: {value}" for key, value in facts.items()]
    lines.append("- checked: " + "; ".join(d for d, _ in result.expectations))
    if line:
        lines += ["", f"`{line}`"]
    return "\n".join(lines).rstrip() + "\n"


def outage_figures(name: str, result, started, machine: str, args) -> str:
    """An outage of the far side (bench/resilience/outages.py): its counts, facts and checks."""
    from comms import delivery

    lines = [
        f"Run {started:%Y-%m-%d %H:%M} UTC on {machine}; PostgreSQL "
        f"{os.environ['DATABASE_URL'].rsplit('@', 1)[-1]}, a private redis-server without persistence, "
        f"`celery worker --concurrency {args.concurrency}` and one beat; retries back off from "
        f"{delivery.send.RETRY_BASE_SECONDS:g} s (production's). Load average {args.load_before:.1f} when it started "
        "(the machine is shared: timings vary with it; counts do not).",
        "",
        "| what | rows | sent | lost | duplicated | failed | stuck | message ends |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for what, c in result.counts.items():
        lines.append(f"| {what} | {c.rows:,} | {c.sent:,} | {c.lost:,} | {c.duplicated:,} | {c.failed:,} | "
                     f"{c.stuck:,} | `{result.states.get(what, '?')}` |")
    verdict = "held" if not result.failures else "**did not hold**: " + "; ".join(result.failures)
    lines += ["", f"**{name}** ({verdict})", ""]
    lines += [f"- {key}: {value}" for key, value in result.facts.items()]
    lines.append("- checked: " + "; ".join(d for d, _ in result.expectations))
    return "\n".join(lines).rstrip() + "\n"


def record_outage(path: Path, name: str, result, started, machine: str, args) -> None:
    _rewrite(path, f"<!-- resilience:{name}:start -->", f"<!-- resilience:{name}:end -->",
             outage_figures(name, result, started, machine, args))


def record(path: Path, results, started, machine: str, args) -> None:
    _rewrite(path, START, END, figures(results, started, machine, args))


def record_flood(path: Path, result, started, machine: str, args) -> None:
    _rewrite(path, FLOOD_START, FLOOD_END, flood_figures(result, started, machine, args))


def _rewrite(path: Path, start: str, end: str, figures_text: str) -> None:
    block = f"{start}\n{figures_text.strip()}\n{end}"
    text = path.read_text() if path.exists() else "# Reliability\n"
    if start in text and end in text:
        text = text[: text.index(start)] + block + text[text.index(end) + len(end):]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    path.write_text(text)
