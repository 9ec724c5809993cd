"""Progress of a code bundle's upload on stderr: a bar on a terminal, a few plain lines
otherwise, or, inside a step of sandbox.cli.progress.StepProgress, that step's text at every
quarter (one live display at a time). Small uploads (under a megabyte) show nothing: they take
no noticeable time."""
from __future__ import annotations

import sys

import click

QUIET_BELOW = 1 << 20


def upload_progress(what: str = "code bundle", say=None):
    """A `progress(sent, total)` callback for sdk.remote.data.put_presigned and
    ObjectStore.put_bytes; `say`, a StepProgress, when one is showing progress already."""
    if say is not None:
        return _Quarters(lambda percent, size: say(f"uploading {what}: {percent}% of {size}"))
    if sys.stderr.isatty():
        return _TerminalBar(what)
    return _Quarters(lambda percent, size: click.echo(f"uploading {what}: {percent}% of {size}",
                                                       err=True))


class _Quarters:
    """`tell(percent, size text)` at 0, 25, 50, 75 and 100 percent."""

    def __init__(self, tell):
        self.tell, self._next = tell, 0

    def __call__(self, sent: int, total: int) -> None:
        from sdk.compile.bundle import describe_size

        if total < QUIET_BELOW:
            return
        percent = 100 * sent // max(total, 1)
        while self._next <= min(percent, 100):
            self.tell(self._next, describe_size(total))
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
