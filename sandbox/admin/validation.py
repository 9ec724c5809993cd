"""Checks of request fields the admin makes before it reads or stores anything, as flyteadmin's
validation package does (identifier fields set, resource type, project ids as DNS labels,
lengths), plus what flyteadmin leaves to its database and then answers with UNKNOWN or
RESOURCE_EXHAUSTED: control characters, values longer than its columns (255), and `..` path
segments. Every failure is an INVALID_ARGUMENT that names the field and says what to do."""
from __future__ import annotations

import re

from sandbox.admin.errors import invalid

MAX_FIELD = 255  # flyteadmin's entity columns (project, domain, name, version)
MAX_PROJECT_NAME = 64  # flyteadmin's project name limit
MAX_PROJECT_DESCRIPTION = 300
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_KINDS = {1: "task", 2: "workflow", 3: "launch plan"}


def check_text(field: str, value: str, limit: int = MAX_FIELD, path_like: bool = False) -> None:
    """One identifier field: no control characters, at most `limit` characters and, for names
    and versions, no `.`/`..` path segments."""
    if _CONTROL.search(value):
        raise invalid(f"{field} {value[:60]!r} contains a control character; use printable "
                      "characters only")
    if len(value) > limit:
        raise invalid(f"{field} is {len(value)} characters long; at most {limit} are allowed")
    if path_like and any(part in (".", "..") for part in value.split("/")):
        raise invalid(f"{field} {value!r} contains a '.' or '..' path segment; remove it")


def check_identifier(ident, kind: int, what: str = "identifier") -> None:
    """A full identifier of a task, workflow or launch plan (create and get requests)."""
    if ident.resource_type and ident.resource_type != kind:
        raise invalid(f"{what} has resource type {_KINDS.get(ident.resource_type, 'unknown')}, "
                      f"expected {_KINDS[kind]}")
    for field in ("project", "domain", "name", "version"):
        value = getattr(ident, field)
        if not value:
            raise invalid(f"missing {field} in the {what}")
        check_text(f"{what} {field}", value, path_like=field in ("name", "version"))


def check_scope(project: str, domain: str, name: str = "") -> None:
    """Project, domain (and name, when given) of a listing, execution or upload request."""
    check_text("project", project, path_like=True)
    check_text("domain", domain, path_like=True)
    if name:
        check_text("name", name, path_like=True)


def check_project_id(project_id: str) -> None:
    """A new project's id: a DNS-1123 label, as flyteadmin requires."""
    if not project_id:
        raise invalid("missing project id")
    check_text("project id", project_id, limit=63)
    if not _DNS_LABEL.match(project_id):
        raise invalid(f"invalid project id {project_id!r}: use lower-case letters, digits and "
                      "'-', starting and ending with a letter or digit (a DNS-1123 label)")
