"""The static export of the public status page: the HTML page, the Atom feed and the Statuspage v2 JSON written as
files, so that nginx, object storage or a CDN can serve the status page even while the application is down.

After every public change (comms.statuspage.invalidate_status_page) commits, schedule_export() queues one
export task; changes that commit while it waits share it (debounced with a cache key). The task renders
whatever is current when it runs, never what a change carried, so the last export always shows the latest
state; exports are serialised with a lock, so an older render never overwrites a newer one. A public change
never waits for a disk or for S3, and a failing export is logged and never undoes or blocks the change. Beat's
export_status_page_if_stale catches up within a minute if a queued export was lost.

Targets (both optional, both off by default):
- STATUS_EXPORT_DIR: a directory; each file is written to a temporary file next to it and moved into place
  with os.replace, so a reader (nginx) sees the old file or the new one, never part of one.
- STATUS_EXPORT_STORAGE: an alias in STORAGES (django-storages' S3Storage, for one), which must overwrite.

The files mirror the URLs (status/index.html for /status/, api/v2/summary.json, status/badge.svg, the banner
status/embed/index.html, …) and include the
stylesheet the page links to, so the export is complete on its own: every link in the page works when the
export directory is the web server's root for those paths (docs/operations.md).
"""

import json
import logging
import mimetypes
import os
import posixpath
import re
import tempfile
import uuid
from contextlib import suppress
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django.urls import reverse

from comms.statuspage import data, maintenance, render
from comms.statuspage.cache import current_version

logger = logging.getLogger(__name__)

PENDING_KEY = "statuspage:export:pending"  # set while an export is queued and has not started
LOCK_KEY = "statuspage:export:lock"  # held while an export renders and writes
EXPORTED_KEY = "statuspage:export:version"  # the status page version the last complete export showed
DEBOUNCE_SECONDS = 1  # changes committed within this long of the first share one export
PENDING_SECONDS = 300  # a queued export that never ran stops blocking new ones after this long
FILE_MODE = 0o644  # mkstemp creates 0600; the web server's user must be able to read the files

# The documents, by URL name. Their paths in the export are their URLs' paths.
JSON_DOCUMENTS = (
    "statuspage-summary",
    "statuspage-status",
    "statuspage-components",
    "statuspage-incidents",
    "statuspage-unresolved",
    "statuspage-maintenances",
    "statuspage-maintenances-upcoming",
    "statuspage-maintenances-active",
)
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".json": "application/json",
    ".atom": "application/atom+xml; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".ics": "text/calendar; charset=utf-8",
}


def export_configured() -> bool:
    return bool(settings.STATUS_EXPORT_DIR or settings.STATUS_EXPORT_STORAGE)


# --- Scheduling -----------------------------------------------------------------------------------------------


def schedule_export() -> None:
    """Queue one export unless one is already waiting. Run on commit of a public change; never raises."""
    if not export_configured():
        return
    try:
        if cache.add(PENDING_KEY, 1, PENDING_SECONDS):
            export_status_page.apply_async(countdown=DEBOUNCE_SECONDS)
    except Exception:
        logger.exception("Could not queue the status page export; the periodic check will try again")
        with suppress(Exception):
            cache.delete(PENDING_KEY)


@shared_task(ignore_result=True)
def export_status_page() -> bool:
    """Render the current state and write it everywhere configured. False when another export holds the lock
    (this one is queued again, to run after it) or when a target failed (logged)."""
    token = uuid.uuid4().hex
    if not cache.add(LOCK_KEY, token, settings.CELERY_TASK_TIME_LIMIT):
        if not export_status_page.app.conf.task_always_eager:  # eager (tests): it would only call itself again
            export_status_page.apply_async(countdown=DEBOUNCE_SECONDS)
        return False
    try:
        cache.delete(PENDING_KEY)  # from here on, a new change queues a new export, which renders after this
        return export_now()
    finally:
        if cache.get(LOCK_KEY) == token:
            cache.delete(LOCK_KEY)


@shared_task(ignore_result=True)
def export_status_page_if_stale() -> bool:
    """Beat, every minute: queue an export if the last complete one shows an older version of the page."""
    if export_configured() and cache.get(EXPORTED_KEY) != current_version():
        schedule_export()
        return True
    return False


def export_now() -> bool:
    """Render and write at once, in this process. True when every configured target has the new files."""
    version = current_version()  # taken before rendering: a change made meanwhile counts as not exported
    try:
        files = render_export()
    except Exception:
        logger.exception("The status page export could not be rendered")
        return False
    complete = True
    if settings.STATUS_EXPORT_DIR:
        try:
            write_export(files, Path(settings.STATUS_EXPORT_DIR))
        except Exception:
            complete = False
            logger.exception("The status page export could not be written to %s", settings.STATUS_EXPORT_DIR)
    if settings.STATUS_EXPORT_STORAGE:
        try:
            upload_export(files, settings.STATUS_EXPORT_STORAGE)
        except Exception:
            complete = False
            logger.exception("The status page export could not be stored in %r", settings.STATUS_EXPORT_STORAGE)
    if complete:
        cache.set(EXPORTED_KEY, version, None)
    return complete


# --- Rendering ------------------------------------------------------------------------------------------------


class _SiteRequest(HttpRequest):
    """A request as if for SITE_URL, for the feed framework (every link in the feed is absolute anyway)."""

    def get_host(self):
        return urlsplit(settings.SITE_URL).netloc

    def is_secure(self):
        return settings.SITE_URL.startswith("https://")


def export_path(url: str) -> str:
    """The file that answers a URL path when the export is served statically: /status/ → status/index.html."""
    path = url.lstrip("/")
    return path + "index.html" if path.endswith("/") or not path else path


def render_export() -> dict[str, bytes]:
    """Every file of the export, by path, rendered now from the database (never from the cache). In writing
    order: the stylesheet before the page that links to it, the page last."""
    page = render.render_status_page()  # the same page the live site serves: it has no form, no token
    files = _assets(page)
    builders = {
        "statuspage-summary": data.summary,
        "statuspage-status": data.status,
        "statuspage-components": data.components,
        "statuspage-incidents": data.incidents,
        "statuspage-unresolved": lambda: data.incidents(unresolved_only=True),
        "statuspage-maintenances": maintenance.scheduled_maintenances,
        "statuspage-maintenances-upcoming": lambda: maintenance.scheduled_maintenances("upcoming"),
        "statuspage-maintenances-active": lambda: maintenance.scheduled_maintenances("active"),
    }
    for name in JSON_DOCUMENTS:
        files[export_path(reverse(name))] = json.dumps(builders[name]()).encode()
    files[export_path(reverse("status-feed"))] = render.status_feed(_SiteRequest()).content
    files[export_path(reverse("status-badge"))] = render.render_badge().encode()
    files[export_path(reverse("status-maintenance-ics"))] = maintenance.calendar()
    files[export_path(reverse("status-embed"))] = render.render_embed().encode()
    files[export_path(reverse("status-page"))] = page.encode()
    return files


def _assets(page: str) -> dict[str, bytes]:
    """The static files the page links to (its stylesheet), at the same paths as on the site."""
    from django.contrib.staticfiles import finders
    from django.contrib.staticfiles.storage import staticfiles_storage

    prefix = settings.STATIC_URL
    if not prefix.startswith("/"):
        return {}  # served from another host (a CDN): the links work without copies
    files = {}
    for url in dict.fromkeys(re.findall(rf'(?:href|src)="({re.escape(prefix)}[^"?#]+)"', page)):
        name = url[len(prefix):]
        if posixpath.normpath(name) != name or name.startswith(("/", "..")):
            continue
        try:
            with staticfiles_storage.open(name) as file:
                content = file.read()
        except (OSError, ValueError):
            found = finders.find(name)  # DEBUG without collectstatic: the app's own copy
            if not found:
                logger.warning("The status page export links %s, which was not found (run collectstatic)", url)
                continue
            content = Path(found).read_bytes()
        files[export_path(url)] = content
    return files


# --- Writing --------------------------------------------------------------------------------------------------


def write_export(files: dict[str, bytes], directory: Path) -> list[Path]:
    """Write each file atomically under directory, in order; return the paths written."""
    written = []
    for name, content in files.items():
        target = directory.joinpath(*PurePosixPath(name).parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(target, content)
        written.append(target)
    return written


def write_atomically(target: Path, content: bytes) -> None:
    """A temporary file in the same directory (so the same file system), written, flushed to disk, then moved
    over the target in one step. On any failure the temporary file is removed and the old target stays."""
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(content)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, FILE_MODE)
        os.replace(temporary, target)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def upload_export(files: dict[str, bytes], alias: str) -> None:
    """Store each file under its path in the storage alias (one PUT each on object storage)."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import storages

    storage = storages[alias]
    for name, content in files.items():
        upload = ContentFile(content, name=PurePosixPath(name).name)
        suffix = PurePosixPath(name).suffix
        upload.content_type = CONTENT_TYPES.get(suffix) or mimetypes.guess_type(name)[0]  # read by S3Storage
        saved = storage.save(name, upload)
        if saved != name:
            storage.delete(saved)
            raise RuntimeError(
                f"The storage {alias!r} saved {name} as {saved}: it must overwrite files "
                "(file_overwrite for S3Storage, allow_overwrite for FileSystemStorage)."
            )
