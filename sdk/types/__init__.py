"""The type engine: Python values and hints <-> flyteidl Literals and LiteralTypes.

Encodings follow flytekit 1.16, so literals cross between the two SDKs. Blob transfer is
injected (`transfer=`), keeping storage clients out of this package. Names are imported on
first use (PEP 562), so importing `sdk.types.blobs` alone does not load the converters.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "TypeEngine": "engine",
    "File": "blobs",
    "Directory": "blobs",
    "Transfer": "blobs",
    "StructuredDataset": "structured",
    "kwtypes": "structured",
    "FlyteError": "error",
}

__all__ = ["TypeEngine", "File", "Directory", "Transfer", "StructuredDataset", "kwtypes",
           "FlyteError"]

if TYPE_CHECKING:
    from sdk.types.blobs import Directory, File, Transfer  # noqa: F401
    from sdk.types.engine import TypeEngine  # noqa: F401
    from sdk.types.error import FlyteError  # noqa: F401
    from sdk.types.structured import StructuredDataset, kwtypes  # noqa: F401


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'sdk.types' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"sdk.types.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
