"""web_url gives Django's URLValidator the origin of a URI (scheme, host, port) rather than the whole of it, and
keeps the verdict per origin: the same verdict as the whole URI gets, on thousands of made-up ones."""

import random

import pytest
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from core.validators import _URI, web_url

SCHEMES = ("http", "https", "HTTPS", "ftp", "http:", "htt/p", "", "javascript")
SEPARATORS = ("://", ":/", ":", "//", ":///", "")
HOSTS = ("example.com", "x.example", "localhost", "127.0.0.1", "256.1.1.1", "[::1]", "[::1", "[fe80::1%25eth0]",
         "xn--bcher-kva.example", "a", "-bad.example", "ex_ample.com", "exa mple.com", "example.com.", "bücher.example",
         "user:pass@example.com", "a?b@example.com", "@example.com", "EXAMPLE.COM", "example", "a" * 70 + ".com", "")
PORTS = ("", ":80", ":8080", ":99999", ":", ":x")
TAILS = ("", "/", "/path", "/@user/109", "?x@evil.example/", "#a@b", "?a@evil.example:80/p", "/a/b?c=d#e", "?q=1",
         "#top", "/%20", "/%zz", "/\"><script>", "/ünï", "?a=@b", "/a@b",
         "//double", "/a?b#c?d", " /space")


def _old_verdict(uri: str) -> bool:
    """web_url as it was: the RFC 3986 characters, then URLValidator on the whole URI."""
    if not uri or len(uri) > 500 or not _URI.fullmatch(uri):
        return False
    try:
        URLValidator(schemes=["http", "https"])(uri)
    except ValidationError:
        return False
    return True


def _verdict(uri: str) -> bool:
    try:
        web_url(uri)
    except ValidationError:
        return False
    return True


@pytest.fixture(scope="module")
def uris() -> list[str]:
    rng = random.Random(11)

    def usual_or_any(usual: str, choices: tuple[str, ...]) -> str:
        return usual if rng.random() < 0.6 else rng.choice(choices)

    made = [usual_or_any("https", SCHEMES) + usual_or_any("://", SEPARATORS) + usual_or_any("example.com", HOSTS)
            + usual_or_any("", PORTS) + usual_or_any("/path", TAILS) for _ in range(20_000)]
    assert 2_000 < sum(map(_old_verdict, made)) < 18_000  # both verdicts are well represented
    return made


def test_a_uri_gets_the_verdict_urlvalidator_gives_the_whole_of_it(uris):
    for uri in uris:
        assert _verdict(uri) == _old_verdict(uri), uri


def test_a_refused_origin_is_refused_again_after_an_accepted_uri_of_it_and_the_other_way_round():
    web_url("https://status.example.com/a")
    with pytest.raises(ValidationError):
        web_url("https://-status.example.com/a")
    with pytest.raises(ValidationError):
        web_url("https://-status.example.com/a")
    assert web_url("https://status.example.com/b?c#d") == "https://status.example.com/b?c#d"
