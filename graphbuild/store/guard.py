"""The HTTP guard in front of ``oxigraph serve``: what a web page the user happens to open
must not be able to do to a served store.

Oxigraph's server answers any ``Host`` (so a page can reach it through DNS rebinding), runs
any form POST to ``/update`` (a simple request: no CORS preflight stops it), and fetches any
URL a query names in ``SERVICE`` (or an update in ``LOAD``). The guard listens where the
user asked and passes on to Oxigraph, listening on a loopback address of its own, only
requests that

- name this server in ``Host`` (``localhost``, an IP address, or the name it was bound to),
- come from no other site (an ``Origin`` header, where there is one, is this server's own),
- read, unless the server is writable (``/update`` and Graph Store writes refused),
- make no outbound call (``SERVICE`` and ``LOAD`` refused).

A query or update is checked as text and passed on re-encoded as the exact text checked
(``application/sparql-query`` or ``-update``), so Oxigraph runs nothing the guard did not see.
"""

from __future__ import annotations

import http.client
import ipaddress
import re
import socket
import threading
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlencode, urlsplit

from graphbuild.store.protocol import keywords_only
from graphbuild.workers.interrupts import start

__all__ = ["Guard", "Policy", "outbound_call"]

# Keywords that make Oxigraph fetch a URL; a variable, prefixed name or blank node label
# that merely spells one does not count.
_OUTBOUND = re.compile(r"(?i)(?<![\w?$:])(SERVICE|LOAD)(?![\w:-])")
_HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade"}
_FORWARDED_REQUEST_HEADERS = ("Accept", "Content-Type")
_READING = ("GET", "HEAD")
_CHUNK = 64 * 1024
# The largest request body the guard reads to check (a query or update text, a form).
_MAX_CHECKED_BODY = 64 * 1024 * 1024


def outbound_call(sparql: str) -> str | None:
    """The keyword by which ``sparql`` would make the server fetch a URL, or None."""
    match = _OUTBOUND.search(keywords_only(sparql))
    return match.group(1).upper() if match else None


class Policy:
    """What the guard lets through: ``writable`` or not, and which ``Host`` names are this
    server's (besides ``localhost`` and IP addresses, which DNS rebinding cannot use)."""

    def __init__(self, *, writable: bool, host: str, port: int, names: Iterable[str] = ()) -> None:
        self.writable = writable
        self.port = port
        self.names = {"localhost", host.strip("[]").lower(), *(name.lower() for name in names)}

    def host_allowed(self, header: str | None) -> bool:
        if header is None:  # HTTP/1.0 clients; browsers always send one
            return True
        name, port = _split_host(header)
        if port is None:
            port = 80
        if port != self.port:
            return False
        return name in self.names or _is_ip(name)

    def origin_allowed(self, origin: str | None, host: str | None) -> bool:
        if origin is None:
            return True
        return host is not None and origin.lower() == f"http://{host.lower()}"


class _Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class Guard(ThreadingHTTPServer):
    """Listens on ``address`` and passes allowed requests to ``upstream`` (host, port)."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], upstream: tuple[str, int], policy: Policy) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.upstream = upstream
        self.policy = policy
        super().__init__(address, _Handler)

    def serve_in_background(self) -> threading.Thread:
        return start(threading.Thread(target=self.serve_forever, args=(0.2,), name="graphbuild-guard", daemon=True))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Guard
    # Idle keep-alive connections are let go after this many seconds.
    timeout = 60

    def log_message(self, format: str, *args: object) -> None:
        pass  # the foreground command stays quiet; refusals are answered to the client

    def do_GET(self) -> None:
        self._handle()

    def do_HEAD(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def do_OPTIONS(self) -> None:
        self._handle()

    def _handle(self) -> None:
        try:
            method, target, headers, body = self._checked()
        except _Refused as refused:
            self._refuse(refused.status, refused.message)
            return
        self._forward(method, target, headers, body)

    def _checked(self) -> tuple[str, str, dict[str, str], bytes | None]:
        """The request as it goes upstream, or _Refused."""
        policy = self.server.policy
        host = self.headers.get("Host")
        if not policy.host_allowed(host):
            raise _Refused(403, f"this server does not answer to the host name {host!r}")
        if not policy.origin_allowed(self.headers.get("Origin"), host):
            raise _Refused(403, f"requests from another site ({self.headers.get('Origin')}) are refused")
        if self.command not in _READING and self.headers.get("Sec-Fetch-Site") == "cross-site":
            raise _Refused(403, "requests from another site are refused")
        parts = urlsplit(self.path)
        path = parts.path
        if path == "/query":
            return self._sparql("query", parts.query)
        if path == "/update":
            if not policy.writable:
                raise _Refused(403, "this server is read-only: updates are refused (a server started writable takes them)")
            if self.command != "POST":
                raise _Refused(405, "updates are sent with POST")
            return self._sparql("update", parts.query)
        if path not in ("/", "/store"):
            raise _Refused(404, f"nothing at {path}: this server answers at /, /query, /update and /store")
        # Only the path Oxigraph routes on, and for the Graph Store its graph parameters.
        target = path if path == "/" or not parts.query else f"{path}?{parts.query}"
        if self.command in _READING:
            return self.command, target, self._headers(), None
        if path == "/store" and self.command in ("PUT", "POST", "DELETE"):
            if not policy.writable:
                raise _Refused(403, "this server is read-only: Graph Store writes are refused (a server started writable takes them)")
            return self.command, target, self._headers(), self._body(limit=None)
        raise _Refused(405, f"{self.command} {path} is not something this server does")

    def _sparql(self, kind: str, query_string: str) -> tuple[str, str, dict[str, str], bytes | None]:
        """A query or update from any of the protocol's three ways of sending it, checked,
        and re-encoded as the text itself."""
        params = parse_qsl(query_string, keep_blank_values=True)
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if self.command in _READING:
            pass
        elif self.command != "POST":
            raise _Refused(405, f"SPARQL {kind} requests are sent with GET or POST")
        elif content_type == "application/x-www-form-urlencoded":
            params += parse_qsl(self._text(self._body(limit=_MAX_CHECKED_BODY)), keep_blank_values=True)
        elif content_type == f"application/sparql-{kind}":
            params.append((kind, self._text(self._body(limit=_MAX_CHECKED_BODY))))
        else:
            raise _Refused(415, f"a SPARQL {kind} is sent as a form or as application/sparql-{kind}")
        texts = [value for name, value in params if name == kind]
        rest = [(name, value) for name, value in params if name != kind]
        if not texts and self.command in _READING and kind == "query":
            return self.command, "/query", self._headers(), None
        if len(texts) != 1:
            raise _Refused(400, f"give exactly one {kind}")
        keyword = outbound_call(texts[0])
        if keyword is not None:
            raise _Refused(403, f"{keyword} is refused: this server makes no requests to other servers")
        target = f"/{kind}" + (f"?{urlencode(rest)}" if rest else "")
        headers = {"Content-Type": f"application/sparql-{kind}; charset=utf-8"}
        if "Accept" in self.headers:
            headers["Accept"] = self.headers["Accept"]
        return "POST", target, headers, texts[0].encode("utf-8")

    def _headers(self) -> dict[str, str]:
        return {name: self.headers[name] for name in _FORWARDED_REQUEST_HEADERS if name in self.headers}

    def _body(self, *, limit: int | None) -> bytes:
        if "Transfer-Encoding" in self.headers:
            raise _Refused(411, "send the body with a Content-Length")
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            raise _Refused(400, "a bad Content-Length") from None
        if length < 0 or (limit is not None and length > limit):
            raise _Refused(413, "the request is too large")
        return self.rfile.read(length)

    @staticmethod
    def _text(body: bytes) -> str:
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:
            raise _Refused(400, "the request is not UTF-8") from None

    def _forward(self, method: str, target: str, headers: dict[str, str], body: bytes | None) -> None:
        host, port = self.server.upstream
        connection = http.client.HTTPConnection(host, port)
        try:
            connection.request(method, target, body=body, headers=headers)
            response = connection.getresponse()
        except OSError as exc:
            connection.close()
            self._refuse(502, f"the Oxigraph server did not answer: {exc}")
            return
        try:
            self._relay(response)
        finally:
            connection.close()

    def _relay(self, response: http.client.HTTPResponse) -> None:
        length = response.getheader("Content-Length")
        chunked = length is None and self.command != "HEAD" and response.status not in (204, 304)
        self.send_response(response.status, response.reason)
        for name, value in response.getheaders():
            if name.lower() not in _HOP_BY_HOP:
                self.send_header(name, value)
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        if self.command == "HEAD":
            return
        try:
            for piece in _pieces(response):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
            if chunked:
                self.wfile.write(b"0\r\n\r\n")
        except OSError:
            self.close_connection = True  # the client went away, or the server failed mid-answer

    def _refuse(self, status: int, message: str) -> None:
        body = (message + "\n").encode("utf-8")
        # A refused request's body may be unread: the connection cannot carry another one.
        self.close_connection = True
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


def _pieces(response: http.client.HTTPResponse) -> Iterable[bytes]:
    while True:
        piece = response.read1(_CHUNK)
        if not piece:
            return
        yield piece


def _split_host(header: str) -> tuple[str, int | None]:
    header = header.strip().lower()
    if header.startswith("["):
        name, _, rest = header[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    else:
        name, _, port = header.partition(":")
    return name, int(port) if port.isdigit() else None


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True
