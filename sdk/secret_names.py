"""Which secret group and key names a task may request: the names Kubernetes allows for a
Secret (the group: a DNS subdomain) and for a key in it (letters, digits, '-', '_', '.').

The sandbox reads a requested secret from `$SKIFF_HOME/secrets/<group>/<key>`, so a name like
`../../.ssh` would otherwise make the engine read any file of the user's into a container.
The same check runs when a task is compiled, when a package is read, when the admin registers
a task and right before the engine reads the file.
"""
from __future__ import annotations

import re

from sdk.errors import SkiffError

_MAX = 253
# RFC 1123 subdomain, as Kubernetes validates Secret names.
_GROUP = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
# Kubernetes' rule for the keys of a Secret's data.
_KEY = re.compile(r"[-._a-zA-Z0-9]+")


class SecretNameError(SkiffError):
    """A secret request whose group, version or key is not a name Kubernetes allows."""


def secret_name_problem(group: str, key: str = "", group_version: str = "") -> str | None:
    """Why this secret request is refused, or None when its names are acceptable."""
    if not group:
        return "the group is empty"
    if len(group) > _MAX or not _GROUP.fullmatch(group):
        return (f"group {group!r} is not a valid Kubernetes secret name (lower-case letters, "
                "digits, '-' and '.', starting and ending with a letter or digit)")
    for what, value in (("key", key), ("group_version", group_version)):
        if not value:
            continue
        if len(value) > _MAX or not _KEY.fullmatch(value) or value in (".", "..") \
                or value.startswith(".."):
            return (f"{what} {value!r} is not a valid Kubernetes secret key (letters, digits, "
                    "'-', '_' and '.'; not '.' or '..')")
    return None


def check_secret_names(entity: str, group: str, key: str = "", group_version: str = "",
                       error: type[SkiffError] = SecretNameError) -> None:
    """Raise `error` naming the entity (e.g. "task wf.t") when a requested secret's names are
    not acceptable."""
    problem = secret_name_problem(group, key, group_version)
    if problem is not None:
        raise error(f"{entity} requests a secret whose {problem}; rename the secret")


def check_template_secrets(entity: str, template, error: type[SkiffError] = SecretNameError) -> None:
    """The check above for every secret of a `core.TaskTemplate`."""
    for secret in template.security_context.secrets:
        check_secret_names(entity, secret.group, secret.key, secret.group_version, error)
