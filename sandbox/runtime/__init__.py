"""Container runtimes for task attempts (Docker through its API)."""
from sandbox.runtime.container import ContainerRequest, ContainerResult
from sandbox.runtime.docker_runner import DockerRunner

__all__ = ["ContainerRequest", "ContainerResult", "DockerRunner"]
