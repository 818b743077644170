"""Requests to URLs that somebody typed in (webhook endpoints): only to public addresses, never redirected,
briefly, and reading no more than a little of the answer.

A webhook URL is chosen by a person, so without a guard the server would post signed bodies wherever it is told:
to Redis on 127.0.0.1:6379, to a cloud's metadata service on 169.254.169.254, to a database on the private
network. The rules, applied to every request made through an `OutboundSession`:

- the scheme is https (http only where OUTBOUND_ALLOW_HTTP says so: development, local fakes);
- the host is resolved and *every* address it resolves to must be public: not loopback, private, link-local,
  multicast, reserved, unspecified, shared (carrier-grade NAT) or a cloud metadata address, IPv4 or IPv6
  (IPv4 inside IPv6 — ::ffff:127.0.0.1, 6to4, NAT64 — is judged as the IPv4 it carries). Hosts named in
  OUTBOUND_ALLOWED_HOSTS are let through unchecked;
- a redirect is never followed (the caller decides what a 3xx means); no proxy is used;
- short timeouts, and at most RESPONSE_LIMIT_BYTES of the body are read.

**Why the check is inside the connection.** Checking a URL's host and then letting the HTTP library resolve it
again to connect leaves a gap: a DNS server that answers a public address to the check and 127.0.0.1 to the
connection (DNS rebinding) walks straight through. Here the connection classes of urllib3 (which requests uses)
resolve the host once, check every address, and open the socket to one of *those* addresses; nothing resolves
the name a second time. TLS still wraps that socket with the URL's host name (SNI and certificate checking) and
the Host header is the URL's, so the far side sees an ordinary request.
"""

import ipaddress
import socket
import sys
import time
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.core.exceptions import ValidationError
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict
from requests.utils import check_header_validity
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    LocationParseError,
    NameResolutionError,
    NewConnectionError,
    ReadTimeoutError,
    SSLError,
)
from urllib3.util import Timeout, parse_url
from urllib3.util.connection import allowed_gai_family

CONNECT_TIMEOUT_SECONDS = 3
READ_TIMEOUT_SECONDS = 10
TIMEOUT = (CONNECT_TIMEOUT_SECONDS, READ_TIMEOUT_SECONDS)
RESPONSE_LIMIT_BYTES = 64 * 1024
# Reading a social network's API (pages of comments: a LinkedIn comment object is about a kilobyte before its text),
# for OutboundSession(response_limit=API_READ_LIMIT_BYTES); webhooks and posts keep the small cap.
API_READ_LIMIT_BYTES = 8 * 1024 * 1024
BODY_DEADLINE_SECONDS = 15  # a far side that trickles its body out byte by byte is cut off after this long
_CHUNK_BYTES = 4096

# Metadata services answer on these; the link-local and private ones are refused anyway, 100.100.100.200
# (Alibaba Cloud) only as "not public". Named so that the refusal says what it is.
METADATA_ADDRESSES = frozenset(ipaddress.ip_address(address) for address in (
    "169.254.169.254", "169.254.170.2", "100.100.100.200", "fd00:ec2::254",
))
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class OutboundRefused(Exception):
    """The guard will not send there; the message says why, in a sentence a person can act on.

    Deliberately not an OSError (nor a requests exception, which is one): urllib3 and requests would retry it or
    wrap it as "could not connect", which it is not."""


# --- The rules --------------------------------------------------------------------------------------------

def refusal_for_address(address: str | ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why a request must not go to this address, or None when it is a public one."""
    address = ipaddress.ip_address(address)
    carried = _embedded_ipv4(address)
    if carried is not None:
        reason = refusal_for_address(carried)
        return f"{reason} (carried in the IPv6 address {address})" if reason else None
    if address in METADATA_ADDRESSES:
        return "a cloud metadata address"
    for test, name in (
        (address.is_unspecified, "an unspecified address"),
        (address.is_loopback, "a loopback address"),
        (address.is_link_local, "a link-local address"),
        (address.is_multicast, "a multicast address"),
        (address.is_private, "a private address"),
        (address.is_reserved, "a reserved address"),
        (not address.is_global, "not a public address"),
    ):
        if test:
            return name
    return None


def _embedded_ipv4(address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (::ffff:a.b.c.d, 64:ff9b::a.b.c.d, 6to4), if any."""
    if address.version != 6:
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address.sixtofour


def is_allowed_host(host: str) -> bool:
    """Named in OUTBOUND_ALLOWED_HOSTS: its addresses are not checked (local fakes, an internal chat server)."""
    wanted = _normal_host(host)
    return any(_normal_host(allowed) == wanted for allowed in settings.OUTBOUND_ALLOWED_HOSTS)


def _normal_host(host: str) -> str:
    return host.strip("[]").rstrip(".").lower()


def check_url(url: str) -> None:
    """Refuse (OutboundRefused) a URL whose scheme, host or IP literal is not allowed. No DNS: that is left to
    the connection, which checks the addresses it really connects to."""
    try:
        parts = urlsplit(url)
    except ValueError:  # brackets around something that is not an IPv6 address
        raise OutboundRefused("the URL's host cannot be read") from None
    if parts.scheme not in ("http", "https"):
        raise OutboundRefused(f"only https:// URLs are allowed, not {parts.scheme or 'a URL without a scheme'}")
    if parts.scheme == "http" and not settings.OUTBOUND_ALLOW_HTTP:
        raise OutboundRefused("plain http:// is not allowed (OUTBOUND_ALLOW_HTTP is off): use https://")
    try:
        host, _ = parts.hostname, parts.port  # .port raises ValueError on a port that is not a number
    except ValueError:
        raise OutboundRefused("the URL's port is not a number from 0 to 65535") from None
    if not host:
        raise OutboundRefused("the URL names no host")
    # Parsers disagree on "https://evil.example\@hooks.slack.com/": urlsplit reads the host after the "@", urllib3
    # (which connects) the one before it. A URL whose host two parsers read differently is refused, whatever it is.
    if "\\" in url or _urllib3_host(url) != host:
        raise OutboundRefused("the URL's host is ambiguous (a backslash, or a user name that looks like a host)")
    if is_allowed_host(host):
        return
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        return  # a name: its addresses are checked when connecting
    reason = refusal_for_address(literal)
    if reason:
        raise OutboundRefused(f"{literal} is {reason}")


def _urllib3_host(url: str) -> str | None:
    try:
        host = parse_url(url).host
    except LocationParseError:
        return None
    return host.strip("[]").lower() if host else None


def checked_addresses(host: str, port: int) -> list[tuple]:
    """getaddrinfo's answer for host, each address checked (all must pass). socket.gaierror when it does not
    resolve, OutboundRefused when any address is not allowed."""
    host = host.strip("[]")
    try:
        addresses = socket.getaddrinfo(host, port, allowed_gai_family(), socket.SOCK_STREAM)
    except UnicodeError:  # a label too long or empty for IDNA
        raise socket.gaierror(socket.EAI_NONAME, f"{host} is not a valid host name") from None
    if not addresses:
        raise socket.gaierror(socket.EAI_NONAME, f"{host} resolves to no address")
    if not is_allowed_host(host):
        for *_, socket_address in addresses:
            reason = refusal_for_address(socket_address[0])
            if reason:
                shown = host if host == socket_address[0] else f"{host} resolves to {socket_address[0]}, which"
                raise OutboundRefused(f"{shown} is {reason}")
    return addresses


def check_destination(url: str) -> None:
    """check_url, and the addresses the host resolves to now: for checking a URL when someone enters it. (A
    name may resolve elsewhere later; every request checks again when it connects.)"""
    check_url(url)
    parts = urlsplit(url)
    try:
        checked_addresses(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
    except socket.gaierror:
        raise OutboundRefused(f"{parts.hostname} could not be resolved to an address") from None


def validate_outbound_url(url: str) -> None:
    """check_destination as a Django validator: ValidationError with the reason."""
    try:
        check_destination(url)
    except OutboundRefused as refusal:
        raise ValidationError(
            "EARS does not send to this URL: %(reason)s.", code="outbound_refused", params={"reason": refusal}
        ) from None


# --- Connections that connect only to the addresses they checked ------------------------------------------

def _open_socket(addresses: list[tuple], timeout, source_address, socket_options) -> socket.socket:
    """Connect to the first of these (checked) addresses that answers; as urllib3's create_connection does,
    minus the second look-up."""
    last_error = None
    for family, kind, protocol, _, socket_address in addresses:
        sock = socket.socket(family, kind, protocol)
        try:
            for option in socket_options or ():
                sock.setsockopt(*option)
            if timeout is None or isinstance(timeout, int | float):  # else urllib3's "default" marker
                sock.settimeout(timeout)
            if source_address:
                sock.bind(source_address)
            sock.connect(socket_address)
            return sock
        except OSError as error:
            last_error = error
            sock.close()
    raise last_error


class _CheckedConnection:
    """Mixed into urllib3's connections: resolve, check and connect in one step (see the module's docstring)."""

    def _new_conn(self) -> socket.socket:
        try:
            addresses = checked_addresses(self._dns_host, self.port)
            sock = _open_socket(addresses, self.timeout, self.source_address, self.socket_options)
        except socket.gaierror as error:
            raise NameResolutionError(self.host, self, error) from error
        except TimeoutError as error:
            raise ConnectTimeoutError(
                self, f"Connection to {self.host} timed out. (connect timeout={self.timeout})"
            ) from error
        except OSError as error:
            raise NewConnectionError(self, f"Failed to establish a new connection: {error}") from error
        sys.audit("http.client.connect", self, self.host, self.port)
        return sock


class _CheckedHTTPConnection(_CheckedConnection, HTTPConnection):
    pass


class _CheckedHTTPSConnection(_CheckedConnection, HTTPSConnection):
    pass


class _CheckedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _CheckedHTTPConnection


class _CheckedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _CheckedHTTPSConnection


class _GuardedAdapter(HTTPAdapter):
    def __init__(self, *args, response_limit: int = RESPONSE_LIMIT_BYTES, **kwargs):
        self.response_limit = response_limit
        super().__init__(*args, **kwargs)

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _CheckedHTTPPool, "https": _CheckedHTTPSPool}

    def proxy_manager_for(self, proxy, **proxy_kwargs):
        raise OutboundRefused("a request through a proxy cannot be checked, so it is not made")

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        check_url(request.url)
        response = super().send(
            request, stream=True, timeout=timeout or TIMEOUT, verify=verify, cert=cert, proxies=proxies
        )
        _read_at_most(response, self.response_limit)
        return response


class _GuardedStreamingAdapter(_GuardedAdapter):
    """The guarded adapter without reading the answer ahead: for a stream read as it arrives (OutboundStreamSession)."""

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        check_url(request.url)
        return HTTPAdapter.send(
            self, request, stream=stream, timeout=timeout or TIMEOUT, verify=verify, cert=cert, proxies=proxies
        )


def _read_at_most(response: requests.Response, limit: int) -> None:
    """Read up to limit bytes of the body (for BODY_DEADLINE_SECONDS at most) and stop: the rest is never read
    and the connection is closed rather than reused. A body cut short or broken off keeps what arrived."""
    deadline = time.monotonic() + BODY_DEADLINE_SECONDS
    chunks, size, whole = [], 0, False
    try:
        for chunk in response.raw.stream(_CHUNK_BYTES, decode_content=True):
            chunks.append(chunk)
            size += len(chunk)
            if size > limit or time.monotonic() > deadline:
                break
        else:
            whole = True
    except (HTTPError, OSError):
        pass  # the status and headers arrived; a broken body is not worth failing the request over
    finally:
        if not whole:
            response.raw.close()
        response.raw.release_conn()
    # requests' own fields for a body already read (as Response.content leaves them).
    response._content = b"".join(chunks)[:limit]
    response._content_consumed = True


def _has_user_name(url: str) -> bool:
    try:
        return "@" in urlsplit(url).netloc
    except ValueError:
        return False  # check_url refuses it


class OutboundSession(requests.Session):
    """A requests session for URLs that people configure: every request goes through the rules above.

    A POST of bytes with headers (what every webhook post is) goes straight to the guarded adapter's urllib3 pool
    (`post`): the same checked connections, TLS settings, timeouts and capped answer, without requests' per-request
    preparation (merging session settings, hooks, cookies, auth, environment), which cost more CPU than the HTTP
    exchange itself in a fan-out to thousands of webhooks (docs/benchmarks.md). Anything else takes requests' path."""

    def __init__(self, response_limit: int = RESPONSE_LIMIT_BYTES):
        super().__init__()
        self.trust_env = False  # no proxy or .netrc from the environment: a proxy would resolve the host unchecked
        self.headers["Accept-Encoding"] = "identity"  # the size limit is on what is read, not on what it inflates to
        self.guarded = _GuardedAdapter(max_retries=0, response_limit=response_limit)
        self.mount("https://", self.guarded)
        self.mount("http://", self.guarded)

    def send(self, request, **kwargs):
        kwargs["allow_redirects"] = False  # a redirect is an answer for the caller to judge, never followed
        return super().send(request, **kwargs)

    def post(self, url, data=None, json=None, **kwargs):
        plain = json is None and isinstance(data, bytes) and not set(kwargs) - {"headers", "timeout", "allow_redirects"}
        # A user name and password in the URL are sent as requests sends them (basic auth), by requests' path.
        if plain and not (self.cookies or self.auth or self.hooks["response"]) and not _has_user_name(url):
            return self._post_bytes(url, data, kwargs.get("headers") or {}, kwargs.get("timeout") or TIMEOUT)
        return super().post(url, data=data, json=json, **kwargs)

    def _post_bytes(self, url: str, body: bytes, headers: dict, timeout) -> requests.Response:
        check_url(url)
        target = requests.PreparedRequest()
        target.url = url  # all the adapter's pool choice reads (scheme, host, port), with its TLS settings
        host_params, pool_kwargs = self.guarded.build_connection_pool_key_attributes(target, True, None)
        pool = self.guarded.poolmanager.connection_from_host(**host_params, pool_kwargs=pool_kwargs)
        sent = CaseInsensitiveDict(self.headers)
        sent.update(headers)
        for header in sent.items():
            check_header_validity(header)  # as on requests' path: a line break or a non-string is InvalidHeader
        sent["Content-Length"] = str(len(body))
        connect, read = timeout if isinstance(timeout, tuple) else (timeout, timeout)
        try:
            raw = pool.urlopen(
                "POST", parse_url(url).request_uri, body=body, headers=dict(sent), retries=False, redirect=False,
                assert_same_host=False, preload_content=False, decode_content=False,
                timeout=Timeout(connect=connect, read=read),
            )
        except ConnectTimeoutError as error:
            raise requests.ConnectTimeout(error) from None
        except ReadTimeoutError as error:
            raise requests.ReadTimeout(error) from None
        except SSLError as error:
            raise requests.exceptions.SSLError(error) from None
        except (HTTPError, OSError) as error:  # refused, reset, name not found, a broken answer
            raise requests.ConnectionError(error) from None
        response = requests.Response()
        response.status_code, response.reason, response.url = raw.status, raw.reason, url
        response.headers = CaseInsensitiveDict(raw.headers)
        response.raw = raw
        _read_at_most(response, self.guarded.response_limit)
        return response


class OutboundStreamSession(OutboundSession):
    """OutboundSession for an answer that does not end (server-sent events): the same checks of every connection's
    addresses, no redirect followed, no proxy, the same timeouts for each read; but the body is neither read ahead nor
    capped, so whoever reads it must bound what they keep."""

    def __init__(self):
        super().__init__()
        self.guarded = _GuardedStreamingAdapter(max_retries=0)
        self.mount("https://", self.guarded)
        self.mount("http://", self.guarded)
