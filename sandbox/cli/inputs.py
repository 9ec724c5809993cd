"""Inputs from the command line: one click option per interface input, or an inputs file.

Every value, whether typed after an option or read from a YAML/JSON inputs file, goes through
`from_jsonable(value, hint)`, so both routes accept the same spellings: JSON for lists, dicts and
dataclasses, ISO 8601 for datetimes, seconds or `1h30m` for timedeltas, enum values, paths for
File and Directory.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import json
import os
import re
import types
import typing
from typing import Any

import click

_NONE = type(None)


# ---- reading hints -------------------------------------------------------------------------


def _strip_annotated(hint: Any) -> Any:
    while typing.get_origin(hint) is typing.Annotated:
        hint = typing.get_args(hint)[0]
    return hint


def _union_members(hint: Any) -> tuple | None:
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return typing.get_args(hint)
    return None


def optional_inner(hint: Any) -> Any | None:
    """T for Optional[T] (a union of T and None), else None."""
    members = _union_members(_strip_annotated(hint))
    if members and _NONE in members:
        rest = [m for m in members if m is not _NONE]
        if len(rest) == 1:
            return rest[0]
    return None


def _blob_classes() -> tuple:
    from sdk.types import Directory, File

    return File, Directory


def hint_name(hint: Any) -> str:
    """Short human name of a hint, for messages and --help metavars."""
    hint = _strip_annotated(hint)
    if isinstance(hint, type) and typing.get_origin(hint) is None:
        return hint.__name__
    return str(hint).replace("typing.", "")


# ---- converting JSON-like values to Python values ------------------------------------------

_DURATION = re.compile(r"(\d+(?:\.\d*)?)\s*(ms|d|h|m|s)")
_DURATION_UNITS = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}


def parse_duration(text: str) -> datetime.timedelta:
    """Seconds (`90`, `1.5`), units (`1h30m`, `250ms`, `2d`) or `HH:MM:SS`."""
    try:
        return _parse_duration(text)
    except OverflowError:
        raise ValueError(f"{text[:40]!r} is longer than the longest duration "
                         "(999999999 days)") from None


def _parse_duration(text: str) -> datetime.timedelta:
    text = text.strip()
    try:
        return datetime.timedelta(seconds=float(text))
    except ValueError:
        pass
    if re.fullmatch(r"\d+:\d{1,2}:\d{1,2}(\.\d+)?", text):
        hours, minutes, seconds = text.split(":")
        return datetime.timedelta(hours=int(hours), minutes=int(minutes), seconds=float(seconds))
    compact = text.replace(" ", "")
    parts = _DURATION.findall(compact)
    if not parts or "".join(n + u for n, u in parts) != compact:
        raise ValueError(f"{text!r} is not a duration; use seconds (90), units (1h30m, 250ms) or HH:MM:SS")
    return datetime.timedelta(seconds=sum(float(n) * _DURATION_UNITS[u] for n, u in parts))


def _parse_datetime(value: Any) -> datetime.datetime:
    if isinstance(value, datetime.datetime):
        return value
    if isinstance(value, datetime.date):  # YAML reads 2024-01-02 as a date
        return datetime.datetime(value.year, value.month, value.day)
    if isinstance(value, str):
        text = value.strip()
        if text.endswith("Z"):  # fromisoformat accepts Z only from Python 3.11
            text = text[:-1] + "+00:00"
        try:
            return datetime.datetime.fromisoformat(text)
        except ValueError:
            pass
    raise ValueError(f"{value!r} is not an ISO 8601 datetime such as 2024-01-31T12:00:00")


INT64_MIN, INT64_MAX = -(2 ** 63), 2 ** 63 - 1
MAX_JSON_DEPTH = 64  # lists and objects nested deeper are refused before parsing


def _int64(value: int) -> int:
    """Flyte's integer literals are 64-bit."""
    if not INT64_MIN <= value <= INT64_MAX:
        raise ValueError(f"{value} does not fit in a 64-bit integer (Flyte's int), which holds "
                         f"{INT64_MIN} to {INT64_MAX}")
    return value


def check_text(value: str) -> str:
    """Text that can be stored and sent (UTF-8): no lone surrogates, which is what bytes that
    are not UTF-8 become in command-line arguments."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        shown = value.encode("utf-8", "backslashreplace").decode("ascii", "backslashreplace")
        raise ValueError(f"{shown[:60]!r} is not valid UTF-8 text (it holds bytes that are not "
                         "UTF-8, or a lone surrogate)") from None
    return value


def json_depth_ok(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether the JSON text nests lists and objects at most `limit` deep (strings skipped)."""
    depth = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return False
        elif char in "]}":
            depth -= 1
    return True


def parse_json(text: str) -> Any:
    """JSON text as a value; ValueError for invalid or too deeply nested JSON."""
    if not json_depth_ok(text):
        raise ValueError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels is not accepted")
    try:
        return json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise ValueError(f"{text[:40]!r} is not valid JSON ({exc})") from None


def text_to_jsonable(text: str, hint: Any) -> Any:
    """A command-line word for an input of `hint`, before from_jsonable: JSON for lists, dicts,
    dataclasses and numbers; the text itself for strings, dates, durations, paths and enums."""
    check_text(text)
    inner = optional_inner(hint)
    base = _strip_annotated(inner if inner is not None else hint)
    if base in (str, bytes, datetime.datetime, datetime.timedelta) or (
            isinstance(base, type) and (issubclass(base, enum.Enum)
                                        or base in _blob_classes())):
        if inner is not None and text == "null":
            return None
        return text
    if base in (int, float, bool):
        try:
            return parse_json(text) if text.strip() in ("null", "true", "false") or \
                re.fullmatch(r"\s*-?\d+(\.\d*)?([eE][-+]?\d+)?\s*", text) else text
        except ValueError:
            return text
    value = parse_json(text)
    return value


def reject_repeated(args: list[str], names: set[str], entity: str) -> None:
    """An input given twice is a mistake, not "the last one wins"."""
    seen = set()
    for arg in args:
        if arg == "--":
            break
        if not arg.startswith("--"):
            continue
        name = arg[2:].split("=", 1)[0]
        if name.startswith("no-") and name[3:].replace("-", "_") in names:
            name = name[3:]
        key = name.replace("-", "_")
        if key not in names:
            continue
        if key in seen:
            raise click.UsageError(f"{entity}: input '{key}' is given more than once; give "
                                   "each input once")
        seen.add(key)


def _wrong(value: Any, expected: str) -> ValueError:
    shown = repr(value)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return ValueError(f"expected {expected}, got {shown}")


def from_jsonable(value: Any, hint: Any) -> Any:
    """The Python value of `hint` that a JSON/YAML value (or option text) stands for.

    Raises ValueError with a short reason; callers add the entity and input name.
    """
    hint = _strip_annotated(hint)
    if hint is Any:
        return value
    if hint is None or hint is _NONE:
        if value is None:
            return None
        raise _wrong(value, "null")
    members = _union_members(hint)
    if members is not None:
        if value is None and _NONE in members:
            return None
        reasons = []
        for member in members:
            if member is _NONE:
                continue
            try:
                return from_jsonable(value, member)
            except ValueError as exc:
                reasons.append(str(exc))
        raise ValueError(f"no variant of {hint_name(hint)} accepts {value!r} ({'; '.join(reasons)})")

    origin = typing.get_origin(hint)
    if origin in (list, typing.List):
        (item,) = typing.get_args(hint) or (Any,)
        if not isinstance(value, list):
            raise _wrong(value, f"a JSON list for {hint_name(hint)}")
        return [from_jsonable(v, item) for v in value]
    if origin in (dict, typing.Dict):
        _key, item = typing.get_args(hint) or (str, Any)
        if not isinstance(value, dict):
            raise _wrong(value, f"a JSON object for {hint_name(hint)}")
        return {check_text(str(k)): from_jsonable(v, item) for k, v in value.items()}

    if hint is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        raise _wrong(value, "true or false")
    if hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return _int64(value)
        if isinstance(value, str) and re.fullmatch(r"[-+]?\d+", value.strip()):
            return _int64(int(value))
        raise _wrong(value, "a decimal integer")
    if hint is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                pass
        raise _wrong(value, "a number")
    if hint is str:
        if isinstance(value, str):
            return check_text(value)
        if isinstance(value, bool):  # YAML 1.1 reads yes/no/on/off as booleans
            raise ValueError(f"expected a string, got the boolean {value!r} (YAML reads yes, "
                             "no, on, off, true and false unquoted as booleans; quote it)")
        raise _wrong(value, "a string")
    if hint is bytes:
        if isinstance(value, (bytes, str)):
            return value.encode() if isinstance(value, str) else value
        raise _wrong(value, "a string (its UTF-8 bytes are used)")
    if hint is datetime.datetime:
        return _parse_datetime(value)
    if hint is datetime.timedelta:
        if isinstance(value, datetime.timedelta):
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            try:
                return datetime.timedelta(seconds=value)
            except OverflowError:
                raise ValueError(f"{value!r} seconds is longer than the longest duration "
                                 "(999999999 days)") from None
        if isinstance(value, str):
            return parse_duration(value)
        raise _wrong(value, "a duration (seconds or 1h30m)")
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        if isinstance(value, hint):
            return value
        for member in hint:
            if member.value == value or member.name == value:
                return member
        raise _wrong(value, f"one of {', '.join(repr(m.value) for m in hint)}")
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _dataclass_from_dict(value, hint)
    if isinstance(hint, type) and hint in _blob_classes():
        if isinstance(value, hint):
            return value
        if isinstance(value, (str, os.PathLike)):
            return hint(os.fspath(value))
        raise _wrong(value, f"a path for {hint.__name__}")
    if isinstance(hint, type) and isinstance(value, hint):
        return value
    raise ValueError(f"values of type {hint_name(hint)} cannot be given on the command line")


def _dataclass_from_dict(value: Any, cls: type) -> Any:
    if isinstance(value, cls):
        return value
    if not isinstance(value, dict):
        raise _wrong(value, f"a JSON object for dataclass {cls.__name__}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(value) - set(fields))
    if unknown:
        raise ValueError(f"dataclass {cls.__name__} has no field {', '.join(unknown)} (fields: {', '.join(fields)})")
    kwargs = {}
    for name in fields:
        if name in value:
            try:
                kwargs[name] = from_jsonable(value[name], hints[name])
            except ValueError as exc:
                raise ValueError(f"field {cls.__name__}.{name}: {exc}") from None
        elif fields[name].default is dataclasses.MISSING and fields[name].default_factory is dataclasses.MISSING:
            raise ValueError(f"dataclass {cls.__name__} needs field '{name}'")
    return cls(**kwargs)


# ---- click parameter types -----------------------------------------------------------------


class JsonValue(click.ParamType):
    """Lists, dicts, dataclasses and unions typed as JSON text."""

    def __init__(self, hint: Any):
        self.hint = hint
        self.name = "json"

    def convert(self, value, param, ctx):
        if not isinstance(value, str):
            return value
        if not json_depth_ok(value):
            self.fail(f"JSON nested deeper than {MAX_JSON_DEPTH} levels is not accepted",
                      param, ctx)
        try:
            data = json.loads(value)
        except (json.JSONDecodeError, RecursionError):
            if _accepts_plain_string(self.hint):
                data = value
            else:
                self.fail(f"{value[:40]!r} is not valid JSON for {hint_name(self.hint)}", param,
                          ctx)
        try:
            return from_jsonable(data, self.hint)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


def _accepts_plain_string(hint: Any) -> bool:
    hint = _strip_annotated(hint)
    members = _union_members(hint)
    return hint is str or bool(members and str in members)


class TextValue(click.ParamType):
    """Scalars whose text is parsed by from_jsonable (datetime, timedelta, paths, bytes)."""

    def __init__(self, hint: Any, name: str):
        self.hint = hint
        self.name = name

    def convert(self, value, param, ctx):
        if not isinstance(value, str):
            return value
        try:
            return from_jsonable(value, self.hint)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


class PathValue(TextValue):
    """A File or Directory: a local path that must exist, or a remote URI passed through."""

    def convert(self, value, param, ctx):
        if isinstance(value, str) and "://" not in value and not os.path.exists(value):
            self.fail(f"{value} does not exist", param, ctx)
        return super().convert(value, param, ctx)


class EnumValue(click.Choice):
    """An enum shown as its values; converted to the member."""

    def __init__(self, enum_type: type[enum.Enum]):
        self.enum_type = enum_type
        super().__init__([str(m.value) for m in enum_type])

    def convert(self, value, param, ctx):
        if isinstance(value, self.enum_type):
            return value
        text = super().convert(value, param, ctx)
        return next(m for m in self.enum_type if str(m.value) == text)


def param_type(hint: Any) -> click.ParamType | None:
    """The click type for an input's hint; None for bool (a --flag/--no-flag pair)."""
    inner = optional_inner(hint)
    hint = _strip_annotated(inner if inner is not None else hint)
    if hint is bool:
        return None
    if hint is int:
        return TextValue(hint, "integer")  # decimal, 64-bit (click.INT takes any size)
    if hint is float:
        return TextValue(hint, "float")
    if hint is str:
        return TextValue(hint, "text")  # valid UTF-8 only
    if hint is datetime.datetime:
        return TextValue(hint, "datetime")
    if hint is datetime.timedelta:
        return TextValue(hint, "duration")
    if hint is bytes:
        return TextValue(hint, "text")
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return EnumValue(hint)
    if isinstance(hint, type) and hint in _blob_classes():
        return PathValue(hint, "path")
    return JsonValue(hint)


def describe_default(value: Any) -> str:
    """How a default reads in --help."""
    from sandbox.cli.outputs import to_jsonable

    if value is None or isinstance(value, bool):
        return str(value)  # as the Python signature spells it
    data = to_jsonable(value)
    if isinstance(data, str):
        return data
    return json.dumps(data)


def input_options(interface, fixed: frozenset = frozenset()) -> list[click.Option]:
    """One option per input not fixed by a launch plan. Defaults are shown, not filled in,
    so that only what the user typed reaches the run (the interface supplies the rest)."""
    options = []
    descriptions = getattr(getattr(interface, "docstring", None), "input_descriptions", {}) or {}
    for name, hint in interface.inputs.items():
        if name in fixed:
            continue
        flag = name.replace("_", "-")
        help_text = descriptions.get(name, "")
        kind = hint_name(hint)
        if name in interface.defaults:
            note = f"[{kind}, default: {describe_default(interface.defaults[name])}]"
        else:
            note = f"[{kind}, required]"
        help_text = f"{help_text}  {note}".strip()
        ptype = param_type(hint)
        if ptype is None:
            options.append(click.Option([f"--{flag}/--no-{flag}", name], default=None, help=help_text))
        else:
            options.append(click.Option([f"--{flag}", name], type=ptype, default=None, help=help_text))
    return options


# ---- inputs files --------------------------------------------------------------------------


MAX_INPUTS_FILE_BYTES = 64 << 20


def read_inputs_file(path: str, entity: str) -> dict:
    """A YAML or JSON mapping of input names to values."""
    import yaml  # YAML is a superset of JSON, so one parser reads both

    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_INPUTS_FILE_BYTES + 1)
    except OSError as exc:
        raise click.UsageError(f"cannot read inputs file {path} for {entity}: {exc.strerror or exc}")
    if len(raw) > MAX_INPUTS_FILE_BYTES:
        raise click.UsageError(f"inputs file {path} for {entity} is larger than "
                               f"{MAX_INPUTS_FILE_BYTES >> 20} MiB; pass large data as a File input")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise click.UsageError(f"inputs file {path} for {entity} is not UTF-8 text (byte "
                               f"{exc.start} is not UTF-8); save it as UTF-8")
    if not json_depth_ok(text):
        raise click.UsageError(f"inputs file {path} for {entity} nests lists or objects deeper "
                               f"than {MAX_JSON_DEPTH} levels")
    try:
        data = yaml.safe_load(text)
    except (yaml.YAMLError, RecursionError, ValueError) as exc:
        reason = " ".join(str(exc).split())[:200]
        raise click.UsageError(f"inputs file {path} for {entity} is not valid YAML or JSON: {reason}")
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise click.UsageError(
            f"inputs file {path} for {entity} must hold a mapping of input names to values, "
            f"not a {type(data).__name__}"
        )
    return data


def resolve_inputs(entity: str, interface, typed: dict, file_values: dict, fixed: dict | None = None) -> dict:
    """Merge inputs-file values and options (options win) into Python values, check that every
    required input is there, and name the entity and input in every complaint."""
    fixed = fixed or {}
    known = [n for n in interface.inputs if n not in fixed]
    for name in file_values:
        if not isinstance(name, str):
            raise click.UsageError(f"{entity}: the inputs file names an input {name!r}, which is "
                                   "not a name; quote it")
    unknown = sorted(set(file_values) - set(known))
    if unknown:
        raise click.UsageError(
            f"{entity} has no input {', '.join(repr(u) for u in unknown)}; its inputs are: {', '.join(known) or 'none'}"
        )
    values = {}
    for name, raw in file_values.items():
        try:
            values[name] = from_jsonable(raw, interface.inputs[name])
        except ValueError as exc:
            raise click.BadParameter(f"{entity}: input '{name}': {exc}", param_hint=f"'{name}' in the inputs file")
    values.update({name: value for name, value in typed.items() if value is not None and name in interface.inputs})
    missing = [n for n in known if n not in values and n not in interface.defaults]
    if missing:
        flags = ", ".join("--" + n.replace("_", "-") for n in missing)
        raise click.UsageError(
            f"{entity} needs input {', '.join(repr(m) for m in missing)}: give {flags} or an --inputs-file"
        )
    return values
