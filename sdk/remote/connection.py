"""A gRPC channel to the admin and stubs whose failures become one-line RemoteErrors."""
from __future__ import annotations

import grpc

from sdk.remote.auth import authenticated
from sdk.remote.config import RemoteConfig
from sdk.remote.errors import translate_rpc_error

_MAX_MESSAGE = 64 * 1024 * 1024  # closures and literal maps can be large


def open_channel(config: RemoteConfig):
    options = [("grpc.max_receive_message_length", _MAX_MESSAGE),
               ("grpc.max_send_message_length", _MAX_MESSAGE),
               # An http(s)_proxy in the environment must not capture the admin's traffic.
               ("grpc.enable_http_proxy", 0)]
    if config.insecure:
        channel = grpc.insecure_channel(config.endpoint, options=options)
    else:
        root = None
        if config.ca_cert_file:
            with open(config.ca_cert_file, "rb") as handle:
                root = handle.read()
        channel = grpc.secure_channel(config.endpoint, grpc.ssl_channel_credentials(root),
                                      options=options)
    return authenticated(channel, config)


class _Stub:
    """Calls a flyteidl stub; `call(method, request, what)` raises RemoteError on failure."""

    def __init__(self, stub, endpoint: str, timeout: float):
        self._stub, self._endpoint, self._timeout = stub, endpoint, timeout

    def call(self, method: str, request, what: str, allow: tuple = ()):
        """The response; for status codes in `allow`, the grpc.RpcError instead of raising."""
        try:
            return getattr(self._stub, method)(request, timeout=self._timeout)
        except grpc.RpcError as exc:
            if exc.code() in allow:
                return exc
            raise translate_rpc_error(exc, what, self._endpoint) from None


class AdminConnection:
    def __init__(self, config: RemoteConfig, timeout: float = 60.0):
        from flyteidl.service import admin_pb2_grpc, dataproxy_pb2_grpc

        self.config = config
        self.channel = open_channel(config)
        self.admin = _Stub(admin_pb2_grpc.AdminServiceStub(self.channel), config.endpoint, timeout)
        self.data = _Stub(dataproxy_pb2_grpc.DataProxyServiceStub(self.channel), config.endpoint,
                          timeout)

    def close(self) -> None:
        self.channel.close()
