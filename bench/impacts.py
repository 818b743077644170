"""Ranking the impacts of one incident: 100,000 accounts, 20,000 impacts on the incident, negative mentions
from some of them. Times the API list (`GET /api/v1/incidents/{id}/impacts/`) and the board page in-process
(Django test client, no HTTP server), and counts their SQL queries at several page sizes: the count must not
grow with the rows shown. The baseline, in the same run: the cheapest way to list the same page of impacts —
one ORM query ordered by a stored column (the account's revenue), turned into JSON — which pays nothing for
the score, its parts or the serializer."""

import json
import os
import random
import statistics
import sys
import time
from datetime import timedelta
from decimal import Decimal

ACCOUNTS = int(os.environ.get("BENCH_ACCOUNTS", 100_000))
IMPACTS = int(os.environ.get("BENCH_IMPACTS", 20_000))
MENTIONS = int(os.environ.get("BENCH_NEGATIVE_MENTIONS", 5_000))
BOARD_OWNED = int(os.environ.get("BENCH_BOARD_OWNED", 2_000))  # impacted accounts owned by the board's manager
PAGE_SIZES = (10, 50, 200)
REPEATS = 7


def seed():
    from django.contrib.auth.models import Group
    from django.utils import timezone

    from accounts.choices import ImpactLevel, Tier
    from accounts.models import Account, Impact
    from incidents.models import Incident
    from sentiment.models import Mention
    from tests.factories import UserFactory

    rng = random.Random(11)
    manager = UserFactory(username=f"bench-manager-{time.time_ns()}")
    manager.groups.add(Group.objects.get(name="Account manager"))
    others = UserFactory(username=f"bench-other-{time.time_ns()}")
    others.groups.add(Group.objects.get(name="Account manager"))
    today = timezone.localdate()
    started = time.monotonic()
    tiers = list(Tier.values)
    accounts = []
    for n in range(ACCOUNTS):
        accounts.append(Account(
            name=f"Bench account {n:06d}", tier=rng.choice(tiers), arr=Decimal(rng.randint(500, 3_000_000)),
            renewal_date=today + timedelta(days=rng.randint(-30, 400)), owner=others,
        ))
    for start in range(0, ACCOUNTS, 5000):
        Account.objects.bulk_create(accounts[start:start + 5000])
        _progress("accounts", start + 5000, ACCOUNTS, started)
    incident = Incident.objects.create(title="Bench: payments down", severity="SEV1",
                                       started_at=timezone.now() - timedelta(hours=3))
    hit = rng.sample(accounts, IMPACTS)
    mine = {account.pk for account in hit[:BOARD_OWNED]}
    Account.objects.filter(pk__in=mine).update(owner=manager)
    levels = list(ImpactLevel.values)
    Impact.objects.bulk_create(
        [Impact(incident=incident, account=account, owner=manager if account.pk in mine else others,
                level=rng.choice(levels), downtime_minutes=rng.randint(0, 400), sla_breached=rng.random() < 0.2)
         for account in hit],
        batch_size=5000,
    )
    Mention.objects.bulk_create(
        [Mention(source="api", external_id=f"bench-neg-{n}", text="down again", label="negative", compound=-0.6,
                 posted_at=timezone.now(), incident=incident, account=rng.choice(hit)) for n in range(MENTIONS)],
        batch_size=5000,
    )
    sys.stderr.write("\n")
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # fresh planner statistics, as autovacuum would give a live database
    return incident, manager


def _progress(label, done, total, started):
    from bench.common import progress

    progress(label, min(done, total), total, started)


def measure(call) -> tuple[float, int]:
    """Median seconds over REPEATS calls (after one warm-up) and the SQL queries of one call."""
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    call()
    reset_queries()  # a request resets the query log as it starts; counting must start from an empty log
    with CaptureQueriesContext(connection) as captured:
        call()
    queries = len(captured)  # now: the next request empties the log this reads from
    times = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times), queries


def main() -> dict:
    from django.test import Client
    from rest_framework.test import APIClient

    from accounts.models import Impact

    sys.stderr.write(f"impacts: {ACCOUNTS:,} accounts, {IMPACTS:,} impacts on one incident, "
                     f"{MENTIONS:,} negative mentions\n")
    incident, manager = seed()
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)  # the pages need the manifest with DEBUG off
    api = APIClient()
    api.force_authenticate(manager)
    pages = Client()
    pages.force_login(manager)

    def api_list(size):
        response = api.get(f"/api/v1/incidents/{incident.pk}/impacts/", {"page_size": size})
        assert response.status_code == 200, response.content[:300]
        return response

    def board(size):
        response = pages.get("/board/", {"per_column": size})
        assert response.status_code == 200, response.content[:300]
        return response

    def baseline(size):
        rows = list(Impact.objects.filter(incident=incident).order_by("-account__arr", "pk").values(
            "pk", "state", "level", "downtime_minutes", "account__name", "account__tier", "account__arr")[:size])
        return json.dumps(rows, default=str)

    first = api_list(3).json()["results"]
    result = {"accounts": ACCOUNTS, "impacts": IMPACTS, "mentions": MENTIONS, "board_owned": BOARD_OWNED,
              "top": [(row["account"]["name"], row["score"]) for row in first], "rows": []}
    for size in PAGE_SIZES:
        api_seconds, api_queries = measure(lambda size=size: api_list(size))
        board_seconds, board_queries = measure(lambda size=size: board(size))
        base_seconds, base_queries = measure(lambda size=size: baseline(size))
        result["rows"].append({"size": size, "api": (api_seconds, api_queries),
                               "board": (board_seconds, board_queries), "baseline": (base_seconds, base_queries)})
        sys.stderr.write(f"  page of {size}: api {api_seconds * 1000:.0f} ms / {api_queries} queries, board "
                         f"{board_seconds * 1000:.0f} ms / {board_queries} queries, baseline "
                         f"{base_seconds * 1000:.1f} ms\n")
    row = next(r for r in result["rows"] if r["size"] == 50)
    api_queries = {r["api"][1] for r in result["rows"]}
    board_queries = {r["board"][1] for r in result["rows"]}
    result["constant_queries"] = len(api_queries) == 1 and len(board_queries) == 1
    result["summary"] = (
        f"impacts: api {row['api'][0] * 1000:,.0f} ms ({row['api'][1]} queries), "
        f"board {row['board'][0] * 1000:,.0f} ms ({row['board'][1]} queries), "
        f"baseline {row['baseline'][0] * 1000:,.1f} ms for 50 of {IMPACTS:,} ranked; "
        f"queries constant across page sizes: {'yes' if result['constant_queries'] else 'NO'}"
    )
    return result
