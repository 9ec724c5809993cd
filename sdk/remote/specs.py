"""Spec plumbing for the bridge: identifiers moved between domains or cleared for comparing,
and the registered specs recovered from what an admin returns (sdk.compile.uncompile)."""
from __future__ import annotations

from sdk.compile.identifiers import (  # noqa: F401 - the bridge's names for the shared ones
    KIND_NAMES, LAUNCH_PLAN, TASK, WORKFLOW, spec_identifier as spec_id, spec_identifiers,
)
from sdk.compile.package_reader import parse_spec  # noqa: F401
from sdk.compile.uncompile import normalize_template, workflow_spec_from_closure  # noqa: F401


def describe(ident) -> str:
    return (f"{KIND_NAMES.get(ident.resource_type, 'entity')} {ident.name!r} version "
            f"{ident.version!r} in {ident.project}/{ident.domain}")


def with_domain(kind: int, spec, source: str, target: str):
    """A copy of `spec` whose identifiers in domain `source` are moved to `target`."""
    copy = type(spec).FromString(spec.SerializeToString())
    for ident in spec_identifiers(kind, copy):
        if ident.domain == source:
            ident.domain = target
    return copy


def without_identifiers(kind: int, spec):
    """A copy with project, domain and version cleared everywhere (as in a package), and the
    code bundle location left as is: what "unchanged apart from identifiers" compares."""
    copy = type(spec).FromString(spec.SerializeToString())
    for ident in spec_identifiers(kind, copy):
        ident.project = ident.domain = ident.version = ""
    return copy
