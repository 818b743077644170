"""A progress line for long commands: redrawn in place on a terminal (at most 10×/s), a line per 10% elsewhere."""

import sys
import time


class Progress:
    def __init__(self, label: str, total: int, stream=None, clock=time.monotonic):
        self.label, self.total, self.stream, self.clock = label, max(total, 0), stream or sys.stderr, clock
        self.tty = getattr(self.stream, "isatty", lambda: False)()
        self.started = self.drawn_at = clock()
        self.done = self.tenths = 0
        self.drawn = False

    def update(self, done: int) -> None:
        self.done = done
        if self.tty:
            if self.clock() - self.drawn_at >= 0.1:
                self._draw()
        elif self.total and done * 10 // self.total > self.tenths:
            self.tenths = min(done * 10 // self.total, 10)
            self._write(self._text() + "\n")

    def echo(self, line: str) -> None:
        """A message (say, a bad line) printed above the bar instead of through it."""
        self._write(("\r\x1b[K" if self.drawn else "") + line + "\n")
        if self.drawn:
            self._draw()

    def finish(self) -> None:
        if self.tty:
            self._draw()
            self._write("\n")
        elif self.tenths < 10:
            self._write(self._text() + "\n")

    def _text(self) -> str:
        rate = self.done / max(self.clock() - self.started, 1e-6)
        return f"  {self.label}: {self.done:,}/{self.total:,} ({rate:,.0f}/s)"

    def _draw(self) -> None:
        self._write("\r" + self._text())
        self.drawn, self.drawn_at = True, self.clock()

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()
