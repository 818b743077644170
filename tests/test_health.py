import pytest

from config.celery_app import app as celery_app
from core.models import WorkerHeartbeat
from core.tasks import record_worker_heartbeat

pytestmark = pytest.mark.django_db


def test_healthz_says_ok_when_database_cache_and_broker_answer(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert {name: check["ok"] for name, check in body["checks"].items()} == {
        "database": True,
        "cache": True,
        "broker": True,
    }


def test_healthz_answers_503_naming_the_broker_when_it_does_not_answer(client, monkeypatch):
    # Port 9 (discard) is closed on loopback: the broker connection is refused.
    monkeypatch.setattr(celery_app.conf, "broker_url", "redis://127.0.0.1:9/0")
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["broker"]["ok"] is False
    assert "error" in body["checks"]["broker"]
    assert body["checks"]["database"]["ok"] is True


def test_healthz_reports_when_a_worker_last_ran(client):
    assert client.get("/healthz").json()["worker"]["ok"] is False
    record_worker_heartbeat.apply()  # runs the task body in-process, as a worker would
    worker = client.get("/healthz").json()["worker"]
    assert worker["ok"] is True
    assert worker["seconds_ago"] < 90
    assert WorkerHeartbeat.objects.count() == 1


def test_healthz_does_not_reveal_connection_details(client, monkeypatch):
    from core import health

    def refuse():
        raise OSError("connection to server at 10.0.3.4 port 5432 failed for user ears")

    monkeypatch.setitem(health.CHECKS, "database", refuse)
    body = client.get("/healthz").json()
    assert body["checks"]["database"] == {"ok": False, "ms": body["checks"]["database"]["ms"], "error": "OSError"}
    assert "10.0.3.4" not in str(body)
