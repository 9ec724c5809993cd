"""The sandbox engine: create executions from registered specs and walk their DAGs."""
from sandbox.engine.context import EngineContext, NodeEvent
from sandbox.engine.launch import InputError, create_execution
from sandbox.engine.scheduler import run_execution

__all__ = ["EngineContext", "NodeEvent", "InputError", "create_execution", "run_execution"]
