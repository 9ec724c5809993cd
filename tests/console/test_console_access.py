"""The console's access rules as pure logic (the browser tests check them end to end)."""
from __future__ import annotations

import os
import stat

from sandbox.console.access import (
    COOKIE, Gate, csrf_value, login_url, new_token, read_console, session_value, write_console,
)


def test_the_cookie_and_csrf_values_come_from_the_token_but_are_not_it():
    token = new_token()
    gate = Gate(token, 8123)
    assert gate.cookie_ok(f"other=1; {COOKIE}={session_value(token)}")
    assert not gate.cookie_ok(f"{COOKIE}={token}")
    assert not gate.cookie_ok(f"{COOKIE}={session_value(new_token())}")
    assert not gate.cookie_ok(None)
    assert gate.csrf_ok(csrf_value(token)) and not gate.csrf_ok(session_value(token))
    assert not gate.csrf_ok(None)
    assert "HttpOnly" in gate.set_cookie() and "SameSite=Strict" in gate.set_cookie()


def test_only_local_hosts_and_origins_of_its_own_port():
    gate = Gate("t", 8123)
    assert gate.host_ok("127.0.0.1:8123") and gate.host_ok("localhost:8123")
    for host in ("evil.example:8123", "127.0.0.1:9", "127.0.0.1.evil.example:8123", None, ""):
        assert not gate.host_ok(host), host
    assert gate.same_origin(None) and gate.same_origin("http://127.0.0.1:8123")
    assert not gate.same_origin("http://evil.example") and not gate.same_origin("null")


def test_the_console_record_is_private_and_the_link_carries_the_token(tmp_path):
    write_console(tmp_path, {"token": "abc", "port": 8123, "pid": None})
    assert stat.S_IMODE(os.stat(tmp_path / "console.json").st_mode) == 0o600
    assert read_console(tmp_path)["token"] == "abc"
    assert read_console(tmp_path / "missing") == {}
    assert login_url(8123, "abc", "/executions/x") == \
        "http://127.0.0.1:8123/login?token=abc&next=/executions/x"
