"""Values from outside, checked: whole numbers from query strings and JSON, web addresses."""

import re
from functools import lru_cache

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

# RFC 3986: unreserved, reserved and percent-escapes; nothing else (no space, quote, <, >, backslash, braces,
# non-ASCII …). Linear: one pass of a pattern without nested repetition.
_URI = re.compile(r"(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*")
_http_url = URLValidator(schemes=["http", "https"])
MAX_ID = 2**63 - 1  # a bigint primary key


def whole_number(value) -> int | None:
    """A plain non-negative whole number from a query string, form or JSON value, else None: an int (not a bool, not
    1.9 or 1e400 read as a float) or ASCII digits. str.isdigit() is true for "²" and "١", which int() refuses."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 <= value <= MAX_ID else None
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 19:
        number = int(value)
        return number if number <= MAX_ID else None
    return None


WEB_URL_RULE = ("an http(s) URI (RFC 3986): percent-encode spaces, quotes, <, > and non-ASCII characters, "
                "and write an international domain name in its xn-- form")


def web_url(value, max_length: int = 500) -> str:
    """The value, stripped, if it is an http(s) URI of at most max_length characters; else ValidationError.

    Django's URLValidator lets any non-space character through in the path, so `https://x.example/"><script>`
    passed, although the API's schema documents `format: uri`."""
    uri = value.strip() if isinstance(value, str) else ""
    if not uri or len(uri) > max_length or not _URI.fullmatch(uri):
        raise ValidationError(f"Enter {WEB_URL_RULE}, at most {max_length} characters.", code="invalid")
    after = uri.find("://") + 3 if "://" in uri else 0
    slash = uri.find("/", after)
    # User information ("user@" before the first "/" after "://": URLValidator's pattern reads it there even after
    # a "?" or "#"), or longer than URLValidator takes: the whole URI is checked. A Mastodon link's "/@user" is not.
    if "@" in uri[: slash if slash >= 0 else len(uri)] or len(uri) > _http_url.max_length:
        _http_url(uri)
    else:
        _http_origin(_origin(uri, after))
    return uri


def _origin(uri: str, after: int) -> str:
    """scheme://host[:port]: what the URI holds before its first "/", "?" or "#" from after (the end of "://")."""
    ends = [end for end in (uri.find("/", after), uri.find("?", after), uri.find("#", after)) if end >= 0]
    return uri[: min(ends)] if ends else uri


@lru_cache(maxsize=4096)
def _http_origin(origin: str) -> None:
    """URLValidator's verdict on a URI without user information (nor white space: _URI), no longer than it takes,
    depends only on its origin:
    its pattern allows any non-space characters after the host and port, and its other checks read the scheme and
    the host. Mentions from one network share a few origins, so the verdict is kept (a ValidationError is not, and
    is raised again), rather than running the pattern, a fifth of a mention's ingest, on each whole URL."""
    _http_url(origin)
