"""The admin's credentials: one OAuth2 client per sandbox home and the access tokens it signs.

`$SKIFF_HOME/admin-auth/` (0700) holds the client id, the client secret and the token signing
key, each in a 0600 file created once. An access token is `skiff1.<claims>.<signature>`: the
claims (subject, scopes, issue and expiry times, a random id) as base64url JSON, signed with
HMAC-SHA256 under the home's key. Only the admin process and the sandbox's own code read the
key; nothing here logs or prints a secret.
"""
from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import json
import os
import secrets
import threading
import time
from pathlib import Path

AUTH_DIR = "admin-auth"
TOKEN_PREFIX = "skiff1"
DEFAULT_SCOPES = ("all",)  # flyteadmin's own scope name for full access
DEFAULT_TTL_S = 15 * 60
MAX_TTL_S = 12 * 3600


class InvalidToken(Exception):
    """A token that is malformed, not signed by this home, or expired."""


@dataclasses.dataclass(frozen=True)
class ClientCredentials:
    client_id: str
    secret_path: Path  # the secret itself is read only where it is checked

    def secret(self) -> str:
        return self.secret_path.read_text(encoding="utf-8").strip()


@dataclasses.dataclass(frozen=True)
class Claims:
    subject: str
    scopes: tuple[str, ...]
    issued_at: int
    expires_at: int


def auth_dir(home) -> Path:
    return Path(home) / AUTH_DIR


def _write_private(path: Path, text: str) -> None:
    """Create `path` 0600 with `text`, never replacing an existing file (first writer wins)."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text + "\n")


def ensure_client(home) -> ClientCredentials:
    """The home's client (created on first use: id, secret, signing key)."""
    directory = auth_dir(home)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    _write_private(directory / "client_id", f"skiff-{secrets.token_hex(4)}")
    _write_private(directory / "client_secret", secrets.token_urlsafe(32))
    _write_private(directory / "signing_key", secrets.token_hex(32))
    for name in ("client_id", "client_secret", "signing_key"):
        os.chmod(directory / name, 0o600)
    return client(home)


def client(home) -> ClientCredentials:
    directory = auth_dir(home)
    return ClientCredentials((directory / "client_id").read_text(encoding="utf-8").strip(),
                             directory / "client_secret")


def _signing_key(home) -> bytes:
    return bytes.fromhex((auth_dir(home) / "signing_key").read_text(encoding="utf-8").strip())


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign_token(key: bytes, subject: str, ttl_seconds: float, scopes=DEFAULT_SCOPES,
               now: float | None = None) -> str:
    issued = int(time.time() if now is None else now)
    ttl = int(min(max(ttl_seconds, 1), MAX_TTL_S))
    claims = {"sub": subject, "scp": list(scopes), "iat": issued, "exp": issued + ttl,
              "jti": secrets.token_hex(8)}
    body = f"{TOKEN_PREFIX}.{_b64(json.dumps(claims, separators=(',', ':')).encode())}"
    signature = hmac.new(key, body.encode(), hashlib.sha256).digest()
    return f"{body}.{_b64(signature)}"


def mint_access_token(home, subject: str, ttl_seconds: float = DEFAULT_TTL_S,
                      scopes=DEFAULT_SCOPES) -> str:
    """A token the admin of `home` accepts for `ttl_seconds` (at most 12 h), without a round
    trip to the token endpoint: for the sandbox's own callers (console, CLI helpers) and for the
    engine to hand one container a short-lived token."""
    return sign_token(_signing_key(home), subject, ttl_seconds, scopes)


def verify_token(key: bytes, token: str, now: float | None = None) -> Claims:
    try:
        prefix, payload, signature = token.split(".")
    except ValueError:
        raise InvalidToken("not a Skiff access token") from None
    if prefix != TOKEN_PREFIX:
        raise InvalidToken("not a Skiff access token")
    expected = hmac.new(key, f"{prefix}.{payload}".encode(), hashlib.sha256).digest()
    try:
        valid = hmac.compare_digest(expected, _unb64(signature))
        claims = json.loads(_unb64(payload)) if valid else None
    except ValueError:
        raise InvalidToken("malformed token") from None
    if not valid or not isinstance(claims, dict):
        raise InvalidToken("bad signature")
    if (time.time() if now is None else now) >= claims.get("exp", 0):
        raise InvalidToken("expired")
    return Claims(str(claims.get("sub", "")), tuple(claims.get("scp") or ()),
                  int(claims.get("iat", 0)), int(claims["exp"]))


class TokenVerifier:
    """Checks tokens for the admin: the signing key read once, tokens already checked
    remembered until they expire (a call then costs a dictionary lookup)."""

    _MAX_REMEMBERED = 4096

    def __init__(self, home):
        self._key = _signing_key(home)
        self._known: dict[str, int] = {}
        self._lock = threading.Lock()

    def check(self, token: str) -> None:
        """Raise InvalidToken unless `token` is valid now."""
        now = time.time()
        expires = self._known.get(token)
        if expires is not None and now < expires:
            return
        claims = verify_token(self._key, token, now)
        with self._lock:
            if len(self._known) >= self._MAX_REMEMBERED:
                self._known = {t: e for t, e in self._known.items() if e > now}
                if len(self._known) >= self._MAX_REMEMBERED:
                    self._known.clear()
            self._known[token] = claims.expires_at

    def client_matches(self, credentials: ClientCredentials, client_id: str, secret: str) -> bool:
        same_id = hmac.compare_digest(client_id.encode(), credentials.client_id.encode())
        same_secret = hmac.compare_digest(secret.encode(), credentials.secret().encode())
        return same_id and same_secret

    def issue(self, subject: str, ttl_seconds: float, scopes=DEFAULT_SCOPES) -> str:
        return sign_token(self._key, subject, ttl_seconds, scopes)


TOKEN_ENV = "SKIFF_ADMIN_TOKEN"


def container_admin_env(home, admin_endpoint: str, subject: str, ttl_seconds: float) -> dict:
    """The environment that lets flytekit inside one container call the admin for
    `ttl_seconds` (an eager workflow), and nothing more: a minted token, never the client
    secret. flytekit's ExternalCommand auth mode runs `printenv SKIFF_ADMIN_TOKEN` and sends
    its output as the bearer token (in the header the admin's public client config names)."""
    return {"FLYTE_PLATFORM_URL": admin_endpoint, "FLYTE_PLATFORM_INSECURE": "True",
            "FLYTE_CREDENTIALS_AUTH_MODE": "ExternalCommand",
            "FLYTE_CREDENTIALS_COMMAND": f"printenv,{TOKEN_ENV}",
            TOKEN_ENV: mint_access_token(home, subject, ttl_seconds)}
