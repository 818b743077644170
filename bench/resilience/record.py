"""Write the figures of a `make resilience` run into docs/reliability.md, between its markers."""

import os
from pathlib import Path

START, END = "<!-- resilience:start -->", "<!-- resilience:end -->"


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


def record(path: Path, results, started, machine: str, args) -> None:
    block = f"{START}\n{figures(results, started, machine, args).strip()}\n{END}"
    text = path.read_text() if path.exists() else "# Reliability\n"
    if START in text and END in text:
        text = text[: text.index(START)] + block + text[text.index(END) + len(END):]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    path.write_text(text)
