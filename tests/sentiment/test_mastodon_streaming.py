"""Streaming Mastodon mentions and hashtags (sentiment/sources/mastodon_stream.py) from a local fake instance whose
streaming endpoints answer server-sent events (tests/fakes/mastodon.py), and falling back to polling."""

import io
import threading

import pytest
from django.core.management import call_command
from django.utils import timezone

from sentiment.choices import Source
from sentiment.models import Mention, SocialSearch
from sentiment.sources import mastodon_stream, polling
from sentiment.sources.mastodon import NOT_CONFIGURED, poll_due_searches
from tests.fakes.mastodon import TOKEN, FakeMastodon, configured_mastodon

pytestmark = pytest.mark.django_db
Kind = SocialSearch.Kind
HEALTH = "/api/v1/streaming/health"
NOTIFICATIONS_STREAM = "/api/v1/streaming/user/notification"
HASHTAG_STREAM = "/api/v1/streaming/hashtag"


@pytest.fixture
def instance(settings):
    with configured_mastodon(settings) as fake:
        yield fake


def search(kind=Kind.MENTIONS, query="") -> SocialSearch:
    return SocialSearch.objects.create(name=f"{kind} {query}", network="mastodon", kind=kind, query=query)


def one_round(on_idle=lambda: None) -> mastodon_stream.Round:
    return mastodon_stream.stream_round(threading.Event(), on_idle)


def test_mentions_are_streamed_as_they_arrive_after_a_poll_catches_up_on_what_came_before(instance):
    mentions = search()
    before = instance.add_mention("checkout was down this morning")  # posted while nothing streamed: polled
    streamed = instance.stream_mention("checkout is down again", acct="erin@example.social", followers=900)

    outcome = one_round()

    assert (outcome.streamed, outcome.reason, outcome.stored) == (True, "the streaming server closed the stream", 1)
    assert outcome.wait == mastodon_stream.RECONNECT_SECONDS
    stored = dict(Mention.objects.values_list("external_id", "text"))
    assert stored == {before["id"]: "@acme checkout was down this morning",
                      streamed["status"]["id"]: "@acme checkout is down again"}
    mention = Mention.objects.get(external_id=streamed["status"]["id"])
    assert (mention.source, mention.author_handle, mention.author_followers) == (
        Source.MASTODON, "erin@example.social", 900)
    [stream] = instance.calls("GET", NOTIFICATIONS_STREAM)
    assert stream.headers["authorization"] == f"Bearer {TOKEN}"
    assert stream.headers["accept"] == "text/event-stream"
    assert len(instance.calls("GET", HEALTH)) == 1
    mentions.refresh_from_db()
    assert mentions.cursor == instance.notifications[-1]["id"]  # moved by the poll, not by the stream


def test_a_hashtag_search_streams_its_tag_and_leaves_boosts_out(instance):
    search(Kind.HASHTAG, "AcmeDown")
    original = instance.stream_status("acmedown", "Is #AcmeDown for anyone else?")
    instance.stream_status("acmedown", "", reblog=original)

    outcome = one_round()

    assert outcome.stored == 1
    assert list(Mention.objects.values_list("text", flat=True)) == ["Is #AcmeDown for anyone else?"]
    [stream] = instance.calls("GET", HASHTAG_STREAM)
    assert stream.query["tag"] == ["acmedown"]


def test_keyword_searches_are_never_streamed(instance):
    search(Kind.KEYWORDS, "acme checkout")

    outcome = one_round()

    assert not outcome.streamed and "nothing to stream" in outcome.reason
    assert instance.requests == []


def test_while_streaming_the_beat_leaves_the_search_alone_and_takes_it_back_after(instance):
    mentions = search()
    instance.hold_streams.clear()  # the stream stays open until the check below lets it close
    beat_polled_meanwhile = []

    def while_streaming():
        if instance.calls("GET", NOTIFICATIONS_STREAM) and not instance.hold_streams.is_set():
            beat_polled_meanwhile.append(poll_due_searches())
            instance.hold_streams.set()

    one_round(on_idle=while_streaming)

    assert beat_polled_meanwhile == [0]
    mentions.refresh_from_db()
    assert mentions.next_poll_at <= timezone.now()  # given back: due at once
    SocialSearch.objects.filter(pk=mentions.pk).update(last_polled_at=None)
    assert poll_due_searches() == 1


@pytest.mark.parametrize("status", [404, 503])
def test_when_the_health_check_fails_nothing_is_streamed_or_held_and_streaming_is_tried_again_later(instance,
                                                                                                    status):
    mentions = search()
    instance.fail_next(HEALTH, status)
    instance.stream_mention("checkout is down")

    outcome = one_round()

    assert not outcome.streamed and outcome.wait == mastodon_stream.RETRY_SECONDS
    assert outcome.reason == f"Mastodon streaming is not available (its health check answered {status}): the " \
                             "searches are polled."
    assert instance.calls("GET", NOTIFICATIONS_STREAM) == [] and not Mention.objects.exists()
    mentions.refresh_from_db()
    assert mentions.next_poll_at is None  # the beat polls it as before
    assert poll_due_searches() == 1


def test_a_stream_the_instance_refuses_ends_the_round_gives_the_search_back_and_waits_before_trying_again(
        instance):
    mentions = search()
    instance.fail_next(NOTIFICATIONS_STREAM, 401, body={"error": "The access token is invalid"})

    outcome = one_round()

    assert outcome.streamed and outcome.reason == f"{NOTIFICATIONS_STREAM} answered 401"
    assert outcome.wait == mastodon_stream.RETRY_SECONDS
    mentions.refresh_from_db()
    assert mentions.next_poll_at <= timezone.now()


def test_a_refused_hashtag_stream_leaves_that_search_to_the_beat_while_mentions_stream_on(instance):
    search()
    hashtag = search(Kind.HASHTAG, "AcmeDown")
    instance.fail_next(HASHTAG_STREAM, 403, body={"error": "This action is outside the authorized scopes"})
    instance.stream_mention("checkout is down")
    instance.hold_streams.clear()
    due_meanwhile = []

    def while_streaming():
        due = {due.pk for due in polling.due_searches("mastodon")}
        if due and not instance.hold_streams.is_set():
            due_meanwhile.append(due)
            instance.hold_streams.set()

    outcome = one_round(on_idle=while_streaming)

    assert due_meanwhile == [{hashtag.pk}]
    assert (outcome.reason, outcome.stored) == ("the streaming server closed the stream", 1)


def test_the_streaming_server_the_instance_names_is_used_with_wss_read_as_https(instance):
    from comms.channels.mastodon import mastodon_client

    instance.streaming_url = "wss://streaming.example.social/"
    assert mastodon_stream.streaming_base(mastodon_client()) == "https://streaming.example.social"
    instance.fail_next("/api/v2/instance", 404)
    assert mastodon_stream.streaming_base(mastodon_client()) == instance.url  # the instance's own address


def test_without_mastodon_configured_nothing_is_streamed(settings):
    settings.MASTODON_CONFIGURED = False
    search()

    outcome = one_round()

    assert (outcome.streamed, outcome.reason) == (False, NOT_CONFIGURED)


def test_the_command_streams_one_round_and_says_what_it_stored(instance):
    search()
    instance.stream_mention("checkout is down")
    out = io.StringIO()

    call_command("stream_mastodon", "--once", stdout=out)

    assert out.getvalue().strip() == "Streamed: the streaming server closed the stream (1 mention stored)"
    assert Mention.objects.count() == 1


# --- A broken or hostile streaming server (security review) --------------------------------------------------

class HostileStreamingServer:
    """A streaming server on 127.0.0.1 whose health check says OK and whose streams answer 200 and then send what
    `body` yields (bytes), then close."""

    def __init__(self, body):
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        server = self
        self.body, self.sent = body, 0

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):  # noqa: N802
                if self.path.startswith(HEALTH):
                    self.send_response(200)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"OK")
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                try:
                    for data in server.body():
                        self.wfile.write(data)
                        server.sent += len(data)
                except OSError:  # the reader hung up
                    pass
                self.close_connection = True

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def update_event(number: int) -> bytes:
    import json

    status = {"id": str(number), "content": f"<p>checkout down {number}</p>", "created_at": "2026-12-07T10:00:00Z",
              "account": {"id": "1", "acct": "erin@example.social", "display_name": "Erin"}}
    return f"event: update\ndata: {json.dumps(status)}\n\n".encode()


def test_a_line_that_never_ends_ends_the_stream_instead_of_being_kept_whole(instance, monkeypatch):
    monkeypatch.setattr(mastodon_stream, "MAX_LINE_BYTES", 64 * 1024, raising=False)
    search(Kind.HASHTAG, "AcmeDown")

    def endless_line():
        yield b":)\n\n"
        for _ in range(64):
            yield b"x" * 16 * 1024  # a megabyte, and never a newline

    with HostileStreamingServer(endless_line) as hostile:
        instance.streaming_url = hostile.url
        outcome = one_round()

    assert outcome.streamed and "a line or an event too long" in outcome.reason
    assert outcome.wait == mastodon_stream.RECONNECT_SECONDS


def test_an_event_of_data_lines_without_end_ends_the_stream_instead_of_being_kept_whole(instance, monkeypatch):
    monkeypatch.setattr(mastodon_stream, "MAX_EVENT_BYTES", 64 * 1024, raising=False)
    search(Kind.HASHTAG, "AcmeDown")

    def endless_event():
        yield b"event: update\n"
        for _ in range(1024):
            yield b"data: " + b"x" * 1024 + b"\n"  # a megabyte of one event, never its blank line

    with HostileStreamingServer(endless_event) as hostile:
        instance.streaming_url = hostile.url
        outcome = one_round()

    assert outcome.streamed and "a line or an event too long" in outcome.reason
    assert not Mention.objects.exists()


def test_a_stream_faster_than_the_round_stores_is_held_back_not_queued_without_end(instance, monkeypatch):
    import time

    monkeypatch.setattr(mastodon_stream, "QUEUED_EVENTS", 5, raising=False)
    waiting = []
    monkeypatch.setattr(mastodon_stream, "_store", lambda status: time.sleep(0.005) or 0)
    on_update = mastodon_stream.Stream.on_update

    def counting(stream, status):
        waiting.append(stream.events.qsize())
        on_update(stream, status)

    monkeypatch.setattr(mastodon_stream.Stream, "on_update", counting)
    search(Kind.HASHTAG, "AcmeDown")

    with HostileStreamingServer(lambda: (update_event(number) for number in range(300))) as hostile:
        instance.streaming_url = hostile.url
        outcome = one_round()

    assert outcome.reason == "the streaming server closed the stream"
    assert len(waiting) == 300 and max(waiting) <= 5


def test_a_streaming_server_on_another_host_is_reached_only_through_the_outbound_guard(instance, settings):
    settings.OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]  # the instance, as configured; not the name it gives below
    mentions = search()
    instance.stream_mention("checkout is down")
    instance.streaming_url = instance.url.replace("127.0.0.1", "localhost")  # a name for a loopback address

    outcome = one_round()

    assert not outcome.streamed and outcome.wait == mastodon_stream.RETRY_SECONDS
    assert "EARS does not read from the streaming server" in outcome.reason and "loopback" in outcome.reason
    assert instance.calls("GET", HEALTH) == [] and instance.calls("GET", NOTIFICATIONS_STREAM) == []
    mentions.refresh_from_db()
    assert mentions.next_poll_at is None  # left to the beat


def test_the_health_check_follows_no_redirect(instance):
    search()
    with FakeMastodon() as elsewhere:
        instance.fail_next(HEALTH, 302, headers={"Location": f"{elsewhere.url}{HEALTH}"})

        outcome = one_round()

        assert not outcome.streamed and "its health check answered 302" in outcome.reason
        assert elsewhere.requests == []
