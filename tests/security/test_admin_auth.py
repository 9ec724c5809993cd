"""The admin requires the sandbox's client credentials, as a flyteadmin with auth does: calls
without a valid token are UNAUTHENTICATED (anonymous, wrong secret, expired or forged tokens,
and a task container, which never gets the credentials), while flytekit's and flytectl's own
ClientSecret flows work with the config `skiff sandbox up` writes.

`pyflyte --config <that config> register` followed by FlyteRemote execute/wait is
tests/sandbox/test_flytekit_interop.py (its fixtures use the generated config), not repeated
here: a flytekit workflow run costs a minute on this machine."""
from __future__ import annotations

import base64
import json
import os
import shutil
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import grpc
import pytest
from flyteidl.admin import project_pb2, signal_pb2
from flyteidl.service import (admin_pb2_grpc, auth_pb2, auth_pb2_grpc, dataproxy_pb2,
                              dataproxy_pb2_grpc, signal_pb2_grpc)

from flyte_plane import flytectl_binary
from sandbox.admin.auth_tokens import auth_dir, client, mint_access_token, sign_token
from sandbox.admin.client_config import config_path
from sandbox.admin.gen import sandbox_pb2, sandbox_pb2_grpc
from test_storage_scope import _run

pytestmark = pytest.mark.sandbox


def _code(call) -> grpc.StatusCode | None:
    try:
        call()
    except grpc.RpcError as exc:
        return exc.code()
    return None


def _list_projects(endpoint: str, token: str | None = None) -> grpc.StatusCode | None:
    metadata = [("authorization", f"Bearer {token}")] if token else None
    with grpc.insecure_channel(endpoint) as channel:
        stub = admin_pb2_grpc.AdminServiceStub(channel)
        return _code(lambda: stub.ListProjects(project_pb2.ProjectListRequest(), timeout=10,
                                               metadata=metadata))


def _post_token(url: str, authorization: str | None, form: dict) -> tuple[int, dict]:
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
    if authorization:
        headers["Authorization"] = authorization
    request = urllib.request.Request(url, data=urllib.parse.urlencode(form).encode(),
                                     headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def test_every_service_refuses_a_call_without_a_token(sandbox_home):
    with grpc.insecure_channel(sandbox_home.admin_endpoint) as channel:
        calls = {
            "AdminService": lambda: admin_pb2_grpc.AdminServiceStub(channel).ListProjects(
                project_pb2.ProjectListRequest(), timeout=10),
            "DataProxyService": lambda: dataproxy_pb2_grpc.DataProxyServiceStub(channel)
            .CreateUploadLocation(dataproxy_pb2.CreateUploadLocationRequest(
                project="flytesnacks", domain="development", filename="x"), timeout=10),
            "SignalService": lambda: signal_pb2_grpc.SignalServiceStub(channel).ListSignals(
                signal_pb2.SignalListRequest(), timeout=10),
            "skiff SandboxService": lambda: sandbox_pb2_grpc.SandboxServiceStub(channel)
            .ListCacheEntries(sandbox_pb2.ListCacheEntriesRequest(), timeout=10),
            "skiff streaming call": lambda: list(sandbox_pb2_grpc.SandboxServiceStub(channel)
                                                 .WatchExecution(
                sandbox_pb2.WatchExecutionRequest(), timeout=10)),
        }
        codes = {name: _code(call) for name, call in calls.items()}
        assert codes == {name: grpc.StatusCode.UNAUTHENTICATED for name in calls}

        # What clients need to find the token endpoint is open, as flyteadmin's is.
        auth = auth_pb2_grpc.AuthMetadataServiceStub(channel)
        metadata = auth.GetOAuth2Metadata(auth_pb2.OAuth2MetadataRequest(), timeout=10)
        public = auth.GetPublicClientConfig(auth_pb2.PublicClientAuthConfigRequest(), timeout=10)
    assert metadata.token_endpoint == sandbox_home.admin_token_endpoint
    assert metadata.token_endpoint.startswith("http://127.0.0.1:")
    assert "client_credentials" in metadata.grant_types_supported
    assert public.client_id == client(sandbox_home.home).client_id
    assert public.authorization_metadata_key == "authorization"
    assert list(public.scopes) == ["all"] and public.audience


def test_the_token_endpoint_needs_the_client_secret(sandbox_home):
    from flytekit.clients.auth.token_client import get_basic_authorization_header, get_token

    credentials = client(sandbox_home.home)
    url = sandbox_home.admin_token_endpoint
    # flytekit's own ClientSecret request (HTTP Basic, form-encoded grant, scope, audience)
    token, _, expires_in = get_token(
        url, scopes=["all"], audience="http://127.0.0.1",
        authorization_header=get_basic_authorization_header(credentials.client_id,
                                                            credentials.secret()))
    assert 0 < expires_in <= 3600
    assert _list_projects(sandbox_home.admin_endpoint, token) is None

    wrong = get_basic_authorization_header(credentials.client_id, "not-the-secret")
    status, body = _post_token(url, wrong, {"grant_type": "client_credentials"})
    assert (status, body["error"]) == (401, "invalid_client")
    status, body = _post_token(url, None, {"grant_type": "client_credentials",
                                           "client_id": credentials.client_id,
                                           "client_secret": "not-the-secret"})
    assert (status, body["error"]) == (401, "invalid_client")
    right = get_basic_authorization_header(credentials.client_id, credentials.secret())
    status, body = _post_token(url, right, {"grant_type": "password"})
    assert (status, body["error"]) == (400, "unsupported_grant_type")
    # The wrong secret's refusal reaches flytekit's caller as an error, not a token.
    with pytest.raises(Exception):
        get_token(url, authorization_header=wrong)


def test_expired_forged_and_tampered_tokens_are_refused(sandbox_home):
    key = bytes.fromhex((auth_dir(sandbox_home.home) / "signing_key").read_text().strip())
    valid = mint_access_token(sandbox_home.home, "test", 60)
    expired = sign_token(key, "test", 60, now=time.time() - 120)
    forged = sign_token(os.urandom(32), "test", 600)
    prefix, payload, signature = valid.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["exp"] += 86400
    longer = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    tampered = f"{prefix}.{longer}.{signature}"
    endpoint = sandbox_home.admin_endpoint
    assert _list_projects(endpoint, valid) is None
    for token in (expired, forged, tampered, "garbage"):
        assert _list_projects(endpoint, token) == grpc.StatusCode.UNAUTHENTICATED, token
    with grpc.insecure_channel(endpoint) as channel:
        with pytest.raises(grpc.RpcError) as raised:
            admin_pb2_grpc.AdminServiceStub(channel).ListProjects(
                project_pb2.ProjectListRequest(), timeout=10,
                metadata=[("authorization", f"Bearer {expired}")])
    assert "expired" in raised.value.details()
    assert str(config_path(sandbox_home.home)) in raised.value.details()


def test_the_generated_config_is_private_and_the_secret_never_shown(sandbox_home):
    config = config_path(sandbox_home.home)
    credentials = client(sandbox_home.home)
    secret = credentials.secret()
    for path in (config, credentials.secret_path, auth_dir(sandbox_home.home) / "signing_key"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert stat.S_IMODE(auth_dir(sandbox_home.home).stat().st_mode) == 0o700
    text = config.read_text()
    assert f"endpoint: dns:///{sandbox_home.admin_endpoint}" in text
    assert "authType: ClientSecret" in text and f"clientId: {credentials.client_id}" in text
    assert f"clientSecretLocation: {credentials.secret_path}" in text
    assert secret not in text

    up = subprocess.run(["skiff", "sandbox", "up", "-q"], capture_output=True, text=True,
                        timeout=300)
    assert up.returncode == 0, up.stderr
    assert str(config) in up.stdout
    status = subprocess.run(["skiff", "sandbox", "status", "--json"], capture_output=True,
                            text=True, timeout=60)
    assert json.loads(status.stdout)["admin_config"] == str(config)
    logs = "".join(p.read_text(errors="replace") for p in
                   (Path(sandbox_home.home) / "logs").glob("*.log"))
    for shown in (up.stdout, up.stderr, status.stdout, logs):
        assert secret not in shown


def test_flytectl_with_the_generated_config(sandbox_home, tmp_path_factory, tmp_path):
    flytectl = flytectl_binary(tmp_path_factory)
    config = str(config_path(sandbox_home.home))
    listed = subprocess.run([flytectl, "--config", config, "get", "project", "-o", "json"],
                            capture_output=True, text=True, timeout=120)
    assert listed.returncode == 0, listed.stderr + listed.stdout
    assert "flytesnacks" in listed.stdout

    wrong_secret = tmp_path / "secret"
    wrong_secret.write_text("not-the-secret\n")
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text(Path(config).read_text().replace(str(client(sandbox_home.home).secret_path),
                                                      str(wrong_secret)))
    # (no gRPC retries: flytectl would retry the refused call for a minute, 15 s each)
    refused = subprocess.run([flytectl, "--config", str(wrong), "--admin.maxRetries", "0", "get",
                              "project", "-o", "json"], capture_output=True, text=True,
                             timeout=120)
    assert refused.returncode != 0
    assert "invalid_client" in refused.stderr + refused.stdout
    assert "flytesnacks" not in refused.stdout


CONTAINER_CALL = '''
import os
import grpc
from flyteidl.admin import project_pb2
from flyteidl.service import admin_pb2_grpc
with grpc.insecure_channel(os.environ["ADMIN"]) as channel:
    try:
        admin_pb2_grpc.AdminServiceStub(channel).ListProjects(project_pb2.ProjectListRequest(),
                                                              timeout=10)
        seen = "answered"
    except grpc.RpcError as exc:
        seen = exc.code().name
out["o"] = seen
'''


def test_a_task_container_cannot_call_the_admin(sandbox_home, tmp_path):
    _, seen = _run(sandbox_home, tmp_path, "admincall", CONTAINER_CALL,
                   env={"ADMIN": sandbox_home.admin_endpoint})
    assert seen == "UNAUTHENTICATED"


def test_the_skiff_cli_uses_the_local_credentials_by_itself(sandbox_home, tmp_path):
    """No --config: the CLI finds the local sandbox's config for its admin endpoint."""
    source = tmp_path / "cliauth.py"
    shutil.copy(Path(__file__).parents[2] / "examples" / "pipeline.py", source)
    env = {k: v for k, v in os.environ.items()
           if k not in ("FLYTECTL_CONFIG", "FLYTE_PLATFORM_URL")}
    env["HOME"] = str(tmp_path)  # no ~/.flyte/config.yaml
    result = subprocess.run(["skiff", "register", str(source), "--version", "cliauth1",
                             "--endpoint", sandbox_home.admin_endpoint, "--insecure"],
                            capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "registered " in result.stdout


def test_a_minted_container_token_works_with_flytekit_external_command(sandbox_home):
    """What the engine hands an eager workflow's container: flytekit (ExternalCommand auth,
    set only through environment variables) reaches the admin with the minted token, and a
    token past its lifetime is refused."""
    from sandbox.admin.auth_tokens import container_admin_env

    script = ("from flytekit.configuration import Config\n"
              "from flytekit.remote import FlyteRemote\n"
              "remote = FlyteRemote(Config.auto())\n"
              "print(sorted(p.id for p in remote.client.list_projects().projects))\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLYTE", "SKIFF_HOME"))}
    env["HOME"] = str(Path(sandbox_home.home) / "no-such-home")  # no ~/.flyte/config.yaml
    minted = container_admin_env(sandbox_home.home, sandbox_home.admin_endpoint, "eager:test", 60)
    assert set(minted) >= {"FLYTE_PLATFORM_URL", "FLYTE_CREDENTIALS_AUTH_MODE"}
    assert client(sandbox_home.home).secret() not in json.dumps(minted)
    ran = subprocess.run([sys.executable, "-c", script], env={**env, **minted},
                         capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0, ran.stderr
    assert "flytesnacks" in ran.stdout
    key = bytes.fromhex((auth_dir(sandbox_home.home) / "signing_key").read_text().strip())
    stale = dict(minted, SKIFF_ADMIN_TOKEN=sign_token(key, "eager:test", 60,
                                                      now=time.time() - 120))
    refused = subprocess.run([sys.executable, "-c", script], env={**env, **stale},
                             capture_output=True, text=True, timeout=120)
    assert refused.returncode != 0 and "expired" in refused.stderr
