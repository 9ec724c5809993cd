"""The plain-socket HTTP/1.1 client behind the task containers' S3 client, against a real HTTP
server on 127.0.0.1: framing by Content-Length, chunked and connection close, kept-alive
reuse, a server that drops an idle connection, streamed request bodies."""
from __future__ import annotations

import hashlib
import hmac
import http.server
import io
import os
import threading

import pytest

from sdk import s3_client
from sdk.http_connection import ConnectionClosed, HTTPConnection


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    connections: list = []

    def log_message(self, *args):  # keep pytest's output clean
        pass

    def setup(self):
        super().setup()
        _Handler.connections.append(self.client_address)

    def do_GET(self):
        if self.path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in (b"hello ", b"chunked ", b"world"):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
        elif self.path == "/close":
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(b"until the end")
            self.close_connection = True
        elif self.path == "/drop":  # answers, then drops the kept-alive connection
            self._answer(200, b"dropping")
            self.close_connection = True
        else:
            self._answer(404 if self.path == "/missing" else 200, self.path.encode())

    def do_PUT(self):
        length = int(self.headers["Content-Length"])
        body = self.rfile.read(length)
        self._answer(200, hashlib.sha256(body).hexdigest().encode(),
                     extra={"X-Length": str(len(body))})

    def _answer(self, status, body, extra=None):
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture()
def server():
    _Handler.connections = []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _get(conn, path):
    conn.request("GET", path)
    response = conn.getresponse()
    return response.status, response.read()


def test_content_length_answers_reuse_one_connection(server):
    conn = HTTPConnection(server)
    assert _get(conn, "/one") == (200, b"/one")
    assert _get(conn, "/two") == (200, b"/two")
    assert _get(conn, "/missing") == (404, b"/missing")
    assert len(_Handler.connections) == 1
    conn.close()


def test_chunked_and_until_close_bodies(server):
    conn = HTTPConnection(server)
    conn.request("GET", "/chunked")
    response = conn.getresponse()
    pieces = []
    while piece := response.read(4):
        pieces.append(piece)
    assert b"".join(pieces) == b"hello chunked world" and max(map(len, pieces)) <= 4
    assert _get(conn, "/close") == (200, b"until the end")
    assert _get(conn, "/after") == (200, b"/after")  # a new connection, opened by itself
    assert len(_Handler.connections) == 2


def test_a_dropped_idle_connection_is_noticed_before_the_next_request(server):
    conn = HTTPConnection(server)
    assert _get(conn, "/drop") == (200, b"dropping")
    _wait_until_closed_by_server(conn)
    assert _get(conn, "/fresh") == (200, b"/fresh")  # on a new connection, not an error
    assert len(_Handler.connections) == 2


def _wait_until_closed_by_server(conn, tries=200):
    import select
    import time

    for _ in range(tries):
        if select.select([conn._sock], [], [], 0.05)[0]:
            return
        time.sleep(0.01)
    raise AssertionError("the server never closed the connection")


def test_streamed_body_arrives_whole(server):
    payload = os.urandom(3 * 1024 * 1024 + 17)
    conn = HTTPConnection(server, blocksize=64 * 1024)
    conn.request("PUT", "/up", body=io.BytesIO(payload), headers={"Content-Length": str(len(payload))})
    response = conn.getresponse()
    assert response.read() == hashlib.sha256(payload).hexdigest().encode()
    assert response.getheader("X-Length") == str(len(payload))
    small = b"small body"
    conn.request("PUT", "/up", body=small, headers={"Content-Length": str(len(small))})
    assert conn.getresponse().read() == hashlib.sha256(small).hexdigest().encode()


@pytest.mark.parametrize("key", [b"", b"k", b"AWS4secret", os.urandom(64), os.urandom(200)])
def test_request_signing_hmac_matches_the_standard_library(key):
    for text in ("", "20261125", "AWS4-HMAC-SHA256\n" * 20):
        assert s3_client._hmac(key, text) == hmac.new(key, text.encode(), hashlib.sha256).digest()


@pytest.mark.parametrize("target,headers", [
    ("/a\r\nX-Injected: 1", {}),
    ("/a\nGET /b", {}),
    ("/a b", {}),
    ("/ok", {"X-Value": "v\r\nX-Injected: 1"}),
    ("/ok", {"X-Bad\nName": "v"}),
    ("/ok", {"X-Value": "nul\0"}),
])
def test_cr_lf_in_a_target_or_header_is_refused_before_sending(server, target, headers):
    conn = HTTPConnection(server)
    with pytest.raises(ValueError, match="refusing|space|contains"):
        conn.request("GET", target, headers=headers)
    assert _Handler.connections == []  # nothing went out at all


class _SwallowingHandler(http.server.BaseHTTPRequestHandler):
    """Reads each request whole, then drops the connection without answering: the client
    cannot know whether the request took effect."""

    protocol_version = "HTTP/1.1"
    seen: list = []

    def log_message(self, *args):
        pass

    def _swallow(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        _SwallowingHandler.seen.append((self.command, self.path))
        self.close_connection = True

    do_POST = do_GET = _swallow


@pytest.fixture()
def swallowing_server():
    _SwallowingHandler.seen = []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _SwallowingHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_a_post_that_may_have_arrived_is_never_sent_again(swallowing_server, monkeypatch):
    """Starting a multipart upload is a POST: sent twice it would start two uploads."""
    monkeypatch.setattr(s3_client, "MULTIPART_THRESHOLD", 10)
    client = s3_client.S3Client(s3_client.S3Config(swallowing_server, "k", "s"))
    with pytest.raises(ConnectionClosed):
        client.upload("b", "big", io.BytesIO(b"x" * 20), 20)
    assert [m for m, _ in _SwallowingHandler.seen] == ["POST"]


def test_an_idempotent_get_is_retried_once(swallowing_server):
    client = s3_client.S3Client(s3_client.S3Config(swallowing_server, "k", "s"))
    with pytest.raises(ConnectionClosed):
        client.get_bytes("b", "key")
    assert [m for m, _ in _SwallowingHandler.seen] == ["GET", "GET"]


class _FileRange:
    """A request body naming a range of a file on disk, as the S3 client's part windows do."""

    def __init__(self, fd, offset, count):
        self.span = (fd, offset, count)

    def file_range(self):
        return self.span

    def read(self, n=-1):  # never used: the range goes out with sendfile
        raise AssertionError("a file range was read through Python")


def test_a_file_range_body_goes_out_whole_from_its_offset(server, tmp_path):
    payload = os.urandom(5 * 1024 * 1024 + 3)
    path = tmp_path / "blob.bin"
    path.write_bytes(payload)
    conn = HTTPConnection(server)
    with open(path, "rb") as source:
        offset, count = 1024 * 1024 + 1, 3 * 1024 * 1024
        conn.request("PUT", "/up", body=_FileRange(source.fileno(), offset, count),
                     headers={"Content-Length": str(count)})
        response = conn.getresponse()
        assert response.read() == hashlib.sha256(payload[offset:offset + count]).hexdigest().encode()
        assert source.tell() == 0  # sent at an offset: the file's own position is untouched
    # the connection carries the next request: the body was exactly Content-Length long
    assert _get(conn, "/next") == (200, b"/next")
    assert len(_Handler.connections) == 1


def test_readinto_fills_a_buffer_for_every_framing(server):
    conn = HTTPConnection(server)
    for path, expected in (("/sized", b"/sized"), ("/chunked", b"hello chunked world"),
                           ("/close", b"until the end")):
        conn.request("GET", path)
        response = conn.getresponse()
        buffer, received = bytearray(4), b""
        while n := response.readinto(buffer):
            assert n <= 4
            received += bytes(buffer[:n])
        assert received == expected
