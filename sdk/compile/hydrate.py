"""Hydrating a packaged spec for registration, as flytectl does: fill the empty project, domain
and version of every identifier it carries, and replace fast-registration placeholders."""
from __future__ import annotations

from sdk.compile.package_reader import LAUNCH_PLAN, TASK, WORKFLOW, spec_identifier
from sdk.errors import PackageError

_BUNDLE_PLACEHOLDERS = ("{{ .remote_package_path }}", "{{.remote_package_path}}")
_DEST_PLACEHOLDERS = ("{{ .dest_dir }}", "{{.dest_dir}}")


def _fill(ident, project: str, domain: str, version: str) -> None:
    """Fill an identifier left empty by the packager (flytectl's hydration does the same)."""
    if not ident.project:
        ident.project = project
    if not ident.domain:
        ident.domain = domain
    if not ident.version:
        ident.version = version


def _fill_nodes(nodes, project, domain, version) -> None:
    for node in nodes:
        kind = node.WhichOneof("target")
        if kind == "task_node":
            _fill(node.task_node.reference_id, project, domain, version)
        elif kind == "workflow_node":
            ref = node.workflow_node.WhichOneof("reference")
            _fill(getattr(node.workflow_node, ref), project, domain, version)
        elif kind == "branch_node":
            ifelse = node.branch_node.if_else
            branches = [ifelse.case.then_node] + [c.then_node for c in ifelse.other]
            if ifelse.HasField("else_node"):
                branches.append(ifelse.else_node)
            _fill_nodes(branches, project, domain, version)
        elif kind == "array_node":
            _fill_nodes([node.array_node.node], project, domain, version)


def hydrate(kind: int, spec, project: str, domain: str, version: str, bundle_uri: str | None):
    """A copy of `spec` with identifiers filled and fast-registration placeholders replaced."""
    spec = type(spec).FromString(spec.SerializeToString())
    _fill(spec_identifier(kind, spec), project, domain, version)
    if kind == TASK and spec.template.HasField("container"):
        args = spec.template.container.args
        for i, arg in enumerate(args):
            for placeholder in _BUNDLE_PLACEHOLDERS:
                if placeholder in arg:
                    if bundle_uri is None:
                        raise PackageError(
                            f"task {spec.template.id.name} needs a code bundle "
                            f"({placeholder}) but the package has no fast*.tar.gz; "
                            "rebuild it with `skiff package`")
                    arg = arg.replace(placeholder, bundle_uri)
            for placeholder in _DEST_PLACEHOLDERS:
                arg = arg.replace(placeholder, ".")
            args[i] = arg
    elif kind == WORKFLOW:
        _fill_nodes(spec.template.nodes, project, domain, version)
        if spec.template.HasField("failure_node"):
            _fill_nodes([spec.template.failure_node], project, domain, version)
        for sub in spec.sub_workflows:
            _fill(sub.id, project, domain, version)
            _fill_nodes(sub.nodes, project, domain, version)
            if sub.HasField("failure_node"):  # flytectl hydrates it too
                _fill_nodes([sub.failure_node], project, domain, version)
    elif kind == LAUNCH_PLAN:
        _fill(spec.spec.workflow_id, project, domain, version)
    return spec
