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
