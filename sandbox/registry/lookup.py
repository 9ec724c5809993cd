"""Finding registered specs by name (latest version when none is given)."""
from __future__ import annotations

from sqlalchemy import select

from sandbox.registry.package import LAUNCH_PLAN, TASK, WORKFLOW, _parse, kind_name
from sandbox.store.models import RegisteredEntity
from sdk.errors import SkiffError


class EntityNotFound(SkiffError):
    """A task, workflow or launch plan that is not registered."""


def get_spec(session, kind: int, project: str, domain: str, name: str, version: str | None):
    query = select(RegisteredEntity).where(
        RegisteredEntity.resource_type == kind, RegisteredEntity.project == project,
        RegisteredEntity.domain == domain, RegisteredEntity.name == name)
    if version:
        query = query.where(RegisteredEntity.version == version)
    row = session.execute(query.order_by(RegisteredEntity.id.desc()).limit(1)).scalar()
    if row is None:
        where = f"{project}/{domain}" + (f" version {version}" if version else "")
        raise EntityNotFound(f"{kind_name(kind)} {name!r} is not registered in {where}; "
                             "register its package first")
    return _parse(kind, row.spec)


def find_any(session, project, domain, name, version):
    """(kind, spec) of the launch plan, workflow or task called `name`, in that preference."""
    for kind in (LAUNCH_PLAN, WORKFLOW, TASK):
        try:
            return kind, get_spec(session, kind, project, domain, name, version)
        except EntityNotFound:
            continue
    raise EntityNotFound(f"no launch plan, workflow or task named {name!r} in "
                         f"{project}/{domain}; check the name (`<module>.<function>`)")
