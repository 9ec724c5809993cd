"""Reaching the Docker engine, with an error that says how to start one when none answers."""

from __future__ import annotations

import os

import docker
import docker.errors
import requests

from sdk.errors import SandboxError

HOW_TO_START = (
    "start one: on Debian as root, `apt-get install -y docker.io` then "
    "`dockerd --bridge=none --iptables=false --ip6tables=false &` "
    "(or run `bash scripts/setup.sh`)"
)


def docker_client(timeout: int = 120) -> docker.DockerClient:
    """A client whose engine answered a ping; SandboxError otherwise."""
    where = os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
    try:
        client = docker.from_env(timeout=timeout)
        client.ping()
    except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
        raise SandboxError(
            f"no Docker engine answers at {where} ({_first_line(exc)}); {HOW_TO_START}"
        ) from None
    return client


def engine_summary(client: docker.DockerClient) -> dict:
    """Version and host for `skiff sandbox status`."""
    version = client.version()
    return {"version": version.get("Version", "?"), "host": client.api.base_url}


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:200]
