"""Benchmark: what the admin's token check costs per call.

    python benchmarks/admin_auth.py [--calls 2000] [--rounds 5]

Two in-process gRPC servers on 127.0.0.1 serve the same trivial AdminService.GetVersion, one
behind the admin's RequireToken interceptor (sandbox/admin/auth_server.py) and one without;
the client calls each alternately (with the bearer token where needed) and reports the median
microseconds per call and their difference. Also the interceptor's own check, in-process: a
token seen for the first time (HMAC verified) and one already seen (remembered).
No sandbox needed (a temporary home holds the signing key).
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from concurrent import futures

import grpc
from flyteidl.admin import version_pb2
from flyteidl.service import admin_pb2_grpc

from sandbox.admin.auth_server import RequireToken
from sandbox.admin.auth_tokens import TokenVerifier, ensure_client, mint_access_token


class _Version(admin_pb2_grpc.AdminServiceServicer):
    def GetVersion(self, request, context):
        return version_pb2.GetVersionResponse()


def _server(interceptors):
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4), interceptors=interceptors)
    admin_pb2_grpc.add_AdminServiceServicer_to_server(_Version(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    return server, f"127.0.0.1:{port}"


def _per_call_us(stub, metadata, calls: int) -> float:
    started = time.perf_counter()
    for _ in range(calls):
        stub.GetVersion(version_pb2.GetVersionRequest(), metadata=metadata)
    return (time.perf_counter() - started) / calls * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        ensure_client(home)
        verifier = TokenVerifier(home)
        token = mint_access_token(home, "bench", 3600)
        fresh = [mint_access_token(home, "bench", 3600) for _ in range(2000)]
        started = time.perf_counter()
        for each in fresh:
            verifier.check(each)
        first_us = (time.perf_counter() - started) / len(fresh) * 1e6
        started = time.perf_counter()
        for _ in range(10):
            for each in fresh:
                verifier.check(each)
        seen_us = (time.perf_counter() - started) / (10 * len(fresh)) * 1e6

        open_server, open_at = _server([])
        auth_server, auth_at = _server([RequireToken(TokenVerifier(home), "bench")])
        metadata = [("authorization", f"Bearer {token}")]
        with grpc.insecure_channel(open_at) as plain, grpc.insecure_channel(auth_at) as checked:
            plain_stub = admin_pb2_grpc.AdminServiceStub(plain)
            checked_stub = admin_pb2_grpc.AdminServiceStub(checked)
            _per_call_us(plain_stub, None, 200)  # warm both up
            _per_call_us(checked_stub, metadata, 200)
            without, with_token = [], []
            for _ in range(args.rounds):
                without.append(_per_call_us(plain_stub, None, args.calls))
                with_token.append(_per_call_us(checked_stub, metadata, args.calls))
        open_server.stop(0)
        auth_server.stop(0)
    base, checked_us = statistics.median(without), statistics.median(with_token)
    print(f"token check in-process: first sight {first_us:.1f} us, already seen {seen_us:.2f} us")
    print(f"GetVersion round trip: without auth {base:.0f} us, with token {checked_us:.0f} us "
          f"(median of {args.rounds} x {args.calls}); difference {checked_us - base:+.0f} us "
          f"= {checked_us / base:.2f}x")


if __name__ == "__main__":
    main()
