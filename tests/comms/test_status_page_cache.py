"""The status page's cache: a copy per process in front of the shared cache, never served after a change."""

import uuid

import pytest
from django.core.cache import cache

from comms import statuspage
from comms.models import Message
from tests.comms.test_status_page import post_update
from tests.factories import IncidentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def own_cache_keys(settings):
    """A shared Redis may serve other test runs at the same time, whose changes bump the one status page version:
    these tests get cache keys of their own."""
    if "redis" in settings.CACHES["default"]["BACKEND"].lower():
        settings.CACHES = {"default": {**settings.CACHES["default"], "KEY_PREFIX": f"ears-test-{uuid.uuid4().hex[:8]}"}}


@pytest.fixture
def published(lead):
    incident = IncidentFactory(title="Checkout errors")
    post_update(incident, lead, "Fix deployed", explain="Payments work again.")
    statuspage.invalidate_status_page()
    return incident


def change_quietly():
    """Change what the page shows without invalidating it, as if the change were still being made."""
    Message.objects.filter(headline="Fix deployed").update(headline="Changed since")


@pytest.mark.parametrize("url", ["/status/", "/api/v2/summary.json", "/status/feed.atom"])
def test_a_version_bumped_by_another_process_shows_at_once_although_this_one_holds_a_copy(client, published, url):
    assert "Fix deployed" in client.get(url).content.decode()
    change_quietly()
    assert "Fix deployed" in client.get(url).content.decode(), "this process's copy, while the version holds"

    cache.set(
        statuspage.cache.VERSION_KEY, statuspage.cache._new_version(), None
    )  # what another process invalidating writes

    body = client.get(url).content.decode()
    assert "Changed since" in body and "Fix deployed" not in body


def test_this_process_copy_is_not_kept_longer_than_the_shared_one(client, published, settings, monkeypatch):
    assert "Fix deployed" in client.get("/api/v2/summary.json").content.decode()
    change_quietly()
    cache.delete(statuspage.cache.status_cache_key("summary.json"))  # the shared copy expired …
    later = statuspage.cache.time.monotonic() + settings.STATUS_PAGE_CACHE_SECONDS + 1
    monkeypatch.setattr(statuspage.cache.time, "monotonic", lambda: later)  # … and so has this process's

    assert "Changed since" in client.get("/api/v2/summary.json").content.decode()


def test_a_change_inside_a_transaction_changes_the_version_again_when_it_commits(django_capture_on_commit_callbacks):
    before = statuspage.cache.current_version()
    with django_capture_on_commit_callbacks(execute=True):
        statuspage.invalidate_status_page()
        during = statuspage.cache.current_version()  # a visitor now still reads the rows as they were …
    after = statuspage.cache.current_version()  # … and whatever they cached under `during` is never read again

    assert len({before, during, after}) == 3


@pytest.mark.parametrize("url", ["/api/v2/summary.json", "/api/v2/incidents.json", "/status/feed.atom"])
def test_a_client_with_the_current_copy_is_told_it_is_not_modified(client, published, url):
    first = client.get(url)
    etag = first["ETag"]

    again = client.get(url, headers={"If-None-Match": etag})

    assert again.status_code == 304 and again.content == b""
    assert again["ETag"] == etag
    change_quietly()
    statuspage.invalidate_status_page()
    changed = client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed["ETag"] != etag


def test_the_status_page_has_an_etag_and_answers_304_to_a_visitor_who_has_this_version(client, published, lead):
    etag = client.get("/status/")["ETag"]
    assert client.get("/status/", HTTP_IF_NONE_MATCH=etag).status_code == 304
    post_update(IncidentFactory(title="A second incident"), lead, "Looking into it")
    statuspage.invalidate_status_page()
    assert client.get("/status/", HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_the_version_read_for_every_request_is_the_one_the_cache_holds():
    statuspage.invalidate_status_page()
    assert statuspage.cache.current_version() == str(cache.get(statuspage.cache.VERSION_KEY))
    cache.set(
        statuspage.cache.VERSION_KEY, "0f3c-from-an-older-release", None
    )  # not an integer: read through the cache
    assert statuspage.cache.current_version() == "0f3c-from-an-older-release"
    cache.delete(statuspage.cache.VERSION_KEY)  # Redis restarted
    assert statuspage.cache.current_version() == str(cache.get(statuspage.cache.VERSION_KEY))
