"""Container runtimes for task attempts (Docker through its API).

Names load on first use: describing limits or a request must not load the runner (the
engine's cached path never runs a container).
"""

__all__ = ["ContainerRequest", "ContainerResult", "DockerRunner"]


def __getattr__(name: str):
    if name in ("ContainerRequest", "ContainerResult"):
        from sandbox.runtime import container

        return getattr(container, name)
    if name == "DockerRunner":
        from sandbox.runtime.docker_runner import DockerRunner

        return DockerRunner
    raise AttributeError(f"module 'sandbox.runtime' has no attribute {name!r}")
