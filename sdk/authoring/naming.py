"""Entity names as flytekit computes them: `<module>.<function>`.

The module is the file's dotted path relative to its source root, the first ancestor
directory that has no `__init__.py`; this keeps names stable whichever way a file is loaded.
"""
from __future__ import annotations

import inspect
import os
from typing import Callable

from sdk.source_tree import source_root


def module_name_for_path(path: str) -> str:
    """The dotted module name a .py file gets relative to its source root."""
    relative = os.path.relpath(os.path.abspath(path), source_root(path))
    without_ext = os.path.splitext(relative)[0]
    parts = without_ext.split(os.sep)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def module_of(function: Callable) -> str:
    """The module name of a function; a script run as __main__ is named after its file."""
    module = function.__module__
    if module == "__main__" or module is None:
        return module_name_for_path(inspect.getfile(function))
    return module


def entity_name(function: Callable) -> str:
    """`<module>.<function>`, the name a task or workflow is registered under."""
    return f"{module_of(function)}.{function.__name__}"
