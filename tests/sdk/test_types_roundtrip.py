"""Round trips through Skiff's type engine: value -> Literal -> value, for every supported type."""

from __future__ import annotations

import dataclasses
import datetime
import enum
import os
import shutil
import typing

import pytest
from flyteidl.core import literals_pb2

from sdk.types import Directory, File, TypeEngine


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"


@dataclasses.dataclass
class Inner:
    x: int
    color: Color = Color.RED


@dataclasses.dataclass
class Record:
    name: str
    payload: bytes
    when: datetime.datetime
    took: datetime.timedelta
    inner: Inner
    inners: typing.List[Inner]
    table: typing.Dict[str, typing.List[float]]
    either: typing.Union[int, str]
    maybe: typing.Optional[Inner] = None
    nothing: None = None


UTC = datetime.timezone.utc

CASES = [
    (int, 42),
    (float, -1.25),
    (str, ""),
    (bool, True),
    (bytes, b"\x00\xffraw"),
    (datetime.datetime, datetime.datetime(2023, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)),
    (datetime.timedelta, datetime.timedelta(hours=-3, microseconds=1)),
    (None, None),
    (typing.List[int], []),
    (list[list[int]], [[1], [2, 3]]),
    (typing.Dict[str, str], {"k": "v"}),
    (dict[str, list[int]], {"a": [1, 2], "b": []}),
    (dict, {"free": ["form", 1, 2.5, None, {"x": True}]}),
    (typing.Dict[int, str], {1: "one", 2: "two"}),
    (typing.Optional[int], 5),
    (typing.Optional[int], None),
    (typing.Optional[Inner], Inner(1)),
    (typing.Optional[Inner], None),
    (typing.Union[int, str], 3),
    (typing.Union[int, str], "three"),
    (int | None, 9),
    (typing.Union[int, float], 1.0),
    (typing.Union[int, float], 1),
    (Color, Color.GREEN),
    (typing.List[Inner], [Inner(1, Color.GREEN), Inner(2)]),
    (typing.Dict[str, Inner], {"a": Inner(3)}),
    (Record, Record("r", b"bin", datetime.datetime(2020, 1, 1, 12), datetime.timedelta(seconds=1.5),
                    Inner(1), [Inner(2, Color.GREEN)], {"t": [0.5]}, "s", Inner(4))),
    (Record, Record("r", b"", datetime.datetime(2020, 1, 1, tzinfo=UTC), datetime.timedelta(0),
                    Inner(1), [], {}, 7)),
    (typing.Annotated[int, "doc"], 11),
]


@pytest.mark.parametrize("hint, value", CASES, ids=[f"{i}-{c[0]!r}" for i, c in enumerate(CASES)])
def test_round_trip(hint, value):
    literal = TypeEngine.to_literal(value, hint)
    got = TypeEngine.to_python_value(literal, hint)
    assert got == value
    assert type(got) is type(value)
    # The literal survives the wire unchanged.
    wire = literals_pb2.Literal.FromString(literal.SerializeToString())
    assert TypeEngine.to_python_value(wire, hint) == value


def test_naive_datetime_is_read_back_as_utc():
    literal = TypeEngine.to_literal(datetime.datetime(2024, 1, 1, 8), datetime.datetime)
    assert TypeEngine.to_python_value(literal, datetime.datetime) == datetime.datetime(2024, 1, 1, 8, tzinfo=UTC)


def test_union_value_records_the_variant_it_took():
    literal = TypeEngine.to_literal(1, typing.Union[int, float])
    assert literal.scalar.union.type.structure.tag == "int"
    literal = TypeEngine.to_literal(1.0, typing.Union[int, float])
    assert literal.scalar.union.type.structure.tag == "float"


def test_enum_accepts_its_string_value():
    literal = TypeEngine.to_literal("green", Color)
    assert TypeEngine.to_python_value(literal, Color) is Color.GREEN


def test_int_accepted_for_float():
    literal = TypeEngine.to_literal(3, float)
    got = TypeEngine.to_python_value(literal, float)
    assert got == 3.0 and type(got) is float


def test_dict_maps_round_trip(tmp_path):
    types = {"a": int, "b": typing.List[str], "c": typing.Optional[Inner]}
    values = {"a": 1, "b": ["x"], "c": None}
    literal_map = TypeEngine.dict_to_literal_map(values, types)
    assert set(literal_map.literals) == {"a", "b", "c"}
    assert TypeEngine.literal_map_to_kwargs(literal_map, types) == values


# ---- File / Directory through a transfer object --------------------------------------------


class DirTransfer:
    """A blob store in a temp dir under the made-up scheme store://, counting its calls."""

    def __init__(self, root):
        self.root = str(root)
        self.uploads = 0
        self.downloads = 0

    def _where(self, uri: str) -> str:
        assert uri.startswith("store://"), uri
        return os.path.join(self.root, uri[len("store://"):])

    def upload(self, local_path: str, is_directory: bool) -> str:
        self.uploads += 1
        uri = f"store://{self.uploads}/{os.path.basename(local_path.rstrip('/'))}"
        target = self._where(uri)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        (shutil.copytree if is_directory else shutil.copyfile)(local_path, target)
        return uri

    def download(self, uri: str, local_path: str, is_directory: bool) -> None:
        self.downloads += 1
        (shutil.copytree if is_directory else shutil.copyfile)(self._where(uri), local_path)


@pytest.fixture
def transfer(tmp_path):
    return DirTransfer(tmp_path / "store")


def test_file_uploads_and_downloads_lazily(tmp_path, transfer):
    source = tmp_path / "report.csv"
    source.write_text("a,b\n1,2\n")
    literal = TypeEngine.to_literal(File(str(source)), File, transfer=transfer)
    uri = literal.scalar.blob.uri
    assert uri.startswith("store://") and uri.endswith("/report.csv")
    assert transfer.uploads == 1

    value = TypeEngine.to_python_value(literal, File, transfer=transfer)
    assert isinstance(value, File)
    assert transfer.downloads == 0  # nothing fetched until the path is used
    with open(value) as handle:
        assert handle.read() == "a,b\n1,2\n"
    assert transfer.downloads == 1
    assert os.fspath(value) == value.path != str(source)
    with value.open() as handle:
        assert handle.readline() == "a,b\n"
    assert transfer.downloads == 1  # downloaded once


def test_file_read_back_is_passed_on_without_copying(tmp_path, transfer):
    source = tmp_path / "x.bin"
    source.write_bytes(b"1")
    literal = TypeEngine.to_literal(File(str(source)), File, transfer=transfer)
    value = TypeEngine.to_python_value(literal, File, transfer=transfer)
    again = TypeEngine.to_literal(value, File, transfer=transfer)
    assert again.scalar.blob.uri == literal.scalar.blob.uri
    assert (transfer.uploads, transfer.downloads) == (1, 0)


def test_directory_round_trip(tmp_path, transfer):
    source = tmp_path / "out"
    (source / "sub").mkdir(parents=True)
    (source / "a.txt").write_text("A")
    (source / "sub" / "b.txt").write_text("B")
    literal = TypeEngine.to_literal(Directory(str(source)), Directory, transfer=transfer)
    assert literal.scalar.blob.metadata.type.dimensionality == 1  # MULTIPART
    value = TypeEngine.to_python_value(literal, Directory, transfer=transfer)
    assert value.listdir() == ["a.txt", "sub"]
    with open(os.path.join(value, "sub", "b.txt")) as handle:
        assert handle.read() == "B"


def test_remote_file_is_not_uploaded(transfer):
    literal = TypeEngine.to_literal(File("s3://bucket/key.csv"), File, transfer=transfer)
    assert literal.scalar.blob.uri == "s3://bucket/key.csv"
    assert transfer.uploads == 0


def test_file_without_transfer_keeps_its_path(tmp_path):
    literal = TypeEngine.to_literal(File("rel/data.txt"), File)
    assert literal.scalar.blob.uri == "rel/data.txt"
    value = TypeEngine.to_python_value(literal, File)
    assert value.path == "rel/data.txt" and value == File("rel/data.txt")


def test_plain_path_accepted_for_file(tmp_path, transfer):
    source = tmp_path / "p.txt"
    source.write_text("p")
    literal = TypeEngine.to_literal(str(source), File, transfer=transfer)
    assert literal.scalar.blob.uri.startswith("store://")


def test_files_inside_dataclass_upload_and_download(tmp_path, transfer):
    @dataclasses.dataclass
    class Bundle:
        data: File
        folder: typing.Optional[Directory]

    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "f").write_text("in dir")
    (tmp_path / "data").write_text("data!")
    bundle = Bundle(File(str(tmp_path / "data")), Directory(str(tmp_path / "d")))
    literal = TypeEngine.to_literal(bundle, Bundle, transfer=transfer)
    assert transfer.uploads == 2
    value = TypeEngine.to_python_value(literal, Bundle, transfer=transfer)
    with open(value.data) as handle:
        assert handle.read() == "data!"
    assert value.folder.listdir() == ["f"]


def test_file_from_a_file_uri_without_transfer(tmp_path):
    source = tmp_path / "f.txt"
    source.write_text("local")
    literal = TypeEngine.to_literal(File(f"file://{source}"), File)
    assert literal.scalar.blob.uri == f"file://{source}"
    with open(TypeEngine.to_python_value(literal, File)) as handle:
        assert handle.read() == "local"


# ---- type matching, repr and guessing ------------------------------------------------------

lt = TypeEngine.to_literal_type


@pytest.mark.parametrize(
    "upstream, downstream, expected",
    [
        (int, int, True),
        (int, float, False),
        (int, typing.Optional[int], True),
        (None, typing.Optional[int], True),
        (str, typing.Optional[int], False),
        (typing.Optional[int], int, False),
        (typing.Optional[int], typing.Union[int, str, None], True),
        (typing.Union[int, str], typing.Optional[int], False),
        (typing.List[int], typing.List[int], True),
        (typing.List[int], typing.List[str], False),
        (typing.Dict[str, int], typing.Dict[str, typing.Optional[int]], True),
        (File, File, True),
        (File, Directory, False),
        (Directory, Directory, True),
        (Color, str, True),
        (Color, Color, True),
        (Inner, Inner, True),
        (Inner, Record, False),
        (Inner, typing.Optional[Inner], True),
        (dict, dict, True),
        (bytes, bytes, True),
    ],
)
def test_literal_types_match(upstream, downstream, expected):
    assert TypeEngine.literal_types_match(lt(upstream), lt(downstream)) is expected


def test_literal_types_match_ignores_metadata():
    a = lt(Inner)
    b = lt(Inner)
    b.metadata.Clear()
    b.annotation.Clear()
    assert TypeEngine.literal_types_match(a, b)


@pytest.mark.parametrize(
    "hint, text",
    [
        (int, "int"),
        (typing.List[str], "list[str]"),
        (typing.Optional[int], "Optional[int]"),
        (typing.Union[int, str], "Union[int, str]"),
        (typing.Dict[str, float], "dict[str, float]"),
        (Inner, "Dataclass Inner"),
        (File, "File"),
        (Directory, "Directory"),
        (Color, "Enum[red, green]"),
        (dict, "dict"),
        (datetime.timedelta, "timedelta"),
        (None, "None"),
    ],
)
def test_literal_type_repr(hint, text):
    assert TypeEngine.literal_type_repr(lt(hint)) == text


@pytest.mark.parametrize(
    "hint, value",
    [
        (int, 1),
        (typing.List[typing.Dict[str, float]], [{"a": 1.5}]),
        (typing.Optional[str], "s"),
        (Inner, Inner(3, Color.GREEN)),
    ],
)
def test_guessed_type_reads_the_literal(hint, value):
    guessed = TypeEngine.guess_python_type(lt(hint))
    got = TypeEngine.to_python_value(TypeEngine.to_literal(value, hint), guessed)
    if dataclasses.is_dataclass(value):
        assert (got.x, got.color.value) == (3, "green")
    else:
        assert got == value


def test_guessed_simple_types():
    assert TypeEngine.guess_python_type(lt(File)) is File
    assert TypeEngine.guess_python_type(lt(Directory)) is Directory
    assert TypeEngine.guess_python_type(lt(typing.List[int])) == list[int]
    assert TypeEngine.guess_python_type(lt(dict)) is dict


def test_union_member_order_is_kept():
    # typing treats Union[int, str] == Union[str, int]; Flyte's LiteralType keeps the order.
    # (builtin list[...]: typing.List[...] itself caches the first of two equal unions.)
    first = TypeEngine.to_literal_type(list[typing.Union[int, str]])
    second = TypeEngine.to_literal_type(list[typing.Union[str, int]])
    assert [v.structure.tag for v in first.collection_type.union_type.variants] == ["int", "str"]
    assert [v.structure.tag for v in second.collection_type.union_type.variants] == ["str", "int"]
