"""Usage errors shown as one line (`Error: ...`, exit 2), for flags that conflict or do not
apply: the message says what to change, so the usage block click prints would only bury it."""
from __future__ import annotations

import click


class FlagError(click.UsageError):
    def show(self, file=None) -> None:
        click.echo(f"Error: {self.format_message()}", err=True, file=file)
