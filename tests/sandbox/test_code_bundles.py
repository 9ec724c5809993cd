"""Code bundles end to end in the real sandbox: `--copy auto` uploads only the loaded modules
however much else the folder holds, `--copy all` brings data files a task opens, containers of
one execution share one read-only unpacked bundle (in a task image that holds sdk but not
sandbox), and `skiff run --remote` after
`skiff run --sandbox` of the same file registers the very same specs (same bundle location)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

WORKFLOW = textwrap.dedent('''
    import os
    from pathlib import Path

    from sdk import task, workflow

    from helper import OFFSET


    @task
    def where() -> str:
        """Where this module's file really is, and whether the code can be changed there."""
        real = os.path.realpath(__file__)
        try:
            with open(os.path.join(os.path.dirname(real), "scribble.txt"), "w"):
                writable = "writable"
        except OSError:
            writable = "read-only"
        try:  # the task image holds only sdk: the engine, admin and CLI are not in it
            import sandbox  # noqa: F401
            image = "sandbox-importable"
        except ModuleNotFoundError:
            image = "sdk-only"
        return real + " " + writable + " " + image


    @task
    def read_data(name: str) -> str:
        """A task reading a data file kept next to its code, by relative path and by __file__."""
        beside = (Path(__file__).parent / name).read_text().strip()
        return beside + "|" + open(name).read().strip()


    @task
    def add(x: int) -> int:
        return x + OFFSET


    @workflow
    def pipe(x: int = 1) -> int:
        return add(x=add(x=x))


    @workflow
    def layout() -> str:
        return where()


    @workflow
    def data() -> str:
        return read_data(name="data.csv")
''')


def skiff(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(Path(sys.executable).with_name("skiff")), *args], cwd=root,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture
def project(tmp_path, sandbox_home):
    root = tmp_path / "project"
    root.mkdir()
    (root / "wf.py").write_text(WORKFLOW)
    (root / "helper.py").write_text("OFFSET = 10\n")
    (root / "data.csv").write_text("a,b\n")
    yield root
    shutil.rmtree(root, ignore_errors=True)  # the large files go at once, not with pytest's old runs


def bundle_objects(state) -> dict[str, int]:
    from sandbox.storage import ObjectStore

    client = ObjectStore.from_state(state).client
    return {o.object_name: o.size for o in client.list_objects(state.bucket, prefix="fast/", recursive=True)}


def bundle_line(stderr: str) -> str:
    return next((line for line in stderr.splitlines() if line.startswith("Code bundle ")), "")


def test_auto_uploads_only_the_loaded_modules_beside_400_mb_of_unrelated_files(project, sandbox_home):
    (project / "build").mkdir()
    for n in range(8):  # sparse: 400 MB that take no disk, and would take minutes to bundle
        with open(project / "build" / f"blob{n}.bin", "wb") as handle:
            handle.truncate(50 * 1024 * 1024)
    before = bundle_objects(sandbox_home)
    run = skiff(project, "run", "--sandbox", "wf.py", "pipe", "--x", "1", "--json")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == {"o0": 21}
    assert ": 2 files," in bundle_line(run.stderr) and "--copy auto" in run.stderr
    uploaded = {k: v for k, v in bundle_objects(sandbox_home).items() if k not in before}
    assert len(uploaded) == 1 and list(uploaded.values())[0] < 10_000
    # An unrelated file edited: nothing is built or uploaded again.
    (project / "build" / "blob0.bin").write_bytes(b"rebuilt")
    (project / "notes.txt").write_text("new notes\n")
    again = skiff(project, "run", "--sandbox", "wf.py", "pipe", "--x", "1", "--json")
    assert again.returncode == 0, again.stderr
    assert bundle_line(again.stderr) == ""  # the compiled package was reused
    assert {k for k in bundle_objects(sandbox_home) if k not in before} == set(uploaded)
    # The helper the workflow imports edited: a new bundle, and the new code runs.
    (project / "helper.py").write_text("OFFSET = 100\n")
    edited = skiff(project, "run", "--sandbox", "wf.py", "pipe", "--x", "1", "--json")
    assert edited.returncode == 0, edited.stderr
    assert json.loads(edited.stdout) == {"o0": 201}
    assert bundle_line(edited.stderr)
    assert len({k for k in bundle_objects(sandbox_home) if k not in before}) == 2


def test_a_task_reading_a_data_file_needs_copy_all(project):
    missing = skiff(project, "run", "--sandbox", "wf.py", "data")
    assert missing.returncode != 0
    assert "data.csv" in missing.stderr and "No such file" in missing.stderr
    run = skiff(project, "run", "--sandbox", "--copy", "all", "wf.py", "data", "--json")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == {"o0": "a,b|a,b"}
    assert ": 3 files," in bundle_line(run.stderr) and "--copy all" in run.stderr


def test_containers_of_one_execution_share_one_read_only_bundle(project, sandbox_home):
    run = skiff(project, "run", "--sandbox", "wf.py", "layout", "--json")
    assert run.returncode == 0, run.stderr
    real, writable, image = json.loads(run.stdout)["o0"].split()
    assert real == "/opt/skiff-bundle/code/wf.py" and writable == "read-only"
    assert image == "sdk-only"  # `import sandbox` fails inside the task's container
    # Unpacked once for the execution, and gone when it ended.
    assert not any(Path(sandbox_home.home, "bundles").glob("*/*"))


def test_remote_run_after_sandbox_run_of_the_same_file(project, sandbox_home):
    local = skiff(project, "run", "--sandbox", "wf.py", "pipe", "--x", "2", "--json")
    assert local.returncode == 0, local.stderr
    remote = skiff(project, "run", "--remote", "--endpoint", sandbox_home.admin_endpoint, "--insecure",
                   "wf.py", "pipe", "--x", "2", "--json")
    assert remote.returncode == 0, remote.stderr
    assert json.loads(remote.stdout) == json.loads(local.stdout) == {"o0": 22}
    assert "registered 0 new," in remote.stderr  # the very specs the sandbox run registered
    assert bundle_line(remote.stderr) == ""  # the package the sandbox run compiled, reused
    # An unrelated file edited: still nothing built, uploaded or registered.
    (project / "notes.txt").write_text("notes\n")
    again = skiff(project, "run", "--remote", "--endpoint", sandbox_home.admin_endpoint, "--insecure",
                  "wf.py", "pipe", "--x", "3", "--json")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout) == {"o0": 23}
    assert bundle_line(again.stderr) == "" and "registered 0 new," in again.stderr
    # The bundle went to one place, whichever way it was registered.
    names = [k for k in bundle_objects(sandbox_home) if k.startswith("fast/default/development/")]
    assert len({k.rsplit("/", 1)[1] for k in names}) == len(names)


def test_upload_progress_for_a_bundle_of_a_megabyte_or_more(project, sandbox_home):
    (project / "weights.bin").write_bytes(os.urandom(3 * 1024 * 1024))  # incompressible
    remote = skiff(project, "run", "--remote", "--copy", "all", "--endpoint", sandbox_home.admin_endpoint,
                   "--insecure", "wf.py", "pipe", "--x", "1", "--json")
    assert remote.returncode == 0, remote.stderr
    lines = [line for line in remote.stderr.splitlines() if line.startswith("uploading code bundle")]
    assert lines[0].startswith("uploading code bundle: 0% of 3.") and lines[-1].startswith("uploading code bundle: 100%")



def test_register_compiles_a_py_file_with_copy(project, sandbox_home):
    import io
    import tarfile

    from flyteidl.admin import task_pb2  # noqa: F401 - the admin answers with flyteidl messages

    from sandbox.storage import ObjectStore
    from sdk.remote import Remote

    endpoint = ["--endpoint", sandbox_home.admin_endpoint, "--insecure"]
    done = skiff(project, "register", "wf.py", "--version", "copy-auto-1", "--copy", "auto", *endpoint)
    assert done.returncode == 0, done.stderr
    assert "registered task wf.add version copy-auto-1" in done.stdout
    with Remote(sandbox_home.admin_endpoint, insecure=True, env={}) as client:
        task = client.fetch_task("wf.add", "copy-auto-1", "default", "development")
    args = list(task.closure.compiled_task.template.container.args)
    data = ObjectStore.from_state(sandbox_home).get_bytes(args[args.index("--code-bundle") + 1])
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        assert sorted(tar.getnames()) == ["helper.py", "wf.py"]
    # The default is pyflyte register's: all files.
    done = skiff(project, "register", "wf.py", "--version", "copy-all-1", *endpoint)
    assert done.returncode == 0, done.stderr
    assert "--copy all" in done.stderr and ": 3 files," in done.stderr
    # A package's bundle was chosen when it was written.
    assert skiff(project, "package", "wf.py", "-o", "pkg.tgz").returncode == 0
    refused = skiff(project, "register", "pkg.tgz", "--version", "x1", "--copy", "auto", *endpoint)
    assert refused.returncode == 2 and "--copy applies to .py files" in refused.stderr


def test_an_attempt_set_up_after_its_execution_ended_leaves_no_bundle(sandbox_home, tmp_path):
    """A terminate can end an execution while one of its attempts is still being set up: the
    bundle that attempt would unpack must not outlive the execution (a resume shares again)."""
    import io
    import tarfile

    from sandbox.engine.shared_bundle import SharedBundles
    from sandbox.runtime.container import ContainerRequest
    from sandbox.storage import ObjectStore

    objects = ObjectStore.from_state(sandbox_home)
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as tar:
        info = tarfile.TarInfo("wf.py")
        info.size = 4
        tar.addfile(info, io.BytesIO(b"x=1\n"))
    uri = f"s3://{objects.bucket}/tests/shared-bundle-release.tar.gz"
    objects.put_bytes(uri, archive.getvalue())
    unpacked = tmp_path / "bundles"
    bundles = SharedBundles(objects, str(unpacked))

    def shared(execution_id: str) -> bool:
        request = ContainerRequest(image="any", args=["skiff-execute", "--code-bundle", uri],
                                   env={}, labels={})
        bundles.share(request, execution_id)
        return bool(request.mounts)

    assert shared("e1") and any(unpacked.glob("*/*"))
    bundles.release("e1")
    assert not any(unpacked.glob("*/*"))
    assert not shared("e1") and not any(unpacked.glob("*/*"))  # set up too late: fetches itself
    bundles.resume("e1")
    assert shared("e1")
