"""How clients reach this sandbox's admin with its credentials.

`write_client_config` writes `$SKIFF_HOME/config.yaml`, a flytekit/flytectl config (endpoint,
insecure, authType ClientSecret, clientId, clientSecretLocation naming the 0600 secret file):
`pyflyte --config`, `flytectl --config`, `FlyteRemote(Config.auto(path))` and Skiff's own
sdk.remote use it unchanged. `local_channel` is the sandbox's own way in (console, CLI helpers,
tests): a channel whose calls carry a token minted from the home's signing key.
"""
from __future__ import annotations

from pathlib import Path

import grpc

from sandbox.admin.auth_tokens import DEFAULT_TTL_S, ensure_client, mint_access_token
from sdk.atomic_file import write_atomically

CONFIG_NAME = "config.yaml"


def config_path(home) -> Path:
    return Path(home) / CONFIG_NAME


def write_client_config(state) -> Path:
    """(Re)write the config for the admin `state` records (its port can change at `up`)."""
    credentials = ensure_client(state.home)
    text = ("# Written by `skiff sandbox up` for the sandbox in this directory; rewritten at each\n"
            "# `up`. Use with: pyflyte --config <this file>, flytectl --config <this file>.\n"
            "admin:\n"
            f"  endpoint: dns:///{state.admin_endpoint}\n"
            "  insecure: true\n"
            "  authType: ClientSecret\n"
            f"  clientId: {credentials.client_id}\n"
            f"  clientSecretLocation: {credentials.secret_path}\n")
    path = config_path(state.home)
    write_atomically(str(path), text.encode(), mode=0o600)
    return path


class _TokenMetadata(grpc.UnaryUnaryClientInterceptor, grpc.UnaryStreamClientInterceptor):
    """Adds `authorization: Bearer <token>` to every call, minting a new token before the
    current one runs out (works on an insecure channel, where call credentials cannot)."""

    def __init__(self, home, subject: str):
        self._home, self._subject = home, subject
        self._token, self._renew_at = "", 0.0

    def _details(self, details):
        import time

        if time.time() >= self._renew_at:
            self._token = mint_access_token(self._home, self._subject, DEFAULT_TTL_S)
            self._renew_at = time.time() + DEFAULT_TTL_S / 2
        metadata = list(details.metadata or []) + [("authorization", f"Bearer {self._token}")]
        return _CallDetails(details.method, details.timeout, metadata, details.credentials,
                            getattr(details, "wait_for_ready", None),
                            getattr(details, "compression", None))

    def intercept_unary_unary(self, continuation, details, request):
        return continuation(self._details(details), request)

    def intercept_unary_stream(self, continuation, details, request):
        return continuation(self._details(details), request)


class _CallDetails(grpc.ClientCallDetails):
    def __init__(self, method, timeout, metadata, credentials, wait_for_ready, compression):
        self.method, self.timeout, self.metadata = method, timeout, metadata
        self.credentials, self.wait_for_ready = credentials, wait_for_ready
        self.compression = compression


def local_channel(state, subject: str = "sandbox", options=()):
    """A channel to `state`'s admin whose calls carry a token of this home."""
    channel = grpc.insecure_channel(state.admin_endpoint,
                                    options=[("grpc.enable_http_proxy", 0), *options])
    return grpc.intercept_channel(channel, _TokenMetadata(state.home, subject))
