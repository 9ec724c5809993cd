"""OAuth2 on the admin, as a flyteadmin with auth serves it, so flytekit and flytectl work as is.

- `AuthMetadataService` (unauthenticated): the token endpoint and the public client config
  (client id, the `authorization` metadata key, scopes, audience), which is how flytekit's
  ClientSecret flow and flytectl's client find where to get a token.
- A token endpoint over HTTP on 127.0.0.1: `POST /oauth2/token`, grant `client_credentials`,
  the client authenticated by HTTP Basic (flytekit, Go's oauth2) or in the form (Go's fallback).
  It answers `{"access_token", "token_type": "bearer", "expires_in"}`.
- `RequireToken`, a server interceptor: every other call needs `authorization: Bearer <token>`
  with a valid, unexpired token of this home, else UNAUTHENTICATED.
"""
from __future__ import annotations

import base64
import binascii
import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import grpc
from flyteidl.service import auth_pb2, auth_pb2_grpc

from sandbox.admin.auth_tokens import (DEFAULT_SCOPES, DEFAULT_TTL_S, ClientCredentials,
                                       InvalidToken, TokenVerifier)

TOKEN_PATH = "/oauth2/token"
METADATA_KEY = "authorization"
OPEN_SERVICES = ("/flyteidl.service.AuthMetadataService/",)
ISSUER_SUBJECT = "client:"


class AuthMetadata(auth_pb2_grpc.AuthMetadataServiceServicer):
    def __init__(self, credentials: ClientCredentials, token_url: str, issuer: str, audience: str):
        self._credentials, self._token_url = credentials, token_url
        self._issuer, self._audience = issuer, audience

    def GetOAuth2Metadata(self, request, context):
        return auth_pb2.OAuth2MetadataResponse(
            issuer=self._issuer, token_endpoint=self._token_url,
            grant_types_supported=["client_credentials"],
            token_endpoint_auth_methods_supported=["client_secret_basic", "client_secret_post"],
            scopes_supported=list(DEFAULT_SCOPES), response_types_supported=["token"])

    def GetPublicClientConfig(self, request, context):
        return auth_pb2.PublicClientAuthConfigResponse(
            client_id=self._credentials.client_id, scopes=list(DEFAULT_SCOPES),
            authorization_metadata_key=METADATA_KEY, audience=self._audience)


def _bearer(metadata) -> str | None:
    for key, value in metadata or ():
        if key in (METADATA_KEY, "flyte-authorization") and isinstance(value, str):
            scheme, _, token = value.partition(" ")
            if scheme.lower() == "bearer" and token:
                return token.strip()
    return None


def _denied(handler, message: str):
    """A handler of the same shape as `handler` that refuses the call."""
    def refuse(request, context):
        context.abort(grpc.StatusCode.UNAUTHENTICATED, message)

    kinds = [(handler.unary_unary, grpc.unary_unary_rpc_method_handler),
             (handler.unary_stream, grpc.unary_stream_rpc_method_handler),
             (handler.stream_unary, grpc.stream_unary_rpc_method_handler),
             (handler.stream_stream, grpc.stream_stream_rpc_method_handler)]
    for present, make in kinds:
        if present:
            return make(refuse, request_deserializer=handler.request_deserializer,
                        response_serializer=handler.response_serializer)
    return None


class RequireToken(grpc.ServerInterceptor):
    def __init__(self, verifier: TokenVerifier, config_hint: str):
        self._verifier = verifier
        self._hint = config_hint

    def intercept_service(self, continuation, handler_call_details):
        method = handler_call_details.method
        if method.startswith(OPEN_SERVICES):
            return continuation(handler_call_details)
        token = _bearer(handler_call_details.invocation_metadata)
        if token is None:
            reason = "no access token"
        else:
            try:
                self._verifier.check(token)
                return continuation(handler_call_details)
            except InvalidToken as exc:
                reason = f"the access token is {exc}" if str(exc) == "expired" else \
                    f"the access token was refused ({exc})"
        handler = continuation(handler_call_details)
        if handler is None:
            return None
        return _denied(handler, f"{method}: {reason}; this sandbox's admin needs its client "
                                f"credentials: use the config {self._hint}")


def _client_from_request(headers, form: dict) -> tuple[str, str] | None:
    authorization = headers.get("Authorization") or ""
    scheme, _, encoded = authorization.partition(" ")
    if scheme.lower() == "basic" and encoded:
        try:
            pair = base64.b64decode(encoded.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        client_id, sep, secret = pair.partition(":")
        if not sep:
            return None
        # RFC 6749 2.3.1: both parts form-urlencoded before Basic (flytekit and Go do so).
        return urllib.parse.unquote_plus(client_id), urllib.parse.unquote_plus(secret)
    if form.get("client_id") and form.get("client_secret"):
        return form["client_id"], form["client_secret"]
    return None


def _token_handler(verifier: TokenVerifier, credentials: ClientCredentials, ttl_s: int):
    class TokenHandler(BaseHTTPRequestHandler):
        server_version = "skiff-token"

        def log_message(self, *args):  # nothing about requests (or their headers) is logged
            pass

        def _answer(self, status: int, body: dict, extra: dict | None = None) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Cache-Control", "no-store")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (extra or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self):
            if urllib.parse.urlsplit(self.path).path != TOKEN_PATH:
                return self._answer(404, {"error": "not_found"})
            length = int(self.headers.get("Content-Length") or 0)
            if length > 64 * 1024:
                return self._answer(413, {"error": "invalid_request"})
            raw = self.rfile.read(length).decode("utf-8", "replace")
            form = {k: v[-1] for k, v in urllib.parse.parse_qs(raw).items()}
            client = _client_from_request(self.headers, form)
            if client is None or not verifier.client_matches(credentials, *client):
                return self._answer(401, {"error": "invalid_client"},
                                    {"WWW-Authenticate": 'Basic realm="skiff"'})
            if form.get("grant_type") != "client_credentials":
                return self._answer(400, {"error": "unsupported_grant_type"})
            token = verifier.issue(ISSUER_SUBJECT + credentials.client_id, ttl_s)
            return self._answer(200, {"access_token": token, "token_type": "bearer",
                                      "expires_in": ttl_s, "scope": " ".join(DEFAULT_SCOPES)})

        def do_GET(self):
            return self._answer(405, {"error": "invalid_request"})

    return TokenHandler


def start_token_endpoint(verifier: TokenVerifier, credentials: ClientCredentials, port: int,
                         ttl_s: int = DEFAULT_TTL_S) -> ThreadingHTTPServer:
    """Serve the token endpoint on 127.0.0.1:port in a daemon thread; `shutdown()` stops it."""
    server = ThreadingHTTPServer(("127.0.0.1", port),
                                 _token_handler(verifier, credentials, ttl_s))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="token-endpoint", daemon=True).start()
    return server


def token_url(port: int) -> str:
    return f"http://127.0.0.1:{port}{TOKEN_PATH}"
