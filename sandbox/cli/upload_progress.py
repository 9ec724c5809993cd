"""Progress of a code bundle's upload on stderr: a bar on a terminal, a few plain lines
otherwise. Small uploads (under a megabyte) show nothing: they take no noticeable time."""
from __future__ import annotations

import sys

import click

QUIET_BELOW = 1 << 20


def upload_progress(what: str = "code bundle"):
    """A `progress(sent, total)` callback for sdk.remote.data.put_presigned."""
    return _TerminalBar(what) if sys.stderr.isatty() else _PlainLines(what)


class _PlainLines:
    """A line at 0, 25, 50, 75 and 100 percent."""

    def __init__(self, what: str):
        self.what, self._next = what, 0

    def __call__(self, sent: int, total: int) -> None:
        from sdk.compile.bundle import describe_size

        if total < QUIET_BELOW:
            return
        percent = 100 * sent // max(total, 1)
        while self._next <= percent:
            click.echo(f"uploading {self.what}: {self._next}% of {describe_size(total)}", err=True)
            self._next += 25


class _TerminalBar:
    def __init__(self, what: str):
        self.what, self._bar, self._task = what, None, None

    def __call__(self, sent: int, total: int) -> None:
        if total < QUIET_BELOW:
            return
        if self._bar is None:
            from rich.console import Console
            from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

            self._bar = Progress("uploading " + self.what, BarColumn(), DownloadColumn(),
                                 TransferSpeedColumn(), console=Console(stderr=True), transient=False)
            self._bar.start()
            self._task = self._bar.add_task(self.what, total=total)
        self._bar.update(self._task, completed=sent)
        if sent >= total:
            self._bar.stop()
