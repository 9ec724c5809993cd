"""Fixtures for the tests against Flyte's own flyteadmin (the session fixture `flyteadmin` of
tests/conftest.py): each package is built once and registered a few times."""
from __future__ import annotations

import pytest

from flyteadmin_support import CONFORMANCE, EXAMPLES, HERE, IMAGE, PROJECT, TWINS
from sdk.compile.package import write_package


@pytest.fixture(scope="session")
def packages(tmp_path_factory) -> dict:
    """Skiff packages of every construct: the conformance twins, admitted.py, examples/."""
    out = tmp_path_factory.mktemp("flyteadmin-packages")
    twins = out / "twins.tgz"
    write_package([str(CONFORMANCE / "skiff" / f"{t}.py") for t in TWINS], IMAGE, str(twins))
    admitted = out / "admitted.tgz"
    write_package([str(HERE / "workflows" / "admitted.py")], IMAGE, str(admitted))
    examples = out / "examples.tgz"
    write_package([str(EXAMPLES / "control_flow.py"), str(EXAMPLES / "pipeline.py")], IMAGE,
                  str(examples))
    return {"twins": twins, "admitted": admitted, "examples": examples}


@pytest.fixture(scope="session")
def admin(flyteadmin):
    """A Remote on the flyteadmin (project flytesnacks) and the CLI's --config option."""
    from sdk.remote import Remote

    remote = Remote(config_file=flyteadmin["flytekit_config"], project=PROJECT)
    try:
        yield remote, ["--config", flyteadmin["flytekit_config"]]
    finally:
        remote.close()
