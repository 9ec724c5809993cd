"""A node's `.with_overrides(...)` applied to its task: node metadata (cache, retries,
timeout) and task_node.overrides (resources, image) take precedence over the task's own."""
from __future__ import annotations


def effective_task(task_template, node):
    """A copy of `task_template` as this node runs it (the original when nothing overrides)."""
    meta = node.metadata
    overrides = node.task_node.overrides if node.task_node.HasField("overrides") else None
    changes = (meta.HasField("cacheable") or meta.HasField("cache_version")
               or meta.HasField("cache_serializable") or meta.HasField("retries")
               or meta.HasField("timeout") or meta.HasField("interruptible")
               or (overrides is not None and (overrides.container_image
                                             or overrides.HasField("resources"))))
    if not changes:
        return task_template
    task = type(task_template)()
    task.CopyFrom(task_template)
    if meta.HasField("cacheable"):
        task.metadata.discoverable = meta.cacheable
    if meta.HasField("cache_version"):
        task.metadata.discovery_version = meta.cache_version
    if meta.HasField("cache_serializable"):
        task.metadata.cache_serializable = meta.cache_serializable
    if meta.HasField("retries"):
        task.metadata.retries.CopyFrom(meta.retries)
    if meta.HasField("timeout"):
        task.metadata.timeout.CopyFrom(meta.timeout)
    if meta.HasField("interruptible"):
        task.metadata.interruptible = meta.interruptible
    if overrides is not None:
        if overrides.container_image:
            task.container.image = overrides.container_image
        if overrides.HasField("resources") and (overrides.resources.requests
                                                or overrides.resources.limits):
            task.container.resources.CopyFrom(overrides.resources)
    return task
