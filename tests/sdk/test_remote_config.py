"""Remote configuration as flytekit reads it, and execution references (no admin needed)."""
import pytest

from sdk.remote.config import AUTH_BEARER, AUTH_CLIENT_SECRET, AUTH_NONE, ConfigError, load_config
from sdk.remote.executions import parse_execution_ref


def _write(tmp_path, text):
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return str(path)


def test_config_file_admin_and_storage_sections(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("s3cr3t\n")
    path = _write(tmp_path, f"""
admin:
  endpoint: dns:///flyte.example.org:443
  insecure: false
  authType: ClientSecret
  clientId: skiff-ci
  clientSecretLocation: {secret}
  scopes: [all]
storage:
  connection:
    endpoint: http://127.0.0.1:9000
    access-key: minio
    secret-key: miniostorage
""")
    config = load_config(path, env={})
    assert config.endpoint == "flyte.example.org:443"
    assert config.insecure is False
    assert config.auth == AUTH_CLIENT_SECRET
    assert (config.client_id, config.client_secret, config.scopes) == ("skiff-ci", "s3cr3t", ["all"])
    assert config.storage_env() == {"FLYTE_AWS_ENDPOINT": "http://127.0.0.1:9000",
                                    "FLYTE_AWS_ACCESS_KEY_ID": "minio",
                                    "FLYTE_AWS_SECRET_ACCESS_KEY": "miniostorage"}


def test_environment_beats_file_and_arguments_beat_environment(tmp_path):
    path = _write(tmp_path, "admin:\n  endpoint: dns:///file-host:81\n  insecure: false\n")
    env = {"FLYTECTL_CONFIG": path, "FLYTE_PLATFORM_URL": "env-host:82",
           "FLYTE_PLATFORM_INSECURE": "True"}
    from_env = load_config(None, env=env)
    assert (from_env.endpoint, from_env.insecure, from_env.auth) == ("env-host:82", True, AUTH_NONE)
    explicit = load_config(None, env=env, endpoint="dns:///arg-host:83", insecure=False)
    assert (explicit.endpoint, explicit.insecure) == ("arg-host:83", False)


def test_static_token_and_client_credentials_from_environment():
    env = {"FLYTE_PLATFORM_URL": "h:1", "FLYTE_PLATFORM_AUTH_TOKEN": "tok"}
    assert load_config(None, env=env).auth == AUTH_BEARER
    env = {"FLYTE_PLATFORM_URL": "h:1", "FLYTE_CREDENTIALS_CLIENT_ID": "id",
           "FLYTE_CREDENTIALS_CLIENT_SECRET": "sec"}
    assert load_config(None, env=env).auth == AUTH_CLIENT_SECRET


def test_missing_endpoint_and_bad_file_are_clear(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(ConfigError, match="no Flyte admin endpoint"):
        load_config(None, env={})
    with pytest.raises(ConfigError, match="cannot read the Flyte config file"):
        load_config(str(tmp_path / "absent.yaml"), env={})
    with pytest.raises(ConfigError, match="client id and secret"):
        load_config(None, env={"FLYTE_PLATFORM_URL": "h:1", "FLYTE_CREDENTIALS_AUTH_MODE": "ClientSecret"})


@pytest.mark.parametrize("ref", [
    "abc123",
    "http://localhost:30080/console/projects/flytesnacks/domains/staging/executions/abc123",
    "flyte://v1/flytesnacks/staging/abc123/n0/o",
])
def test_execution_references(ref):
    ident = parse_execution_ref(ref, "flytesnacks", "staging")
    assert (ident.project, ident.domain, ident.name) == ("flytesnacks", "staging", "abc123")


def test_unreadable_execution_reference():
    from sdk.errors import SkiffError

    with pytest.raises(SkiffError, match="cannot read an execution"):
        parse_execution_ref("some/odd/thing", "p", "d")
