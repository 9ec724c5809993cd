"""The sandbox's gRPC server on 127.0.0.1: AdminService, DataProxyService, SignalService and
Skiff's own API, each call requiring an access token of this home; AuthMetadataService and the
OAuth2 token endpoint (HTTP, --token-port) that hands those tokens out (sandbox/admin/auth_server.py).

`python -m sandbox.admin.server --port N --token-port M` serves the sandbox of $SKIFF_HOME until SIGTERM;
`sandbox.admin.process` starts and stops it as a detached process beside MinIO.
"""
from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from concurrent import futures

import grpc
from flyteidl.service import admin_pb2_grpc, dataproxy_pb2_grpc

MAX_MESSAGE_BYTES = 64 * 1024 * 1024  # large workflow closures and literal maps
WORKERS = 16


def build_server(state, port: int = 0, token_url: str = "") -> tuple[grpc.Server, int]:
    """A started-ready (not yet started) server for `state`, bound to 127.0.0.1:port; its
    AuthMetadataService names `token_url` as the token endpoint."""
    from flyteidl.service import auth_pb2_grpc

    from sandbox.admin.auth_server import AuthMetadata, RequireToken
    from sandbox.admin.auth_tokens import TokenVerifier, ensure_client
    from sandbox.admin.client_config import config_path
    from sandbox.admin.dataproxy import DataProxy
    from sandbox.admin.service import AdminService
    from sandbox.admin.signals import add_to_server as add_signals
    from sandbox.admin.skiff_api import SkiffSandboxService, add_to_server
    from sandbox.admin.tables import init_admin_tables
    from sandbox.storage import ObjectStore
    from sandbox.store import open_store

    store = open_store(state.database_url)
    init_admin_tables(state.database_url)
    objects = ObjectStore.from_state(state)
    admin = AdminService(state, store, objects)
    options = [("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
               ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
               ("grpc.so_reuseport", 0)]
    credentials = ensure_client(state.home)
    verifier = TokenVerifier(state.home)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=WORKERS), options=options,
                         interceptors=[RequireToken(verifier, str(config_path(state.home)))])
    admin_pb2_grpc.add_AdminServiceServicer_to_server(admin, server)
    dataproxy_pb2_grpc.add_DataProxyServiceServicer_to_server(
        DataProxy(objects, state.bucket, admin), server)
    add_to_server(SkiffSandboxService(state, store, admin), server)
    add_signals(store, server)
    bound = server.add_insecure_port(f"127.0.0.1:{port}")
    if not bound:
        from sdk.errors import SandboxError

        raise SandboxError(f"cannot listen on 127.0.0.1:{port}; is another admin running?")
    auth_pb2_grpc.add_AuthMetadataServiceServicer_to_server(
        AuthMetadata(credentials, token_url, issuer=token_url.rsplit("/oauth2/", 1)[0],
                     audience=f"http://127.0.0.1:{bound}"), server)
    return server, bound


def main(argv: list[str] | None = None) -> int:
    from sandbox.home import SandboxState

    parser = argparse.ArgumentParser(prog="python -m sandbox.admin.server")
    parser.add_argument("--home", help="the sandbox home (default $SKIFF_HOME)")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--token-port", type=int, default=0)
    args = parser.parse_args(argv)
    if args.home:  # executions started from here must find the same home
        os.environ["SKIFF_HOME"] = args.home
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from sandbox.admin.auth_server import start_token_endpoint, token_url
    from sandbox.admin.auth_tokens import TokenVerifier, ensure_client

    state = SandboxState.load()
    credentials = ensure_client(state.home)
    token_server = start_token_endpoint(TokenVerifier(state.home), credentials, args.token_port)
    token_port = token_server.server_address[1]
    server, port = build_server(state, args.port, token_url(token_port))
    server.start()
    logging.info("OAuth2 token endpoint on %s", token_url(token_port))
    logging.info("serving AdminService, DataProxyService and skiff.sandbox.v1 on 127.0.0.1:%d",
                 port)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    stopped.wait()
    server.stop(grace=2).wait()
    token_server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
