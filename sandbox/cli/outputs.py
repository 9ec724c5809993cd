"""Showing a run's outputs: `name: value` lines, or one JSON object with `--json`."""

from __future__ import annotations

import base64
import dataclasses
import datetime
import enum
import json
import os
from typing import Any


def to_jsonable(value: Any) -> Any:
    """A value json.dumps accepts: File/Directory -> path, dataclass -> dict, enum -> value,
    datetime -> ISO 8601, timedelta -> seconds, bytes -> base64 text."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, enum.Enum):
        return to_jsonable(value.value)
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_jsonable(v) for v in value]
    blob_path = _blob_path(value)
    if blob_path is not None:
        return blob_path
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return str(value)


def _blob_path(value: Any) -> str | None:
    """A File/Directory's local path, or its URI when it lives in storage (no download)."""
    try:
        from sdk.types import Directory, File
    except ImportError:
        return None
    if isinstance(value, (File, Directory)):
        return str(value)
    return None


def format_outputs(outputs: dict, as_json: bool) -> str:
    """The text `skiff run` prints for a finished run."""
    if as_json:
        return json.dumps({name: to_jsonable(v) for name, v in outputs.items()}, sort_keys=False)
    lines = []
    for name, value in outputs.items():
        data = to_jsonable(value)
        text = data if isinstance(data, str) else json.dumps(data)
        lines.append(f"{name}: {text}")
    return "\n".join(lines)
