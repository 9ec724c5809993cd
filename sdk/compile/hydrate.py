"""Hydrating a packaged spec for registration, as flytectl does: fill the empty project, domain
and version of every identifier it carries, and replace fast-registration placeholders."""
from __future__ import annotations

from sdk.compile.identifiers import TASK, spec_identifiers
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


def hydrate(kind: int, spec, project: str, domain: str, version: str, bundle_uri: str | None):
    """A copy of `spec` with identifiers filled and fast-registration placeholders replaced."""
    spec = type(spec).FromString(spec.SerializeToString())
    # Every identifier: subworkflows' failure nodes and nested branch/array nodes too.
    for ident in spec_identifiers(kind, spec):
        _fill(ident, project, domain, version)
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
    return spec
