"""Flyte's AdminService over the sandbox: entity, execution and project RPCs in one servicer."""
from __future__ import annotations

from flyteidl.service import admin_pb2_grpc

from sandbox.admin.entities import EntityRpcs
from sandbox.admin.executions import ExecutionRpcs
from sandbox.admin.node_tree import RecentTrees
from sandbox.admin.projects import ProjectRpcs
from sandbox.admin.repository import AdminRepository
from sandbox.admin.runner import Launcher


class AdminService(EntityRpcs, ExecutionRpcs, ProjectRpcs, admin_pb2_grpc.AdminServiceServicer):
    """RPCs not implemented here fall through to the generated servicer (UNIMPLEMENTED)."""

    def __init__(self, state, store, objects):
        self.state = state
        self.store = store
        self.objects = objects
        self.repo = AdminRepository(store)
        self.launcher = Launcher(state, self.repo)
        self.ended_trees = RecentTrees()  # node executions of ended runs, as FlyteRemote reads them
