"""Cross-SDK conformance: literals and LiteralTypes agree with flytekit 1.16's TypeEngine.

Each case pairs a Skiff hint and value with a twin flytekit hint and value (same dataclass and
enum definitions, FlyteFile/FlyteDirectory for File/Directory). For every case: the LiteralTypes
are equal protobufs, the literals are equal protobufs, flytekit reads Skiff's literal back to its
value and Skiff reads flytekit's literal back to its value.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import typing

import pytest

from flytekit.core.context_manager import FlyteContextManager
from flytekit.core.type_engine import TypeEngine as FlytekitEngine
from flytekit.types.directory import FlyteDirectory
from flytekit.types.error import FlyteError as FkFlyteError
from flytekit.types.file import FlyteFile

from sdk.types import Directory, File, FlyteError, TypeEngine


# ---- Skiff definitions -------------------------------------------------------------------


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"


@dataclasses.dataclass
class Inner:
    x: int
    color: Color


@dataclasses.dataclass
class Point:
    x: int
    y: float
    label: str
    ok: bool
    tags: typing.List[str]
    inner: Inner
    when: datetime.datetime
    took: datetime.timedelta
    scores: typing.Dict[str, typing.List[int]]
    either: typing.Union[int, str]
    report: File
    outputs: Directory
    maybe: typing.Optional[int] = None
    maybe_inner: typing.Optional[Inner] = None
    nested: typing.List[Inner] = dataclasses.field(default_factory=list)
    mode: Color = Color.GREEN
    rate: float = 0.5
    backup: typing.Optional[File] = None


# ---- flytekit twins (same names, so the JSON schema titles agree) ------------------------


class FkColor(enum.Enum):
    RED = "red"
    GREEN = "green"


@dataclasses.dataclass
class FkInner:
    x: int
    color: FkColor


@dataclasses.dataclass
class FkPoint:
    x: int
    y: float
    label: str
    ok: bool
    tags: typing.List[str]
    inner: FkInner
    when: datetime.datetime
    took: datetime.timedelta
    scores: typing.Dict[str, typing.List[int]]
    either: typing.Union[int, str]
    report: FlyteFile
    outputs: FlyteDirectory
    maybe: typing.Optional[int] = None
    maybe_inner: typing.Optional[FkInner] = None
    nested: typing.List[FkInner] = dataclasses.field(default_factory=list)
    mode: FkColor = FkColor.GREEN
    rate: float = 0.5
    backup: typing.Optional[FlyteFile] = None


FkInner.__name__ = FkInner.__qualname__ = "Inner"
FkPoint.__name__ = FkPoint.__qualname__ = "Point"


def skiff_point(**overrides):
    values = dict(
        x=1, y=2.5, label="p", ok=True, tags=["a", "b"], inner=Inner(3, Color.RED),
        when=datetime.datetime(2024, 5, 6, 7, 8, 9, 123456), took=datetime.timedelta(seconds=90.5),
        scores={"s": [1, 2]}, either="text", report=File("s3://bucket/report.csv"),
        outputs=Directory("s3://bucket/out"), maybe=4, maybe_inner=Inner(5, Color.GREEN),
        nested=[Inner(6, Color.RED)], backup=File("s3://bucket/backup"),
    )
    values.update(overrides)
    return Point(**values)


def fk_point(**overrides):
    values = dict(
        x=1, y=2.5, label="p", ok=True, tags=["a", "b"], inner=FkInner(3, FkColor.RED),
        when=datetime.datetime(2024, 5, 6, 7, 8, 9, 123456), took=datetime.timedelta(seconds=90.5),
        scores={"s": [1, 2]}, either="text", report=FlyteFile("s3://bucket/report.csv"),
        outputs=FlyteDirectory("s3://bucket/out"), maybe=4, maybe_inner=FkInner(5, FkColor.GREEN),
        nested=[FkInner(6, FkColor.RED)], backup=FlyteFile("s3://bucket/backup"),
    )
    values.update(overrides)
    return FkPoint(**values)


UTC = datetime.timezone.utc

# (id, skiff hint, skiff value, flytekit hint, flytekit value)
CASES = [
    ("int", int, 7, int, 7),
    ("negative-int", int, -(2**40), int, -(2**40)),
    ("float", float, 2.5, float, 2.5),
    ("str", str, "héllo", str, "héllo"),
    ("bool", bool, False, bool, False),
    ("datetime", datetime.datetime, datetime.datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
     datetime.datetime, datetime.datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=UTC)),
    ("timedelta", datetime.timedelta, datetime.timedelta(days=1, microseconds=7),
     datetime.timedelta, datetime.timedelta(days=1, microseconds=7)),
    ("none", None, None, type(None), None),
    ("list", typing.List[int], [1, 2, 3], typing.List[int], [1, 2, 3]),
    ("list-builtin", list[str], ["a"], list[str], ["a"]),
    ("list-of-lists", typing.List[typing.List[str]], [["a"], []], typing.List[typing.List[str]], [["a"], []]),
    ("dict", typing.Dict[str, int], {"a": 1}, typing.Dict[str, int], {"a": 1}),
    ("dict-of-lists", dict[str, list[float]], {"a": [1.5]}, dict[str, list[float]], {"a": [1.5]}),
    ("untyped-dict", dict, {"a": 1, "b": [1, "x"], "c": {"d": None}}, dict, {"a": 1, "b": [1, "x"], "c": {"d": None}}),
    ("optional-set", typing.Optional[int], 3, typing.Optional[int], 3),
    ("optional-none", typing.Optional[int], None, typing.Optional[int], None),
    ("union-int", typing.Union[int, str], 1, typing.Union[int, str], 1),
    ("union-str", typing.Union[int, str], "a", typing.Union[int, str], "a"),
    ("union-pep604", int | float, 2.0, int | float, 2.0),
    ("enum", Color, Color.GREEN, FkColor, FkColor.GREEN),
    ("dataclass", Point, skiff_point(), FkPoint, fk_point()),
    ("dataclass-defaults", Point, skiff_point(maybe=None, maybe_inner=None, nested=[], either=3, backup=None),
     FkPoint, fk_point(maybe=None, maybe_inner=None, nested=[], either=3, backup=None)),
    ("optional-dataclass", typing.Optional[Inner], Inner(1, Color.RED), typing.Optional[FkInner], FkInner(1, FkColor.RED)),
    ("optional-dataclass-none", typing.Optional[Inner], None, typing.Optional[FkInner], None),
    ("list-of-dataclasses", typing.List[Inner], [Inner(1, Color.RED), Inner(2, Color.GREEN)],
     typing.List[FkInner], [FkInner(1, FkColor.RED), FkInner(2, FkColor.GREEN)]),
    ("dict-of-dataclasses", typing.Dict[str, Inner], {"k": Inner(1, Color.RED)},
     typing.Dict[str, FkInner], {"k": FkInner(1, FkColor.RED)}),
    ("file", File, File("s3://bucket/data/a.csv"), FlyteFile, FlyteFile("s3://bucket/data/a.csv")),
    ("directory", Directory, Directory("s3://bucket/dir"), FlyteDirectory, FlyteDirectory("s3://bucket/dir")),
    ("optional-file", typing.Optional[File], File("s3://bucket/f"), typing.Optional[FlyteFile], FlyteFile("s3://bucket/f")),
    ("list-of-files", typing.List[File], [File("s3://bucket/f")], typing.List[FlyteFile], [FlyteFile("s3://bucket/f")]),
    ("flyte-error", FlyteError, FlyteError("boom", "n3"), FkFlyteError, FkFlyteError("boom", "n3")),
    ("optional-flyte-error", typing.Optional[FlyteError], FlyteError("boom", "n3"),
     typing.Optional[FkFlyteError], FkFlyteError("boom", "n3")),
]

IDS = [c[0] for c in CASES]


def normalize(value):
    """A structure both SDKs' values reduce to: enums by value, blobs by URI, dataclasses by fields."""
    if isinstance(value, enum.Enum):
        return ("enum", value.value)
    if isinstance(value, (File, Directory)):
        return ("blob", isinstance(value, Directory), value.remote_source or str(value))
    if isinstance(value, (FlyteFile, FlyteDirectory)):
        return ("blob", isinstance(value, FlyteDirectory), value.remote_source or str(value.path))
    if dataclasses.is_dataclass(value):
        return (type(value).__name__, {f.name: normalize(getattr(value, f.name)) for f in dataclasses.fields(value)})
    if isinstance(value, list):
        return [normalize(v) for v in value]
    if isinstance(value, dict):
        return {k: normalize(v) for k, v in value.items()}
    return (type(value).__name__, value)


@pytest.fixture(scope="module")
def ctx():
    return FlyteContextManager.current_context()


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_literal_types_agree(case):
    _, hint, _, fk_hint, _ = case
    assert TypeEngine.to_literal_type(hint) == FlytekitEngine.to_literal_type(fk_hint).to_flyte_idl()


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_literals_agree(case, ctx):
    _, hint, value, fk_hint, fk_value = case
    fk_literal = FlytekitEngine.to_literal(ctx, fk_value, fk_hint, FlytekitEngine.to_literal_type(fk_hint))
    assert TypeEngine.to_literal(value, hint) == fk_literal.to_flyte_idl()


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_flytekit_literal_reads_in_skiff(case, ctx):
    _, hint, value, fk_hint, fk_value = case
    fk_literal = FlytekitEngine.to_literal(ctx, fk_value, fk_hint, FlytekitEngine.to_literal_type(fk_hint))
    got = TypeEngine.to_python_value(fk_literal.to_flyte_idl(), hint)
    assert normalize(got) == normalize(value)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_skiff_literal_reads_in_flytekit(case, ctx):
    from flytekit.models.literals import Literal as FkLiteral

    _, hint, value, fk_hint, fk_value = case
    literal = FkLiteral.from_flyte_idl(TypeEngine.to_literal(value, hint))
    got = FlytekitEngine.to_python_value(ctx, literal, fk_hint)
    assert normalize(got) == normalize(fk_value)


def test_flytekit_reads_enum_inside_skiff_dataclass_by_value(ctx):
    from flytekit.models.literals import Literal as FkLiteral

    literal = FkLiteral.from_flyte_idl(TypeEngine.to_literal(Inner(9, Color.GREEN), Inner))
    got = FlytekitEngine.to_python_value(ctx, literal, FkInner)
    assert got == FkInner(9, FkColor.GREEN)


def test_local_file_literal_reads_in_flytekit(tmp_path, ctx):
    # In-process runs carry local paths; flytekit checks the file exists and reads it as-is.
    from flytekit.models.literals import Literal as FkLiteral

    path = tmp_path / "a.txt"
    path.write_text("payload")
    literal = FkLiteral.from_flyte_idl(TypeEngine.to_literal(File(str(path)), File))
    got = FlytekitEngine.to_python_value(ctx, literal, FlyteFile)
    with open(got) as handle:
        assert handle.read() == "payload"


def test_old_json_struct_dataclass_reads_in_skiff(ctx, monkeypatch):
    # flytekit < 1.14 (and FLYTE_USE_OLD_DC_FORMAT) sends dataclasses as a JSON Struct, where
    # every number is a double: ints must come back as ints.
    monkeypatch.setenv("FLYTE_USE_OLD_DC_FORMAT", "true")
    fk_literal = FlytekitEngine.to_literal(ctx, FkInner(7, FkColor.GREEN), FkInner, FlytekitEngine.to_literal_type(FkInner))
    proto = fk_literal.to_flyte_idl()
    assert proto.scalar.WhichOneof("value") == "generic"
    got = TypeEngine.to_python_value(proto, Inner)
    assert got == Inner(7, Color.GREEN) and type(got.x) is int


def test_flytekit_local_file_reads_in_skiff(tmp_path, ctx):
    path = tmp_path / "local.txt"
    path.write_text("from flytekit")
    fk_literal = FlytekitEngine.to_literal(ctx, FlyteFile(str(path)), FlyteFile, FlytekitEngine.to_literal_type(FlyteFile))
    value = TypeEngine.to_python_value(fk_literal.to_flyte_idl(), File)
    with open(value) as handle:
        assert handle.read() == "from flytekit"
