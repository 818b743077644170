"""Server-side request forgery (OWASP A10): a webhook endpoint's URL is typed in by a person, and EARS posts signed
bodies to it. It must reach only public https addresses — not Redis on 127.0.0.1:6379, not the cloud's metadata
service, not the private network — however the address is written or resolved, and never be redirected there.

The boundary is the socket module: host names resolve from a table of the test's (socket.getaddrinfo) and every
connection attempt is recorded and refused (socket.socket.connect), so a test sees what would have crossed the
network. The redirect and size-limit tests use real HTTP servers on 127.0.0.1, allowed by name."""

import json
import socket
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from unittest import mock

import pytest
import requests
from django.urls import reverse

from comms import delivery
from comms.choices import DeliveryStatus
from comms.models import Delivery, WebhookEndpoint
from core.outbound import RESPONSE_LIMIT_BYTES, OutboundRefused, OutboundSession
from tests.comms.helpers import scheduled_message

pytestmark = pytest.mark.django_db

PUBLIC = "93.184.215.14"  # a public address (documentation ranges count as reserved, so they would be refused)

# The probe's findings and the rest of each refused class, written as IP literals in the URL.
LITERAL_URLS = {
    "v4-loopback": ("http://127.0.0.1:6379/", "127.0.0.1 is a loopback address"),
    "v4-loopback-elsewhere-in-127/8": ("http://127.1.2.3/hook", "127.1.2.3 is a loopback address"),
    "10/8": ("http://10.0.0.5/hook", "10.0.0.5 is a private address"),
    "172.16/12": ("http://172.20.1.1/hook", "172.20.1.1 is a private address"),
    "192.168/16": ("http://192.168.1.10/hook", "192.168.1.10 is a private address"),
    "metadata": ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a cloud metadata address"),
    "v4-link-local": ("http://169.254.10.1/hook", "169.254.10.1 is a link-local address"),
    "v4-unspecified": ("http://0.0.0.0:8000/", "0.0.0.0 is an unspecified address"),
    "v4-multicast": ("http://224.0.0.251/hook", "224.0.0.251 is a multicast address"),
    "carrier-grade-nat": ("http://100.64.0.1/hook", "100.64.0.1 is not a public address"),
    "v6-loopback": ("http://[::1]:5432/", "::1 is a loopback address"),
    "v6-link-local": ("http://[fe80::1]/hook", "fe80::1 is a link-local address"),
    "v6-unique-local": ("http://[fd12:3456::1]/hook", "fd12:3456::1 is a private address"),
    "v6-unspecified": ("http://[::]/hook", ":: is an unspecified address"),
    "v6-multicast": ("http://[ff02::1]/hook", "ff02::1 is a multicast address"),
    "v4-mapped-v6-loopback": ("http://[::ffff:127.0.0.1]/hook", "a loopback address (carried in the IPv6 address"),
    "v4-mapped-v6-metadata": ("http://[::ffff:169.254.169.254]/", "a cloud metadata address (carried in the IPv6"),
    "aws-v6-metadata": ("http://[fd00:ec2::254]/latest/", "fd00:ec2::254 is a cloud metadata address"),
}

# Host names that resolve to a refused address (the table of the fake DNS below).
RESOLVING_TO = {
    "v4-loopback": ("127.0.0.1", "a loopback address"),
    "10/8": ("10.1.2.3", "a private address"),
    "172.16/12": ("172.31.255.254", "a private address"),
    "192.168/16": ("192.168.0.1", "a private address"),
    "metadata": ("169.254.169.254", "a cloud metadata address"),
    "v4-unspecified": ("0.0.0.0", "an unspecified address"),
    "v6-loopback": ("::1", "a loopback address"),
    "v6-link-local": ("fe80::1", "a link-local address"),
    "v4-mapped-v6-loopback": ("::ffff:127.0.0.1", "a loopback address (carried in the IPv6 address"),
    "public-and-loopback": ((PUBLIC, "127.0.0.1"), "a loopback address"),
}


class Network:
    """What crossed the socket boundary: the names looked up and the addresses connected to."""

    def __init__(self):
        self.names: dict[str, list[list[str]]] = {}  # name -> one answer per look-up (the last one repeats)
        self.lookups: list[str] = []
        self.connects: list[tuple] = []

    def resolve(self, name: str, *answers):
        self.names[name] = [[answer] if isinstance(answer, str) else list(answer) for answer in answers]


@pytest.fixture
def network():
    real_getaddrinfo = socket.getaddrinfo
    net = Network()

    def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
        net.lookups.append(host)
        if host not in net.names:
            return real_getaddrinfo(host, port, family, type, proto, flags)
        answers = net.names[host]
        addresses = answers.pop(0) if len(answers) > 1 else answers[0]
        if not addresses:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [
            (socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, port, 0, 0)) if ":" in address
            else (socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))
            for address in addresses
        ]

    def connect(sock, address):
        net.connects.append(address[:2])
        raise ConnectionRefusedError(111, "refused by the test's network")

    with mock.patch("socket.getaddrinfo", getaddrinfo), mock.patch.object(socket.socket, "connect", connect):
        yield net


@pytest.fixture
def guard_on(settings):
    """The guard as production has it, but for http (so that each refusal below is the address's): no host is
    let through by name."""
    settings.OUTBOUND_ALLOWED_HOSTS = []
    settings.OUTBOUND_ALLOW_HTTP = True


def send_webhook(lead, url: str) -> Delivery:
    """One message to one endpoint at url, sent once; the delivery as it was recorded."""
    WebhookEndpoint.objects.create(name="Probe", url=url, secret="s3cret")
    message = scheduled_message(lead, channels=["webhook"])
    delivery.dispatch_due_messages()
    delivery.send_deliveries(list(Delivery.objects.filter(message=message).values_list("pk", flat=True)))
    return Delivery.objects.get(message=message)


def assert_refused_for_good(row: Delivery, reason: str):
    assert row.status == DeliveryStatus.FAILED, (row.status, row.last_error)  # not queued for a retry
    assert row.attempts == 1
    assert " was refused: " in row.last_error and reason in row.last_error, row.last_error


# --- Refused addresses ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("url", "reason"), LITERAL_URLS.values(), ids=LITERAL_URLS.keys())
def test_a_webhook_to_an_address_of_each_refused_class_fails_for_good_without_a_connection(
    lead, guard_on, network, url, reason
):
    row = send_webhook(lead, url)

    assert_refused_for_good(row, reason)
    assert network.connects == []


@pytest.mark.parametrize(("addresses", "reason"), RESOLVING_TO.values(), ids=RESOLVING_TO.keys())
def test_a_webhook_to_a_name_resolving_to_each_refused_class_fails_for_good_without_a_connection(
    lead, guard_on, network, addresses, reason
):
    network.resolve("hooks.example.test", addresses)

    row = send_webhook(lead, "https://hooks.example.test/ears")

    assert_refused_for_good(row, reason)
    assert "hooks.example.test resolves to " in row.last_error
    assert network.lookups == ["hooks.example.test"] and network.connects == []


def test_a_name_that_passed_the_check_when_entered_is_checked_again_when_it_connects(lead, guard_on, network):
    """DNS rebinding: public when the URL is entered, loopback by the time a message goes out."""
    network.resolve("rebinding.example.test", PUBLIC, "127.0.0.1")
    endpoint = WebhookEndpoint(name="Probe", url="https://rebinding.example.test/hook")
    endpoint.full_clean()  # public now: accepted

    row = send_webhook(lead, endpoint.url)

    assert_refused_for_good(row, "rebinding.example.test resolves to 127.0.0.1, which is a loopback address")
    assert network.lookups == ["rebinding.example.test"] * 2 and network.connects == []


def test_each_connection_looks_the_name_up_once_and_connects_only_to_the_address_it_checked(guard_on, network):
    """Rebinding strikes between a check and a second look-up to connect: there is no second look-up. The public
    answer is connected to as checked; the next connection gets the loopback answer and is refused."""
    network.resolve("rebinding.example.test", PUBLIC, "127.0.0.1")

    with OutboundSession() as session:
        with pytest.raises(requests.ConnectionError, match="refused by the test's network"):
            session.post("https://rebinding.example.test/hook", data=b"{}")
        assert network.lookups == ["rebinding.example.test"] and network.connects == [(PUBLIC, 443)]

        with pytest.raises(OutboundRefused, match="resolves to 127.0.0.1, which is a loopback address"):
            session.post("https://rebinding.example.test/hook", data=b"{}")

    assert network.lookups == ["rebinding.example.test"] * 2 and network.connects == [(PUBLIC, 443)]


def test_plain_http_is_refused_in_production_before_any_lookup(lead, settings, network):
    settings.OUTBOUND_ALLOW_HTTP = False
    settings.OUTBOUND_ALLOWED_HOSTS = []
    network.resolve("hooks.example.test", PUBLIC)

    row = send_webhook(lead, "http://hooks.example.test/ears")

    assert_refused_for_good(row, "plain http:// is not allowed (OUTBOUND_ALLOW_HTTP is off): use https://")
    assert network.lookups == [] and network.connects == []


def test_production_sends_only_https_and_lets_no_host_through_by_name_unless_told(tmp_path):
    from tests.test_settings import production_variables, settings_under

    names = ("OUTBOUND_ALLOW_HTTP", "OUTBOUND_ALLOWED_HOSTS")
    assert settings_under(production_variables(tmp_path), *names) == {
        "OUTBOUND_ALLOW_HTTP": False, "OUTBOUND_ALLOWED_HOSTS": []}
    told = production_variables(tmp_path, OUTBOUND_ALLOW_HTTP="yes", OUTBOUND_ALLOWED_HOSTS="Chat.Internal., ::1")
    assert settings_under(told, *names) == {
        "OUTBOUND_ALLOW_HTTP": True, "OUTBOUND_ALLOWED_HOSTS": ["chat.internal.", "::1"]}


@pytest.mark.parametrize("value", ["https://chat.internal", "chat.internal:8443", "chat.internal/hook", "*.internal"])
def test_an_allowlist_entry_that_is_not_a_bare_host_is_refused_naming_the_variable(value):
    from django.core.exceptions import ImproperlyConfigured

    from config.env import env_host_list

    with pytest.raises(ImproperlyConfigured, match=r"^OUTBOUND_ALLOWED_HOSTS must be a comma-separated list of host"):
        env_host_list("OUTBOUND_ALLOWED_HOSTS", {"OUTBOUND_ALLOWED_HOSTS": f"hooks.example.com,{value}"})


# --- Where URLs are entered: the admin ------------------------------------------------------------------


ENTERED = {
    "v4-loopback": ("http://127.0.0.1:6379/", "127.0.0.1 is a loopback address"),
    "metadata": ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a cloud metadata address"),
    "v6-loopback": ("http://[::1]:5432/", "::1 is a loopback address"),
    "v4-mapped-v6": ("http://[::ffff:127.0.0.1]/", "a loopback address (carried in the IPv6 address"),
    "unspecified": ("http://0.0.0.0/", "0.0.0.0 is an unspecified address"),
    "name-resolving-to-loopback": ("https://localhost.example.test/", "resolves to 127.0.0.1, which is a loopback"),
    "name-that-does-not-resolve": ("https://nowhere.example.test/", "could not be resolved to an address"),
}


@pytest.mark.parametrize(("url", "reason"), ENTERED.values(), ids=ENTERED.keys())
def test_the_admin_refuses_an_endpoint_url_the_guard_would_refuse_and_saves_a_public_one(
    client, admin_user, guard_on, network, url, reason
):
    network.resolve("localhost.example.test", "127.0.0.1")
    network.resolve("hooks.example.test", PUBLIC)
    network.resolve("nowhere.example.test", ())  # no such name
    client.force_login(admin_user)
    add = reverse("admin:comms_webhookendpoint_add")
    form = {"name": "Probe", "secret": "s3cret", "format": "json", "active": "on"}

    refused = client.post(add, {**form, "url": url})

    assert refused.status_code == 200
    errors = refused.context["adminform"].form.errors
    assert list(errors) == ["url"] and "EARS does not send to this URL: " in errors["url"][0]
    assert reason in errors["url"][0]
    assert not WebhookEndpoint.objects.exists()
    assert client.post(add, {**form, "url": "https://hooks.example.test/ears"}).status_code == 302
    assert WebhookEndpoint.objects.get().url == "https://hooks.example.test/ears"
    assert network.connects == []  # checking a URL looks it up; it never connects


def test_the_admin_refuses_plain_http_in_production(client, admin_user, settings, network):
    settings.OUTBOUND_ALLOW_HTTP = False
    network.resolve("hooks.example.test", PUBLIC)
    client.force_login(admin_user)

    refused = client.post(reverse("admin:comms_webhookendpoint_add"),
                          {"name": "Probe", "url": "http://hooks.example.test/", "secret": "s", "format": "json"})

    assert refused.status_code == 200
    assert "plain http:// is not allowed" in refused.context["adminform"].form.errors["url"][0]
    assert not WebhookEndpoint.objects.exists()


# --- Real servers on 127.0.0.1: the allowlist, redirects, the size limit ----------------------------------


class Recorder(BaseHTTPRequestHandler):
    """Answers every request with the server's .answer (status, headers, body size) and records what it got."""

    def do_POST(self):  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.received.append((self.command, self.path, dict(self.headers), body))
        status, headers, size = self.server.answer
        self.send_response(status)
        for name, value in {**headers, "Content-Length": str(size)}.items():
            self.send_header(name, value)
        self.end_headers()
        chunk = b"x" * 65536
        try:
            while self.server.sent < size:
                self.wfile.write(chunk[: size - self.server.sent])
                self.server.sent += min(len(chunk), size - self.server.sent)
        except OSError:
            pass  # the client stopped reading and closed
        finally:
            self.server.finished.set()

    def log_message(self, *args):
        pass


@contextmanager
def local_server(status=204, headers=None, size=0):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    server.received, server.answer = [], (status, headers or {}, size)
    server.sent, server.finished = 0, threading.Event()
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def loopback_allowed(settings):
    settings.OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.OUTBOUND_ALLOW_HTTP = True


def test_a_local_server_is_refused_until_the_allowlist_names_it(lead, guard_on, settings):
    with local_server() as server:
        refused = send_webhook(lead, server.url + "/hook")
        assert_refused_for_good(refused, "127.0.0.1 is a loopback address")
        assert server.received == []

        settings.OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]
        Delivery.objects.all().delete()
        WebhookEndpoint.objects.all().delete()
        sent = send_webhook(lead, server.url + "/hook")

    assert sent.status == DeliveryStatus.SENT, sent.last_error
    [(method, path, headers, body)] = server.received
    assert (method, path, headers["X-EARS-Delivery"]) == ("POST", "/hook", sent.code)
    assert json.loads(body)["event"] == "message.published"


def test_a_307_is_not_followed_and_its_target_never_receives_the_signed_body(lead, loopback_allowed):
    with local_server() as target, local_server(307, {"Location": f"{target.url}/stolen"}) as redirecting:
        row = send_webhook(lead, redirecting.url + "/hook")

    assert row.status == DeliveryStatus.FAILED and row.attempts == 1
    assert row.last_error == (f"{redirecting.url}/hook answered 307, a redirect, which is never followed: "
                              "set the endpoint's URL to where it points.")
    assert [(method, path) for method, path, *_ in redirecting.received] == [("POST", "/hook")]
    assert target.received == []


def test_no_more_than_the_limit_of_an_answer_is_read(loopback_allowed):
    size = 64 * 1024 * 1024  # far more than the kernel buffers between two sockets on one machine
    with local_server(200, {"Content-Type": "application/octet-stream"}, size) as server:
        with OutboundSession() as session:
            response = session.post(server.url + "/hook", data=b"{}")
        assert server.finished.wait(10)

    assert response.status_code == 200
    assert len(response.content) == RESPONSE_LIMIT_BYTES == 64 * 1024
    assert server.sent < size // 2  # the client closed the connection instead of reading on


# --- The direct path for POSTs of bytes (what every webhook post is) --------------------------------------

def test_a_post_of_bytes_crosses_the_wire_exactly_as_through_requests_own_path(loopback_allowed):
    headers = {"content-type": "application/json", "X-EARS-Event": "message.published"}
    with local_server() as server, OutboundSession() as session:
        direct = session.post(server.url + "/hook?x=1", data=b'{"a":1}', headers=headers, timeout=(2, 2))
        through_requests = session.request("POST", server.url + "/hook?x=1", data=b'{"a":1}', headers=headers,
                                           timeout=(2, 2))
    (first, second) = server.received
    assert first == second
    method, path, sent, body = first
    assert (method, path, body) == ("POST", "/hook?x=1", b'{"a":1}')
    assert sent["Content-Length"] == "7" and sent["Accept-Encoding"] == "identity"
    assert sent["content-type"] == "application/json"  # the caller's header, not a second one
    assert (direct.status_code, direct.content, direct.url) == (204, b"", server.url + "/hook?x=1")
    assert direct.headers == through_requests.headers


def test_a_post_of_bytes_to_a_closed_port_is_a_requests_connection_error(loopback_allowed):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]  # nothing listens on it once the probe is closed
    with OutboundSession() as session, pytest.raises(requests.ConnectionError):
        session.post(f"http://127.0.0.1:{closed}/hook", data=b"{}")


def test_a_post_of_bytes_to_a_server_that_never_answers_is_a_requests_read_timeout(loopback_allowed):
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()  # accepts the connection (the kernel does), never answers
        port = silent.getsockname()[1]
        with OutboundSession() as session, pytest.raises(requests.ReadTimeout):
            session.post(f"http://127.0.0.1:{port}/hook", data=b"{}", timeout=(1, 0.2))


def test_a_post_of_bytes_to_a_refused_address_is_refused_without_a_connection(guard_on, network):
    network.resolve("inside.example.test", "10.0.0.7")
    refusal = "resolves to 10.0.0.7, which is a private address"
    with OutboundSession() as session, pytest.raises(OutboundRefused, match=refusal):
        session.post("http://inside.example.test/hook", data=b"{}")
    assert network.connects == []


def test_a_post_of_bytes_to_a_url_with_a_user_name_sends_its_credentials_as_requests_path_does(loopback_allowed):
    with local_server() as server, OutboundSession() as session:
        url = server.url.replace("http://", "http://hook-user:s3cret@") + "/hook"
        response = session.post(url, data=b"{}", headers={"Content-Type": "application/json"}, timeout=(2, 2))

    assert response.status_code == 204
    [(_, path, sent, _)] = server.received
    assert path == "/hook" and sent["Authorization"] == "Basic aG9vay11c2VyOnMzY3JldA=="  # hook-user:s3cret


@pytest.mark.parametrize("value", ["ok\r\nX-Injected: 1", "ok\nX-Injected: 1", 5], ids=["CRLF", "LF", "a number"])
def test_a_post_of_bytes_with_a_header_value_requests_refuses_is_a_requests_error_and_sends_nothing(
        loopback_allowed, value):
    with local_server() as server, OutboundSession() as session:
        with pytest.raises(requests.exceptions.InvalidHeader):
            session.post(server.url + "/hook", data=b"{}", headers={"X-EARS-Delivery": value}, timeout=(2, 2))

    assert server.received == []


@pytest.mark.parametrize("url", ["http://[::1/hook", "http://[not-an-address]/hook", "http://user@[x]:80/hook"])
def test_a_post_of_bytes_to_a_url_whose_host_cannot_be_read_is_refused_not_a_bare_value_error(loopback_allowed, url):
    with OutboundSession() as session, pytest.raises(OutboundRefused, match="the URL's host cannot be read"):
        session.post(url, data=b"{}")
