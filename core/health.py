"""GET /healthz: whether the database, the cache and the broker answer, and when a worker last ran."""

import logging
import time

from celery import current_app as celery_app  # config.celery_app, made current when config loads
from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core.models import WorkerHeartbeat

log = logging.getLogger(__name__)

# Beat records a heartbeat every 30 s; a minute and a half of silence means no worker or no beat.
HEARTBEAT_STALE_SECONDS = 90


def check_database() -> str | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def check_cache() -> str | None:
    key = "healthz:probe"
    value = str(time.time())
    cache.set(key, value, 10)
    if cache.get(key) != value:
        return "the cache did not return what was written"


def check_broker() -> str | None:
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)


CHECKS = {"database": check_database, "cache": check_cache, "broker": check_broker}


def run_checks() -> dict[str, dict]:
    results = {}
    for name, check in CHECKS.items():
        started = time.perf_counter()
        try:
            problem = check()
        except Exception as error:  # noqa: BLE001 - any failure means "does not answer"
            # The public answer names only the kind of error: messages can hold hosts, ports and user names.
            log.warning("healthz: %s check failed: %s", name, error)
            problem = type(error).__name__
        results[name] = {
            "ok": problem is None,
            "ms": round((time.perf_counter() - started) * 1000, 1),
            **({"error": problem} if problem else {}),
        }
    return results


def worker_status() -> dict:
    try:
        latest = WorkerHeartbeat.objects.order_by("-seen_at").first()
    except Exception:  # noqa: BLE001 - the database check reports this
        return {"last_seen": None}
    if latest is None:
        return {"last_seen": None, "ok": False, "note": "no worker has recorded a heartbeat yet"}
    age = (timezone.now() - latest.seen_at).total_seconds()
    return {"last_seen": latest.seen_at.isoformat(), "seconds_ago": round(age), "ok": age < HEARTBEAT_STALE_SECONDS}


@never_cache
@login_not_required
@require_GET
def healthz(request):
    checks = run_checks()
    healthy = all(result["ok"] for result in checks.values())
    # Worker liveness is reported but does not fail the probe: web can serve while workers restart.
    body = {"status": "ok" if healthy else "unavailable", "checks": checks, "worker": worker_status()}
    return JsonResponse(body, status=200 if healthy else 503)
