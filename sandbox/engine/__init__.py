"""The sandbox engine: create executions from registered specs and walk their DAGs.

For other parts (the CLI, the admin, the console): `terminate_execution(store, id, cause)`
stops an execution whichever engine runs it, and `read_node_log(store, id, node, offset)`
reads a node's container output, stored while it runs, from an offset (follow it by reading
again from offset + len(text) while the node's state is unfinished).
"""
from sandbox.engine.abort import ExecutionAborted, terminate_execution
from sandbox.engine.context import EngineContext, NodeEvent
from sandbox.engine.launch import InputError, create_execution
from sandbox.engine.live_logs import read_node_log
from sandbox.engine.scheduler import run_execution

__all__ = ["EngineContext", "ExecutionAborted", "NodeEvent", "InputError", "create_execution",
           "read_node_log", "run_execution", "terminate_execution"]
