"""POST /api/v1/mentions/bulk/: per-item results, idempotent, stored scored, nothing half-stored or lost when
scoring fails, refusals by role."""

from datetime import UTC, datetime

import pytest
from django.db import IntegrityError
from django.utils import timezone

from sentiment import ingest as ingest_module
from sentiment.models import Mention

pytestmark = pytest.mark.django_db

URL = "/api/v1/mentions/bulk/"
URL_REASON = ("url must be an http(s) URL written as RFC 3986 says (spaces, quotes, <, > and non-ASCII characters "
              "percent-encoded), at most 500 characters.")


def item(n, **fields):
    return {"external_id": f"ext-{n}", "text": f"acme is down {n}", "posted_at": "2026-11-23T10:00:00Z",
            "author_handle": "@someone", **fields}


def test_each_item_is_reported_and_valid_ones_are_kept(api_as, support):
    body = {"mentions": [item(1), item(2, posted_at="yesterday"), item(3, text=""), item(4, url="ftp://x")]}
    response = api_as(support).post(URL, body, format="json")
    assert response.status_code == 200
    data = response.json()
    assert (data["created"], data["duplicates"], data["errors"]) == (1, 0, 3)
    results = data["results"]
    assert results[0]["status"] == "created" and results[0]["id"] == Mention.objects.get().pk
    assert results[1] == {"index": 1, "status": "error",
                          "reason": "posted_at must be an ISO 8601 date and time, e.g. 2026-11-23T12:30:00Z."}
    assert results[2]["reason"] == "text is required."
    assert results[3]["reason"] == URL_REASON
    stored = Mention.objects.get()
    assert (stored.source, stored.author_handle) == ("api", "someone")


def test_replaying_a_batch_creates_nothing_new(api_as, support):
    body = {"mentions": [item(1), item(2)]}
    api_as(support).post(URL, body, format="json")
    again = api_as(support).post(URL, body, format="json").json()
    assert (again["created"], again["duplicates"]) == (0, 2)
    assert Mention.objects.count() == 2
    assert {r["status"] for r in again["results"]} == {"duplicate"}


def test_a_repeat_inside_one_batch_is_a_duplicate(api_as, support):
    data = api_as(support).post(URL, [item(1), item(1)], format="json").json()
    assert [r["status"] for r in data["results"]] == ["created", "duplicate"]


def test_the_same_external_id_from_another_source_is_another_mention(api_as, support):
    data = api_as(support).post(URL, [item(1), item(1, source="ticket")], format="json").json()
    assert data["created"] == 2


def test_an_oversize_batch_is_refused_with_413_and_stores_nothing(api_as, support):
    response = api_as(support).post(URL, {"mentions": [item(n) for n in range(1001)]}, format="json")
    assert response.status_code == 413
    assert response.json()["message"] == (
        "At most 1,000 mentions per request; this one has 1,001. Split it into smaller batches."
    )
    assert not Mention.objects.exists()


def test_a_body_that_is_not_a_list_is_refused(api_as, support):
    response = api_as(support).post(URL, {"mentions": "nope"}, format="json")
    assert response.status_code == 400
    assert "Send a list of mentions" in response.json()["fields"]["mentions"][0]


def test_nothing_is_half_stored_when_the_database_fails(api_as, support, monkeypatch):
    insert = ingest_module._insert_new

    def failing(*args):  # inside the transaction, after the rows were inserted
        insert(*args)
        raise IntegrityError("simulated")

    monkeypatch.setattr(ingest_module, "_insert_new", failing)
    with pytest.raises(IntegrityError):
        api_as(support).post(URL, [item(1), item(2)], format="json")
    assert not Mention.objects.exists()


@pytest.mark.parametrize(("role", "status"), [("lead", 200), ("support", 200), ("manager", 403),
                                               ("roleless", 403), (None, 401)])
def test_who_may_ingest(api_as, users, role, status):
    assert api_as(users[role] if role else None).post(URL, [item(1)], format="json").status_code == status


def test_ingested_mentions_are_stored_scored_flagged_and_linked_without_waiting_for_a_worker(
        api_as, support, lead, monkeypatch, django_capture_on_commit_callbacks):
    from incidents.services import create_incident
    from sentiment.tasks import score_mentions
    from tests.factories import ComponentFactory

    sent = []
    monkeypatch.setattr(score_mentions, "delay", lambda ids: sent.append(ids))
    incident = create_incident(actor=lead, title="Payments", components=[ComponentFactory(name="Checkout")],
                               started_at=datetime(2026, 11, 23, 9, tzinfo=UTC))
    with django_capture_on_commit_callbacks(execute=True):
        api_as(support).post(URL, [item(1, text="Checkout is broken, I want a refund"), item(2, text="Nice day")],
                             format="json")
    broken, nice = Mention.objects.order_by("external_id")
    assert broken.scored_at is not None and broken.label == "negative" and broken.flagged
    assert broken.incident == incident and broken.priority and broken.reply_due_at is not None
    assert broken.flag_reasons[0].startswith("Negative because: broken")
    assert (nice.label, nice.flagged, nice.flag_reasons, nice.priority) == ("positive", False, [], "")
    assert sent == []  # nothing left for the worker


def test_when_scoring_fails_at_ingest_the_batch_is_stored_unscored_and_the_worker_scores_it(
        api_as, support, monkeypatch, settings, django_capture_on_commit_callbacks, caplog):
    from sentiment import assessment

    def broken_scorer(rows):
        raise RuntimeError("a bug in a rule")

    monkeypatch.setattr(ingest_module, "assess", broken_scorer)
    settings.CELERY_TASK_ALWAYS_EAGER = True  # the scoring task runs here, with the scorer the worker has
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = api_as(support).post(URL, [item(1, text="Checkout is broken, I want a refund")], format="json")

    assert response.status_code == 200 and response.json()["created"] == 1
    assert Mention.objects.get().scored_at is None
    assert "Scoring 1 mentions at ingest failed" in caplog.text
    monkeypatch.setattr(ingest_module, "assess", assessment.assess)
    [callback() for callback in callbacks]
    mention = Mention.objects.get()
    assert mention.scored_at is not None and mention.label == "negative" and mention.flagged


def test_a_database_error_while_scoring_inside_a_callers_transaction_still_stores_the_batch(
        support, monkeypatch):
    from django.db import connection, transaction

    def failing_query(rows):
        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM no_such_table")

    monkeypatch.setattr(ingest_module, "assess", failing_query)
    with transaction.atomic():  # a poll stores its pages inside one transaction
        [result] = ingest_module.ingest([item(1)])
        assert result.status == "created"
    assert Mention.objects.filter(scored_at__isnull=True).count() == 1


@pytest.mark.parametrize("url", [10**30, -1, True, 1.5, ["https://x.example"], {"href": "https://x.example"}])
def test_a_url_that_is_not_a_string_is_an_item_error_not_a_server_error(api_as, support, url):
    response = api_as(support).post(URL, {"mentions": [item(1, url=url), item(2)]}, format="json")
    assert response.status_code == 200
    results = response.json()["results"]
    assert results[0] == {"index": 0, "status": "error", "reason": URL_REASON}
    assert results[1]["status"] == "created"


def test_a_time_with_an_offset_postgresql_cannot_hold_is_stored_as_the_same_instant(api_as, support):
    body = {"mentions": [item(1, posted_at="2026-11-23T10:00:00-19:22"),
                         item(2, posted_at="9999-12-31T23:00:00-05:00")]}
    results = api_as(support).post(URL, body, format="json").json()["results"]
    assert results[0]["status"] == "created"
    assert Mention.objects.get().posted_at == datetime(2026, 11, 24, 5, 22, tzinfo=UTC)
    assert results[1]["status"] == "error" and "posted_at" in results[1]["reason"]


def test_a_time_without_an_offset_is_taken_as_utc_not_a_server_error(api_as, support):
    response = api_as(support).post(URL, {"mentions": [item(1, posted_at="2026-11-23T10:00:00")]}, format="json")
    assert response.json()["results"][0]["status"] == "created"
    assert Mention.objects.get().posted_at == datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize("source", [["x"], {"x": 1}, 1, True])
def test_a_source_that_is_not_a_string_is_an_item_error_not_a_server_error(api_as, support, source):
    response = api_as(support).post(URL, {"mentions": [item(1, source=source), item(2)]}, format="json")
    assert response.status_code == 200
    results = response.json()["results"]
    assert results[0]["status"] == "error" and results[0]["reason"].startswith("source must be one of")
    assert results[1]["status"] == "created"


@pytest.mark.parametrize(("followers", "text"), [("²", "fine"), (2**31, "fine"), (-1, "fine"), (5, "nul \x00 byte")])
def test_an_item_with_a_bad_follower_count_or_a_nul_byte_is_reported_and_the_others_kept(api_as, support,
                                                                                         followers, text):
    items = [{"external_id": "good", "text": "acme down", "posted_at": "2026-11-23T10:00:00Z"},
             {"external_id": "bad", "text": text, "posted_at": "2026-11-23T10:00:00Z", "author_followers": followers}]
    body = api_as(support).post("/api/v1/mentions/bulk/", items, format="json").json()
    assert [r["status"] for r in body["results"]] == ["created", "error"]


def test_a_batch_ingested_while_the_broker_is_down_is_stored_reported_and_scored_later(
    api_as, support, monkeypatch, settings, django_capture_on_commit_callbacks
):
    from kombu.exceptions import OperationalError

    from comms import delivery
    from sentiment import services
    from sentiment.tasks import score_mentions

    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    def broken_scorer(rows):
        raise RuntimeError("a bug in a rule")

    with monkeypatch.context() as outage, django_capture_on_commit_callbacks(execute=True) as callbacks:
        outage.setattr(score_mentions, "delay", broker_down)
        outage.setattr(ingest_module, "assess", broken_scorer)  # so that the worker has something to score
        response = api_as(support).post(URL, [item(1), item(2)], format="json")

    assert len(callbacks) == 1  # the enqueue ran, and failed
    assert response.status_code == 200 and response.json()["created"] == 2
    assert Mention.objects.filter(scored_at__isnull=True).count() == 2
    Mention.objects.update(received_at=timezone.now() - services.STRAGGLER_AGE - timezone.timedelta(seconds=1))
    settings.CELERY_TASK_ALWAYS_EAGER = True  # the broker is back, its queue empty; the sweep's tasks run here
    monkeypatch.setattr(delivery, "waiting_messages", lambda queue=None: 0)
    assert services.score_stragglers() == 2
    assert not Mention.objects.filter(scored_at__isnull=True).exists()


def test_an_item_may_name_the_thread_it_answers_and_the_api_gives_it_back(api_as, support):
    thread = {"in_reply_to_id": "ticket-41", "in_reply_to_url": "https://help.example.com/tickets/41"}
    data = api_as(support).post(URL, [item(1, **thread), item(2)], format="json").json()

    assert data["created"] == 2
    answering, alone = (api_as(support).get(f"/api/v1/mentions/{result['id']}/").json() for result in data["results"])
    assert (answering["in_reply_to_id"], answering["in_reply_to_url"]) == ("ticket-41",
                                                                           "https://help.example.com/tickets/41")
    assert (alone["in_reply_to_id"], alone["in_reply_to_url"]) == ("", "")


@pytest.mark.parametrize(("fields", "reason"), [
    ({"in_reply_to_url": "javascript:alert(1)"}, "in_reply_to_url must be an http(s) URL"),
    ({"in_reply_to_id": "x" * 201}, "in_reply_to_id and network_ref ≤ 200 characters"),
    ({"network_ref": "x" * 201}, "in_reply_to_id and network_ref ≤ 200 characters"),
    ({"in_reply_to_id": "a\x00b"}, "text fields cannot contain NUL characters"),
])
def test_a_thread_that_cannot_be_stored_is_that_items_error_and_the_others_are_kept(api_as, support, fields, reason):
    data = api_as(support).post(URL, [item(1, **fields), item(2)], format="json").json()

    assert [result["status"] for result in data["results"]] == ["error", "created"]
    assert reason in data["results"][0]["reason"]


def test_a_batch_of_long_texts_is_stored_at_once_and_left_to_the_worker_to_score(
        api_as, support, monkeypatch, settings, django_capture_on_commit_callbacks):
    monkeypatch.setattr(ingest_module, "SCORE_NOW_CHARS", 100)
    settings.CELERY_TASK_ALWAYS_EAGER = True
    short = [item(1, text="Checkout is broken")]
    long = [item(2, text="Checkout is broken, " * 3), item(3, text="I want a refund, " * 3)]
    with django_capture_on_commit_callbacks(execute=False) as short_callbacks:
        api_as(support).post(URL, short, format="json")
    with django_capture_on_commit_callbacks(execute=False) as long_callbacks:
        response = api_as(support).post(URL, long, format="json")

    assert short_callbacks == [] and Mention.objects.get(external_id="ext-1").scored_at is not None
    assert response.json()["created"] == 2
    assert Mention.objects.filter(scored_at__isnull=True).count() == 2
    [callback() for callback in long_callbacks]
    assert not Mention.objects.filter(scored_at__isnull=True).exists()
    assert Mention.objects.get(external_id="ext-2").label == "negative"


def test_a_mention_dated_in_the_year_one_is_stored_scored_with_the_rest_of_its_batch(api_as, support, lead):
    from incidents.services import create_incident
    from tests.factories import ComponentFactory

    create_incident(actor=lead, title="Payments", components=[ComponentFactory(name="Checkout")],
                    started_at=datetime(2026, 11, 23, 9, tzinfo=UTC))
    body = [item(1, posted_at="0001-01-01T00:00:00Z"), item(2, text="Checkout is broken")]

    assert api_as(support).post(URL, body, format="json").json()["created"] == 2
    assert not Mention.objects.filter(scored_at__isnull=True).exists()  # the linker's window overflowed: 0 scored
    assert Mention.objects.get(external_id="ext-2").incident is not None


def test_a_mention_the_worker_cannot_score_keeps_only_itself_out_of_the_queue(monkeypatch, caplog):
    from sentiment import assessment, services

    monkeypatch.setattr(ingest_module, "SCORE_NOW_CHARS", 0)  # stored unscored, for the worker
    ingest_module.ingest([item(n, text=f"poison {n}" if n == 2 else f"acme is down {n}") for n in range(1, 5)])
    score = assessment.get_scorer().score

    def refuses_poison(text, *args, **kwargs):
        if text.startswith("poison"):
            raise ValueError("a text the scorer cannot read")
        return score(text, *args, **kwargs)

    monkeypatch.setattr(assessment.get_scorer(), "score", refuses_poison)
    scored = services.score_mentions(list(Mention.objects.values_list("pk", flat=True)))

    assert scored == 3
    assert list(Mention.objects.filter(scored_at__isnull=True).values_list("external_id", flat=True)) == ["ext-2"]
    assert "stays unscored" in caplog.text


def test_a_batch_sent_again_is_reported_duplicate_with_its_ids_and_not_scored_again(api_as, support, monkeypatch):
    from sentiment import assessment

    scored = []

    def counting(rows):
        scored.append(len(rows))
        assessment.assess(rows)

    monkeypatch.setattr(ingest_module, "assess", counting)
    first = api_as(support).post(URL, [item(1), item(2)], format="json").json()["results"]
    again = api_as(support).post(URL, [item(2), item(3), item(1)], format="json").json()

    assert scored == [2, 1]  # only the new item the second time
    assert (again["created"], again["duplicates"]) == (1, 2)
    ids = {result["external_id"]: result["id"] for result in first}
    third = Mention.objects.get(external_id="ext-3").pk
    assert [(r["status"], r.get("id")) for r in again["results"]] == [
        ("duplicate", ids["ext-2"]), ("created", third), ("duplicate", ids["ext-1"])]


def test_an_item_stored_by_another_call_meanwhile_is_a_duplicate_with_its_id(monkeypatch):
    existing = ingest_module._existing_ids
    calls = []

    def before_the_other_call(keys):  # the first lookup sees nothing; another call stores the item after it
        calls.append(list(keys))
        if len(calls) == 1:
            found = existing(keys)
            Mention.objects.create(source="api", external_id="ext-1", text="the other call",
                                   posted_at=timezone.now())
            return found
        return existing(keys)

    monkeypatch.setattr(ingest_module, "_existing_ids", before_the_other_call)
    [result] = ingest_module.ingest([item(1)])

    assert (result.status, result.id) == ("duplicate", Mention.objects.get(external_id="ext-1").pk)
