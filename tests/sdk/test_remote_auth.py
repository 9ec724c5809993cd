"""Authentication and reachability: a real gRPC server on 127.0.0.1 standing in for an admin
that requires a bearer token, and a real HTTP token endpoint (OAuth2 client credentials)."""
from __future__ import annotations

import base64
import http.server
import json
import socket
import threading
from concurrent import futures

import grpc
import pytest
from flyteidl.admin import version_pb2
from flyteidl.service import admin_pb2_grpc, auth_pb2, auth_pb2_grpc

from sandbox.cli import main
from sdk.remote import AdminUnreachable, AuthenticationFailed, Remote

GOOD_TOKEN = "token-for-skiff-ci"


class _TokenHandler(http.server.BaseHTTPRequestHandler):
    requests: list = []

    def do_POST(self):  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        expected = "Basic " + base64.b64encode(b"skiff-ci:right-secret").decode()
        type(self).requests.append(body)
        if self.headers.get("Authorization") != expected or "grant_type=client_credentials" not in body:
            self.send_response(401)
            self.end_headers()
            return
        data = json.dumps({"access_token": GOOD_TOKEN, "token_type": "bearer", "expires_in": 3600})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(data.encode())

    def log_message(self, *args):
        pass


class _Admin(admin_pb2_grpc.AdminServiceServicer):
    def GetVersion(self, request, context):  # noqa: N802
        if dict(context.invocation_metadata()).get("authorization") != f"Bearer {GOOD_TOKEN}":
            context.abort(grpc.StatusCode.UNAUTHENTICATED, "bearer token missing or invalid")
        return version_pb2.GetVersionResponse(
            control_plane_version=version_pb2.Version(Version="stand-in"))


class _AuthMetadata(auth_pb2_grpc.AuthMetadataServiceServicer):
    def __init__(self, token_url):
        self.token_url = token_url

    def GetOAuth2Metadata(self, request, context):  # noqa: N802
        return auth_pb2.OAuth2MetadataResponse(token_endpoint=self.token_url)

    def GetPublicClientConfig(self, request, context):  # noqa: N802
        return auth_pb2.PublicClientAuthConfigResponse(scopes=["all"],
                                                       authorization_metadata_key="authorization")


@pytest.fixture(scope="module")
def secured_admin():
    http_server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _TokenHandler)
    threading.Thread(target=http_server.serve_forever, daemon=True).start()
    token_url = f"http://127.0.0.1:{http_server.server_address[1]}/oauth2/token"
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    admin_pb2_grpc.add_AdminServiceServicer_to_server(_Admin(), server)
    auth_pb2_grpc.add_AuthMetadataServiceServicer_to_server(_AuthMetadata(token_url), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield f"127.0.0.1:{port}"
    server.stop(0)
    http_server.shutdown()


def test_client_credentials_token_discovered_from_the_admin(secured_admin):
    _TokenHandler.requests.clear()
    with Remote(secured_admin, insecure=True, client_id="skiff-ci", client_secret="right-secret",
                env={}) as remote:
        assert remote.version() == "stand-in"
        assert remote.version() == "stand-in"
    assert len(_TokenHandler.requests) == 1  # the token is reused until it expires
    assert "scope=all" in _TokenHandler.requests[0]


def test_wrong_client_secret_is_one_clear_error(secured_admin):
    with Remote(secured_admin, insecure=True, client_id="skiff-ci", client_secret="wrong",
                env={}) as remote:
        with pytest.raises(AuthenticationFailed, match="refused client 'skiff-ci'.*HTTP 401"):
            remote.version()


def test_static_bearer_token(secured_admin):
    with Remote(secured_admin, insecure=True, token=GOOD_TOKEN, env={}) as remote:
        assert remote.version() == "stand-in"
    with Remote(secured_admin, insecure=True, token="stale", env={}) as remote:
        with pytest.raises(AuthenticationFailed, match="rejected the credentials"):
            remote.version()
    with Remote(secured_admin, insecure=True, env={}) as remote:  # no credentials at all
        with pytest.raises(AuthenticationFailed):
            remote.version()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unreachable_endpoint(tmp_path):
    endpoint = f"127.0.0.1:{_free_port()}"
    with Remote(endpoint, insecure=True, env={}, timeout=5) as remote:
        with pytest.raises(AdminUnreachable, match=f"cannot reach the Flyte admin at {endpoint}"):
            remote.version()


def _package(tmp_path) -> str:
    import os
    import shutil
    import subprocess

    examples = os.path.join(os.path.dirname(__file__), "..", "..", "examples")
    source = tmp_path / "src"
    source.mkdir()
    shutil.copy(os.path.join(examples, "pipeline.py"), source / "remote_auth_pipeline.py")
    path = str(tmp_path / "pkg.tgz")
    # Another process: launch plan names are global within one (the example names one).
    subprocess.run(["skiff", "package", "remote_auth_pipeline.py", "--image", "skiff-runtime:test",
                    "-o", path], cwd=source, check=True, capture_output=True)
    return path


def test_cli_unreachable_exit_1_and_wrong_credentials_exit_2(secured_admin, tmp_path, capsys,
                                                            monkeypatch):
    package = _package(tmp_path)
    monkeypatch.delenv("FLYTECTL_CONFIG", raising=False)
    code = main(["register", package, "--version", "v1", "--endpoint",
                 f"127.0.0.1:{_free_port()}", "--insecure"])
    err = capsys.readouterr().err
    assert code == 1 and err.startswith("Error: cannot reach the Flyte admin") and err.count("\n") == 1
    monkeypatch.setenv("FLYTE_CREDENTIALS_CLIENT_ID", "skiff-ci")
    monkeypatch.setenv("FLYTE_CREDENTIALS_CLIENT_SECRET", "wrong")
    code = main(["register", package, "--version", "v1", "--endpoint", secured_admin, "--insecure"])
    err = capsys.readouterr().err
    assert code == 2 and "refused client 'skiff-ci'" in err and err.count("\n") == 1


@pytest.fixture(scope="module")
def tls_admin(tmp_path_factory):
    """The stand-in admin behind TLS, with a self-signed certificate for 127.0.0.1."""
    import subprocess

    folder = tmp_path_factory.mktemp("tls")
    key, cert = folder / "key.pem", folder / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    admin_pb2_grpc.add_AdminServiceServicer_to_server(_Admin(), server)
    credentials = grpc.ssl_server_credentials([(key.read_bytes(), cert.read_bytes())])
    port = server.add_secure_port("127.0.0.1:0", credentials)
    server.start()
    yield f"127.0.0.1:{port}", str(cert)
    server.stop(0)


def test_tls_with_the_ca_from_the_config_file(tls_admin, tmp_path):
    endpoint, cert = tls_admin
    config = tmp_path / "config.yaml"
    config.write_text(f"admin:\n  endpoint: dns:///{endpoint}\n  insecure: false\n"
                      f"  caCertFilePath: {cert}\n")
    with Remote(config_file=str(config), token=GOOD_TOKEN, env={}) as remote:
        assert remote.config.insecure is False
        assert remote.version() == "stand-in"
    # Plain text against a TLS admin does not get through, and says where it tried.
    with Remote(endpoint, insecure=True, token=GOOD_TOKEN, env={}, timeout=5) as remote:
        with pytest.raises(AdminUnreachable, match=endpoint):
            remote.version()
