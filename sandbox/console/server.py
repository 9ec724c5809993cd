"""The console's HTTP server on 127.0.0.1: one HTML shell for every page (the pages are drawn
by static/app.js), static assets, and a JSON API under /api/. Every request needs the session
cookie (see sandbox.console.access); POSTs also need the CSRF header.

`python -m sandbox.console.server --home H --port N` serves the sandbox of H until SIGTERM;
`sandbox.console.process` starts and stops it beside the admin server."""
from __future__ import annotations

import argparse
import json
import logging
import mimetypes
import os
import re
import signal
import sys
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from sandbox.console import views
from sandbox.console.access import CSRF_HEADER, Gate
from sdk.errors import SkiffError

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"
PAGE_PREFIXES = ("/executions", "/entities", "/cache", "/reproductions", "/launch")
MAX_BODY = 1024 * 1024
PREVIEW_BYTES = 16 * 1024
DATAFRAME_ROWS = 20
_SEGMENT = r"([^/]+)"


class Console:
    """What the handlers share: the sandbox state, its store and object store, the gate."""

    def __init__(self, state, gate: Gate):
        from sandbox.console.actions import Actions
        from sandbox.storage import ObjectStore
        from sandbox.store import open_store

        self.state = state
        self.gate = gate
        self.store = open_store(state.database_url)
        self.objects = ObjectStore.from_state(state)
        self.actions = Actions(state, self.store)
        self.shell = (STATIC / "index.html").read_text().replace("{{csrf}}", gate.csrf)


def _q(query: dict, name: str, default: str = "") -> str:
    return query.get(name, [default])[0]


class Handler(BaseHTTPRequestHandler):
    server_version = "skiff-console"
    console: Console  # set on the subclass the server builds

    def log_message(self, fmt, *args):  # the access log goes to the console's log file
        log.debug("%s " + fmt, self.address_string(), *args)

    # ---- responses --------------------------------------------------------------------------

    def _send(self, status: int, body: bytes, content_type: str, extra=()) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("X-Frame-Options", "DENY")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("Content-Security-Policy",
                         "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                         "script-src 'self'; connect-src 'self'; frame-ancestors 'none'")
        for name, value in extra:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, value, status: int = 200) -> None:
        self._send(status, json.dumps(value, default=str).encode(), "application/json")

    def _error(self, status: int, message: str) -> None:
        if self.path.startswith("/api/"):
            self._json({"error": message}, status)
        else:
            # No favicon link would make the browser ask /favicon.ico (refused again).
            body = (f"<!doctype html><title>Skiff console</title><link rel=icon href=\"data:,\">"
                    f"<h1>{status}</h1>"
                    f"<p>{_escape(message)}</p>").encode()
            self._send(status, body, "text/html; charset=utf-8")

    # ---- access -----------------------------------------------------------------------------

    def _allowed(self) -> bool:
        gate = self.console.gate
        if not gate.host_ok(self.headers.get("Host")):
            self._error(HTTPStatus.FORBIDDEN, "this console answers on 127.0.0.1 only")
            return False
        if not gate.cookie_ok(self.headers.get("Cookie")):
            self._error(HTTPStatus.UNAUTHORIZED, "not logged in: open the login link that "
                        "`skiff ui` prints (it carries the sandbox's console token)")
            return False
        return True

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        try:
            self._get()
        except views.NotFound as exc:
            self._error(HTTPStatus.NOT_FOUND, str(exc))
        except SkiffError as exc:
            self._error(HTTPStatus.BAD_REQUEST, str(exc))
        except BrokenPipeError:
            pass
        except Exception as exc:  # noqa: BLE001 - one failed page must not stop the server
            log.exception("GET %s failed", self.path)
            self._error(HTTPStatus.INTERNAL_SERVER_ERROR, f"{type(exc).__name__}: {exc}")

    def do_POST(self):
        try:
            self._post()
        except views.NotFound as exc:
            self._error(HTTPStatus.NOT_FOUND, str(exc))
        except SkiffError as exc:
            self._error(HTTPStatus.BAD_REQUEST, str(exc))
        except Exception as exc:  # noqa: BLE001
            log.exception("POST %s failed", self.path)
            self._error(HTTPStatus.INTERNAL_SERVER_ERROR, f"{type(exc).__name__}: {exc}")

    # ---- GET --------------------------------------------------------------------------------

    def _get(self):
        url = urlsplit(self.path)
        path, query = url.path, parse_qs(url.query)
        if path == "/login":
            return self._login(query)
        if not self._allowed():
            return
        if path == "/" or path.startswith(PAGE_PREFIXES):
            return self._send(200, self.console.shell.encode(), "text/html; charset=utf-8")
        if path.startswith("/static/"):
            return self._static(path[len("/static/"):])
        if path.startswith("/api/"):
            return self._api_get(path[len("/api"):], query)
        self._error(HTTPStatus.NOT_FOUND, f"no page {path}")

    def _login(self, query):
        gate = self.console.gate
        if not gate.host_ok(self.headers.get("Host")):
            return self._error(HTTPStatus.FORBIDDEN, "this console answers on 127.0.0.1 only")
        if not gate.token_ok(_q(query, "token")):
            return self._error(HTTPStatus.UNAUTHORIZED, "wrong or missing token: open the "
                               "login link that `skiff ui` prints")
        target = _q(query, "next", "/")
        if not target.startswith("/") or target.startswith("//"):
            target = "/"  # never redirect elsewhere
        self._send(HTTPStatus.SEE_OTHER, b"", "text/plain",
                   [("Location", target), ("Set-Cookie", gate.set_cookie())])

    def _static(self, name: str):
        path = (STATIC / name).resolve()
        if STATIC.resolve() not in path.parents or not path.is_file():
            return self._error(HTTPStatus.NOT_FOUND, f"no asset {name}")
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if kind.startswith("text/") or kind.endswith("javascript"):
            kind += "; charset=utf-8"
        self._send(200, path.read_bytes(), kind)

    def _api_get(self, path: str, query):
        c = self.console
        store = c.store
        routes = [
            (r"/executions", lambda: views.list_executions(
                store, _q(query, "project"), _q(query, "domain"), _q(query, "state"),
                _q(query, "workflow"), _q(query, "page", "1"), _q(query, "size", "50"))),
            (rf"/executions/{_SEGMENT}", lambda e: views.execution_detail(store, e, bool(_q(query, "full")))),
            (rf"/executions/{_SEGMENT}/states", lambda e: views.node_states(store, e)),
            (rf"/executions/{_SEGMENT}/nodes/{_SEGMENT}",
             lambda e, n: views.node_detail(store, c.objects, e, n, bool(_q(query, "full")))),
            (rf"/executions/{_SEGMENT}/nodes/{_SEGMENT}/logs", self._logs(query)),
            (rf"/executions/{_SEGMENT}/nodes/{_SEGMENT}/branch",
             lambda e, n: views.branch_taken(store, e, n)),
            (r"/projects", lambda: views.projects(store)),
            (r"/entities", lambda: views.entities(store, _q(query, "project", "default"),
                                                  _q(query, "domain", "development"))),
            (rf"/entities/{_SEGMENT}/{_SEGMENT}/{_SEGMENT}/{_SEGMENT}",
             lambda k, p, d, n: views.entity_detail(store, k, p, d, n)),
            (rf"/launch/{_SEGMENT}/{_SEGMENT}/{_SEGMENT}",
             lambda p, d, n: views.launch_form(store, p, d, n, _q(query, "version"))),
            (r"/cache", lambda: views.cache_summary(store)),
            (r"/reproductions", lambda: views.reproductions(store)),
            (r"/blob", lambda: self._blob(_q(query, "uri"))),
            (r"/listing", lambda: self._listing(_q(query, "uri"))),
            (r"/dataframe", lambda: self._dataframe(_q(query, "uri"))),
        ]
        for pattern, view in routes:
            match = re.fullmatch(pattern, path)
            if match:
                result = view(*(unquote(g) for g in match.groups()))
                if result is not None:
                    self._json(result)
                return
        self._error(HTTPStatus.NOT_FOUND, f"no API {path}")

    def _logs(self, query):
        from sandbox.console.logs import node_logs

        def view(execution_id, node_id):
            found = node_logs(self.console.store, execution_id, node_id,
                              int(_q(query, "offset", "0") or 0))
            if found is None:
                raise views.NotFound(f"execution {execution_id} has no node {node_id!r}")
            return found
        return view

    def _blob(self, uri: str):
        """A file the execution wrote (File/DataFrame part), from the sandbox's bucket only."""
        bucket = self.console.state.bucket
        if not uri.startswith(f"s3://{bucket}/"):
            raise views.NotFound(f"{uri!r} is not in the sandbox's bucket")
        data = self.console.objects.get_bytes(uri)
        if data is None:
            raise views.NotFound(f"{uri} does not exist (a directory? list it with the "
                                 "MinIO console)")
        name = uri.rstrip("/").rsplit("/", 1)[-1] or "download"
        if self.path and "preview=1" in self.path:  # the start of it, as text, for the page
            head = data[:PREVIEW_BYTES]
            return {"text": head.decode("utf-8", errors="replace"), "size": len(data),
                    "cut": len(data) > PREVIEW_BYTES}
        self._send(200, data, "application/octet-stream",
                   [("Content-Disposition", f'attachment; filename="{name}"')])

    def _listing(self, uri: str):
        """The files of a Directory or DataFrame, each downloadable through /api/blob."""
        return [{"uri": u, "size": size} for u, size in self._listing_uris(uri)]

    def _dataframe(self, uri: str):
        """The first rows of a DataFrame output (its first Parquet file), when pyarrow is
        installed here (extra `skiff[dataframe]`)."""
        files = [u for u, _ in self._listing_uris(uri)] or [uri]
        try:
            import io

            import pyarrow.parquet as pq
        except ImportError:
            raise views.NotFound("previewing a DataFrame needs pyarrow here (pip install "
                                 "'skiff[dataframe]'); download its files instead") from None
        data = self.console.objects.get_bytes(files[0])
        if data is None:
            raise views.NotFound(f"{files[0]} does not exist")
        table = pq.read_table(io.BytesIO(data))
        head = table.slice(0, DATAFRAME_ROWS).to_pylist()
        return {"columns": table.column_names, "rows": [[row[c] for c in table.column_names]
                                                        for row in head],
                "total_rows": table.num_rows, "file": files[0]}

    def _listing_uris(self, uri: str):
        bucket = self.console.state.bucket
        if not uri.startswith(f"s3://{bucket}/"):
            raise views.NotFound(f"{uri!r} is not in the sandbox's bucket")
        return self.console.objects.list_uris(uri)

    # ---- POST -------------------------------------------------------------------------------

    def _post(self):
        if not self._allowed():
            return
        gate = self.console.gate
        if not gate.same_origin(self.headers.get("Origin")) or \
                not gate.csrf_ok(self.headers.get(CSRF_HEADER)):
            return self._error(HTTPStatus.FORBIDDEN, "cross-site request refused")
        length = int(self.headers.get("Content-Length") or 0)
        if urlsplit(self.path).path == "/api/upload":
            return self._upload(parse_qs(urlsplit(self.path).query), length)
        if length > MAX_BODY:
            return self._error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "request too large")
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            return self._error(HTTPStatus.BAD_REQUEST, "the request body is not JSON")
        if not isinstance(body, dict):
            return self._error(HTTPStatus.BAD_REQUEST, "the request body must be a JSON object")
        path = urlsplit(self.path).path[len("/api"):]
        a = self.console.actions
        routes = [
            (rf"/executions/{_SEGMENT}/relaunch", lambda e: {"execution": a.relaunch(e)}),
            (rf"/executions/{_SEGMENT}/recover", lambda e: {"execution": a.recover(e)}),
            (rf"/executions/{_SEGMENT}/terminate",
             lambda e: a.terminate(e, str(body.get("cause", ""))) or {"terminated": e}),
            (rf"/executions/{_SEGMENT}/nodes/{_SEGMENT}/approve",
             lambda e, n: {"approved": a.approve(e, n)}),
            (rf"/executions/{_SEGMENT}/nodes/{_SEGMENT}/reject",
             lambda e, n: {"rejected": a.reject(e, n, str(body.get("reason", "")))}),
            (rf"/executions/{_SEGMENT}/nodes/{_SEGMENT}/signal",
             lambda e, n: {"signalled": a.signal(e, n, body.get("value"))}),
            (rf"/launch/{_SEGMENT}/{_SEGMENT}/{_SEGMENT}",
             lambda p, d, n: {"execution": a.launch(p, d, n, str(body.get("version", "")),
                                                    dict(body.get("inputs") or {}))}),
            (r"/cache/clear", lambda: {"removed": a.clear_cache(str(body.get("task", "")))}),
        ]
        for pattern, action in routes:
            match = re.fullmatch(pattern, path)
            if match:
                return self._json(action(*(unquote(g) for g in match.groups())))
        self._error(HTTPStatus.NOT_FOUND, f"no API {path}")

    def _upload(self, query, length: int):
        """One file of a launch form's File/Directory input (the raw request body), stored in
        the bucket; answers its URI and the upload's id and root (for a Directory's files)."""
        from sandbox.console import uploads

        name = uploads.check_path(_q(query, "name"))
        if length > uploads.MAX_UPLOAD_BYTES:
            self.close_connection = True  # the unread body must not be taken for a request
            return self._error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                               uploads.too_large_message(name, length))
        project, domain = uploads.check_scope(_q(query, "project"), _q(query, "domain"))
        upload_id = _q(query, "upload")
        upload_id = uploads.check_upload_id(upload_id) if upload_id else uploads.new_upload_id()
        root = uploads.upload_root(self.console.state.bucket, project, domain, upload_id)
        data = self.rfile.read(length)
        if len(data) != length:
            return self._error(HTTPStatus.BAD_REQUEST, f"upload of {name!r} was cut short "
                               f"({len(data)} of {length} bytes); try again")
        uri = f"{root}/{name}"
        self.console.objects.put_bytes(uri, data)
        self._json({"uri": uri, "upload": upload_id, "root": root, "size": length})


def _escape(text: str) -> str:
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


def build_server(state, token: str, port: int = 0) -> ThreadingHTTPServer:
    """A bound (not yet serving) server for `state` on 127.0.0.1:port."""
    server = ThreadingHTTPServer(("127.0.0.1", port), BaseHTTPRequestHandler)
    bound = server.server_address[1]
    console = Console(state, Gate(token, bound))
    server.RequestHandlerClass = type("ConsoleHandler", (Handler,), {"console": console})
    server.daemon_threads = True
    return server


def main(argv: list[str] | None = None) -> int:
    from sandbox.console.access import read_console
    from sandbox.home import SandboxState

    parser = argparse.ArgumentParser(prog="python -m sandbox.console.server")
    parser.add_argument("--home", help="the sandbox home (default $SKIFF_HOME)")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    if args.home:
        os.environ["SKIFF_HOME"] = args.home
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    state = SandboxState.load()
    token = read_console(state.home).get("token")
    if not token:  # the token is written by sandbox.console.process before it starts us
        print("no console token in console.json; start the console with `skiff sandbox up`",
              file=sys.stderr)
        return 2
    server = build_server(state, token, args.port)
    log.info("console on http://127.0.0.1:%d/", server.server_address[1])
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    stopped.wait()
    server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
