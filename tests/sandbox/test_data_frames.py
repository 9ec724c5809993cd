"""DataFrames and pydantic models between SDK tasks in the sandbox, with the same outputs as an
in-process run.

The runtime image carries Skiff's required dependencies only, so this module builds a task image
on top of it with the optional ones (pandas, pyarrow, pydantic) from wheels fetched on the host
(`pip wheel`, as the runtime image itself is built; the build has no network). The image is
tagged by the runtime image and reused.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.sandbox

pd = pytest.importorskip("pandas", reason="pandas is not installed: install the skiff[dataframe] extra")
pytest.importorskip("pyarrow", reason="pyarrow is not installed: install the skiff[dataframe] extra")
pytest.importorskip("pydantic", reason="pydantic is not installed")

OPTIONAL_PACKAGES = ["pandas", "pyarrow", "pydantic"]

WORKFLOW = textwrap.dedent('''
    import typing
    from typing import Annotated

    import pandas as pd
    from pydantic import BaseModel

    from sdk import task, workflow
    from sdk.types import StructuredDataset, kwtypes


    class Settings(BaseModel):
        factor: int
        label: str
        tags: list[str] = []


    @task
    def make_settings(factor: int) -> Settings:
        return Settings(factor=factor, label="run", tags=["a"])


    @task
    def make_frame(n: int) -> Annotated[pd.DataFrame, kwtypes(i=int, sq=int, name=str)]:
        return pd.DataFrame({"i": list(range(n)), "sq": [i * i for i in range(n)],
                             "name": [f"r{i}" for i in range(n)]})


    @task
    def scale(df: Annotated[pd.DataFrame, kwtypes(i=int, sq=int)], settings: Settings) -> StructuredDataset:
        # Only the columns this task names were read.
        assert list(df.columns) == ["i", "sq"], list(df.columns)
        return StructuredDataset(dataframe=df.assign(scaled=df.sq * settings.factor))


    @task
    def summarize(data: StructuredDataset, settings: Settings) -> typing.Tuple[list[int], list[str], Settings]:
        frame = data.open(pd.DataFrame).all()
        bumped = Settings(factor=settings.factor + 1, label=settings.label + "!", tags=settings.tags + ["b"])
        return [int(v) for v in frame["scaled"]], list(frame.columns), bumped


    @workflow
    def frames(n: int, factor: int) -> typing.Tuple[list[int], list[str], Settings]:
        settings = make_settings(factor=factor)
        return summarize(data=scale(df=make_frame(n=n), settings=settings), settings=settings)
''')


@pytest.fixture(scope="module")
def data_image(sandbox_home, tmp_path_factory):
    """The runtime image plus pandas, pyarrow and pydantic, built once per runtime image."""
    import docker

    client = docker.from_env()
    base = sandbox_home.runtime_image
    tag = f"skiff-runtime-data:{base.split(':', 1)[1]}"
    try:
        client.images.get(tag)
        return tag
    except docker.errors.ImageNotFound:
        pass
    context = tmp_path_factory.mktemp("data-image")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--wheel-dir", str(context / "wheels"),
                    *OPTIONAL_PACKAGES], check=True, capture_output=True)
    (context / "Dockerfile").write_text(textwrap.dedent(f'''
        FROM {base}
        USER 0:0
        COPY wheels /tmp/wheels
        RUN /opt/skiff/bin/pip install --quiet --no-index --find-links /tmp/wheels {" ".join(OPTIONAL_PACKAGES)} \\
         && rm -rf /tmp/wheels
        USER 1000:1000
    '''))
    client.images.build(path=str(context), tag=tag, network_mode="none", rm=True)
    return tag


@pytest.fixture(scope="module")
def source_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("framewf")
    (directory / "framewf.py").write_text(WORKFLOW)
    return directory


def _in_process(source_dir):
    sys.path.insert(0, str(source_dir))
    try:
        import framewf

        return framewf.frames(n=4, factor=3)
    finally:
        sys.path.remove(str(source_dir))
        sys.modules.pop("framewf", None)


def test_dataframes_and_models_in_containers_match_the_in_process_run(sandbox_home, data_image, source_dir):
    package = source_dir / "framewf.tgz"
    env = {**os.environ, "SKIFF_HOME": sandbox_home.home}
    subprocess.run(["skiff", "package", "framewf.py", "--image", data_image, "-o", str(package)],
                   cwd=source_dir, check=True, capture_output=True, env=env)
    run = subprocess.run(["skiff", "sandbox", "run", str(package), "framewf.frames", "--n", "4", "--factor", "3",
                          "--json"], capture_output=True, text=True, env=env, timeout=600)
    assert run.returncode == 0, run.stderr
    outputs = json.loads(run.stdout)

    scaled, columns, settings = _in_process(source_dir)
    assert scaled == [0, 3, 12, 27]
    assert columns == ["i", "sq", "scaled"]
    assert outputs["o0"] == scaled
    assert outputs["o1"] == columns
    assert outputs["o2"] == settings.model_dump() == {"factor": 4, "label": "run!", "tags": ["a", "b"]}
