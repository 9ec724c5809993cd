"""Inputs typed by users, fuzzed: every command's values go through sandbox.cli.inputs, which
answers anything with a value of the declared type or a ValueError (the CLI: one `Error:`
line, exit 2); nothing else escapes, and what it accepts fits Flyte's literals."""
from __future__ import annotations

import datetime
import typing

from flyteidl.core import literals_pb2, types_pb2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reliability_support import figures
from sandbox.cli import inputs
from sandbox.cli.engine_cmd import _inputs_from_cli, _parse_extra_args
from sdk.errors import SkiffError

HINTS = [int, float, str, bool, typing.List[int], typing.Dict[str, float],
         typing.Optional[int], datetime.datetime, datetime.timedelta,
         typing.List[typing.Dict[str, int]]]
ANY_CHAR = st.characters(codec=None, exclude_categories=())  # lone surrogates included
JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-2**80, max_value=2**80)
    | st.floats(allow_nan=True) | st.text(ANY_CHAR, max_size=20),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(ANY_CHAR, max_size=8), children, max_size=4),
    max_leaves=20)
COUNTS = {"accepted": 0, "refused": 0}


def _fits(value, hint) -> bool:
    base = inputs.optional_inner(hint) or hint
    if value is None:
        return inputs.optional_inner(hint) is not None
    if base is int:
        return type(value) is int and inputs.INT64_MIN <= value <= inputs.INT64_MAX
    if base is bool:
        return type(value) is bool
    if base is str:
        value.encode("utf-8")
        return isinstance(value, str)
    if typing.get_origin(base) is list:
        (item,) = typing.get_args(base)
        return isinstance(value, list) and all(_fits(v, item) for v in value)
    if typing.get_origin(base) is dict:
        _, item = typing.get_args(base)
        return isinstance(value, dict) and all(_fits(v, item) and _fits(k, str)
                                               for k, v in value.items())
    return isinstance(value, base if base is not float else (float,))


@settings(max_examples=400, deadline=None)
@given(value=JSONISH, hint=st.sampled_from(HINTS))
def test_values_become_the_declared_type_or_a_value_error(value, hint):
    try:
        result = inputs.from_jsonable(value, hint)
    except ValueError:
        COUNTS["refused"] += 1
        return
    COUNTS["accepted"] += 1
    assert _fits(result, hint), (value, hint, result)


@settings(max_examples=400, deadline=None)
@given(text=st.text(ANY_CHAR, max_size=40) | st.sampled_from(
    ["0x10", "yes", "no", "2", "null", "NO", "1e999", "nan", "9" * 30, "[" * 200 + "]" * 200,
     "-0", "+5", " 7 ", "1.0", "true", "True"]), hint=st.sampled_from(HINTS))
def test_command_line_words_become_the_declared_type_or_a_value_error(text, hint):
    try:
        result = inputs.from_jsonable(inputs.text_to_jsonable(text, hint), hint)
    except ValueError:
        COUNTS["refused"] += 1
        return
    COUNTS["accepted"] += 1
    assert _fits(result, hint), (text, hint, result)


def _interface():
    from flyteidl.core import interface_pb2

    simple = types_pb2.SimpleType
    iface = interface_pb2.TypedInterface()
    for name, literal_type in {
        "i": types_pb2.LiteralType(simple=simple.INTEGER),
        "b": types_pb2.LiteralType(simple=simple.BOOLEAN),
        "s": types_pb2.LiteralType(simple=simple.STRING),
        "l": types_pb2.LiteralType(collection_type=types_pb2.LiteralType(simple=simple.INTEGER)),
    }.items():
        iface.inputs.variables[name].type.CopyFrom(literal_type)
    return iface


NAMES = st.sampled_from(["--i", "--b", "--s", "--l", "--x", "--i=3", "--", "-i", "i"])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(args=st.lists(NAMES | st.text(ANY_CHAR, max_size=12), max_size=8))
def test_sandbox_run_arguments_give_a_literal_map_or_a_skiff_error(args):
    """`skiff sandbox run PKG ENTITY --NAME VALUE ...` and remote entity runs."""
    try:
        result = _inputs_from_cli(_interface(), "fuzz.wf", _parse_extra_args(args, "fuzz.wf"),
                                  {})
    except SkiffError as exc:
        assert "\n" not in str(exc)
        COUNTS["refused"] += 1
        return
    COUNTS["accepted"] += 1
    assert isinstance(result, literals_pb2.LiteralMap)
    result.SerializeToString()


def test_fuzz_inputs_figures():
    figures("input fuzz", examples=COUNTS["accepted"] + COUNTS["refused"],
            accepted=COUNTS["accepted"], refused_with_value_error=COUNTS["refused"],
            other_exceptions=0)
