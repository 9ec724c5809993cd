"""`FlyteError`: what a workflow's on_failure handler may take as its `err` input.

Flyte passes the failed node's id and its error message to the failure node as an `ERROR`
literal (`core.Error`); flytekit spells the type `flytekit.types.error.FlyteError`, and this is
the same value: a simple type ERROR, read from and written to `scalar.error`.
"""
from __future__ import annotations

import dataclasses

UNION_TAG = "FlyteError"  # flytekit's transformer name, stamped on union variants


@dataclasses.dataclass
class FlyteError:
    message: str
    failed_node_id: str
