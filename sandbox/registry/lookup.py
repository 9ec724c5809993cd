"""Finding registered specs by name (latest version when none is given)."""
from __future__ import annotations

from sdk.compile.package_reader import LAUNCH_PLAN, TASK, WORKFLOW, kind_name, parse_spec
from sdk.errors import SkiffError


class EntityNotFound(SkiffError):
    """A task, workflow or launch plan that is not registered."""


def get_spec(store, kind: int, project: str, domain: str, name: str, version: str | None):
    """The parsed spec; the latest registered version when `version` is empty."""
    data = store.entity_spec(kind, project, domain, name, version)
    if data is None:
        where = f"{project}/{domain}" + (f" version {version}" if version else "")
        raise EntityNotFound(f"{kind_name(kind)} {name!r} is not registered in {where}; "
                             "register its package first")
    return parse_spec(kind, data)


def find_any(store, project, domain, name, version, kind: int | None = None):
    """(kind, spec) of the launch plan, workflow or task called `name`, in that preference;
    only of `kind` when the caller names one (Flyte's CreateExecution does, in the launch
    plan identifier's resource type: an eager task and its launch plan share a name)."""
    if kind in (LAUNCH_PLAN, WORKFLOW, TASK):
        return kind, get_spec(store, kind, project, domain, name, version)
    for kind in (LAUNCH_PLAN, WORKFLOW, TASK):
        try:
            return kind, get_spec(store, kind, project, domain, name, version)
        except EntityNotFound:
            continue
    raise EntityNotFound(f"no launch plan, workflow or task named {name!r} in "
                         f"{project}/{domain}; check the name (`<module>.<function>`)")
