"""core.Identifier for each entity kind: resource type and name; project, domain and version are
left empty for registration to fill."""
from __future__ import annotations

from flyteidl.core import identifier_pb2


def task_identifier(name: str) -> identifier_pb2.Identifier:
    return identifier_pb2.Identifier(resource_type=identifier_pb2.TASK, name=name)


def workflow_identifier(name: str) -> identifier_pb2.Identifier:
    return identifier_pb2.Identifier(resource_type=identifier_pb2.WORKFLOW, name=name)


def launch_plan_identifier(name: str) -> identifier_pb2.Identifier:
    return identifier_pb2.Identifier(resource_type=identifier_pb2.LAUNCH_PLAN, name=name)
