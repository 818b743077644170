"""POST /api/v1/alerts/: alerts from Alertmanager, Grafana and the generic shape open or join internal incidents,
idempotently, authenticated per source by token or HMAC signature (docs/api.md, "Alerts")."""

import hashlib
import hmac
import json
import time
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from rest_framework.test import APIClient

from comms.choices import MessagePhase, MessageState
from comms.models import Alert, AlertComponentMapping, AlertSource, Message
from incidents.models import Incident, TimelineEntry
from tests.factories import ComponentFactory, IncidentFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/alerts/"
STARTED = (timezone.now() - timedelta(minutes=5)).replace(microsecond=0)
PUBLIC_URLS = ["/status/", "/status/feed.atom", "/api/v2/summary.json", "/api/v2/incidents.json",
               "/api/v2/incidents/unresolved.json"]


def make_source(kind="alertmanager", name=None, **fields) -> tuple[AlertSource, str]:
    source = AlertSource(name=name or f"{kind} source", kind=kind, **fields)
    token = source.issue_token()
    source.save()
    return source, token


def bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def prometheus_alert(fingerprint="a1b2c3", status="firing", **labels) -> dict:
    return {
        "status": status,
        "labels": {"alertname": "HighErrorRate", "severity": "critical", "service": "Payments", **labels},
        "annotations": {"summary": "Checkout error rate above 5%", "description": "5xx on /pay"},
        "startsAt": STARTED.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "endsAt": "0001-01-01T00:00:00Z" if status == "firing" else "2026-01-31T10:00:00Z",
        "generatorURL": "https://prometheus.example/graph?g0.expr=rate",
        "fingerprint": fingerprint,
    }


def alertmanager(*alerts, status="firing") -> dict:
    return {"version": "4", "groupKey": "{}:{alertname=\"HighErrorRate\"}", "truncatedAlerts": 0, "status": status,
            "receiver": "ears", "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {},
            "externalURL": "https://alertmanager.example", "alerts": list(alerts)}


def grafana(*alerts) -> dict:
    return {**alertmanager(*alerts), "orgId": 1, "title": "[FIRING:1] HighErrorRate", "state": "alerting",
            "message": "**Firing**"}


_COMMITS = {}


@pytest.fixture(autouse=True)
def commits(django_capture_on_commit_callbacks):
    """Each request's on-commit work (telling the leads) runs as it would after the view's transaction commits."""
    _COMMITS["capture"] = django_capture_on_commit_callbacks
    yield
    _COMMITS.clear()


def post(client, body, **headers):
    with _COMMITS["capture"](execute=True):
        return client.post(URL, body, format="json", **headers)


@pytest.fixture
def payments(db):
    return ComponentFactory(name="Payments")


@pytest.fixture
def source():
    return make_source()


# --- Opening, joining, duplicates ----------------------------------------------------------------------------

def test_a_firing_alertmanager_alert_opens_an_internal_incident_for_its_component(source, payments):
    _, token = source
    response = post(bearer(token), alertmanager(prometheus_alert()))
    assert response.status_code == 200
    incident = Incident.objects.get()
    assert response.json() == {"results": [
        {"fingerprint": "a1b2c3", "result": f"opened incident {incident.pk}", "incident": incident.pk}]}
    assert list(incident.components.all()) == [payments]
    assert (incident.title, incident.severity, incident.status) == (
        "Checkout error rate above 5%", "SEV1", "investigating")
    assert not incident.is_public
    assert incident.started_at == STARTED
    assert incident.detected_at == Alert.objects.get().received_at


@pytest.mark.parametrize("starts_at", ["0001-01-01T00:00:00Z", "2001-01-01T00:00:00+05:00"])
def test_an_implausibly_old_start_is_not_believed_and_the_incident_starts_on_receipt(source, payments, starts_at):
    _, token = source
    post(bearer(token), alertmanager({**prometheus_alert(), "startsAt": starts_at}))
    incident = Incident.objects.get()
    assert incident.started_at == incident.detected_at == Alert.objects.get().received_at
    assert Alert.objects.get().starts_at is None


def test_the_same_firing_alert_posted_twice_does_nothing_the_second_time(source, payments, lead):
    _, token = source
    first = post(bearer(token), alertmanager(prometheus_alert()))
    entries, emails = TimelineEntry.objects.count(), len(mail.outbox)
    again = post(bearer(token), alertmanager(prometheus_alert()))
    incident = Incident.objects.get()
    assert first.json()["results"][0]["result"] == f"opened incident {incident.pk}"
    assert again.json()["results"] == [{"fingerprint": "a1b2c3", "result": "duplicate", "incident": incident.pk}]
    assert (Alert.objects.count(), Message.objects.count()) == (1, 1)
    assert (TimelineEntry.objects.count(), len(mail.outbox)) == (entries, emails)


def test_the_one_open_alert_per_fingerprint_is_a_database_constraint_not_a_check(source, payments):
    from django.db import IntegrityError, transaction

    alert_source, _ = source
    fields = {"source": alert_source, "fingerprint": "same", "name": "x", "severity": "SEV3", "outcome": "unmapped"}
    Alert.objects.create(**fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        Alert.objects.create(**fields)


def test_a_grafana_payload_opens_an_incident_and_keeps_the_panel_link(payments):
    _, token = make_source("grafana")
    alert = {**prometheus_alert("graf-1"), "silenceURL": "https://grafana.example/silence",
             "dashboardURL": "https://grafana.example/d/abc", "panelURL": "https://grafana.example/d/abc?viewPanel=2",
             "values": {"B": 7.5, "C": 1}, "valueString": "[ var='B' value=7.5 ]"}
    response = post(bearer(token), grafana(alert))
    assert response.status_code == 200
    incident = Incident.objects.get()
    assert response.json()["results"][0]["result"] == f"opened incident {incident.pk}"
    assert Alert.objects.get().url == "https://grafana.example/d/abc?viewPanel=2"


@pytest.mark.parametrize("named", ["Payments", "payments", "id"])
def test_the_generic_shape_names_its_component_by_id_or_name(payments, named):
    _, token = make_source("generic")
    body = {"fingerprint": "disk-full", "status": "firing", "component": payments.pk if named == "id" else named,
            "severity": "warning", "summary": "Payments database disk is 95% full"}
    response = post(bearer(token), body)
    incident = Incident.objects.get()
    assert response.json()["results"] == [
        {"fingerprint": "disk-full", "result": f"opened incident {incident.pk}", "incident": incident.pk}]
    assert (list(incident.components.all()), incident.severity) == ([payments], "SEV3")


def test_an_alert_for_a_component_with_an_open_incident_joins_it(source, payments):
    _, token = source
    open_incident = IncidentFactory(title="Payments are slow")
    open_incident.components.add(payments)
    response = post(bearer(token), alertmanager(prometheus_alert()))
    assert response.json()["results"][0] == {"fingerprint": "a1b2c3", "result": f"joined incident {open_incident.pk}",
                                             "incident": open_incident.pk}
    assert Incident.objects.count() == 1
    assert not open_incident.messages.exists()  # no second acknowledgement on an incident already being worked
    assert TimelineEntry.objects.filter(incident=open_incident, description__contains="is firing for Payments")


def test_two_alerts_in_one_payload_each_get_a_result(source, payments):
    _, token = source
    response = post(bearer(token), alertmanager(prometheus_alert("one"), prometheus_alert("two")))
    incident = Incident.objects.get()
    assert [item["result"] for item in response.json()["results"]] == [
        f"opened incident {incident.pk}", f"joined incident {incident.pk}"]


def test_an_alert_for_an_unknown_component_is_recorded_and_the_leads_are_told(source, lead):
    _, token = source
    response = post(bearer(token), alertmanager(prometheus_alert(service="Nowhere")))
    assert response.status_code == 200
    assert response.json()["results"] == [{"fingerprint": "a1b2c3", "result": "no component mapped", "incident": None}]
    assert not Incident.objects.exists()
    assert Alert.objects.get().outcome == "unmapped"
    assert [message.to for message in mail.outbox] == [[lead.email]]
    assert "no known component" in mail.outbox[0].body and "HighErrorRate" in mail.outbox[0].body
    again = post(bearer(token), alertmanager(prometheus_alert(service="Nowhere")))
    assert again.json()["results"][0]["result"] == "duplicate" and len(mail.outbox) == 1


def test_the_source_mapping_table_maps_a_label_value_to_a_component(source, payments):
    alert_source, token = source
    AlertComponentMapping.objects.create(source=alert_source, label="job", value="pay-api", component=payments)
    post(bearer(token), alertmanager(prometheus_alert(service="", job="pay-api")))
    assert list(Incident.objects.get().components.all()) == [payments]


@pytest.mark.parametrize(("label", "severity"), [
    ("critical", "SEV1"), ("warning", "SEV3"), ("INFO", "SEV4"), ("sev2", "SEV2"), ("made-up", "SEV4"), ("", "SEV4"),
])
def test_the_severity_label_is_mapped_and_anything_else_takes_the_sources_default(payments, label, severity):
    _, token = make_source(default_severity="SEV4")
    post(bearer(token), alertmanager(prometheus_alert(severity=label)))
    assert Incident.objects.get().severity == severity


def test_opening_drafts_the_preapproved_acknowledgement_and_tells_the_leads_only(source, payments, lead, support):
    _, token = source
    post(bearer(token), alertmanager(prometheus_alert()))
    incident = Incident.objects.get()
    draft = Message.objects.get()
    assert (draft.incident, draft.state, draft.phase, draft.template.name) == (
        incident, MessageState.DRAFT, MessagePhase.INITIAL, "Initial acknowledgement")
    assert draft.is_unchanged_preapproved and "Payments" in draft.headline
    assert not draft.author.is_active and not draft.author.has_usable_password()
    assert [message.to for message in mail.outbox] == [[lead.email]]
    body = mail.outbox[0].body
    assert f"/incidents/{incident.pk}/" in body and f"/messages/{draft.pk}/" in body and "Nothing is public" in body
    assert TimelineEntry.objects.filter(incident=incident, description__contains="1 lead(s) emailed").exists()


def test_nothing_an_alert_does_shows_on_any_public_surface(source, payments, client):
    _, token = source
    post(bearer(token), alertmanager(prometheus_alert()))
    assert Incident.objects.get().title == "Checkout error rate above 5%"
    text = "\n".join(client.get(url).content.decode() for url in PUBLIC_URLS)
    assert "Checkout error rate" not in text and "HighErrorRate" not in text
    assert client.get("/api/v2/status.json").json()["status"]["indicator"] == "none"
    assert client.get("/api/v2/incidents.json").json()["incidents"] == []


# --- Resolved ------------------------------------------------------------------------------------------------

def test_a_resolved_alert_notes_the_timeline_and_suggests_monitoring_without_changing_the_status(source, payments):
    _, token = source
    post(bearer(token), alertmanager(prometheus_alert()))
    response = post(bearer(token), alertmanager(prometheus_alert(status="resolved"), status="resolved"))
    incident = Incident.objects.get()
    assert response.json()["results"] == [{"fingerprint": "a1b2c3", "result": "resolved", "incident": incident.pk}]
    assert incident.status == "investigating"
    note = TimelineEntry.objects.filter(incident=incident, data__resolved=True).get()
    assert "Consider moving the incident to monitoring" in note.description
    assert Alert.objects.get().resolved_at is not None


def test_a_resolved_alert_with_another_still_firing_does_not_suggest_monitoring(source, payments):
    _, token = source
    post(bearer(token), alertmanager(prometheus_alert("one"), prometheus_alert("two")))
    post(bearer(token), alertmanager(prometheus_alert("one", status="resolved")))
    note = TimelineEntry.objects.filter(data__resolved=True).get()
    assert "1 other alert(s) on this incident are still firing" in note.description


def test_a_resolved_alert_posted_twice_is_a_duplicate_and_one_never_seen_firing_is_said_so(source, payments):
    _, token = source
    post(bearer(token), alertmanager(prometheus_alert()))
    post(bearer(token), alertmanager(prometheus_alert(status="resolved")))
    again = post(bearer(token), alertmanager(prometheus_alert(status="resolved")))
    unknown = post(bearer(token), alertmanager(prometheus_alert("never", status="resolved")))
    assert again.json()["results"][0]["result"] == "duplicate"
    assert unknown.json()["results"][0] == {"fingerprint": "never", "result": "no open alert", "incident": None}
    assert TimelineEntry.objects.filter(data__resolved=True).count() == 1


def test_the_same_alert_firing_again_after_it_resolved_is_a_new_alert(source, payments):
    _, token = source
    post(bearer(token), alertmanager(prometheus_alert()))
    post(bearer(token), alertmanager(prometheus_alert(status="resolved")))
    again = post(bearer(token), alertmanager(prometheus_alert()))
    incident = Incident.objects.get()
    assert again.json()["results"][0]["result"] == f"joined incident {incident.pk}"
    assert Alert.objects.count() == 2


# --- Authentication --------------------------------------------------------------------------------------------

def _error(response, status: int):
    body = response.json()
    assert response.status_code == status, body
    assert set(body) == {"status", "code", "message"} and body["status"] == status
    return body


def test_no_credentials_is_401_in_the_error_shape(payments):
    response = post(APIClient(), alertmanager(prometheus_alert()))
    _error(response, 401)
    assert response["WWW-Authenticate"] == 'Bearer realm="alerts"'
    assert not Alert.objects.exists()


@pytest.mark.parametrize("token", ["wrong", "x" * 40, ""])
def test_a_wrong_token_is_401(source, payments, token):
    _error(post(bearer(token), alertmanager(prometheus_alert())), 401)
    assert not Alert.objects.exists()


def test_a_token_one_character_off_is_401(source, payments):
    _, token = source
    _error(post(bearer(token[:-1] + ("A" if token[-1] != "A" else "B")), alertmanager(prometheus_alert())), 401)


def test_a_disabled_sources_token_is_401(payments):
    _, token = make_source(enabled=False)
    assert "disabled" in _error(post(bearer(token), alertmanager(prometheus_alert())), 401)["message"]


def test_a_users_api_token_is_refused_403_whatever_the_role(api_as, lead, payments):
    _error(api_as(lead).post(URL, alertmanager(prometheus_alert()), format="json"), 403)
    assert not Alert.objects.exists()


def test_the_token_is_stored_only_as_a_digest(source):
    alert_source, token = source
    stored = AlertSource.objects.filter(pk=alert_source.pk).values().get()
    assert token not in json.dumps(stored, default=str)
    assert stored["token_digest"] == hashlib.sha256(token.encode()).hexdigest()


def _signed_source():
    alert_source, _ = make_source("generic", name="signed")
    secret = alert_source.issue_hmac_secret()
    alert_source.save()
    return alert_source, secret


def _generic_body(**fields) -> bytes:
    return json.dumps({"fingerprint": "sig-1", "status": "firing", "component": "Payments",
                       "summary": "Payments are failing", **fields}).encode()


def _post_raw(body: bytes, **headers):
    with _COMMITS["capture"](execute=True):
        return APIClient().generic("POST", URL, body, content_type="application/json", **headers)


def _hex(secret: str, signed: bytes) -> str:
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


@pytest.mark.parametrize("header", ["HTTP_X_SIGNATURE", "HTTP_X_GRAFANA_ALERTING_SIGNATURE"])
@pytest.mark.parametrize("prefix", ["sha256=", ""])
def test_an_hmac_signature_of_the_raw_body_authenticates_the_named_source(payments, header, prefix):
    alert_source, secret = _signed_source()
    body = _generic_body()
    response = _post_raw(body, **{header: prefix + _hex(secret, body), "HTTP_X_ALERT_SOURCE": str(alert_source.pk)})
    assert response.status_code == 200, response.json()
    assert Alert.objects.get().source == alert_source


def test_the_source_may_be_named_in_the_query_or_the_generic_bodys_source_id(payments):
    alert_source, secret = _signed_source()
    body = _generic_body()
    by_query = APIClient().generic("POST", f"{URL}?source={alert_source.pk}", body, content_type="application/json",
                                   HTTP_X_SIGNATURE=f"sha256={_hex(secret, body)}")
    assert by_query.status_code == 200
    body = _generic_body(fingerprint="sig-2", source_id=alert_source.pk)
    assert _post_raw(body, HTTP_X_SIGNATURE=f"sha256={_hex(secret, body)}").status_code == 200


def test_a_signature_of_other_bytes_is_401(payments):
    alert_source, secret = _signed_source()
    body = _generic_body()
    signature = _hex(secret, body.replace(b"failing", b"fine"))
    _error(_post_raw(body, HTTP_X_SIGNATURE=f"sha256={signature}", HTTP_X_ALERT_SOURCE=str(alert_source.pk)), 401)
    assert not Alert.objects.exists()


def test_a_signature_with_another_secret_or_no_named_source_is_401(payments):
    alert_source, _ = _signed_source()
    body = _generic_body()
    _error(_post_raw(body, HTTP_X_SIGNATURE=f"sha256={_hex('guess', body)}",
                     HTTP_X_ALERT_SOURCE=str(alert_source.pk)), 401)
    assert "Name the alert source" in _error(_post_raw(body, HTTP_X_SIGNATURE=_hex("guess", body)), 401)["message"]


def test_a_source_without_a_signing_secret_refuses_signatures(payments):
    alert_source, _ = make_source("generic")
    body = _generic_body()
    _error(_post_raw(body, HTTP_X_SIGNATURE=_hex("", body), HTTP_X_ALERT_SOURCE=str(alert_source.pk)), 401)


def test_a_timestamped_signature_is_accepted_when_fresh_and_refused_when_old(payments):
    alert_source, secret = _signed_source()
    body = _generic_body()
    now = str(int(time.time()))
    fresh = _post_raw(body, HTTP_X_SIGNATURE=_hex(secret, now.encode() + b":" + body),
                      HTTP_X_SIGNATURE_TIMESTAMP=now, HTTP_X_ALERT_SOURCE=str(alert_source.pk))
    assert fresh.status_code == 200
    old = str(int(time.time()) - 3600)
    stale = _post_raw(body, HTTP_X_SIGNATURE=_hex(secret, old.encode() + b":" + body),
                      HTTP_X_SIGNATURE_TIMESTAMP=old, HTTP_X_ALERT_SOURCE=str(alert_source.pk))
    _error(stale, 401)


def test_alerts_are_throttled_per_source(settings, payments):
    settings.API_SCOPED_RATES = {**settings.API_SCOPED_RATES, "alerts": (2, 60)}
    _, token = make_source()
    _, other = make_source(name="other")
    answers = [post(bearer(token), alertmanager(prometheus_alert(f"f{n}"))).status_code for n in range(3)]
    assert answers == [200, 200, 429]
    assert post(bearer(other), alertmanager(prometheus_alert("o"))).status_code == 200


# --- Malformed payloads ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("body", [
    [],
    {"version": "4"},
    alertmanager({**prometheus_alert(), "status": "burning"}),
    alertmanager({key: value for key, value in prometheus_alert().items() if key != "fingerprint"}),
    alertmanager({**prometheus_alert(), "startsAt": "yesterday"}),
    alertmanager({**prometheus_alert(), "startsAt": "9999-12-31T23:59:59-23:00"}),
    alertmanager({**prometheus_alert(), "labels": {"a\u0000b": "x"}}),
    alertmanager({**prometheus_alert(), "labels": "severity=critical"}),
    alertmanager({**prometheus_alert(), "fingerprint": "f" * 201}),
], ids=["list", "no alerts", "bad status", "no fingerprint", "bad time", "overflowing time", "nul label", "labels text",
        "long fingerprint"])
def test_a_malformed_alertmanager_payload_is_400(source, payments, body):
    _, token = source
    response = post(bearer(token), body)
    assert _error_with_fields(response)
    assert not Alert.objects.exists()


@pytest.mark.parametrize("body", [
    {"fingerprint": "x", "status": "firing", "component": "Payments"},
    {"fingerprint": "x", "status": "firing", "component": True, "summary": "s"},
    {"fingerprint": "x", "status": "firing", "component": 1.5, "summary": "s"},
    {"fingerprint": "x", "status": "firing", "component": "Payments", "summary": "s", "source_id": 999999},
    {"alerts": "none"},
], ids=["no summary", "boolean component", "fractional component", "another source", "alerts text"])
def test_a_malformed_generic_payload_is_400(payments, body):
    _, token = make_source("generic")
    assert _error_with_fields(post(bearer(token), body))
    assert not Alert.objects.exists()


def _error_with_fields(response) -> bool:
    body = response.json()
    return response.status_code == 400 and body["status"] == 400 and body["code"] == "invalid" and "fields" in body


@pytest.mark.parametrize("kind", ["alertmanager", "grafana", "generic"])
@pytest.mark.parametrize(("content_type", "data", "status"), [
    ("application/json", b"{bad json", 400),
    ("application/json", b"[{}]", 400),
    ("application/json", b"null", 400),
    ("application/json", b'{"alerts": [{"\\ud800": 1}]}', 400),
    ("application/json", b"[" * 100 + b"]" * 100, 400),
    ("text/plain", b"hello", 415),
    ("application/x-www-form-urlencoded", b"fingerprint=x&status=firing", 415),
])
def test_a_body_that_is_not_a_json_object_is_a_4xx_in_the_error_shape_for_every_kind(kind, content_type, data, status):
    _, token = make_source(kind)
    response = bearer(token).generic("POST", URL, data, content_type=content_type)
    assert response.status_code == status
    assert response.json()["status"] == status
