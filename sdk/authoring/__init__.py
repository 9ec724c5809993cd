"""What a workflow author writes: tasks, workflows, launch plans and their options."""
from sdk.authoring.launch_plan import LaunchPlan
from sdk.authoring.resources import Resources, Secret
from sdk.authoring.task import PythonFunctionTask, TaskMetadata, task
from sdk.authoring.workflow import WorkflowEntity, workflow

__all__ = ["LaunchPlan", "PythonFunctionTask", "Resources", "Secret", "TaskMetadata", "WorkflowEntity", "task", "workflow"]
