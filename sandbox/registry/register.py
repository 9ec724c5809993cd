"""Registering a package's entities in the store under project/domain/version, atomically."""
from __future__ import annotations

import dataclasses

from sdk.compile.hydrate import hydrate
from sdk.compile.package_reader import Package, kind_name
from sdk.errors import PackageError


@dataclasses.dataclass
class Registration:
    project: str
    domain: str
    version: str
    names: list[tuple[int, str]]  # (kind, name) in package order
    already_registered: bool


def register_package(store, objects, package: Package, project: str, domain: str,
                     version: str | None = None, progress=None) -> Registration:
    """Register every entity of `package`; nothing is stored when any entity is rejected.

    `objects` (an ObjectStore) is used only when the version is new and the package carries a
    code bundle, so re-registering an unchanged package touches neither MinIO nor disk.
    `progress(sent, total)`, when given, follows the code bundle's upload.
    """
    version = version or package.digest[:16]
    try:
        return _register(store, objects, package, project, domain, version, progress)
    except store.integrity_error():
        # Another process registered the same version at the same moment; its transaction
        # won, ours rolled back. Checking again compares the specs it stored with ours.
        return _register(store, objects, package, project, domain, version, progress)


def _register(store, objects, package, project, domain, version, progress=None) -> Registration:
    names = [(e.kind, e.name) for e in package.entities]
    bundle_uri = None
    if package.bundle is not None:
        from sandbox.storage.layout import fast_uri

        bundle_uri = fast_uri(objects.bucket, project, domain, package.bundle_name, package.bundle)
    hydrated = [(e, hydrate(e.kind, e.spec, project, domain, version, bundle_uri))
                for e in package.entities]
    existing = store.entity_specs(project, domain, version)
    for entity, spec in hydrated:
        previous = existing.get((entity.kind, entity.name))
        # Compare messages, not bytes: map fields serialize in no fixed order.
        if previous is not None and type(spec).FromString(previous) != spec:
            raise PackageError(
                f"{kind_name(entity.kind)} {entity.name!r} version {version!r} is already "
                f"registered in {project}/{domain} with a different spec; register under a "
                "new version")
    new = [(e, spec.SerializeToString(deterministic=True)) for e, spec in hydrated
           if (e.kind, e.name) not in existing]
    if not new:
        return Registration(project, domain, version, names, already_registered=True)
    # Imported here: the admission checks (fractions, the closure compiler) cost a cached
    # rerun, which registers nothing new, 30+ ms.
    from sandbox.registry.checks import check_package

    check_package(package, hydrated, store)  # before anything is stored
    if bundle_uri is not None:
        objects.put_bytes(bundle_uri, package.bundle, progress=progress)
    with store.transaction() as cursor:
        for entity, data in new:
            store.add_entity(cursor, entity.kind, project, domain, entity.name, version, data)
    return Registration(project, domain, version, names, already_registered=False)
