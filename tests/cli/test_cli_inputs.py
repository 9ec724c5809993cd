"""How command-line and inputs-file text becomes typed values (sandbox.cli.inputs)."""

from __future__ import annotations

import datetime
import enum
from dataclasses import dataclass
from typing import Optional, Union

import pytest

from sandbox.cli.inputs import from_jsonable, parse_duration
from sandbox.cli.outputs import format_outputs, to_jsonable


class Mode(enum.Enum):
    FAST = "fast"
    SLOW = "slow"


@dataclass
class Inner:
    mode: Mode
    at: datetime.datetime


@dataclass
class Outer:
    inner: Inner
    weights: dict[str, list[float]]
    note: Optional[str] = None


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90", 90), ("1.5", 1.5), ("1h30m", 5400), ("250ms", 0.25), ("2d", 172800), ("01:02:03", 3723), ("1m 5s", 65)],
)
def test_durations(text, seconds):
    assert parse_duration(text) == datetime.timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["soon", "1x", "h1"])
def test_bad_durations_say_what_is_accepted(text):
    with pytest.raises(ValueError, match="1h30m"):
        parse_duration(text)


def test_nested_dataclass_from_json_and_back():
    data = {"inner": {"mode": "slow", "at": "2024-03-04T05:06:07Z"}, "weights": {"a": [1, 2.5]}}
    value = from_jsonable(data, Outer)
    assert value == Outer(
        inner=Inner(Mode.SLOW, datetime.datetime(2024, 3, 4, 5, 6, 7, tzinfo=datetime.timezone.utc)),
        weights={"a": [1.0, 2.5]},
    )
    assert to_jsonable(value) == {
        "inner": {"mode": "slow", "at": "2024-03-04T05:06:07+00:00"},
        "weights": {"a": [1.0, 2.5]},
        "note": None,
    }


def test_dataclass_errors_name_the_field():
    with pytest.raises(ValueError, match=r"Outer\.inner.*Inner\.mode.*'fast', 'slow'"):
        from_jsonable({"inner": {"mode": "medium", "at": "2024-01-01"}, "weights": {}}, Outer)
    with pytest.raises(ValueError, match="has no field extra"):
        from_jsonable({"inner": {"mode": "fast", "at": "2024-01-01"}, "weights": {}, "extra": 1}, Outer)
    with pytest.raises(ValueError, match="needs field 'weights'"):
        from_jsonable({"inner": {"mode": "fast", "at": "2024-01-01"}}, Outer)


def test_unions_try_each_variant_in_order_and_bools_are_not_ints():
    assert from_jsonable(3, Union[int, str]) == 3
    assert from_jsonable("x", Union[int, str]) == "x"
    assert from_jsonable(None, Optional[int]) is None
    with pytest.raises(ValueError, match="integer"):
        from_jsonable(True, int)
    with pytest.raises(ValueError, match="no variant"):
        from_jsonable([1], Union[int, str])


def test_plain_output_lines_use_json_for_structures():
    text = format_outputs({"o0": 3, "o1": "hi", "o2": [1, 2], "o3": Mode.FAST, "o4": datetime.timedelta(minutes=1)}, False)
    assert text.splitlines() == ["o0: 3", "o1: hi", "o2: [1, 2]", "o3: fast", "o4: 60.0"]
