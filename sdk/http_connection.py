"""One kept-alive HTTP/1.1 client connection on a plain socket, for sdk/s3_client.py.

Every task container talks to S3, and `http.client` brings the `email` package with it: about
10 ms of imports per container, more than the requests themselves. S3 needs little of HTTP:
requests with a known Content-Length, answers framed by Content-Length (or chunked, or ended by
closing the connection). TLS (`https://` endpoints) imports `ssl` only when used.
"""
from __future__ import annotations

import os
import select
import socket

_MAX_LINE = 65536
_MAX_HEADERS = 200
_INLINE_BODY = 64 * 1024  # bodies up to this size go out in the same send as the headers


class ConnectionClosed(ConnectionError):
    """The server closed the connection before answering (an idle kept-alive one, usually)."""


class ProtocolError(ConnectionError):
    """An answer that is not HTTP/1.x as this client understands it."""


class RequestNotSent(ConnectionClosed):
    """The connection failed before the whole request went out: the server cannot have acted
    on it, so even a non-idempotent request may be sent again on a new connection."""


# Methods that may be repeated with the same effect (RFC 9110 9.2.2); any other one is sent
# again only when the first try provably never reached the server (RequestNotSent).
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE"})
_FORBIDDEN = ("\r", "\n", "\0")


def _check_field(what: str, text: str) -> None:
    """CR, LF or NUL in a request line or header would let a value smuggle its own headers
    or a second request (request splitting): refuse it before anything is sent."""
    if any(c in text for c in _FORBIDDEN):
        raise ValueError(f"{what} {text[:80]!r} contains CR, LF or NUL; refusing to send it")


class Response:
    """Status, headers and a body read in full or in pieces; read it to the end before the
    connection's next request."""

    def __init__(self, connection: "HTTPConnection", status: int, reason: str, headers: dict,
                 method: str):
        self._connection = connection
        self.status = status
        self.reason = reason
        self.headers = headers  # names lower-cased
        self._chunked = "chunked" in headers.get("transfer-encoding", "").lower()
        self._chunk_left = 0
        self._length: int | None = None
        if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            self._length = 0
        elif not self._chunked and "content-length" in headers:
            try:
                self._length = int(headers["content-length"])
            except ValueError:
                raise ProtocolError(f"bad Content-Length {headers['content-length']!r}") from None
        self._until_close = self._length is None and not self._chunked
        self.done = self._length == 0
        self._keep_alive = headers.get("connection", "").lower() != "close" and not self._until_close
        if self.done:
            self._finish()

    def getheader(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)

    def read(self, n: int = -1) -> bytes:
        """Up to `n` bytes of the body (all of what is left when n < 0); b"" at its end."""
        if self.done:
            return b""
        if self._chunked:
            return self._read_chunked(n)
        stream = self._connection._stream
        if self._until_close:
            data = stream.read() if n < 0 else stream.read1(n) if n else b""
            if n < 0 or not data:
                self._finish()
            return data
        want = self._length if n < 0 else min(n, self._length)
        data = stream.read(want)
        if len(data) < want:
            self._connection.close()
            raise ConnectionClosed(f"the server closed the connection {self._length - len(data)} "
                                   "bytes before the end of the answer")
        self._length -= len(data)
        if self._length == 0:
            self._finish()
        return data

    def readinto(self, buffer) -> int:
        """Fill `buffer` (a writable bytes-like object) with the next bytes of the body, as
        many as fit; 0 at its end. A body of known length lands in `buffer` without an
        intermediate bytes object: the copy a 1 GiB download would otherwise make twice."""
        if self.done or self._length is None:
            data = self.read(len(buffer))
            buffer[: len(data)] = data
            return len(data)
        view = memoryview(buffer).cast("B")[: min(len(buffer), self._length)]
        got = 0
        while got < len(view):
            n = self._connection._stream.readinto(view[got:])
            if not n:
                self._connection.close()
                raise ConnectionClosed(f"the server closed the connection {self._length - got} "
                                       "bytes before the end of the answer")
            got += n
        self._length -= got
        if self._length == 0:
            self._finish()
        return got

    def _read_chunked(self, n: int) -> bytes:
        stream = self._connection._stream
        parts, wanted = [], n
        while not self.done and (n < 0 or wanted > 0):
            if self._chunk_left == 0:
                size_line = _read_line(stream).split(b";", 1)[0].strip()
                try:
                    self._chunk_left = int(size_line, 16)
                except ValueError:
                    raise ProtocolError(f"bad chunk size {size_line!r}") from None
                if self._chunk_left == 0:
                    while _read_line(stream) not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    self._finish()
                    break
            take = self._chunk_left if n < 0 else min(self._chunk_left, wanted)
            data = stream.read(take)
            if len(data) < take:
                self._connection.close()
                raise ConnectionClosed("the server closed the connection inside a chunk")
            parts.append(data)
            self._chunk_left -= take
            wanted -= take
            if self._chunk_left == 0:
                _read_line(stream)  # the CRLF after a chunk
        return b"".join(parts)

    def _finish(self) -> None:
        self.done = True
        if not self._keep_alive:
            self._connection.close()


class HTTPConnection:
    """`request(...)` then `getresponse()`, as http.client's connection is used, one request
    at a time. The socket opens on first use and again after the server closed it."""

    def __init__(self, host: str, secure: bool = False, timeout: float = 300,
                 blocksize: int = 1 << 20):
        name, _, port = host.rpartition(":") if host.rpartition(":")[2].isdigit() else (host, "", "")
        self._address = (name.strip("[]"), int(port) if port else (443 if secure else 80))
        self._host = host
        self._secure = secure
        self._timeout = timeout
        self._blocksize = blocksize
        self._sock: socket.socket | None = None
        self._stream = None
        self._method = ""
        self._response: Response | None = None

    def open(self) -> None:
        """Connect now rather than on the first request (which reconnects should the server
        close the idle connection meanwhile)."""
        if self._sock is None:
            self._connect()

    def _connect(self) -> None:
        sock = socket.create_connection(self._address, timeout=self._timeout)
        # Headers and a small body go out in one send; without this, Nagle's algorithm holds
        # a body sent on its own until the server's delayed acknowledgement.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self._secure:
            import ssl

            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=self._address[0])
        self._sock = sock
        self._stream = sock.makefile("rb")

    def request(self, method: str, target: str, body=None, headers: dict | None = None) -> None:
        """Send one request. `body`: bytes, or a binary file-like object read in blocks, with
        its length in the content-length header; one whose `file_range()` gives (descriptor,
        offset, count) of a regular file is sent from there with sendfile(2)."""
        _check_field("method", method)
        if " " in method or " " in target or not target:
            raise ValueError(f"request target {target[:80]!r} is empty or contains a space")
        _check_field("request target", target)
        for name, value in (headers or {}).items():
            _check_field("header name", str(name))
            if ":" in str(name):
                raise ValueError(f"header name {str(name)[:80]!r} contains ':'")
            _check_field(f"header {name} value", str(value))
        if self._response is not None and not self._response.done:
            self.close()  # an unread answer: the connection's framing is lost
        if self._sock is not None and _closed_by_peer(self._sock):
            self.close()  # an idle kept-alive connection the server has closed meanwhile
        if self._sock is None:
            self._connect()
        self._method = method
        self._response = None
        lines = [f"{method} {target} HTTP/1.1"]
        names = {name.lower() for name in (headers or {})}
        if "host" not in names:
            lines.append(f"Host: {self._host}")
        lines.extend(f"{name}: {value}" for name, value in (headers or {}).items())
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        try:
            if body is None or isinstance(body, (bytes, bytearray, memoryview)):
                data = bytes(body or b"")
                if len(data) <= _INLINE_BODY:
                    self._sock.sendall(head + data)
                else:
                    self._sock.sendall(head)
                    self._sock.sendall(data)
            elif span := (None if self._secure else getattr(body, "file_range", lambda: None)()):
                # a range of a file on disk: the kernel copies it from the page cache to the
                # socket (sendfile), with no pass through Python's memory
                self._sock.sendall(head)
                _send_file_range(self._sock, *span)
            else:
                self._sock.sendall(head)
                while block := body.read(self._blocksize):
                    self._sock.sendall(block)
        except (BrokenPipeError, ConnectionResetError) as exc:
            # sendall failed, so the server never got the whole request (its length is
            # declared): it cannot have acted on it.
            self.close()
            raise RequestNotSent(f"the connection failed while sending the request: {exc}") from exc
        except OSError:
            self.close()
            raise

    def getresponse(self) -> Response:
        try:
            status_line = self._stream.readline(_MAX_LINE + 1)
            if not status_line:
                raise ConnectionClosed("the server closed the connection without answering")
            version, _, rest = status_line.decode("latin-1").partition(" ")
            code, _, reason = rest.strip().partition(" ")
            if not version.startswith("HTTP/1.") or not code.isdigit():
                raise ProtocolError(f"not an HTTP/1.x status line: {status_line[:80]!r}")
            headers = _read_headers(self._stream)
            response = Response(self, int(code), reason, headers, self._method)
        except OSError:
            self.close()
            raise
        self._response = response
        return response

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()
        if self._sock is not None:
            self._sock.close()
        self._sock = self._stream = None


def _send_file_range(sock: socket.socket, fd: int, offset: int, count: int) -> None:
    """Send `count` bytes of the file `fd` from `offset` with sendfile(2). The socket has a
    timeout, so it is non-blocking underneath: wait (up to that timeout) while it is full."""
    timeout = sock.gettimeout()
    while count > 0:
        try:
            sent = os.sendfile(sock.fileno(), fd, offset, min(count, 1 << 30))
        except BlockingIOError:
            if not select.select([], [sock], [], timeout)[1]:
                raise TimeoutError("timed out sending a file to the server") from None
            continue
        if sent == 0:
            raise OSError(f"the file ended {count} bytes before the request's declared length")
        offset += sent
        count -= sent


def _closed_by_peer(sock: socket.socket) -> bool:
    """True when an idle connection is readable: the server closed it (or sent something
    unasked), so it must not carry the next request."""
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


def _read_line(stream) -> bytes:
    line = stream.readline(_MAX_LINE + 1)
    if len(line) > _MAX_LINE:
        raise ProtocolError("an answer line longer than 64 KiB")
    return line


def _read_headers(stream) -> dict:
    headers: dict[str, str] = {}
    for _ in range(_MAX_HEADERS):
        line = _read_line(stream)
        if line in (b"\r\n", b"\n", b""):
            return headers
        name, sep, value = line.decode("latin-1").partition(":")
        if not sep:
            raise ProtocolError(f"a header line without a colon: {line[:80]!r}")
        key = name.strip().lower()
        value = value.strip()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    raise ProtocolError(f"more than {_MAX_HEADERS} headers in an answer")
