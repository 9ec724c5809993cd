"""Classify a Python type hint into the kinds of Flyte literal the engine knows.

Every other module dispatches on `Hint.kind`, so the rules for reading a hint (Annotated, Optional,
`X | Y`, bare generics, enums with str values) live in this one place.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import functools
import types
import typing

from sdk.types import error, pydantic_models, structured
from sdk.types.blobs import Directory, File
from sdk.types.problems import UnsupportedHint


class Kind(enum.Enum):
    INT = "int"
    FLOAT = "float"
    STR = "str"
    BOOL = "bool"
    BYTES = "bytes"
    DATETIME = "datetime"
    TIMEDELTA = "timedelta"
    NONE = "none"
    LIST = "list"
    MAP = "map"  # dict[str, T]: a literal map
    STRUCT_DICT = "struct_dict"  # bare dict or dict[K, V] with non-str keys: msgpack, as flytekit does
    UNION = "union"
    ENUM = "enum"
    DATACLASS = "dataclass"
    PYDANTIC = "pydantic"  # a pydantic v2 BaseModel subclass
    DATAFRAME = "dataframe"  # pandas.DataFrame / pyarrow.Table; args: (DatasetSpec,)
    STRUCTURED_DATASET = "structured_dataset"  # sdk.types.StructuredDataset; args: (DatasetSpec,)
    FILE = "file"
    DIRECTORY = "directory"
    ERROR = "error"  # sdk.types.FlyteError, the failure handler's err


SUPPORTED = (
    "int, float, str, bool, bytes, datetime, timedelta, None, list[T], dict[str, T], dict, "
    "Optional[T], Union[...], Enum with str values, dataclasses, pydantic models, File, Directory, "
    "pandas.DataFrame, pyarrow.Table, StructuredDataset, FlyteError"
)

# Flytekit stamps each union variant with the name of the transformer that produced it and
# matches on it when reading a union back, so these must equal flytekit's transformer names.
UNION_TAGS = {
    Kind.INT: "int",
    Kind.FLOAT: "float",
    Kind.STR: "str",
    Kind.BOOL: "bool",
    Kind.BYTES: "bytes",  # flytekit has no bytes transformer (it pickles); Skiff's own name
    Kind.DATETIME: "datetime",
    Kind.TIMEDELTA: "timedelta",
    Kind.NONE: "none",
    Kind.LIST: "Typed List",
    Kind.MAP: "Typed Dict",
    Kind.STRUCT_DICT: "Typed Dict",
    Kind.UNION: "Typed Union",
    Kind.ENUM: "DefaultEnumTransformer",
    Kind.DATACLASS: "Object-Dataclass-Transformer",
    Kind.PYDANTIC: pydantic_models.UNION_TAG,
    Kind.DATAFRAME: structured.UNION_TAG,
    Kind.STRUCTURED_DATASET: structured.UNION_TAG,
    Kind.FILE: "FlyteFilePath",
    Kind.DIRECTORY: "FlyteDirectory",
    Kind.ERROR: error.UNION_TAG,
}

_SCALARS = {
    bool: Kind.BOOL,
    int: Kind.INT,
    float: Kind.FLOAT,
    str: Kind.STR,
    bytes: Kind.BYTES,
    datetime.datetime: Kind.DATETIME,
    datetime.timedelta: Kind.TIMEDELTA,
}


@dataclasses.dataclass(frozen=True)
class Hint:
    kind: Kind
    python_type: typing.Any  # the hint with Annotated stripped
    args: tuple = ()  # LIST/MAP: (item,), UNION: variants, STRUCT_DICT: (key, value) or ()

    @property
    def tag(self) -> str:
        return UNION_TAGS[self.kind]


def strip_annotated(hint: typing.Any) -> typing.Any:
    while typing.get_origin(hint) is typing.Annotated:
        hint = typing.get_args(hint)[0]
    return hint


def is_union(hint: typing.Any) -> bool:
    return typing.get_origin(hint) is typing.Union or isinstance(hint, types.UnionType)


_CLASSIFIED: dict = {}


def cache_key(hint: typing.Any) -> tuple:
    """A dict key for a hint. The repr is part of it because typing considers Union[int, str]
    equal to Union[str, int], while the order of a union's members is part of its LiteralType."""
    return (hint, repr(hint))


def classify(hint: typing.Any) -> Hint:
    """The kind of `hint`; raises UnsupportedHint for anything Flyte cannot carry."""
    # Cached: converting a list of a million dataclasses classifies the same hints each time.
    try:
        key = cache_key(hint)
        return _CLASSIFIED[key]
    except KeyError:
        info = _classify(hint)
        _CLASSIFIED[key] = info
        return info
    except TypeError:  # unhashable, e.g. Annotated with a dict: classify every time
        return _classify(hint)


def _classify(hint: typing.Any) -> Hint:
    dataset = _classify_dataset(hint)
    if dataset is not None:
        return dataset
    hint = strip_annotated(hint)
    if hint is None or hint is type(None):
        return Hint(Kind.NONE, type(None))
    if is_union(hint):
        return Hint(Kind.UNION, hint, typing.get_args(hint))
    origin = typing.get_origin(hint)
    if origin is list:
        args = typing.get_args(hint)
        if len(args) != 1:
            raise UnsupportedHint(hint, "a list needs its item type, e.g. list[int]")
        return Hint(Kind.LIST, hint, args)
    if origin is dict:
        args = typing.get_args(hint)
        if len(args) == 2 and args[0] is str:
            return Hint(Kind.MAP, hint, (args[1],))
        return Hint(Kind.STRUCT_DICT, hint, args)
    if hint is dict or hint is typing.Dict:
        return Hint(Kind.STRUCT_DICT, dict, ())
    if hint is list or hint is typing.List:
        raise UnsupportedHint(hint, "a list needs its item type, e.g. list[int]")
    if not isinstance(hint, type):
        raise UnsupportedHint(hint)
    # Enums first: `class Color(str, Enum)` must not be read as a str.
    if issubclass(hint, enum.Enum):
        values = [member.value for member in hint]
        if not values or not all(isinstance(v, str) for v in values):
            raise UnsupportedHint(hint, "only Enums whose values are all strings are supported")
        return Hint(Kind.ENUM, hint)
    if issubclass(hint, File):
        return Hint(Kind.FILE, hint)
    if issubclass(hint, Directory):
        return Hint(Kind.DIRECTORY, hint)
    if hint is error.FlyteError:  # a dataclass, but not carried as one
        return Hint(Kind.ERROR, hint)
    if pydantic_models.is_model_class(hint):
        return Hint(Kind.PYDANTIC, hint)
    if dataclasses.is_dataclass(hint):
        return Hint(Kind.DATACLASS, hint)
    if hint in _SCALARS:
        return Hint(_SCALARS[hint], hint)
    raise UnsupportedHint(hint)


def _classify_dataset(hint: typing.Any) -> typing.Optional[Hint]:
    """Datasets keep their annotations (columns, format), which every other kind ignores."""
    annotations: tuple = ()
    base = hint
    if typing.get_origin(hint) is typing.Annotated:
        base, *rest = typing.get_args(hint)
        annotations = tuple(rest)
    if not structured.is_dataset_hint(base):
        return None
    spec = structured.spec_from_annotations(base, annotations)
    kind = Kind.STRUCTURED_DATASET if issubclass(base, structured.StructuredDataset) else Kind.DATAFRAME
    return Hint(kind, base, (spec,))


@functools.lru_cache(maxsize=None)
def dataclass_field_hints(cls: type) -> list[tuple[dataclasses.Field, typing.Any]]:
    """(field, resolved hint) for each dataclass field, resolving string annotations."""
    try:
        resolved = typing.get_type_hints(cls, include_extras=True)
    except Exception as exc:  # a forward reference that cannot be resolved
        raise UnsupportedHint(cls, f"cannot resolve the field annotations of {cls.__name__}: {exc}") from exc
    return [(f, resolved.get(f.name, f.type)) for f in dataclasses.fields(cls)]
