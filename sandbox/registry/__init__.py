"""The local registry: reading packages and registering their specs in the store."""
from sandbox.registry.lookup import EntityNotFound, find_any, get_spec
from sdk.compile.package_reader import LAUNCH_PLAN, TASK, WORKFLOW, Package, read_package
from sandbox.registry.register import Registration, register_package

__all__ = ["read_package", "register_package", "get_spec", "find_any", "Package",
           "Registration", "EntityNotFound", "TASK", "WORKFLOW", "LAUNCH_PLAN"]
