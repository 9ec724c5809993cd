"""Reading a function's docstring the way flytekit's descriptions use it.

The first line is the short description, the rest (minus `:param x:` fields) the long one;
`:param x: text` gives input x its description, `:return: text` the outputs'.
"""
from __future__ import annotations

import inspect
import re
from dataclasses import dataclass, field
from typing import Optional

_PARAM = re.compile(r"^:param\s+(\w+):\s*(.*)$")
_RETURN = re.compile(r"^:returns?:\s*(.*)$")


@dataclass(frozen=True)
class Docstring:
    short_description: str = ""
    long_description: str = ""
    input_descriptions: dict[str, str] = field(default_factory=dict)


def parse_docstring(text: Optional[str]) -> Docstring:
    if not text:
        return Docstring()
    lines = inspect.cleandoc(text).splitlines()
    prose: list[str] = []
    params: dict[str, str] = {}
    current: Optional[str] = None
    for line in lines:
        param = _PARAM.match(line.strip())
        if param:
            current = param.group(1)
            params[current] = param.group(2).strip()
            continue
        if _RETURN.match(line.strip()):
            current = None
            continue
        if current is not None and line.startswith((" ", "\t")) and line.strip():
            params[current] = f"{params[current]} {line.strip()}".strip()
            continue
        current = None
        prose.append(line)
    short = prose[0].strip() if prose else ""
    long = "\n".join(prose[1:]).strip()
    return Docstring(short, long, params)
