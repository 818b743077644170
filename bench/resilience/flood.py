"""`python -m bench.resilience.flood MENTIONS`: the ingest flood of the ingest-flood scenario.

MENTIONS mentions posted to `POST /api/v1/mentions/bulk/`, 1,000 a request, one request after another as fast as
the API answers — the path a tool takes (JSON parsing, the view, `sentiment.ingest`, the scoring tasks enqueued on
commit to the ingest queue of CELERY_QUEUE). It runs in a process of its own, as a web server would, so that it
does not slow the harness's SMTP sink. Progress goes to stdout ("posted N"); an unexpected answer ends it with 1.

Text lengths as mentions come: most are posts (two sentences of tests/fixtures/incident_mentions.jsonl, a ticket
number and a tag, about 100 characters, as bench/ingest.py); one in LONG_EVERY is a forum post, a review or a
pasted support email of 1,000 to 10,000 characters (the API's limit), which costs the scorer a hundred times more.
"""

import argparse
import json
import os
import random
import sys
import time

BATCH = 1000
LONG_EVERY = 20
POSTED_AT = "2026-11-23T10:00:00Z"
TAILS = ("", " #acme", " @acme_support", " Please fix.", " Thanks.")


def sentences() -> list[str]:
    from sentiment.evaluation import FIXTURE

    return [json.loads(line)["text"] for line in FIXTURE.read_text().splitlines() if line]


def mention_text(n: int, base: list[str], rng: random.Random) -> str:
    """The n-th mention's text: every text differs (its number), one in LONG_EVERY is long."""
    if n % LONG_EVERY:
        return f"{rng.choice(base)} (ticket {n}). {rng.choice(base)}{rng.choice(TAILS)}"
    length = rng.randint(1_000, 10_000)
    parts, size = [f"Ticket {n}."], 0
    while size < length:
        parts.append(rng.choice(base).capitalize() + ".")
        size += len(parts[-1]) + 1
    return " ".join(parts)[:length]


def bodies(count: int, prefix: str):
    """The request bodies, BATCH mentions each, built as they are sent."""
    base, rng = sentences(), random.Random(16)
    for start in range(0, count, BATCH):
        yield json.dumps([
            {"external_id": f"{prefix}-{n}", "text": mention_text(n, base, rng), "posted_at": POSTED_AT,
             "author_handle": f"user{n % 5000}", "author_followers": n % 20000}
            for n in range(start, min(start + BATCH, count))
        ]), min(start + BATCH, count)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mentions", type=int)
    parser.add_argument("--prefix", default=f"flood-{os.getpid()}", help="external ids are PREFIX-n")
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from rest_framework.test import APIClient

    from core.roles import SUPPORT

    tool, _ = get_user_model().objects.get_or_create(username=f"flood-tool-{args.prefix}")
    tool.groups.add(Group.objects.get(name=SUPPORT))
    client = APIClient(SERVER_NAME="localhost")
    client.force_authenticate(tool)
    for body, posted in bodies(args.mentions, args.prefix):
        while True:
            response = client.post("/api/v1/mentions/bulk/", body, content_type="application/json",
                                   secure=settings.SECURE_SSL_REDIRECT)
            if response.status_code != 429:
                break
            time.sleep(float(response.headers.get("Retry-After", 1)))  # as a well-behaved tool would
        if response.status_code != 200 or response.json()["errors"]:
            print(f"flood: answered {response.status_code}: {response.content[:500]!r}", flush=True)
            sys.exit(1)
        print(f"posted {posted}", flush=True)


if __name__ == "__main__":
    main()
