"""Secret names are checked wherever a task can come from, so that a requested secret can
only ever be a file inside the sandbox's secrets directory."""
from __future__ import annotations

import pytest

from sdk import Secret, task
from sdk.compile.task_spec import task_spec
from sdk.errors import CompileError, PackageError
from sdk.secret_names import SecretNameError, check_secret_names, secret_name_problem

BAD = [("../../.ssh", "id_rsa"), ("db", "../../etc/passwd"), ("a/b", "k"), ("db", ".."),
       ("db", "a/b"), ("", "k"), ("db", "nul\0"), ("Upper", "k"), ("-db", "k"), ("db.", "k"),
       ("db", ".hidden/..")]
GOOD = [("db", "password"), ("my-secret.v1", "API_KEY"), ("aws", ""), ("a", "key.json")]


@pytest.mark.parametrize("group,key", BAD)
def test_names_kubernetes_refuses_are_refused(group, key):
    assert secret_name_problem(group, key) is not None
    with pytest.raises(SecretNameError, match="task wf.t requests a secret whose"):
        check_secret_names("task wf.t", group, key)


@pytest.mark.parametrize("group,key", GOOD)
def test_names_kubernetes_allows_pass(group, key):
    assert secret_name_problem(group, key) is None


def test_compiling_a_task_with_a_traversing_secret_names_the_task():
    @task(secret_requests=[Secret(group="../../.ssh", key="id_rsa")])
    def steal() -> int:
        return 1

    with pytest.raises(CompileError, match=r"steal requests a secret whose group '../../.ssh'"):
        task_spec(steal, "img:1")


def test_reading_a_package_with_a_traversing_secret_names_the_entry(tmp_path):
    from flyteidl.admin import task_pb2

    from sdk.compile.package_reader import read_package
    from test_engine_support import write_tgz

    spec = task_pb2.TaskSpec()
    spec.template.id.name = "wf.steal"
    spec.template.security_context.secrets.add(group="../../.ssh", key="id_rsa")
    path = tmp_path / "pkg.tgz"
    write_tgz(path, [("0_wf.steal_1.pb", spec.SerializeToString())])
    with pytest.raises(PackageError, match=r"task 'wf.steal' \(0_wf.steal_1.pb\) requests a "
                                           r"secret whose group '../../.ssh'"):
        read_package(path)


def _template(group, key):
    from flyteidl.core import tasks_pb2

    template = tasks_pb2.TaskTemplate()
    template.id.name = "wf.reader"
    template.security_context.secrets.add(group=group, key=key)
    return template


def test_the_engine_checks_names_again_before_reading_a_file(tmp_path, monkeypatch):
    from sandbox.engine.attempt import secret_env

    (tmp_path / "outside").write_text("host secret")
    secrets_dir = tmp_path / "secrets"
    secrets_dir.mkdir()
    monkeypatch.delenv("_FSEC_.._OUTSIDE", raising=False)
    with pytest.raises(SecretNameError, match="task wf.reader requests a secret whose group"):
        secret_env(_template("..", "outside"), str(secrets_dir))


def test_a_secret_file_linking_out_of_the_secrets_directory_is_refused(tmp_path):
    from sandbox.engine.attempt import secret_env
    from sdk.errors import SkiffError

    (tmp_path / "id_rsa").write_text("PRIVATE KEY")
    (tmp_path / "secrets" / "ssh").mkdir(parents=True)
    (tmp_path / "secrets" / "ssh" / "key").symlink_to(tmp_path / "id_rsa")
    (tmp_path / "secrets" / "db").mkdir()
    (tmp_path / "secrets" / "db" / "password").write_text("s3cr3t\n")
    with pytest.raises(SkiffError, match="resolves to .*id_rsa, outside"):
        secret_env(_template("ssh", "key"), str(tmp_path / "secrets"))
    assert secret_env(_template("db", "password"), str(tmp_path / "secrets")) == {
        "_FSEC_DB_PASSWORD": "s3cr3t"}
