"""What `skiff image build --imagespec` installs and refuses, read from flytekit ImageSpecs
(no Docker: the build itself is tested with a task in test_flytekit_features.py)."""
from __future__ import annotations

import pytest
from flytekit import ImageSpec

from sandbox.services.imagespec_images import (ImageSpecError, check_supported, image_env,
                                               requirements_text)


def test_packages_then_the_requirements_file_and_flytekit_pinned_when_missing(tmp_path):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("# pinned\nsix==1.17.0\n\n")
    spec = ImageSpec(name="mine", packages=["tabulate>=0.9"], requirements=str(requirements))
    assert requirements_text(spec, "1.16.31") == \
        "flytekit==1.16.31\ntabulate>=0.9\nsix==1.17.0\n"
    own = ImageSpec(name="mine", packages=["flytekit[pandas]==1.16.31", "six"])
    assert requirements_text(own, "9.9") == "flytekit[pandas]==1.16.31\nsix\n"


def test_the_image_carries_the_spec_env_and_flytekits_image_id():
    spec = ImageSpec(name="mine", packages=["six"], env={"A": "1"})
    assert image_env(spec) == {"A": "1", "_F_IMG_ID": spec.id}


def test_fields_that_need_a_network_build_are_refused_with_the_docker_tag_alternative():
    spec = ImageSpec(name="mine", apt_packages=["git"], packages=["six"])
    with pytest.raises(ImageSpecError) as caught:
        check_supported(spec)
    assert "sets apt_packages" in str(caught.value)
    assert f"docker tag YOUR_IMAGE {spec.image_name()}" in str(caught.value)
