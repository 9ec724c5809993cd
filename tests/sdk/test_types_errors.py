"""Errors a user causes through the type engine: what they see."""

from __future__ import annotations

import dataclasses
import enum
import typing

import pytest

from sdk.errors import SkiffError, TypeTransformerError
from sdk.types import File, TypeEngine


class Color(enum.Enum):
    RED = "red"


class Level(enum.Enum):
    LOW = 1


@dataclasses.dataclass
class Point:
    x: int
    y: float


def test_wrong_value_names_label_type_and_value():
    with pytest.raises(TypeTransformerError) as info:
        TypeEngine.to_literal("seven", int, name="task wf.square, input 'n'")
    message = str(info.value)
    assert message.startswith("task wf.square, input 'n': ")
    assert "'seven'" in message and "str" in message and "int" in message
    assert isinstance(info.value, SkiffError) and info.value.exit_code == 2


def test_bool_is_not_an_int():
    with pytest.raises(TypeTransformerError, match="True .*bool.* int"):
        TypeEngine.to_literal(True, int)


def test_wrong_field_in_dataclass_names_the_field():
    with pytest.raises(TypeTransformerError, match=r"field Point\.x: .a. \(str\) is not of type int"):
        TypeEngine.to_literal(Point("a", 1.0), Point, name="v")


def test_wrong_item_in_list_names_the_index():
    with pytest.raises(TypeTransformerError, match=r"item \[1\]"):
        TypeEngine.to_literal([1, "b"], typing.List[int])


def test_long_values_are_shortened():
    with pytest.raises(TypeTransformerError) as info:
        TypeEngine.to_literal("x" * 500, int)
    assert "x" * 100 not in str(info.value) and "..." in str(info.value)


def test_value_matching_no_union_member():
    with pytest.raises(TypeTransformerError, match=r"matches no member of Union\[int, str\]"):
        TypeEngine.to_literal(1.5, typing.Union[int, str], name="variable 'u'")


def test_unknown_enum_value():
    with pytest.raises(TypeTransformerError, match=r"'blue' is not a member of Color \(values: \['red'\]\)"):
        TypeEngine.to_literal("blue", Color)


def test_missing_local_file_with_transfer(tmp_path):
    class NoTransfer:
        def upload(self, local_path, is_directory):
            raise AssertionError("must not upload")

        def download(self, uri, local_path, is_directory):
            raise AssertionError("must not download")

    with pytest.raises(TypeTransformerError, match="is not an existing file"):
        TypeEngine.to_literal(File(str(tmp_path / "absent")), File, transfer=NoTransfer(), name="output 'o'")


@pytest.mark.parametrize(
    "hint, fragment",
    [
        (tuple, "tuple"),
        (typing.List, "list needs its item type"),
        (Level, "values are all strings"),
        (typing.List[complex], "complex"),
        (object, "object"),
    ],
)
def test_unsupported_hint(hint, fragment):
    with pytest.raises(TypeTransformerError) as info:
        TypeEngine.to_literal_type(hint, name="task t, input 'z'")
    message = str(info.value)
    assert message.startswith("task t, input 'z': type ")
    assert fragment in message and "is not supported" in message and "Use one of:" in message


def test_unsupported_hint_when_encoding():
    with pytest.raises(TypeTransformerError, match="not supported"):
        TypeEngine.to_literal(1 + 2j, complex, name="x")


def test_literal_of_the_wrong_kind():
    literal = TypeEngine.to_literal("text", str)
    with pytest.raises(TypeTransformerError, match="cannot read the literal as int: the literal holds a string, expected int"):
        TypeEngine.to_python_value(literal, int, name="input 'n'")


def test_file_literal_read_as_directory():
    from sdk.types import Directory

    literal = TypeEngine.to_literal(File("s3://b/k"), File)
    with pytest.raises(TypeTransformerError, match="s3://b/k is a file, not a Directory"):
        TypeEngine.to_python_value(literal, Directory)


def test_map_conversion_names_the_variable():
    types = {"a": int, "b": str}
    with pytest.raises(TypeTransformerError, match=r"^wf\.main, variable 'b': value 3"):
        TypeEngine.dict_to_literal_map({"a": 1, "b": 3}, types, name="wf.main")
    with pytest.raises(TypeTransformerError, match=r"variable 'b': no value was given"):
        TypeEngine.dict_to_literal_map({"a": 1}, types)
    with pytest.raises(TypeTransformerError, match=r"variable 'c': not a known variable \(expected: a, b\)"):
        TypeEngine.dict_to_literal_map({"a": 1, "b": "x", "c": 0}, types)
    literal_map = TypeEngine.dict_to_literal_map({"a": 1, "b": "x"}, types)
    with pytest.raises(TypeTransformerError, match=r"variable 'a': cannot read the literal as str"):
        TypeEngine.literal_map_to_kwargs(literal_map, {"a": str})
    with pytest.raises(TypeTransformerError, match=r"variable 'q': no value was given"):
        TypeEngine.literal_map_to_kwargs(literal_map, {"q": str})


def test_remote_file_without_transfer_says_what_to_do():
    value = TypeEngine.to_python_value(TypeEngine.to_literal(File("s3://b/k"), File), File)
    with pytest.raises(FileNotFoundError, match="no transfer was given"):
        open(value)


def test_untyped_dict_with_objects():
    import datetime

    with pytest.raises(TypeTransformerError, match="msgpack cannot encode.*typed hint"):
        TypeEngine.to_literal({"when": datetime.datetime(2024, 1, 1)}, dict, name="input 'd'")
