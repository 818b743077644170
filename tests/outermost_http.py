"""The outermost HTTP boundary for tests that answer requests themselves instead of running a local fake.

requests.Session.request is where tweepy, Mastodon.py and our webhooks meet the network; a POST of bytes through
core.outbound.OutboundSession (every webhook post) goes past it, straight to the guarded adapter's pool, so it is
routed into the same stand-in, with the arguments requests would have been given."""

from contextlib import contextmanager
from unittest import mock

import requests

from core.outbound import OutboundSession


def _direct_posts_to(stand_in):
    def post_bytes(session, url, body, headers, timeout):
        return stand_in(session, "POST", url, data=body, headers=headers, timeout=timeout, allow_redirects=False)

    return post_bytes


@contextmanager
def patched_requests(**options):
    """mock.patch.object(requests.Session, "request", autospec=True, **options), direct posts included."""
    with mock.patch.object(requests.Session, "request", autospec=True, **options) as request, \
            mock.patch.object(OutboundSession, "_post_bytes", _direct_posts_to(request)):
        yield request


def answer_requests_with(monkeypatch, stand_in) -> None:
    """monkeypatch's form: stand_in(session, method, url, **kwargs) answers every request, direct posts included."""
    monkeypatch.setattr(requests.Session, "request", stand_in)
    monkeypatch.setattr(OutboundSession, "_post_bytes", _direct_posts_to(stand_in))
