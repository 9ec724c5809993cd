"""Structured datasets: the user-facing `StructuredDataset`, `kwtypes`, and their LiteralTypes.

A dataframe crosses tasks as a Flyte StructuredDataset literal: a URI of a directory holding
Parquet files, plus a StructuredDatasetType naming the format and, when the hint says so, the
columns. Hints follow flytekit 1.16: `pd.DataFrame`, `StructuredDataset`, or either inside
`Annotated[..., kwtypes(a=int, b=str), "parquet"]`. pandas and pyarrow are optional (the
`skiff[dataframe]` extra); nothing here imports them, and reading or writing goes through
`sdk.types.dataframes`.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime
import sys
import typing

from flyteidl.core import types_pb2

from sdk.types.problems import UnsupportedHint

PARQUET = "parquet"
CSV = "csv"
GENERIC_FORMAT = ""
# flytekit's transformer name, stamped on union variants holding a dataset.
UNION_TAG = "StructuredDataset Transformer"


def kwtypes(**columns: typing.Any) -> "collections.OrderedDict[str, typing.Any]":
    """Column names and types in order, for `Annotated[pd.DataFrame, kwtypes(a=int, b=str)]`."""
    return collections.OrderedDict(columns)


@dataclasses.dataclass(frozen=True)
class DatasetSpec:
    """What a dataset hint's annotations say: columns (name, type) in order, storage format and
    an optional Arrow schema (as flytekit serialises it)."""

    columns: tuple = ()
    format: str = GENERIC_FORMAT
    arrow_schema: typing.Any = None

    @property
    def column_names(self) -> list[str]:
        return [name for name, _ in _flatten(self.columns)]


class StructuredDataset:
    """A dataset a task passes on or reads lazily, as flytekit's StructuredDataset.

    Return `StructuredDataset(dataframe=df)` to write a dataframe, or `StructuredDataset(uri=...)`
    to pass existing Parquet data on. An input arrives unread: `sd.open(pd.DataFrame).all()`
    downloads and reads it; passing it to another task never copies the data.
    """

    def __init__(self, dataframe: typing.Any = None, uri: typing.Optional[str] = None,
                 file_format: str = GENERIC_FORMAT):
        self.dataframe = dataframe
        self.uri = uri
        self.file_format = file_format
        self._columns: typing.Optional[list[str]] = None
        self._transfer = None
        self._stored = None  # the literals_pb2.StructuredDataset this value was read from
        self._reader_type: typing.Any = None

    @classmethod
    def from_literal(cls, stored, columns, transfer) -> "StructuredDataset":
        value = cls(uri=stored.uri, file_format=stored.metadata.structured_dataset_type.format)
        value._stored = stored
        value._columns = columns or None
        value._transfer = transfer
        return value

    @property
    def literal(self):
        """The stored literal this value came from, if it came from one."""
        return self._stored

    def open(self, dataframe_type: type) -> "StructuredDataset":
        """Choose what `all()` returns: pandas.DataFrame or pyarrow.Table."""
        self._reader_type = dataframe_type
        return self

    def all(self):
        if self.dataframe is not None:
            return self.dataframe
        if self._reader_type is None:
            raise TypeError("call open(pandas.DataFrame) (or pyarrow.Table) before all(), to say what to read into")
        if not self.uri:
            raise ValueError("this StructuredDataset has neither a dataframe nor a uri to read")
        from sdk.types import dataframes

        return dataframes.read_frame(self._reader_type, self.uri, self.file_format, self._columns, self._transfer)

    def __repr__(self) -> str:
        if self.dataframe is not None:
            return f"StructuredDataset(dataframe=<{type(self.dataframe).__name__}>)"
        return f"StructuredDataset(uri={self.uri!r}, file_format={self.file_format!r})"


# ---- hints ---------------------------------------------------------------------------------


def is_dataframe_class(hint: typing.Any) -> bool:
    """pandas.DataFrame or pyarrow.Table (only if the user's code imported them)."""
    if not isinstance(hint, type):
        return False
    pandas = sys.modules.get("pandas")
    if pandas is not None and issubclass(hint, pandas.DataFrame):
        return True
    pyarrow = sys.modules.get("pyarrow")
    return pyarrow is not None and issubclass(hint, pyarrow.Table)


def is_dataset_hint(hint: typing.Any) -> bool:
    return isinstance(hint, type) and (issubclass(hint, StructuredDataset) or is_dataframe_class(hint))


def spec_from_annotations(base: typing.Any, annotations: typing.Sequence[typing.Any]) -> DatasetSpec:
    """Read columns, format and Arrow schema from `Annotated[base, ...]`, as flytekit does."""
    columns = None
    fmt = GENERIC_FORMAT
    schema = None
    pyarrow = sys.modules.get("pyarrow")
    for item in annotations:
        if isinstance(item, str):
            if fmt:
                raise UnsupportedHint(base, f"two storage formats given ({fmt!r} and {item!r}); give one")
            fmt = item
        elif isinstance(item, dict):
            if columns is not None:
                raise UnsupportedHint(base, "column types were given twice; give one kwtypes(...)")
            columns = tuple(item.items())
        elif pyarrow is not None and isinstance(item, pyarrow.Schema):
            schema = item
        elif hasattr(item, "__annotations__"):
            # a dataclass or any class whose annotations list the columns
            columns = tuple(typing.get_type_hints(item).items()) if isinstance(item, type) else tuple(
                item.__annotations__.items())
    spec = DatasetSpec(columns=columns or (), format=fmt, arrow_schema=schema)
    for name, column_type in _flatten(spec.columns):
        column_literal_type(column_type, base, name)  # reject unsupported column types early
    return spec


def _flatten(columns: typing.Iterable, parent: str = "") -> list[tuple[str, typing.Any]]:
    """Nested column groups (dicts or dataclasses) become dotted names, as flytekit flattens them."""
    result = []
    for name, value in columns:
        full = f"{parent}.{name}" if parent else name
        if isinstance(value, dict):
            result.extend(_flatten(value.items(), full))
        elif dataclasses.is_dataclass(value) and isinstance(value, type):
            result.extend(_flatten(typing.get_type_hints(value).items(), full))
        else:
            result.append((full, value))
    return result


_COLUMN_SIMPLE = {
    int: types_pb2.INTEGER,
    float: types_pb2.FLOAT,
    bool: types_pb2.BOOLEAN,
    str: types_pb2.STRING,
    datetime.datetime: types_pb2.DATETIME,
    datetime.timedelta: types_pb2.DURATION,
}
_NUMPY_SIMPLE = {
    "int32": types_pb2.INTEGER, "int64": types_pb2.INTEGER, "uint32": types_pb2.INTEGER,
    "uint64": types_pb2.INTEGER, "float32": types_pb2.FLOAT, "float64": types_pb2.FLOAT,
    "bool_": types_pb2.BOOLEAN, "datetime64": types_pb2.DATETIME, "timedelta64": types_pb2.DURATION,
    "bytes_": types_pb2.STRING, "str_": types_pb2.STRING, "object_": types_pb2.STRING,
}


def column_literal_type(column_type: typing.Any, base: typing.Any = None, name: str = "") -> types_pb2.LiteralType:
    """A column's LiteralType: scalars, numpy scalar types, list[T] and dict[str, T]."""
    if column_type in _COLUMN_SIMPLE:
        return types_pb2.LiteralType(simple=_COLUMN_SIMPLE[column_type])
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        for attr, simple in _NUMPY_SIMPLE.items():
            if column_type is getattr(numpy, attr, None):
                return types_pb2.LiteralType(simple=simple)
    origin = typing.get_origin(column_type)
    args = typing.get_args(column_type)
    if origin is list and len(args) == 1:
        return types_pb2.LiteralType(collection_type=column_literal_type(args[0], base, name))
    if origin is dict and len(args) == 2:
        return types_pb2.LiteralType(map_value_type=column_literal_type(args[1], base, name))
    raise UnsupportedHint(
        base if base is not None else column_type,
        f"column {name!r} has type {column_type!r}; dataset columns may be int, float, bool, str, datetime, "
        "timedelta, numpy scalar types, list[T] or dict[str, T]",
    )


def dataset_type(spec: DatasetSpec, fmt: typing.Optional[str] = None) -> types_pb2.StructuredDatasetType:
    """The StructuredDatasetType of a spec; `fmt` overrides the hint's format (in literals)."""
    result = types_pb2.StructuredDatasetType(
        columns=[
            types_pb2.StructuredDatasetType.DatasetColumn(name=name, literal_type=column_literal_type(t, None, name))
            for name, t in _flatten(spec.columns)
        ],
        format=spec.format if fmt is None else fmt,
    )
    if spec.arrow_schema is not None:
        result.external_schema_type = "arrow"
        result.external_schema_bytes = spec.arrow_schema.to_string().encode()
    return result


def literal_type(spec: DatasetSpec) -> types_pb2.LiteralType:
    return types_pb2.LiteralType(structured_dataset_type=dataset_type(spec))


def datasets_match(upstream: types_pb2.StructuredDatasetType, downstream: types_pb2.StructuredDatasetType,
                   columns_match: typing.Callable) -> bool:
    """Flyte's compiler rule: formats agree unless one is empty; the downstream columns are a
    subset of the upstream ones (either side without columns accepts anything)."""
    if upstream.format and downstream.format and upstream.format.lower() != downstream.format.lower():
        return False
    if not upstream.columns or not downstream.columns:
        return True
    available = {c.name: c.literal_type for c in upstream.columns}
    return all(
        c.name in available and columns_match(available[c.name], c.literal_type) for c in downstream.columns
    )
