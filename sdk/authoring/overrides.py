"""Node-level overrides: `.with_overrides(...)` on a call's outputs, as flytekit spells it.

They change one node of one workflow (its metadata and its task's resources or image), never
the task itself, so the same task may run with other settings elsewhere.
"""
from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import timedelta
from typing import Any, Optional, Union

from sdk.authoring.resources import Resources
from sdk.errors import CompileError

_UNSET: Any = object()


@dataclass(frozen=True)
class NodeOverrides:
    """Only fields that were given are set; None means "as the entity declares"."""

    name: Optional[str] = None
    retries: Optional[int] = None
    timeout: Optional[timedelta] = None  # timedelta(0) when overridden to "no timeout"
    interruptible: Optional[bool] = None
    cache: Optional[bool] = None
    cache_version: Optional[str] = None
    cache_serialize: Optional[bool] = None
    requests: Optional[Resources] = None
    limits: Optional[Resources] = None
    container_image: Optional[str] = None

    def is_empty(self) -> bool:
        return all(getattr(self, f.name) is None for f in fields(self))

    @property
    def has_resources(self) -> bool:
        return self.requests is not None or self.limits is not None


def _timeout(where: str, value: Union[int, timedelta, None]) -> timedelta:
    if value is None:
        return timedelta(0)
    if isinstance(value, bool) or not isinstance(value, (int, timedelta)):
        raise CompileError(f"{where}: timeout must be seconds (int) or a timedelta, got {value!r}")
    return value if isinstance(value, timedelta) else timedelta(seconds=value)


def merge_overrides(
    where: str,
    current: NodeOverrides,
    *,
    name: Optional[str] = None,
    retries: Optional[int] = None,
    timeout: Any = _UNSET,
    interruptible: Optional[bool] = None,
    cache: Optional[bool] = None,
    cache_version: Optional[str] = None,
    cache_serialize: Optional[bool] = None,
    requests: Optional[Resources] = None,
    limits: Optional[Resources] = None,
    container_image: Optional[str] = None,
) -> NodeOverrides:
    """`current` with the given fields replaced; errors name the node (`where`) and the option."""
    from sdk.authoring.promise import has_promises

    given = dict(name=name, retries=retries, interruptible=interruptible, cache=cache, cache_version=cache_version,
                 cache_serialize=cache_serialize, requests=requests, limits=limits, container_image=container_image)
    for option, value in given.items():
        if has_promises(value):
            raise CompileError(f"{where}: with_overrides({option}=...) needs a constant, not a promise")
    if retries is not None and (isinstance(retries, bool) or not isinstance(retries, int) or retries < 0):
        raise CompileError(f"{where}: with_overrides(retries=...) must be a whole number >= 0, got {retries!r}")
    for option in ("requests", "limits"):
        if given[option] is not None and not isinstance(given[option], Resources):
            raise CompileError(f"{where}: with_overrides({option}=...) must be sdk.Resources, got {given[option]!r}")
    if cache is True and cache_version is None:
        # As flytekit: a node cannot derive a cache version from a function it does not own.
        raise CompileError(f"{where}: with_overrides(cache=True) needs cache_version='...' as well")
    changes = {k: v for k, v in given.items() if v is not None}
    if timeout is not _UNSET:
        changes["timeout"] = _timeout(where, timeout)
    return replace(current, **changes)
