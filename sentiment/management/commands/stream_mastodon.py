import signal
import threading

from django.core.management.base import BaseCommand

from sentiment.sources import mastodon_stream


class Command(BaseCommand):
    help = (
        "Stream Mastodon mentions of our account and hashtag searches as they are posted, where the instance allows "
        "it (GET /api/v1/streaming/health); the beat polls them otherwise, and again by itself within minutes of this "
        "process stopping. Keyword searches are always polled. Runs until SIGTERM or Ctrl-C; run one, next to beat."
    )

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true",
                            help="One round: until a stream ends or streaming is refused (for checking the setup).")

    def handle(self, once, **options):
        stop = threading.Event()
        previous = {number: signal.signal(number, lambda *_: stop.set()) for number in (signal.SIGTERM, signal.SIGINT)}
        try:
            self.stream(stop, once)
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)

    def stream(self, stop: threading.Event, once: bool) -> None:
        def report(outcome: mastodon_stream.Round) -> None:
            line = f"{'Streamed' if outcome.streamed else 'Not streaming'}: {outcome.reason}"
            if outcome.streamed:
                line += f" ({outcome.stored:,} mention{'' if outcome.stored == 1 else 's'} stored)"
            if not once:
                line += f"; next round in {outcome.wait:.0f} s"
            self.stdout.write(line)

        if once:
            report(mastodon_stream.stream_round(stop))
            return
        mastodon_stream.run(stop, on_round=report)
