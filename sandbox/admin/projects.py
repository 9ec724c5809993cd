"""Projects, domains and version of AdminService."""
from __future__ import annotations

import re

from flyteidl.admin import project_pb2, version_pb2

from sandbox.admin.listing import page
from sandbox.admin.errors import already_exists, not_found, rpc
from sandbox.admin.tables import DEFAULT_DOMAINS
from sandbox.admin.validation import (MAX_PROJECT_DESCRIPTION, MAX_PROJECT_NAME, check_project_id,
                                      check_text)


def _domains():
    return [project_pb2.Domain(id=d, name=d) for d in DEFAULT_DOMAINS]


def skiff_version() -> str:
    from sandbox import __version__

    return __version__


class ProjectRpcs:
    """Mixin of AdminService: needs self.repo."""

    def project_message(self, row) -> project_pb2.Project:
        project_id, name, description, state = row
        return project_pb2.Project(id=project_id, name=name, description=description,
                                   state=state, domains=_domains())

    @rpc
    def RegisterProject(self, request, context):
        project = request.project
        check_project_id(project.id)
        check_text("project name", project.name, limit=MAX_PROJECT_NAME)
        check_text("project description", project.description.replace("\n", " "),
                   limit=MAX_PROJECT_DESCRIPTION)
        if not self.repo.add_project(project.id, project.name, project.description):
            raise already_exists(f"project {project.id!r} already exists")
        return project_pb2.ProjectRegisterResponse()

    @rpc
    def UpdateProject(self, request, context):
        if self.repo.project(request.id) is None:
            raise not_found(f"project {request.id!r} does not exist; register it first")
        self.repo.update_project(request.id, request.name, request.description,
                                 int(request.state))
        return project_pb2.ProjectUpdateResponse()

    @rpc
    def GetProject(self, request, context):
        row = self.repo.project(request.id)
        if row is None:
            raise not_found(f"project {request.id!r} does not exist; create it with "
                            f"`skiff project create {request.id}`")
        return self.project_message(row)

    @rpc
    def ListProjects(self, request, context):
        chunk, token = page([self.project_message(r) for r in self.repo.projects()], request)
        return project_pb2.Projects(projects=chunk, token=token)

    @rpc
    def GetDomains(self, request, context):
        return project_pb2.GetDomainsResponse(domains=_domains())

    @rpc
    def GetVersion(self, request, context):
        return version_pb2.GetVersionResponse(control_plane_version=version_pb2.Version(
            Build="skiff-sandbox", Version=skiff_version(), BuildTime=""))


_PROJECT_ID = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


def _repository():
    from sandbox.admin.repository import AdminRepository
    from sandbox.admin.tables import init_admin_tables
    from sandbox.home import SandboxState
    from sandbox.store import open_store

    state = SandboxState.load()
    init_admin_tables(state.database_url)
    return AdminRepository(open_store(state.database_url))


def create_project(project_id: str, description: str = "") -> None:
    """`skiff project create`: written to the store, so a running admin serves it at once."""
    from sdk.errors import SkiffError

    if not _PROJECT_ID.match(project_id):
        raise SkiffError(f"project name {project_id!r} is not valid: use lowercase letters, "
                         "digits and dashes (at most 63), starting and ending with a letter "
                         "or digit, as Flyte requires")
    if not _repository().add_project(project_id, project_id, description):
        raise SkiffError(f"project {project_id!r} already exists; see `skiff project list`")


def list_projects() -> list[tuple[str, str]]:
    return [(row[0], row[2]) for row in _repository().projects()]
