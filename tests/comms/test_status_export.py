"""The static export of the status page: what it writes, how, when, and what happens when a target fails."""

import json
import logging
import os
import re
import subprocess
import sys
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import FileSystemStorage

from comms import delivery, messaging, statuspage
from comms.choices import Audience
from comms.models import Delivery
from comms.statuspage import export
from config.env import env_absolute_path
from incidents import services
from incidents.choices import ComponentStatus, IncidentStatus
from incidents.models import Incident
from tests.comms.helpers import open_public_incident, scheduled_message
from tests.factories import ComponentFactory, IncidentFactory

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"
DOCUMENTS = {
    "status/index.html",
    "status/feed.atom",
    "api/v2/summary.json",
    "api/v2/status.json",
    "api/v2/components.json",
    "api/v2/incidents.json",
    "api/v2/incidents/unresolved.json",
    "status/badge.svg",
    "status/embed/index.html",
    "api/v2/scheduled-maintenances.json",
    "api/v2/scheduled-maintenances/upcoming.json",
    "api/v2/scheduled-maintenances/active.json",
    "status/maintenance.ics",
}
ROOT = Path(__file__).resolve().parents[2]
HOSTILE = "<script>alert('x')</script>\"><img src=x onerror=alert(1)>"


@pytest.fixture(autouse=True)
def own_cache_keys(settings):
    """A shared Redis may serve other test runs at the same time, whose changes bump the one status page version:
    these tests get cache keys of their own."""
    if "redis" in settings.CACHES["default"]["BACKEND"].lower():
        settings.CACHES = {"default": {**settings.CACHES["default"], "KEY_PREFIX": f"ears-test-{uuid.uuid4().hex[:8]}"}}


@pytest.fixture(autouse=True)
def no_export_in_progress():
    """Another run against the same Redis may have left the debounce or lock keys behind."""
    cache.delete_many([export.PENDING_KEY, export.LOCK_KEY, export.EXPORTED_KEY])
    yield
    cache.delete_many([export.PENDING_KEY, export.LOCK_KEY, export.EXPORTED_KEY])


class Collected(logging.Handler):
    """What comms.statuspage.export logged, as text with tracebacks (the suite also runs with -p no:logging: no
    export_log)."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
        self.lines = []

    def emit(self, record):
        self.lines.append(self.format(record))

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@pytest.fixture
def export_log():
    handler = Collected()
    logger = logging.getLogger("comms.statuspage.export")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


@pytest.fixture
def export_dir(settings, tmp_path):
    settings.STATUS_EXPORT_DIR = tmp_path / "export"
    settings.STATUS_EXPORT_STORAGE = None
    return settings.STATUS_EXPORT_DIR


@pytest.fixture
def eager(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True


@pytest.fixture
def queued(monkeypatch):
    """Exports queued (not run): the countdown each was given."""
    calls = []
    monkeypatch.setattr(export.export_status_page, "apply_async", lambda **kwargs: calls.append(kwargs))
    return calls


def files_in(directory: Path) -> set[str]:
    return {path.relative_to(directory).as_posix() for path in directory.rglob("*") if path.is_file()}


def read(directory: Path, name: str) -> str:
    return (directory / name).read_text()


def temporary_files(directory: Path) -> list[Path]:
    return [path for path in directory.rglob("*") if path.name.startswith(".") or path.suffix == ".tmp"]


# --- What it writes -------------------------------------------------------------------------------------------


def test_an_export_writes_the_page_the_feed_every_v2_document_and_the_stylesheet(export_dir, lead):
    incident = IncidentFactory(title="Checkout errors")
    services.change_status(incident, IncidentStatus.IDENTIFIED, actor=lead)

    assert export.export_now()

    written = files_in(export_dir)
    assert DOCUMENTS <= written
    script, stylesheet = sorted(written - DOCUMENTS)  # what the page links to, so the export stands alone
    assert re.fullmatch(r"static/ears/status(\.[0-9a-f]+)?\.css", stylesheet)
    assert re.fullmatch(r"static/ears/localtime(\.[0-9a-f]+)?\.js", script)
    assert "Checkout errors" in read(export_dir, "status/index.html")
    assert json.loads(read(export_dir, "api/v2/summary.json")) == statuspage.data.summary()
    assert json.loads(read(export_dir, "api/v2/incidents/unresolved.json")) == statuspage.data.incidents(
        unresolved_only=True
    )
    assert ET.fromstring(read(export_dir, "status/feed.atom")).tag == f"{ATOM}feed"


def test_the_exported_documents_are_the_ones_the_application_serves(export_dir, client, lead):
    from tests.comms.test_status_page import post_update

    incident = IncidentFactory(title="Slow search")
    incident.components.set([ComponentFactory(name="Search", status=ComponentStatus.DEGRADED_PERFORMANCE)])
    post_update(incident, lead, "We are looking into it")  # the feed's <updated> is its newest entry's
    statuspage.invalidate_status_page()

    export.export_now()

    for url, name in [
        ("/api/v2/summary.json", "api/v2/summary.json"),
        ("/api/v2/status.json", "api/v2/status.json"),
        ("/api/v2/components.json", "api/v2/components.json"),
        ("/api/v2/incidents.json", "api/v2/incidents.json"),
        ("/api/v2/incidents/unresolved.json", "api/v2/incidents/unresolved.json"),
        ("/status/feed.atom", "status/feed.atom"),
        ("/api/v2/scheduled-maintenances.json", "api/v2/scheduled-maintenances.json"),
        ("/status/maintenance.ics", "status/maintenance.ics"),
    ]:
        assert client.get(url).content == (export_dir / name).read_bytes(), url


LIVE_SUBSCRIBE_PAGES = {"/status/subscribe/", "/status/subscribe/webhooks/", "/status/subscribe/sms/"}


def test_every_link_in_the_exported_page_leads_to_an_exported_file_or_a_live_subscribe_page(export_dir):
    IncidentFactory(title="Checkout errors")
    export.export_now()
    page = read(export_dir, "status/index.html")

    links = set(re.findall(r'(?:href|src)="([^"#]+)[^"]*"', page))

    assert {"/status/subscribe/", "/status/subscribe/webhooks/"} <= links
    for link in links - LIVE_SUBSCRIBE_PAGES:
        assert link.startswith("/"), f"{link} would not work from another host"
        assert export.export_path(link) in files_in(export_dir), f"{link} is not in the export"


def test_the_exported_page_has_no_form_or_csrf_token_but_links_to_the_live_subscribe_pages(export_dir):
    export.export_now()
    page = read(export_dir, "status/index.html")

    assert "csrfmiddlewaretoken" not in page and "<form" not in page
    assert '<a href="/status/subscribe/">By email</a>' in page
    assert 'id="subscribe"' in page  # the footer's "Subscribe" link still has its target


def test_hostile_incident_titles_are_escaped_in_the_exported_page_and_feed_and_intact_in_the_json(export_dir, lead):
    from tests.comms.test_status_page import post_update

    incident = IncidentFactory(title=HOSTILE)
    post_update(incident, lead, f"Update {HOSTILE}", explain=f"Body {HOSTILE}")

    export.export_now()

    page = read(export_dir, "status/index.html")
    assert "<script>" not in page and "<img" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in page
    feed = (export_dir / "status/feed.atom").read_bytes()
    assert b"<script>" not in feed and b"<img" not in feed
    entry = ET.fromstring(feed).find(f"{ATOM}entry")
    assert entry.findtext(f"{ATOM}title") == f"[Investigating] {HOSTILE}: Update {HOSTILE}"
    assert "<script>" not in entry.findtext(f"{ATOM}content")  # HTML content, escaped once more inside
    summary = json.loads(read(export_dir, "api/v2/summary.json"))
    assert [item["name"] for item in summary["incidents"]] == [HOSTILE]


# --- How it writes --------------------------------------------------------------------------------------------


def test_each_file_is_written_to_a_temporary_file_beside_it_and_moved_into_place(export_dir, monkeypatch):
    moves = []
    real_replace = os.replace

    def replace(source, target):
        assert Path(source).read_bytes() == export_files[Path(target).relative_to(export_dir).as_posix()]
        moves.append((Path(source), Path(target)))
        real_replace(source, target)

    monkeypatch.setattr(export.os, "replace", replace)
    export_files = export.render_export()

    export.write_export(export_files, export_dir)

    assert {target.relative_to(export_dir).as_posix() for _, target in moves} == set(export_files)
    for source, target in moves:
        assert source.parent == target.parent
        assert source.name.startswith(f".{target.name}.") and source.suffix == ".tmp"
    assert temporary_files(export_dir) == []


def test_a_file_that_fails_to_move_into_place_leaves_the_old_one_whole_and_no_temporary_file(export_dir, monkeypatch):
    export.export_now()
    before = (export_dir / "status/index.html").read_bytes()
    IncidentFactory(title="Something new")

    def replace(source, target):
        raise OSError("disk full")

    monkeypatch.setattr(export.os, "replace", replace)
    with pytest.raises(OSError, match="disk full"):
        export.write_export(export.render_export(), export_dir)

    assert (export_dir / "status/index.html").read_bytes() == before
    assert temporary_files(export_dir) == []


def test_the_exported_files_can_be_read_by_the_web_servers_user(export_dir):
    export.export_now()
    modes = {name: (export_dir / name).stat().st_mode & 0o777 for name in files_in(export_dir)}
    assert set(modes.values()) == {0o644}, modes


def test_the_export_is_also_stored_in_a_storage_alias_overwriting_the_previous_files(settings, tmp_path):
    settings.STATUS_EXPORT_DIR = None
    settings.STORAGES = {
        **settings.STORAGES,
        "status-export": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "bucket"), "allow_overwrite": True},
        },
    }
    settings.STATUS_EXPORT_STORAGE = "status-export"
    export.export_now()
    IncidentFactory(title="Second export")

    assert export.export_now()

    assert DOCUMENTS <= files_in(tmp_path / "bucket")
    assert len(files_in(tmp_path / "bucket")) == len(DOCUMENTS) + 2  # the stylesheet, the script; no renamed copies
    assert "Second export" in read(tmp_path / "bucket", "status/index.html")


def test_a_storage_that_keeps_old_files_is_reported_instead_of_filling_up_with_copies(settings, tmp_path, export_log):
    settings.STATUS_EXPORT_DIR = None
    settings.STORAGES = {
        **settings.STORAGES,
        "status-export": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "bucket")},
        },
    }
    settings.STATUS_EXPORT_STORAGE = "status-export"
    export.export_now()

    assert not export.export_now()

    assert "must overwrite files" in export_log.text
    assert len(files_in(tmp_path / "bucket")) == len(DOCUMENTS) + 2


# --- When it runs ---------------------------------------------------------------------------------------------


def test_publishing_an_update_exports_the_page_with_it(export_dir, eager, lead, django_capture_on_commit_callbacks):
    message = scheduled_message(lead, channels=["statuspage"], headline="A fix is rolling out")

    with django_capture_on_commit_callbacks(execute=True):
        assert delivery.dispatch_due_messages() == [message.pk]  # eager: the status page delivery is sent too
        delivery.send_deliveries(list(Delivery.objects.values_list("pk", flat=True)))  # (if it was not)

    assert Delivery.objects.get().status == "sent"
    assert "A fix is rolling out" in read(export_dir, "status/index.html")
    [listed] = json.loads(read(export_dir, "api/v2/incidents.json"))["incidents"]
    assert listed["incident_updates"][0]["body"].startswith("A fix is rolling out")


def test_changing_an_incidents_status_exports_the_page(export_dir, eager, lead, django_capture_on_commit_callbacks):
    incident = open_public_incident(lead, title="Checkout errors")
    with django_capture_on_commit_callbacks(execute=True):
        services.change_status(incident, IncidentStatus.MONITORING, actor=lead)

    [listed] = json.loads(read(export_dir, "api/v2/incidents/unresolved.json"))["incidents"]
    assert (listed["name"], listed["status"]) == ("Checkout errors", "monitoring")


def test_a_change_queues_the_export_only_once_it_is_committed(
    export_dir, queued, lead, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        open_public_incident(lead, title="Checkout errors")
    assert queued == []

    for callback in callbacks:
        callback()

    assert queued == [{"countdown": export.DEBOUNCE_SECONDS}]


def test_drafting_submitting_and_editing_updates_exports_nothing(
    export_dir, queued, lead, django_capture_on_commit_callbacks
):
    incident = IncidentFactory()
    with django_capture_on_commit_callbacks(execute=True):
        message = messaging.create_message(incident=incident, author=lead, headline="Draft", channels=["statuspage"])
        messaging.submit(message, actor=lead)
        internal = messaging.create_message(
            incident=incident, author=lead, headline="Internal", audience=Audience.INTERNAL, channels=["email"]
        )
        messaging.update_message(internal, actor=lead, headline="Internal, edited")

    assert queued == []


def test_many_changes_committed_together_queue_one_export(export_dir, queued, lead, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        incident = open_public_incident(lead, title="Checkout errors")
        services.change_status(incident, IncidentStatus.IDENTIFIED, actor=lead)
        component = ComponentFactory(name="API")
        component.status = ComponentStatus.MAJOR_OUTAGE
        component.save()
    with django_capture_on_commit_callbacks(execute=True):
        services.change_status(incident, IncidentStatus.MONITORING, actor=lead)

    assert len(queued) == 1


def test_a_change_after_the_export_started_queues_another(export_dir, queued, lead, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        incident = open_public_incident(lead, title="Checkout errors")
    export.export_status_page()  # the queued export runs …
    with django_capture_on_commit_callbacks(execute=True):
        services.change_status(incident, IncidentStatus.IDENTIFIED, actor=lead)  # … and a change follows

    assert len(queued) == 2


def test_the_export_shows_the_state_when_it_runs_not_when_it_was_queued(
    export_dir, queued, lead, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        incident = open_public_incident(lead, title="Checkout errors")
    with django_capture_on_commit_callbacks(execute=True):
        services.change_status(incident, IncidentStatus.MONITORING, actor=lead)  # debounced: nothing new queued

    assert export.export_status_page()

    [listed] = json.loads(read(export_dir, "api/v2/incidents/unresolved.json"))["incidents"]
    assert listed["status"] == "monitoring"


def test_an_export_waits_while_another_is_writing_and_is_queued_again(export_dir, queued):
    cache.add(export.LOCK_KEY, "another worker", 60)

    assert not export.export_status_page()

    assert queued == [{"countdown": export.DEBOUNCE_SECONDS}]
    assert not export_dir.exists()


def test_nothing_is_queued_when_no_export_is_configured(settings, queued, lead, django_capture_on_commit_callbacks):
    settings.STATUS_EXPORT_DIR = settings.STATUS_EXPORT_STORAGE = None
    with django_capture_on_commit_callbacks(execute=True):
        open_public_incident(lead, title="Checkout errors")
    assert queued == []


def test_the_periodic_check_queues_an_export_only_when_the_page_changed_since_the_last(export_dir, queued):
    assert export.export_now()
    assert not export.export_status_page_if_stale()

    statuspage.invalidate_status_page()
    cache.delete(export.PENDING_KEY)  # the change's own export was lost

    assert export.export_status_page_if_stale()
    assert len(queued) == 1


# --- When it fails --------------------------------------------------------------------------------------------


class BrokenStorage(FileSystemStorage):
    def _save(self, name, content):
        raise ConnectionError("S3 is unreachable")


def test_a_failing_storage_is_logged_and_the_change_and_the_directory_export_still_happen(
    export_dir, eager, settings, lead, export_log, django_capture_on_commit_callbacks
):
    settings.STORAGES = {**settings.STORAGES, "broken": {"BACKEND": f"{__name__}.BrokenStorage"}}
    settings.STATUS_EXPORT_STORAGE = "broken"
    incident = open_public_incident(lead, title="Checkout errors")

    with django_capture_on_commit_callbacks(execute=True):
        services.change_status(incident, IncidentStatus.RESOLVED, actor=lead)

    assert Incident.objects.get(pk=incident.pk).status == IncidentStatus.RESOLVED
    assert "could not be stored in 'broken'" in export_log.text and "S3 is unreachable" in export_log.text
    assert "Resolved" in read(export_dir, "status/index.html")
    assert cache.get(export.EXPORTED_KEY) is None  # incomplete: the periodic check will try again


def test_an_unwritable_directory_is_logged_and_never_breaks_the_change(
    settings, tmp_path, eager, lead, export_log, django_capture_on_commit_callbacks
):
    (tmp_path / "a-file").write_text("not a directory")
    settings.STATUS_EXPORT_DIR = tmp_path / "a-file" / "export"
    settings.STATUS_EXPORT_STORAGE = None
    incident = open_public_incident(lead, title="Checkout errors")

    with django_capture_on_commit_callbacks(execute=True):
        services.change_status(incident, IncidentStatus.IDENTIFIED, actor=lead)

    assert Incident.objects.get(pk=incident.pk).status == IncidentStatus.IDENTIFIED
    assert "could not be written to" in export_log.text


def test_a_broker_that_refuses_the_export_is_logged_and_never_breaks_the_change(
    export_dir, monkeypatch, lead, export_log, django_capture_on_commit_callbacks
):
    def refuse(**kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(export.export_status_page, "apply_async", refuse)
    incident = open_public_incident(lead, title="Checkout errors")

    with django_capture_on_commit_callbacks(execute=True):
        services.change_status(incident, IncidentStatus.IDENTIFIED, actor=lead)

    assert Incident.objects.get(pk=incident.pk).status == IncidentStatus.IDENTIFIED
    assert "Could not queue the status page export" in export_log.text
    assert cache.get(export.PENDING_KEY) is None  # the next change tries again


# --- Configuration --------------------------------------------------------------------------------------------


def test_the_export_directory_must_be_an_absolute_path():
    assert env_absolute_path("STATUS_EXPORT_DIR", {}) is None
    assert env_absolute_path("STATUS_EXPORT_DIR", {"STATUS_EXPORT_DIR": "/srv/export"}) == Path("/srv/export")
    with pytest.raises(ImproperlyConfigured, match=r"^STATUS_EXPORT_DIR must be an absolute path"):
        env_absolute_path("STATUS_EXPORT_DIR", {"STATUS_EXPORT_DIR": "var/export"})


def test_an_export_storage_that_is_not_in_storages_stops_startup_naming_it(tmp_path):
    from tests.test_settings import manage_check

    result = manage_check(tmp_path, STATUS_EXPORT_STORAGE="nowhere")

    assert result.returncode == 2
    assert "STATUS_EXPORT_STORAGE must name a storage in STORAGES" in result.stderr


def test_an_s3_bucket_adds_an_s3_export_storage_and_turns_the_export_on(tmp_path):
    code = (
        "from django.conf import settings; storage = settings.STORAGES['status-export']; "
        "print(settings.STATUS_EXPORT_STORAGE, storage['BACKEND'], storage['OPTIONS']['bucket_name'], "
        "'export-status-page-if-stale' in settings.CELERY_BEAT_SCHEDULE)"
    )
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DATABASE_", "REDIS_", "STATUS_"))}
    env.update(VAR_DIR=str(tmp_path), DEBUG="true", STATUS_EXPORT_S3_BUCKET="status-example")
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.stdout.split() == ["status-export", "storages.backends.s3.S3Storage", "status-example", "True"], (
        result.stderr
    )
