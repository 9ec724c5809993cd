"""Pydantic (v2) models, carried as flytekit 1.16's pydantic transformer carries them.

A model is a STRUCT LiteralType whose metadata is the model's own JSON schema, whose structure
lists each field's LiteralType, and whose value is msgpack of the model's JSON dump (so enums,
datetimes and nested models take their JSON form). Pydantic is optional: nothing here imports it;
a hint can only be a model if the user's code already imported pydantic.
"""

from __future__ import annotations

import sys
import typing

from sdk.types.blobs import PYDANTIC_TRANSFER_KEY, Transfer
from sdk.types.problems import ValueMismatch, shorten

# flytekit's transformer name, which it stamps on union variants holding a model.
UNION_TAG = "Pydantic Transformer"


def is_model_class(hint: typing.Any) -> bool:
    pydantic = sys.modules.get("pydantic")
    if pydantic is None or not isinstance(hint, type):
        return False
    return issubclass(hint, pydantic.BaseModel)


def json_schema(cls: type) -> dict:
    return cls.model_json_schema()


def field_hints(cls: type) -> list[tuple[str, typing.Any]]:
    """(field name, annotation) in declaration order, as pydantic resolved them."""
    return [(name, info.annotation) for name, info in cls.model_fields.items()]


def _context(transfer, **extra) -> dict:
    # File/Directory fields find the blob transfer here (see sdk.types.blobs).
    return {PYDANTIC_TRANSFER_KEY: transfer, **extra}


def to_plain(value: typing.Any, cls: type, transfer: typing.Optional[Transfer] = None) -> typing.Any:
    """The model as JSON-compatible Python data (pydantic's JSON mode)."""
    if not isinstance(value, cls):
        raise ValueMismatch(f"{shorten(value)} ({type(value).__name__}) is not a {cls.__name__} instance", generic=True)
    try:
        import json

        return json.loads(value.model_dump_json(context=_context(transfer)))
    except Exception as exc:  # pydantic's serialisation errors have no common public base
        raise ValueMismatch(f"{cls.__name__} cannot be serialised to JSON: {_first_line(exc)}") from exc


def from_plain(obj: typing.Any, cls: type, transfer: typing.Optional[Transfer] = None) -> typing.Any:
    """Validate JSON-compatible data into the model (the JSON form flytekit writes)."""
    try:
        import json

        return cls.model_validate_json(json.dumps(obj), strict=False, context=_context(transfer, deserialize=True))
    except (TypeError, ValueError) as exc:  # pydantic.ValidationError is a ValueError
        raise ValueMismatch(f"the data does not validate as {cls.__name__}: {_validation_summary(exc)}") from exc


def _validation_summary(exc: Exception) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        try:
            first = errors()[0]
            where = ".".join(str(part) for part in first.get("loc", ())) or "(model)"
            more = len(errors()) - 1
            suffix = f" (and {more} more)" if more else ""
            return f"{where}: {first.get('msg', '')}{suffix}"
        except Exception:
            pass
    return _first_line(exc)


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
