"""Structured datasets: pandas/pyarrow as Parquet, typed and encoded as flytekit 1.16 does.

Cross-SDK: LiteralTypes are equal protobufs, a literal flytekit writes decodes in Skiff to the
same DataFrame and the other way round. The `skiff[dataframe]` extra (pandas, pyarrow) is
optional: without it this module is skipped.
"""

from __future__ import annotations

import dataclasses
import datetime
import os
import typing
from typing import Annotated

import pytest

pd = pytest.importorskip("pandas", reason="pandas is not installed: install the skiff[dataframe] extra")
pa = pytest.importorskip("pyarrow", reason="pyarrow is not installed: install the skiff[dataframe] extra")
import numpy as np  # noqa: E402  (a pandas dependency)

from flytekit import kwtypes as fk_kwtypes  # noqa: E402
from flytekit.core.context_manager import FlyteContextManager  # noqa: E402
from flytekit.core.type_engine import TypeEngine as FlytekitEngine  # noqa: E402
from flytekit.models.literals import Literal as FkLiteral  # noqa: E402
from flytekit.types.structured import StructuredDataset as FkDataset  # noqa: E402

from sdk.errors import TypeTransformerError  # noqa: E402
from sdk.io import PrefixTransfer  # noqa: E402
from sdk.types import StructuredDataset, TypeEngine, kwtypes  # noqa: E402


def frame() -> "pd.DataFrame":
    return pd.DataFrame({
        "id": [1, 2, 3],
        "name": ["a", "b", "c"],
        "score": [0.5, 1.5, 2.5],
        "ok": [True, False, True],
        "when": pd.to_datetime(["2024-01-01 10:00:00", "2024-02-03 04:05:06", "2024-12-31 23:59:59"]),
    })


COLUMNS = dict(id=int, name=str, score=float, ok=bool, when=datetime.datetime)

TYPE_PAIRS = [
    ("dataframe", pd.DataFrame, pd.DataFrame),
    ("columns", Annotated[pd.DataFrame, kwtypes(**COLUMNS)], Annotated[pd.DataFrame, fk_kwtypes(**COLUMNS)]),
    ("format", Annotated[pd.DataFrame, "parquet"], Annotated[pd.DataFrame, "parquet"]),
    ("dataset", StructuredDataset, FkDataset),
    ("dataset-columns", Annotated[StructuredDataset, kwtypes(a=int, b=float)],
     Annotated[FkDataset, fk_kwtypes(a=int, b=float)]),
    ("nested-columns", Annotated[StructuredDataset, kwtypes(xs=typing.List[int], m=typing.Dict[str, float],
                                                            t=datetime.timedelta, n=np.int32)],
     Annotated[FkDataset, fk_kwtypes(xs=typing.List[int], m=typing.Dict[str, float], t=datetime.timedelta,
                                     n=np.int32)]),
    ("grouped-columns", Annotated[StructuredDataset, {"a": int, "g": {"x": float, "y": str}}],
     Annotated[FkDataset, {"a": int, "g": {"x": float, "y": str}}]),
    ("arrow", pa.Table, pa.Table),
    ("optional", typing.Optional[pd.DataFrame], typing.Optional[pd.DataFrame]),
    ("list", typing.List[pd.DataFrame], typing.List[pd.DataFrame]),
]


@pytest.fixture(scope="module")
def ctx():
    return FlyteContextManager.current_context()


@pytest.mark.parametrize("ours,theirs", [p[1:] for p in TYPE_PAIRS], ids=[p[0] for p in TYPE_PAIRS])
def test_literal_types_equal_flytekits(ours, theirs):
    assert TypeEngine.to_literal_type(ours) == FlytekitEngine.to_literal_type(theirs).to_flyte_idl()


def test_arrow_schema_annotation_is_carried_as_flytekit_carries_it():
    schema = pa.schema([("a", pa.int64())])
    ours = TypeEngine.to_literal_type(Annotated[pd.DataFrame, schema])
    theirs = FlytekitEngine.to_literal_type(Annotated[pd.DataFrame, schema]).to_flyte_idl()
    assert ours == theirs
    assert ours.structured_dataset_type.external_schema_type == "arrow"


def _without_uri(literal):
    copy = type(literal)()
    copy.CopyFrom(literal)
    copy.scalar.structured_dataset.uri = ""
    return copy


@pytest.mark.parametrize("ours,theirs", [TYPE_PAIRS[0][1:], TYPE_PAIRS[1][1:], TYPE_PAIRS[2][1:]],
                         ids=["dataframe", "columns", "format"])
def test_literals_match_flytekits_apart_from_the_uri(ours, theirs, ctx):
    mine = TypeEngine.to_literal(frame(), ours)
    flytekits = FlytekitEngine.to_literal(ctx, frame(), theirs, FlytekitEngine.to_literal_type(theirs)).to_flyte_idl()
    assert _without_uri(mine) == _without_uri(flytekits)
    assert mine.scalar.structured_dataset.metadata.structured_dataset_type.format == "parquet"
    # Both write one Parquet file named 00000 into a fresh directory.
    assert os.listdir(mine.scalar.structured_dataset.uri) == os.listdir(flytekits.scalar.structured_dataset.uri)


def test_flytekit_parquet_literal_decodes_to_the_same_dataframe(ctx):
    hint = Annotated[pd.DataFrame, fk_kwtypes(**COLUMNS)]
    theirs = FlytekitEngine.to_literal(ctx, frame(), hint, FlytekitEngine.to_literal_type(hint)).to_flyte_idl()
    read = TypeEngine.to_python_value(theirs, Annotated[pd.DataFrame, kwtypes(**COLUMNS)])
    pd.testing.assert_frame_equal(read, frame(), check_dtype=False)
    assert list(read["when"]) == list(frame()["when"])


def test_skiff_parquet_literal_decodes_in_flytekit(ctx):
    ours = TypeEngine.to_literal(frame(), pd.DataFrame)
    read = FlytekitEngine.to_python_value(ctx, FkLiteral.from_flyte_idl(ours), pd.DataFrame)
    pd.testing.assert_frame_equal(read, frame(), check_dtype=False)


def test_flytekit_structured_dataset_reads_as_skiff_structured_dataset(ctx):
    theirs = FlytekitEngine.to_literal(ctx, FkDataset(dataframe=frame()), FkDataset,
                                       FlytekitEngine.to_literal_type(FkDataset)).to_flyte_idl()
    dataset = TypeEngine.to_python_value(theirs, StructuredDataset)
    assert dataset.file_format == "parquet"
    pd.testing.assert_frame_equal(dataset.open(pd.DataFrame).all(), frame(), check_dtype=False)


def test_reader_columns_select_a_subset():
    ours = TypeEngine.to_literal(frame(), Annotated[pd.DataFrame, kwtypes(**COLUMNS)])
    read = TypeEngine.to_python_value(ours, Annotated[pd.DataFrame, kwtypes(name=str, id=int)])
    assert list(read.columns) == ["name", "id"]
    assert list(read["name"]) == ["a", "b", "c"]
    lazy = TypeEngine.to_python_value(ours, Annotated[StructuredDataset, kwtypes(score=float)])
    assert list(lazy.open(pd.DataFrame).all().columns) == ["score"]


def test_arrow_table_round_trips_and_reads_as_pandas():
    table = pa.table({"x": [1, 2], "y": ["p", "q"]})
    literal = TypeEngine.to_literal(table, pa.Table)
    assert TypeEngine.to_python_value(literal, pa.Table).equals(table)
    assert list(TypeEngine.to_python_value(literal, pd.DataFrame)["y"]) == ["p", "q"]


def test_csv_format_round_trips():
    hint = Annotated[pd.DataFrame, "csv"]
    literal = TypeEngine.to_literal(frame()[["id", "name"]], hint)
    assert literal.scalar.structured_dataset.metadata.structured_dataset_type.format == "csv"
    pd.testing.assert_frame_equal(TypeEngine.to_python_value(literal, hint), frame()[["id", "name"]])


def test_dataset_output_goes_under_the_transfer_prefix(tmp_path):
    transfer = PrefixTransfer(str(tmp_path / "raw"))
    literal = TypeEngine.to_literal(frame(), pd.DataFrame, transfer=transfer)
    uri = literal.scalar.structured_dataset.uri
    assert uri.startswith(str(tmp_path / "raw") + "/")
    assert os.listdir(uri) == ["00000"]
    pd.testing.assert_frame_equal(TypeEngine.to_python_value(literal, pd.DataFrame, transfer=transfer), frame())


def test_passing_an_input_dataset_on_never_copies_it(tmp_path):
    transfer = PrefixTransfer(str(tmp_path / "raw"))
    literal = TypeEngine.to_literal(frame(), Annotated[pd.DataFrame, kwtypes(id=int)], transfer=transfer)
    dataset = TypeEngine.to_python_value(literal, StructuredDataset, transfer=transfer)
    again = TypeEngine.to_literal(dataset, StructuredDataset, transfer=transfer)
    assert again == literal
    assert os.listdir(tmp_path / "raw") == os.listdir(tmp_path / "raw")[:1]  # one upload only


def test_structured_dataset_from_an_existing_uri(tmp_path):
    path = tmp_path / "data.parquet"
    frame().to_parquet(path)
    literal = TypeEngine.to_literal(StructuredDataset(uri=str(path), file_format="parquet"), StructuredDataset)
    assert literal.scalar.structured_dataset.uri == str(path)
    assert literal.scalar.structured_dataset.metadata.structured_dataset_type.format == "parquet"
    read = TypeEngine.to_python_value(literal, pd.DataFrame)
    pd.testing.assert_frame_equal(read, frame())


def test_types_compatible_as_flytes_compiler_rules():
    wide = TypeEngine.to_literal_type(Annotated[pd.DataFrame, kwtypes(a=int, b=str)])
    narrow = TypeEngine.to_literal_type(Annotated[pd.DataFrame, kwtypes(b=str)])
    other = TypeEngine.to_literal_type(Annotated[pd.DataFrame, kwtypes(c=str)])
    wrong_type = TypeEngine.to_literal_type(Annotated[pd.DataFrame, kwtypes(a=str)])
    untyped = TypeEngine.to_literal_type(pd.DataFrame)
    csv = TypeEngine.to_literal_type(Annotated[pd.DataFrame, "csv"])
    parquet = TypeEngine.to_literal_type(Annotated[pd.DataFrame, "parquet"])
    assert TypeEngine.literal_types_match(wide, narrow)
    assert not TypeEngine.literal_types_match(narrow, wide)
    assert not TypeEngine.literal_types_match(wide, other)
    assert not TypeEngine.literal_types_match(wide, wrong_type)
    assert TypeEngine.literal_types_match(untyped, wide) and TypeEngine.literal_types_match(wide, untyped)
    assert not TypeEngine.literal_types_match(csv, parquet)
    assert TypeEngine.literal_types_match(csv, untyped)
    assert not TypeEngine.literal_types_match(untyped, TypeEngine.to_literal_type(int))


def test_guess_python_type_is_structured_dataset():
    assert TypeEngine.guess_python_type(TypeEngine.to_literal_type(pd.DataFrame)) is StructuredDataset


def test_raw_dataframe_for_a_structured_dataset_says_to_wrap_it():
    with pytest.raises(TypeTransformerError, match=r"t\.f, variable 'o'.*wrap the dataframe: "
                                                   r"StructuredDataset\(dataframe=df\)"):
        TypeEngine.to_literal(frame(), StructuredDataset, name="t.f, variable 'o'")


def test_wrong_value_for_a_dataframe_names_the_type():
    with pytest.raises(TypeTransformerError, match=r"variable 'o': value \[1, 2\] \(list\) does not match the type "
                                                   r"DataFrame"):
        TypeEngine.to_literal([1, 2], pd.DataFrame, name="variable 'o'")


def test_unsupported_column_type_names_the_column():
    with pytest.raises(TypeTransformerError, match=r"variable 'df': .*column 'blob' has type <class 'bytes'>"):
        TypeEngine.to_literal_type(Annotated[pd.DataFrame, kwtypes(blob=bytes)], name="variable 'df'")


# Built at run time so its field types are classes, not strings: flytekit reads a column group's
# raw annotations, which this module's `from __future__ import annotations` would turn into text.
Position = dataclasses.make_dataclass("Position", [("lat", float), ("lon", float)])


def test_dataclass_column_group_flattens_as_flytekits():
    ours = TypeEngine.to_literal_type(Annotated[pd.DataFrame, kwtypes(id=int, pos=Position)])
    theirs = FlytekitEngine.to_literal_type(Annotated[pd.DataFrame, fk_kwtypes(id=int, pos=Position)])
    assert [c.name for c in ours.structured_dataset_type.columns] == ["id", "pos.lat", "pos.lon"]
    assert ours == theirs.to_flyte_idl()


def test_missing_column_names_the_dataset_and_column():
    literal = TypeEngine.to_literal(frame(), pd.DataFrame)
    with pytest.raises(TypeTransformerError, match=r"variable 'df'.*cannot read the dataset at .*columns \['nope'\]"):
        TypeEngine.to_python_value(literal, Annotated[pd.DataFrame, kwtypes(nope=int)], name="variable 'df'")


def test_a_non_dataset_literal_is_rejected():
    with pytest.raises(TypeTransformerError, match=r"the literal holds an integer, expected DataFrame"):
        TypeEngine.to_python_value(TypeEngine.to_literal(3, int), pd.DataFrame)


@dataclasses.dataclass
class Holder:
    data: StructuredDataset
    n: int = 0


@dataclasses.dataclass
class FkHolder:
    data: FkDataset
    n: int = 0


def test_dataset_field_of_a_dataclass_is_typed_as_flytekits():
    ours = TypeEngine.to_literal_type(Holder)
    theirs = FlytekitEngine.to_literal_type(FkHolder).to_flyte_idl()
    ours.metadata["title"] = "FkHolder"  # the only difference: the class names
    assert ours == theirs


def test_dataset_field_crosses_between_the_sdks(ctx):
    theirs = FlytekitEngine.to_literal(ctx, FkHolder(data=FkDataset(dataframe=frame()), n=2), FkHolder,
                                       FlytekitEngine.to_literal_type(FkHolder)).to_flyte_idl()
    holder = TypeEngine.to_python_value(theirs, Holder)
    assert holder.n == 2 and holder.data.file_format == "parquet"
    pd.testing.assert_frame_equal(holder.data.open(pd.DataFrame).all(), frame(), check_dtype=False)

    ours = TypeEngine.to_literal(Holder(data=StructuredDataset(dataframe=frame()), n=5), Holder)
    back = FlytekitEngine.to_python_value(ctx, FkLiteral.from_flyte_idl(ours), FkHolder)
    assert back.n == 5
    pd.testing.assert_frame_equal(back.data.open(pd.DataFrame).all(), frame(), check_dtype=False)


def test_dataframe_field_of_a_dataclass_says_to_use_structured_dataset():
    @dataclasses.dataclass
    class Bad:
        df: pd.DataFrame

    with pytest.raises(TypeTransformerError, match="use StructuredDataset"):
        TypeEngine.to_literal_type(Bad)
