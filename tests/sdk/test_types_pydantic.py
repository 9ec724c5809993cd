"""Pydantic v2 models: encoded as flytekit 1.16's pydantic transformer encodes them.

The same model classes serve both SDKs (a model with plain fields needs no flytekit twin), so
LiteralTypes and literals must be equal protobufs, and each SDK must read the other's literal.
"""

from __future__ import annotations

import datetime
import enum
import typing

import msgpack
import pytest

pydantic = pytest.importorskip("pydantic", reason="pydantic is not installed: models are an optional feature")
from pydantic import BaseModel, Field  # noqa: E402

from flyteidl.core import literals_pb2  # noqa: E402
from flytekit.core.context_manager import FlyteContextManager  # noqa: E402
from flytekit.core.type_engine import TypeEngine as FlytekitEngine  # noqa: E402
from flytekit.extras.pydantic_transformer import transformer as _fk_pydantic  # noqa: E402,F401
from flytekit.models.literals import Literal as FkLiteral  # noqa: E402
from flytekit.models.types import LiteralType as FkLiteralType  # noqa: E402

from sdk.errors import TypeTransformerError  # noqa: E402
from sdk.types import TypeEngine  # noqa: E402


class Color(str, enum.Enum):
    RED = "red"
    BLUE = "blue"


class Inner(BaseModel):
    x: int = 1
    tags: list[str] = []


class Config(BaseModel):
    name: str
    epochs: int
    rate: float = 0.01
    color: Color = Color.RED
    inner: Inner
    layers: list[Inner] = Field(default_factory=list)
    weights: dict[str, float] = {}
    note: typing.Optional[str] = None
    started: datetime.datetime = datetime.datetime(2024, 1, 2, 3, 4, 5)
    budget: datetime.timedelta = datetime.timedelta(minutes=5)


def sample() -> Config:
    return Config(name="run", epochs=3, color=Color.BLUE, inner=Inner(x=5, tags=["a"]),
                  layers=[Inner(), Inner(x=2)], weights={"w": 0.5}, note="hi")


HINTS = [Config, typing.Optional[Config], list[Config], dict[str, Config]]
VALUES = [sample(), sample(), [sample(), Config(name="b", epochs=1, inner=Inner())], {"k": sample()}]
IDS = ["model", "optional", "list", "dict"]


@pytest.fixture(scope="module")
def ctx():
    return FlyteContextManager.current_context()


@pytest.mark.parametrize("hint", HINTS, ids=IDS)
def test_literal_types_equal_flytekits(hint):
    ours = TypeEngine.to_literal_type(hint)
    theirs = FlytekitEngine.to_literal_type(hint).to_flyte_idl()
    assert ours == theirs


@pytest.mark.parametrize("hint,value", list(zip(HINTS, VALUES)), ids=IDS)
def test_literals_equal_flytekits(hint, value, ctx):
    ours = TypeEngine.to_literal(value, hint)
    theirs = FlytekitEngine.to_literal(ctx, value, hint, FlytekitEngine.to_literal_type(hint)).to_flyte_idl()
    assert ours == theirs


@pytest.mark.parametrize("hint,value", list(zip(HINTS, VALUES)), ids=IDS)
def test_each_sdk_reads_the_others_literal(hint, value, ctx):
    theirs = FlytekitEngine.to_literal(ctx, value, hint, FlytekitEngine.to_literal_type(hint))
    assert TypeEngine.to_python_value(theirs.to_flyte_idl(), hint) == value
    ours = TypeEngine.to_literal(value, hint)
    assert FlytekitEngine.to_python_value(ctx, FkLiteral.from_flyte_idl(ours), hint) == value


def test_model_values_are_msgpack_of_the_json_dump():
    literal = TypeEngine.to_literal(sample(), Config)
    assert literal.scalar.binary.tag == "msgpack"
    data = msgpack.unpackb(literal.scalar.binary.value)
    # JSON mode: the enum by value, the datetime as ISO text, the timedelta as ISO 8601 duration.
    assert data["color"] == "blue"
    assert data["started"] == "2024-01-02T03:04:05"
    assert data["budget"] == "PT5M"
    assert data["inner"] == {"x": 5, "tags": ["a"]}


def test_literal_type_carries_schema_and_field_types():
    lt = TypeEngine.to_literal_type(Config)
    assert lt.metadata["title"] == "Config"
    assert sorted(lt.metadata["required"]) == ["epochs", "inner", "name"]
    assert lt.structure.dataclass_type["epochs"].simple == FkLiteralType.from_flyte_idl(
        TypeEngine.to_literal_type(int)).simple
    assert list(lt.structure.dataclass_type["color"].enum_type.values) == ["red", "blue"]


def test_model_inside_a_dataclass_round_trips():
    import dataclasses

    @dataclasses.dataclass
    class Job:
        config: Config
        retries: int = 0

    job = Job(config=sample(), retries=2)
    assert TypeEngine.to_python_value(TypeEngine.to_literal(job, Job), Job) == job


def test_old_json_struct_literal_reads(ctx):
    # The console and FLYTE_USE_OLD_DC_FORMAT send models as a protobuf Struct.
    theirs = _fk_pydantic.PydanticTransformer().to_generic_literal(ctx, sample(), Config, None)
    assert theirs.scalar.generic is not None
    assert TypeEngine.to_python_value(theirs.to_flyte_idl(), Config) == sample()


def test_wrong_value_names_the_variable_and_model():
    with pytest.raises(TypeTransformerError, match=r"t\.train, variable 'cfg': value \{'name': 'x'\} \(dict\) "
                                                   r"does not match the type Config"):
        TypeEngine.to_literal({"name": "x"}, Config, name="t.train, variable 'cfg'")


def test_invalid_data_names_the_field_that_fails():
    literal = literals_pb2.Literal(scalar=literals_pb2.Scalar(binary=literals_pb2.Binary(
        value=msgpack.packb({"name": "x", "epochs": "many", "inner": {}}), tag="msgpack")))
    with pytest.raises(TypeTransformerError, match=r"variable 'cfg'.*does not validate as Config: epochs: Input "
                                                   r"should be a valid integer"):
        TypeEngine.to_python_value(literal, Config, name="variable 'cfg'")


def test_union_variant_carries_flytekits_transformer_tag():
    lt = TypeEngine.to_literal_type(typing.Optional[Config])
    assert lt.union_type.variants[0].structure.tag == "Pydantic Transformer"


# ---- File and Directory fields -----------------------------------------------------------

from sdk.io import PrefixTransfer  # noqa: E402
from sdk.types import Directory, File  # noqa: E402


class Bundle(BaseModel):
    report: File
    outputs: Directory
    count: int = 1


def _flytekit_bundle_class():
    from flytekit.types.directory import FlyteDirectory
    from flytekit.types.file import FlyteFile

    # The same class name as Skiff's, so the schema titles agree.
    class Bundle(BaseModel):
        report: FlyteFile
        outputs: FlyteDirectory
        count: int = 1

    return Bundle


def test_blob_fields_are_typed_as_flytekits():
    assert TypeEngine.to_literal_type(Bundle) == FlytekitEngine.to_literal_type(_flytekit_bundle_class()).to_flyte_idl()


def test_blob_fields_upload_through_the_transfer_and_cross_to_flytekit(tmp_path, ctx):
    report = tmp_path / "report.txt"
    report.write_text("numbers")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "part-0").write_text("rows")
    transfer = PrefixTransfer(str(tmp_path / "raw"))

    literal = TypeEngine.to_literal(Bundle(report=File(str(report)), outputs=Directory(str(tmp_path / "out"))),
                                    Bundle, transfer=transfer)
    data = msgpack.unpackb(literal.scalar.binary.value)
    assert data["report"]["path"].startswith(str(tmp_path / "raw") + "/")
    assert data["report"]["path"].endswith("/report.txt")

    back = TypeEngine.to_python_value(literal, Bundle, transfer=transfer)
    assert open(back.report).read() == "numbers"
    assert back.outputs.listdir() == ["part-0"]

    theirs = FlytekitEngine.to_python_value(ctx, FkLiteral.from_flyte_idl(literal), _flytekit_bundle_class())
    assert theirs.report.path == data["report"]["path"]
    assert open(theirs.report).read() == "numbers"


def test_flytekit_blob_fields_read_in_skiff(tmp_path, ctx):
    from flytekit.types.directory import FlyteDirectory
    from flytekit.types.file import FlyteFile

    report = tmp_path / "r.txt"
    report.write_text("from flytekit")
    cls = _flytekit_bundle_class()
    theirs = FlytekitEngine.to_literal(ctx, cls(report=FlyteFile(str(report)), outputs=FlyteDirectory(str(tmp_path))),
                                       cls, FlytekitEngine.to_literal_type(cls))
    ours = TypeEngine.to_python_value(theirs.to_flyte_idl(), Bundle)
    assert open(ours.report).read() == "from flytekit"


def test_missing_blob_file_names_the_path():
    with pytest.raises(TypeTransformerError, match=r"variable 'b'.*/no/such/file.*is not an existing file"):
        TypeEngine.to_literal(Bundle(report=File("/no/such/file"), outputs=Directory("/tmp")), Bundle,
                              transfer=PrefixTransfer("/tmp/skiff-test-raw"), name="variable 'b'")
