"""Resource requests/limits and secret requests, as a task declares them."""
from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Optional


@dataclass(frozen=True)
class Resources:
    """Kubernetes-style quantities ("500m", "1Gi"); unset fields are left out of the spec."""

    cpu: Optional[str] = None
    mem: Optional[str] = None
    gpu: Optional[str] = None
    ephemeral_storage: Optional[str] = None

    def items(self) -> list[tuple[str, str]]:
        """The set quantities as (field name, value) pairs, values as strings."""
        return [(f.name, str(getattr(self, f.name))) for f in fields(self) if getattr(self, f.name) is not None]


@dataclass(frozen=True)
class Secret:
    """A secret the task needs at run time; it reaches the container as Flyte delivers secrets."""

    group: str
    key: Optional[str] = None
    group_version: Optional[str] = None
