"""The sandbox's gRPC server on 127.0.0.1: AdminService, DataProxyService, SignalService and
Skiff's own API.

`python -m sandbox.admin.server --port N` serves the sandbox of $SKIFF_HOME until SIGTERM;
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


def build_server(state, port: int = 0) -> tuple[grpc.Server, int]:
    """A started-ready (not yet started) server for `state`, bound to 127.0.0.1:port."""
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
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=WORKERS), options=options)
    admin_pb2_grpc.add_AdminServiceServicer_to_server(admin, server)
    dataproxy_pb2_grpc.add_DataProxyServiceServicer_to_server(
        DataProxy(objects, state.bucket, admin), server)
    add_to_server(SkiffSandboxService(state, store, admin), server)
    add_signals(store, server)
    bound = server.add_insecure_port(f"127.0.0.1:{port}")
    if not bound:
        from sdk.errors import SandboxError

        raise SandboxError(f"cannot listen on 127.0.0.1:{port}; is another admin running?")
    return server, bound


def main(argv: list[str] | None = None) -> int:
    from sandbox.home import SandboxState

    parser = argparse.ArgumentParser(prog="python -m sandbox.admin.server")
    parser.add_argument("--home", help="the sandbox home (default $SKIFF_HOME)")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    if args.home:  # executions started from here must find the same home
        os.environ["SKIFF_HOME"] = args.home
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    state = SandboxState.load()
    server, port = build_server(state, args.port)
    server.start()
    logging.info("serving AdminService, DataProxyService and skiff.sandbox.v1 on 127.0.0.1:%d",
                 port)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    stopped.wait()
    server.stop(grace=2).wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
