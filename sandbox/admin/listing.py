"""Paging and filters of admin list requests, as flyteadmin reads them."""
from __future__ import annotations

DEFAULT_PAGE = 100


def page(items: list, request) -> tuple[list, str]:
    """One page of `items` by the request's limit and token (an offset, as a string)."""
    start = int(request.token) if request.token.isdigit() else 0
    limit = request.limit or DEFAULT_PAGE
    chunk = items[start:start + limit]
    return chunk, str(start + limit) if start + limit < len(items) else ""


def filter_value(filters: str, field: str) -> str | None:
    """The value of an `eq(field,value)` term in a flyteadmin filter string, if any."""
    for term in filters.split("+"):
        term = term.strip()
        if term.startswith(f"eq({field},") and term.endswith(")"):
            return term[len(f"eq({field},"):-1]
    return None


def filter_values(filters: str, field: str) -> set[str] | None:
    """The values an `eq(field,v)` or `value_in(field,v1;v2)` term of a flyteadmin filter
    string allows (the intersection when several terms name the field), or None."""
    allowed: set[str] | None = None
    for term in filters.split("+"):
        term = term.strip()
        for op in ("eq", "value_in"):
            if term.startswith(f"{op}({field},") and term.endswith(")"):
                text = term[len(f"{op}({field},"):-1]
                values = {text} if op == "eq" else set(text.split(";"))
                allowed = values if allowed is None else allowed & values
    return allowed
