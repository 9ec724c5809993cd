"""Credentials for the admin: a static bearer token, or an OAuth2 client-credentials token.

The token goes into every call's gRPC metadata (`authorization: Bearer ...`, or the header the
admin's public client config names). For client credentials the token endpoint comes from the
config or from the admin's AuthMetadataService, as flytekit discovers it.
"""
from __future__ import annotations

import base64
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import grpc

from sdk.remote.config import AUTH_BEARER, AUTH_CLIENT_SECRET, RemoteConfig
from sdk.remote.errors import AuthenticationFailed, translate_rpc_error


class TokenSource:
    """Hands out a current access token, fetching a new one when it is about to expire."""

    def __init__(self, config: RemoteConfig, channel_for_discovery):
        self._config = config
        self._channel = channel_for_discovery
        self._token: str | None = config.token if config.auth == AUTH_BEARER else None
        self._expires_at = float("inf") if self._token else 0.0
        self._lock = threading.Lock()
        self.header = config.authorization_header or "authorization"

    def token(self) -> str:
        with self._lock:
            if self._token is None or time.time() > self._expires_at - 30:
                self._token, lifetime = self._fetch()
                self._expires_at = time.time() + lifetime
            return self._token

    def _discover(self) -> tuple[str, list[str], str | None]:
        from flyteidl.service import auth_pb2, auth_pb2_grpc

        stub = auth_pb2_grpc.AuthMetadataServiceStub(self._channel)
        endpoint = self._config.endpoint
        try:
            metadata = stub.GetOAuth2Metadata(auth_pb2.OAuth2MetadataRequest(), timeout=10)
            client = stub.GetPublicClientConfig(auth_pb2.PublicClientAuthConfigRequest(), timeout=10)
        except grpc.RpcError as exc:
            raise translate_rpc_error(exc, "discover the OAuth2 token endpoint", endpoint) from None
        if client.authorization_metadata_key:
            self.header = client.authorization_metadata_key
        return metadata.token_endpoint, list(client.scopes), client.audience or None

    def _fetch(self) -> tuple[str, float]:
        config = self._config
        token_url, scopes, audience = config.token_url, config.scopes, config.audience
        if not token_url:
            token_url, found_scopes, found_audience = self._discover()
            scopes, audience = scopes or found_scopes, audience or found_audience
        if not token_url:
            raise AuthenticationFailed(f"the Flyte admin at {config.endpoint} names no OAuth2 "
                                       "token endpoint; set admin.tokenUrl in the config")
        form = {"grant_type": "client_credentials"}
        if scopes:
            form["scope"] = " ".join(scopes)
        if audience:
            form["audience"] = audience
        basic = base64.b64encode(f"{urllib.parse.quote(config.client_id)}:"
                                 f"{urllib.parse.quote(config.client_secret)}".encode()).decode()
        request = urllib.request.Request(
            token_url, data=urllib.parse.urlencode(form).encode(), method="POST",
            headers={"Authorization": f"Basic {basic}", "Accept": "application/json",
                     "Content-Type": "application/x-www-form-urlencoded"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                body = json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            raise AuthenticationFailed(
                f"the token endpoint {token_url} refused client {config.client_id!r} "
                f"(HTTP {exc.code}); check the client id and secret") from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise AuthenticationFailed(f"cannot get a token from {token_url} ({exc}); check "
                                       "admin.tokenUrl and that the endpoint is reachable") from None
        if "access_token" not in body:
            raise AuthenticationFailed(f"the token endpoint {token_url} sent no access_token; "
                                       "check the client id and secret")
        return body["access_token"], float(body.get("expires_in") or 3600)


class _AuthInterceptor(grpc.UnaryUnaryClientInterceptor, grpc.UnaryStreamClientInterceptor):
    """Adds the bearer token to every call's metadata (works on insecure channels too, where
    grpc's call credentials are not allowed)."""

    def __init__(self, tokens: TokenSource):
        self._tokens = tokens

    def _with_token(self, details):
        metadata = list(details.metadata or [])
        metadata.append((self._tokens.header.lower(), f"Bearer {self._tokens.token()}"))
        return details._replace(metadata=metadata) if hasattr(details, "_replace") else \
            _Details(details.method, details.timeout, metadata, details.credentials,
                     getattr(details, "wait_for_ready", None), getattr(details, "compression", None))

    def intercept_unary_unary(self, continuation, details, request):
        return continuation(self._with_token(details), request)

    def intercept_unary_stream(self, continuation, details, request):
        return continuation(self._with_token(details), request)


class _Details(grpc.ClientCallDetails):
    def __init__(self, method, timeout, metadata, credentials, wait_for_ready, compression):
        self.method, self.timeout, self.metadata = method, timeout, metadata
        self.credentials, self.wait_for_ready, self.compression = credentials, wait_for_ready, compression


def authenticated(channel, config: RemoteConfig):
    """`channel` with credentials attached when the config asks for any."""
    if config.auth not in (AUTH_BEARER, AUTH_CLIENT_SECRET):
        return channel
    return grpc.intercept_channel(channel, _AuthInterceptor(TokenSource(config, channel)))
