"""Where a workflow file's source tree starts, as flytekit decides it: the first ancestor
directory of the file that has no `__init__.py`. Entity names, the code bundle and the
compiled-package cache all start from it. Standard library only: a cached `skiff run` needs it
without loading the authoring decorators."""
from __future__ import annotations

import os


def source_root(path: str) -> str:
    """The first ancestor directory of `path` that is not a package."""
    directory = os.path.dirname(os.path.abspath(path))
    while os.path.exists(os.path.join(directory, "__init__.py")):
        parent = os.path.dirname(directory)
        if parent == directory:
            break
        directory = parent
    return directory
