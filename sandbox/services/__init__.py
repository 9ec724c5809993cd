"""Bringing up and checking the sandbox's services: the Docker engine, MinIO, the runtime image."""

from sandbox.services.images import ensure_runtime_image
from sandbox.services.lifecycle import down, status, up

__all__ = ["ensure_runtime_image", "up", "down", "status"]
