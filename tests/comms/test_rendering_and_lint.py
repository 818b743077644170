import smtplib
from unittest import mock

import pytest
from django.core import mail
from django.utils import timezone

from comms import overdue
from comms.choices import MessagePhase
from comms.lint import lint_message
from comms.models import Message, WebhookEndpoint
from comms.rendering import fill_placeholders, placeholder_values, render_x_post, x_weighted_length
from incidents import cadence
from incidents.choices import IncidentStatus
from incidents.services import change_status, create_incident, update_incident
from tests.factories import ComponentFactory, IncidentFactory
from tests.outermost_http import answer_requests_with

pytestmark = pytest.mark.django_db


class TestXLength:
    @pytest.mark.parametrize(
        ("text", "length"),
        [
            ("hello", 5),
            ("see https://status.example.com/incidents/123456789/very/long/path now", 4 + 23 + 4),
            ("障害", 4),  # CJK counts 2
            ("🔥", 2),
            ("👩‍💻", 2),  # an emoji joined with ZWJ counts once
            ("👍🏽", 2),  # a skin-tone modifier adds nothing
            ("café", 4),
        ],
    )
    def test_it_weighs_text_as_x_does(self, text, length):
        assert x_weighted_length(text) == length

    def test_a_long_update_is_cut_to_fit_and_links_to_the_status_page(self):
        incident = IncidentFactory()
        message = Message(incident=incident, headline="Checkout down 🔥", explain="障害 " * 200)
        post = render_x_post(message)
        assert x_weighted_length(post) <= 280
        assert post.endswith(" http://127.0.0.1:8000/status/")
        assert "…" in post


def test_placeholders_are_filled_from_the_incident_except_the_next_update_which_waits_for_sending(lead):
    incident = create_incident(actor=lead, title="Checkout errors", severity="SEV1",
                               components=[ComponentFactory(name="Payments")])
    values = placeholder_values(incident)
    text = fill_placeholders("{incident_title} on {components} is {status}; next by {next_update}. {unknown}", values)
    assert text == "Checkout errors on Payments is investigating; next by {next_update}. {unknown}"


def lint_codes(**fields):
    incident = fields.pop("incident", None) or IncidentFactory()
    defaults = {"headline": "Checkout is failing", "explain": "Payments fail.", "acknowledge": "We are sorry.",
                "channels": ["statuspage"], "phase": MessagePhase.UPDATE}
    return {w.code: w for w in lint_message(Message(incident=incident, **{**defaults, **fields}))}


def test_a_plain_honest_update_has_no_warnings():
    assert lint_codes() == {}


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"phase": MessagePhase.INITIAL, "acknowledge": ""}, "missing_part"),
        ({"explain": "It will be fixed within 30 minutes."}, "time_promise"),
        ({"explain": "Service should be back by 14:00."}, "time_promise"),
        ({"explain": "Our ETA is soon."}, "time_promise"),
        ({"explain": "A DNS change broke it."}, "jargon"),
        ({"explain": "We are thrilled and excited, it's amazing and wonderful and great!"}, "tone_hype"),
        ({"explain": "This was caused by a third-party provider."}, "tone_blame"),
        ({"phase": MessagePhase.RESOLUTION, "resolve": "All fixed."}, "no_thanks"),
        ({"explain": "Problem with {components}"}, "placeholder"),
        ({"channels": ["x"], "explain": "word " * 80}, "x_length"),
    ],
)
def test_each_rule_warns(fields, code):
    assert code in lint_codes(**fields)


def test_promising_the_next_update_time_is_not_a_time_promise():
    assert "time_promise" not in lint_codes(acknowledge="We will post the next update by 14:30 UTC.")


def test_a_resolution_that_thanks_customers_is_fine():
    codes = lint_codes(phase=MessagePhase.RESOLUTION, resolve="Restored. Thank you for your patience.")
    assert "no_thanks" not in codes and "time_promise" not in codes


def test_announcements_on_social_channels_are_flagged_during_the_quiet_period(settings):
    settings.COMMS_QUIET_PERIOD_DAYS = 7
    resolved = timezone.now() - timezone.timedelta(days=2)
    IncidentFactory(severity="SEV1", status=IncidentStatus.RESOLVED, resolved_at=resolved)
    codes = lint_codes(is_announcement=True, channels=["webhook"], explain="New dashboard launch.")
    assert "quiet_period" in codes
    assert "quiet_period" not in lint_codes(is_announcement=False, channels=["webhook"])


def test_the_quiet_period_ends(settings):
    settings.COMMS_QUIET_PERIOD_DAYS = 7
    resolved = timezone.now() - timezone.timedelta(days=8)
    IncidentFactory(severity="SEV2", status=IncidentStatus.RESOLVED, resolved_at=resolved)
    assert "quiet_period" not in lint_codes(is_announcement=True, channels=["webhook"])


class TestCadence:
    @pytest.mark.parametrize(("severity", "minutes"), [("SEV1", 30), ("SEV2", 60), ("SEV3", 120), ("SEV4", None)])
    def test_the_first_update_is_due_by_severity(self, lead, severity, minutes):
        incident = create_incident(actor=lead, title="x", severity=severity)
        if minutes is None:
            assert incident.next_update_due_at is None
        else:
            assert incident.next_update_due_at == incident.started_at + timezone.timedelta(minutes=minutes)

    def test_a_public_update_restarts_the_clock_and_stamps_the_first_acknowledgement(self, lead):
        incident = create_incident(actor=lead, title="x", severity="SEV1")
        now = timezone.now()
        cadence.record_public_update(incident, now)
        incident.refresh_from_db()
        assert incident.acknowledged_at == now and incident.last_public_update_at == now
        assert incident.next_update_due_at == now + timezone.timedelta(minutes=30)
        later = now + timezone.timedelta(minutes=20)
        cadence.record_public_update(incident, later)
        incident.refresh_from_db()
        assert incident.acknowledged_at == now  # the first one stays

    def test_severity_changes_move_the_due_time_and_resolving_clears_it(self, lead):
        incident = create_incident(actor=lead, title="x", severity="SEV3")
        incident = update_incident(incident, actor=lead, severity="SEV1")
        assert incident.next_update_due_at == incident.started_at + timezone.timedelta(minutes=30)
        incident = change_status(incident, IncidentStatus.RESOLVED, actor=lead)
        assert incident.next_update_due_at is None

    def test_an_overdue_update_reminds_the_leads_once_per_period(self, lead, settings):
        settings.UPDATE_CADENCE_MINUTES = {"SEV1": 30, "SEV2": 60, "SEV3": 120, "SEV4": 0}
        incident = create_incident(actor=lead, title="Checkout", severity="SEV1",
                                   started_at=timezone.now() - timezone.timedelta(minutes=45))
        now = timezone.now()
        assert overdue.remind_overdue(now) == 1
        assert overdue.remind_overdue(now + timezone.timedelta(minutes=5)) == 0
        assert len(mail.outbox) == 1
        assert mail.outbox[0].to == ["lead@example.com"]
        assert "is 15 min overdue" in mail.outbox[0].body
        assert incident.timeline.last().description == "Update overdue by 15 min; reminded 1 lead(s)"
        assert overdue.remind_overdue(now + timezone.timedelta(minutes=31)) == 1  # a whole period later

    def test_a_failing_reminder_email_is_recorded_and_the_other_incidents_still_reminded(self, lead):
        for title in ("First", "Second"):
            create_incident(actor=lead, title=title, severity="SEV1",
                            started_at=timezone.now() - timezone.timedelta(hours=2))
        with mock.patch("core.notify.send_mail", side_effect=smtplib.SMTPServerDisconnected("gone")):
            assert overdue.remind_overdue() == 2
        from incidents.models import TimelineEntry

        failures = TimelineEntry.objects.filter(description__contains="reminding the leads failed")
        assert failures.count() == 2

    def test_the_reminder_also_goes_to_internal_webhooks(self, lead, monkeypatch):

        from tests.comms.test_transports import http_response

        calls = []
        answer_requests_with(monkeypatch,
                             lambda self, method, url, **kw: calls.append((method, url)) or http_response(200))
        WebhookEndpoint.objects.create(name="Ops", url="https://ops.example.test/hook", internal=True)
        WebhookEndpoint.objects.create(name="Public", url="https://public.example.test/hook", internal=False)
        create_incident(actor=lead, title="x", severity="SEV1", started_at=timezone.now() - timezone.timedelta(hours=1))
        overdue.remind_overdue()
        assert calls == [("POST", "https://ops.example.test/hook")]


def test_several_components_read_as_english_in_the_acknowledgement_and_lint_uses_the_right_article(lead):
    from comms.messaging import create_message
    from comms.models import MessageTemplate

    incident = create_incident(actor=lead, title="Checkout errors", severity="SEV2",
                               components=[ComponentFactory(name="API"), ComponentFactory(name="Payments")])
    template = MessageTemplate.objects.get(name="Initial acknowledgement")
    message = create_message(incident=incident, author=lead, template=template)
    assert message.explain.startswith("We are investigating reports of problems with API and Payments.")
    assert message.headline == "We are investigating a problem with API and Payments"
    message.acknowledge = ""
    [missing] = [finding for finding in lint_message(message) if finding.code == "missing_part"]
    assert "an initial acknowledgement should say it" in missing.message


@pytest.mark.parametrize(("text", "promise"), [
    ("We rolled it back at 10:55 and payments work again.", None),
    ("It will be fixed by 11:00.", "will be fixed by"),
    ("We expect a fix by 14:30 UTC.", "by 14:30 UTC"),
    ("It should be back within the hour.", "should be back within"),
    ("Payments will be restored in 20 minutes.", "will be restored in"),
])
def test_only_a_promised_time_counts_as_a_time_promise_not_a_time_something_happened(text, promise):
    from comms.lint import _time_promise

    assert _time_promise(text) == promise


def test_a_megabyte_of_almost_promises_is_checked_and_finishes():
    from comms.lint import TIME_PROMISE_RE

    # Every "will be fixed" starts a look for by/in/within. With the old unbounded gap each look ran to the end
    # of the text (56 KB took 5 s, 1 MB would take half an hour); bounded, this finishes in a moment.
    text = "will be fixed " * 75_000
    assert len(text) > 1_000_000
    assert TIME_PROMISE_RE.search(text) is None
