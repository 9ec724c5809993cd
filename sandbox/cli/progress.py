"""Progress of long steps on stderr (building MinIO and images, bringing the sandbox up,
uploading a code bundle), for every command that runs them; `--quiet` turns it off.

The services report the start of each step through a `say(message)` callback. `StepProgress`
is that callback: each message starts a new step and ends the previous one, which then prints
its duration. On a terminal a rich spinner shows the running step and its elapsed time;
elsewhere (CI, a pipe) a step still running prints a steady "still ..." line every HEARTBEAT_S
seconds, so a silent minute never looks like a hang. With `delay_s`, a step is shown only once
it has run that long: a step that is usually instant (registering an unchanged package) adds
no line then.
"""
from __future__ import annotations

import sys
import threading
import time

import click

HEARTBEAT_S = 20.0
_TICK_S = 0.25


class StepProgress:
    """A `say` callback and a context manager: `with StepProgress(quiet) as say: ...`."""

    def __init__(self, quiet: bool = False, delay_s: float = 0.0,
                 heartbeat_s: float = HEARTBEAT_S, tty: bool | None = None):
        self.quiet = quiet
        self.delay_s = delay_s
        self.heartbeat_s = heartbeat_s
        self.tty = sys.stderr.isatty() if tty is None else tty
        self._step: str | None = None
        self._started = 0.0
        self._shown = False  # the running step's first line is out
        self._last_line = 0.0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        self._status = None  # rich's live spinner, on a terminal

    def __enter__(self) -> StepProgress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __call__(self, message: str) -> None:
        if self.quiet:
            return
        with self._lock:
            self._finish_step()
            self._step, self._started, self._shown = message, time.monotonic(), False
            if self.delay_s <= 0:
                self._show()
        if self._ticker is None:
            self._ticker = threading.Thread(target=self._tick, name="skiff-progress", daemon=True)
            self._ticker.start()

    def close(self) -> None:
        self._stop.set()
        with self._lock:
            self._finish_step()
            self._step = None
            if self._status is not None:
                self._status.stop()
                self._status = None

    # ---- holding self._lock -------------------------------------------------------------------

    def _line(self, text: str) -> None:
        if self._status is not None:
            self._status.console.print(text, highlight=False)
        else:
            click.echo(text, err=True)
        self._last_line = time.monotonic()

    def _show(self) -> None:
        self._shown = True
        if not self.tty:
            self._line(f"... {self._step}")
            return
        if self._status is None:
            from rich.console import Console

            self._status = Console(stderr=True).status(self._step)
            self._status.start()
        else:
            self._status.update(self._step)

    def _finish_step(self) -> None:
        if self._step is None or not self._shown:
            return
        elapsed = time.monotonic() - self._started
        if elapsed >= 1.0:
            self._line(f"... {self._step}: done in {elapsed:.0f} s")
        elif self.tty:  # the spinner's text goes; keep the step in the scrollback
            self._line(f"... {self._step}")

    def _tick(self) -> None:
        while not self._stop.wait(_TICK_S):
            with self._lock:
                if self._step is None:
                    continue
                now = time.monotonic()
                elapsed = now - self._started
                if not self._shown:
                    if elapsed >= self.delay_s:
                        self._show()
                elif self._status is not None:
                    self._status.update(f"{self._step} ({elapsed:.0f} s)")
                elif now - self._last_line >= self.heartbeat_s:
                    self._line(f"... still {self._step} ({elapsed:.0f} s)")
