"""Who may use the console: whoever holds the sandbox's console token.

The token lives in $SKIFF_HOME/console.json (mode 0600, beside state.json). A login link
carries it once (`/login?token=...`); the server answers with an HttpOnly, SameSite=Strict
session cookie derived from it and redirects to a URL without the token. Every page, asset and
API call needs that cookie; a state-changing request also needs the CSRF header the page
holds (a cross-site form or fetch cannot set it) and, when the browser sends one, an Origin of
the console itself. A Host header other than 127.0.0.1/localhost is refused (DNS rebinding)."""
from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from pathlib import Path
from urllib.parse import quote

from sdk.atomic_file import write_atomically

COOKIE = "skiff_console"
CSRF_HEADER = "X-Skiff-CSRF"
LOCAL_HOSTS = ("127.0.0.1", "localhost")


def console_file(home) -> Path:
    return Path(home) / "console.json"


def read_console(home) -> dict:
    """{"token", "port", "pid"} as recorded, or {} before the console was ever started."""
    try:
        return json.loads(console_file(home).read_text())
    except (OSError, ValueError):
        return {}


def write_console(home, record: dict) -> None:
    write_atomically(str(console_file(home)), json.dumps(record, indent=2).encode(), mode=0o600)


def new_token() -> str:
    return secrets.token_urlsafe(24)


def _derive(token: str, purpose: str) -> str:
    return hmac.new(token.encode(), purpose.encode(), hashlib.sha256).hexdigest()


def session_value(token: str) -> str:
    return _derive(token, "session")


def csrf_value(token: str) -> str:
    return _derive(token, "csrf")


def login_url(port: int, token: str, path: str = "/") -> str:
    return f"http://127.0.0.1:{port}/login?token={quote(token)}&next={quote(path)}"


def base_url(port: int) -> str:
    return f"http://127.0.0.1:{port}/"


class Gate:
    """The checks one server applies to each request."""

    def __init__(self, token: str, port: int):
        self.token = token
        self.port = port
        self.session = session_value(token)
        self.csrf = csrf_value(token)

    def host_ok(self, host: str | None) -> bool:
        if not host:
            return False
        name, _, port = host.rpartition(":") if ":" in host else (host, "", "")
        return name in LOCAL_HOSTS and (not port or port == str(self.port))

    def token_ok(self, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(token, self.token)

    def cookie_ok(self, cookie_header: str | None) -> bool:
        for part in (cookie_header or "").split(";"):
            name, _, value = part.strip().partition("=")
            if name == COOKIE and hmac.compare_digest(value, self.session):
                return True
        return False

    def same_origin(self, origin: str | None) -> bool:
        if origin is None:  # not sent by every browser on same-origin requests
            return True
        return origin in (f"http://{h}:{self.port}" for h in LOCAL_HOSTS)

    def csrf_ok(self, header: str | None) -> bool:
        return bool(header) and hmac.compare_digest(header, self.csrf)

    def set_cookie(self) -> str:
        return f"{COOKIE}={self.session}; HttpOnly; SameSite=Strict; Path=/"
