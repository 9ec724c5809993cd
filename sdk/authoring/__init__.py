"""What a workflow author writes: tasks, workflows, launch plans, control flow and their options."""
from sdk.authoring.condition import conditional
from sdk.authoring.dynamic import DynamicTask, dynamic
from sdk.authoring.gates import approve, sleep, wait_for_input
from sdk.authoring.launch_plan import LaunchPlan
from sdk.authoring.local_run import GateAnswers, run_locally
from sdk.authoring.map_task import MapTask, map_task
from sdk.authoring.resources import Resources, Secret
from sdk.authoring.task import PythonFunctionTask, TaskMetadata, task
from sdk.authoring.workflow import WorkflowEntity, WorkflowFailurePolicy, workflow

__all__ = [
    "DynamicTask", "GateAnswers", "LaunchPlan", "MapTask", "PythonFunctionTask", "Resources", "Secret", "TaskMetadata",
    "WorkflowEntity", "WorkflowFailurePolicy", "approve", "conditional", "dynamic", "map_task", "run_locally", "sleep",
    "task", "wait_for_input", "workflow",
]  # fmt: skip
