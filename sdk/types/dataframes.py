"""Dataframes <-> StructuredDataset literals: Parquet files in a directory, as flytekit 1.16 writes.

flytekit's pandas and Arrow handlers write one file named `00000` into a fresh directory under
the raw output prefix and read the whole directory back (every file in it), selecting the
columns the reading task's hint names. This module does the same through the type engine's
`transfer`, so it holds no storage client. pandas/pyarrow are imported only when a dataframe is
actually written or read.
"""

from __future__ import annotations

import os
import sys
import tempfile
import typing
import uuid

from flyteidl.core import literals_pb2, types_pb2

from sdk.types.blobs import Transfer, is_remote_uri, local_path_of
from sdk.types.problems import ValueMismatch, shorten
from sdk.types.structured import CSV, GENERIC_FORMAT, PARQUET, DatasetSpec, StructuredDataset, dataset_type

_FIRST_PART = f"{0:05}"  # flytekit's name for the single file it writes


def _missing_extra(what: str) -> ValueMismatch:
    return ValueMismatch(f"{what} needs pandas and pyarrow; install them with `pip install 'skiff[dataframe]'`")


def _is_pandas(frame_type: type) -> bool:
    pandas = sys.modules.get("pandas")
    return pandas is not None and isinstance(frame_type, type) and issubclass(frame_type, pandas.DataFrame)


def _is_arrow(frame_type: type) -> bool:
    pyarrow = sys.modules.get("pyarrow")
    return pyarrow is not None and isinstance(frame_type, type) and issubclass(frame_type, pyarrow.Table)


# ---- writing -------------------------------------------------------------------------------


def write_frame(frame: typing.Any, fmt: str) -> str:
    """Write `frame` into a new local directory in `fmt`; returns the directory."""
    directory = os.path.join(tempfile.mkdtemp(prefix="skiff-dataset-"), uuid.uuid4().hex)
    os.makedirs(directory)
    if _is_pandas(type(frame)):
        if fmt == CSV:
            frame.to_csv(os.path.join(directory, ".csv"), index=False)
        else:
            # Microsecond timestamps, as flytekit writes them, so both SDKs read the same values.
            frame.to_parquet(os.path.join(directory, _FIRST_PART), coerce_timestamps="us",
                             allow_truncated_timestamps=False)
    elif _is_arrow(type(frame)):
        if fmt == CSV:
            raise ValueMismatch("a pyarrow.Table can only be stored as parquet; drop the 'csv' format")
        import pyarrow.parquet as pq

        pq.write_table(frame, os.path.join(directory, _FIRST_PART))
    else:
        raise ValueMismatch(f"{shorten(frame)} ({type(frame).__name__}) is not a pandas.DataFrame or pyarrow.Table")
    return directory


def to_literal(value: typing.Any, frame_type: type, spec: DatasetSpec,
               transfer: typing.Optional[Transfer]) -> literals_pb2.Literal:
    """A literal for a dataframe or StructuredDataset output typed by `frame_type` and `spec`."""
    if isinstance(value, StructuredDataset):
        if value.literal is not None and value.dataframe is None:
            # An input passed straight on: the same data, never copied.
            return _literal(value.literal.uri, value.literal.metadata.structured_dataset_type)
        if value.dataframe is None:
            if not value.uri:
                raise ValueMismatch("a StructuredDataset needs a dataframe or a uri")
            uri = value.uri
            if transfer is not None and not is_remote_uri(uri):
                uri = transfer.upload(uri, os.path.isdir(uri))
            return _literal(uri, dataset_type(spec, spec.format or value.file_format))
        frame = value.dataframe
        fmt = spec.format or value.file_format or PARQUET
    elif issubclass(frame_type, StructuredDataset):
        raise ValueMismatch(
            f"expected a StructuredDataset, got {type(value).__name__}; wrap the dataframe: "
            "StructuredDataset(dataframe=df)"
        )
    else:
        if not isinstance(value, frame_type):
            raise ValueMismatch(f"{shorten(value)} ({type(value).__name__}) is not a {frame_type.__name__}",
                                generic=True)
        frame = value
        fmt = spec.format or PARQUET
    if fmt not in (PARQUET, CSV):
        raise ValueMismatch(f"Skiff writes datasets as parquet or csv, not {fmt!r}; change the format annotation")
    try:
        directory = write_frame(frame, fmt)
    except ImportError as exc:
        raise _missing_extra("writing a dataframe") from exc
    uri = transfer.upload(directory, True) if transfer is not None else directory
    return _literal(uri, dataset_type(spec, fmt))


def _literal(uri: str, sd_type) -> literals_pb2.Literal:
    stored = literals_pb2.StructuredDataset(
        uri=uri, metadata=literals_pb2.StructuredDatasetMetadata(structured_dataset_type=sd_type)
    )
    return literals_pb2.Literal(scalar=literals_pb2.Scalar(structured_dataset=stored))


def stored_dataset(uri: str, fmt: str) -> literals_pb2.StructuredDataset:
    """A stored dataset known only by URI and format (as a dataclass field carries it)."""
    return _literal(uri, types_pb2.StructuredDatasetType(format=fmt)).scalar.structured_dataset


# ---- reading -------------------------------------------------------------------------------


def to_python(stored: literals_pb2.StructuredDataset, frame_type: type, spec: DatasetSpec,
              transfer: typing.Optional[Transfer]):
    """A dataframe (read now) or a StructuredDataset (read on `.all()`) for a stored dataset."""
    # The reader's own columns win; without them, the columns the producer recorded.
    columns = spec.column_names or [c.name for c in stored.metadata.structured_dataset_type.columns]
    if issubclass(frame_type, StructuredDataset):
        return frame_type.from_literal(stored, columns if spec.column_names else None, transfer)
    fmt = stored.metadata.structured_dataset_type.format
    return read_frame(frame_type, stored.uri, fmt, spec.column_names or None, transfer)


def read_frame(frame_type: type, uri: str, fmt: str, columns: typing.Optional[list[str]],
               transfer: typing.Optional[Transfer]):
    """Read the dataset at `uri` into `frame_type`, keeping only `columns` when given."""
    if fmt not in (PARQUET, CSV, GENERIC_FORMAT):
        raise ValueMismatch(f"the dataset at {uri} is stored as {fmt!r}; Skiff reads parquet and csv")
    if not (_is_pandas(frame_type) or _is_arrow(frame_type)):
        if "pandas" not in sys.modules and "pyarrow" not in sys.modules:
            raise _missing_extra(f"reading the dataset at {uri}")
        raise ValueMismatch(f"cannot read a dataset into {frame_type!r}; use pandas.DataFrame or pyarrow.Table")
    path = _local_copy(uri, transfer)
    try:
        if fmt == CSV:
            if not _is_pandas(frame_type):
                raise ValueMismatch(f"the dataset at {uri} is csv; read it as a pandas.DataFrame")
            import pandas

            csv_path = os.path.join(path, ".csv") if os.path.isdir(path) else path
            return pandas.read_csv(csv_path, usecols=columns)
        if _is_pandas(frame_type):
            import pandas

            return pandas.read_parquet(path, columns=columns)
        import pyarrow.parquet as pq

        return pq.read_table(path, columns=columns)
    except ImportError as exc:
        raise _missing_extra(f"reading the dataset at {uri}") from exc
    except (KeyError, ValueError, OSError) as exc:
        if isinstance(exc, ValueMismatch):
            raise
        wanted = f" (columns {columns})" if columns else ""
        raise ValueMismatch(f"cannot read the dataset at {uri}{wanted}: {exc}") from exc


def _local_copy(uri: str, transfer: typing.Optional[Transfer]) -> str:
    """A local path holding the dataset: the path itself, or a download of a remote one."""
    if not is_remote_uri(uri) or uri.startswith("file://"):
        return local_path_of(uri)
    if transfer is None:
        raise ValueMismatch(f"the dataset at {uri} is in remote storage and no transfer was given to download it")
    target = os.path.join(tempfile.mkdtemp(prefix="skiff-dataset-"), "data")
    transfer.download(uri, target, True)
    if not os.path.isdir(target) or not os.listdir(target):
        # Not a prefix of files: a single file, e.g. StructuredDataset(uri="s3://.../df.parquet").
        name = os.path.basename(uri.rstrip("/")) or "data.parquet"
        target = os.path.join(tempfile.mkdtemp(prefix="skiff-dataset-"), name)
        transfer.download(uri, target, False)
    return target
