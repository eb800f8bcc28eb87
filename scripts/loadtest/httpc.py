"""A small HTTP/1.1 client on asyncio streams (stdlib only), enough for the load test.

One :class:`Connection` is one keep-alive TCP connection; it may bind a local loopback address
(127.0.0.x) so that phones look like different clients to per-address limits.  :class:`Browser`
adds a cookie jar and redirect following for the phone flow.  Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit


class HttpError(Exception):
    """The connection failed, timed out, or the answer was not HTTP."""


@dataclass
class Response:
    status: int
    headers: dict[str, list[str]]
    body: bytes
    elapsed: float  # seconds from sending the request to the last byte of the answer
    sent_at: float  # time.monotonic() when the request was sent
    url: str = ""

    def header(self, name: str, default: str = "") -> str:
        values = self.headers.get(name.lower())
        return values[-1] if values else default

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class StreamRefused(HttpError):
    def __init__(self, status: int) -> None:
        super().__init__(f"events: HTTP {status}")
        self.status = status


class Connection:
    def __init__(self, host: str, port: int, local_host: str | None = None) -> None:
        self.host, self.port, self.local_host = host, port, local_host
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def _open(self, timeout: float) -> None:
        local = (self.local_host, 0) if self.local_host else None
        try:
            self._reader, self._writer = await asyncio.wait_for(
                asyncio.open_connection(self.host, self.port, local_addr=local, limit=1 << 20), timeout
            )
        except (OSError, TimeoutError) as exc:
            raise HttpError(f"connect: {type(exc).__name__}: {exc}") from None

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None

    async def request(
        self,
        method: str,
        path: str,
        headers: dict[str, str] | None = None,
        body: bytes = b"",
        timeout: float = 30.0,
    ) -> Response:
        """Send one request; on a reused connection that the server had closed, retry once on a new one."""
        for attempt in (0, 1):
            reused = self._writer is not None
            if not reused:
                await self._open(timeout)
            try:
                return await asyncio.wait_for(self._exchange(method, path, headers or {}, body), timeout)
            except (ConnectionError, asyncio.IncompleteReadError, HttpError) as exc:
                self.close()
                if reused and attempt == 0 and not getattr(exc, "got_bytes", False):
                    continue
                raise HttpError(f"{method} {path}: {type(exc).__name__}: {exc}") from None
            except TimeoutError:
                self.close()
                raise HttpError(f"{method} {path}: timed out after {timeout:.0f} s") from None
        raise AssertionError("unreachable")

    async def events(self, path: str, headers: dict[str, str], idle_timeout: float) -> AsyncIterator[tuple[str, Any]]:
        """``GET path`` as a server-sent event stream: yields (event, parsed JSON data) per event and
        ("keepalive", None) per comment, until the server ends the stream.  The connection is closed
        afterwards (a stream left early cannot be reused).  A non-200 answer raises StreamRefused."""
        try:
            if self._writer is None:
                await self._open(idle_timeout)
            assert self._reader is not None and self._writer is not None
            lines = [f"GET {path} HTTP/1.1", f"Host: {self.host}:{self.port}", "Accept: text/event-stream"]
            lines += [f"{k}: {v}" for k, v in headers.items()]
            self._writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
            await self._writer.drain()
            reader = self._reader
            status_line = await asyncio.wait_for(reader.readline(), idle_timeout)
            if not status_line:
                raise HttpError("events: closed before answering")
            status = int(status_line.split(b" ", 2)[1])
            chunked = False
            while True:
                line = await asyncio.wait_for(reader.readline(), idle_timeout)
                if line in (b"\r\n", b"\n", b""):
                    break
                name, _, value = line.decode("latin-1").partition(":")
                if name.strip().lower() == "transfer-encoding" and "chunked" in value.lower():
                    chunked = True
            if status != 200:
                raise StreamRefused(status)
            buf = b""
            while True:
                if chunked:
                    size_line = await asyncio.wait_for(reader.readline(), idle_timeout)
                    size = int(size_line.split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        return
                    buf += await asyncio.wait_for(reader.readexactly(size + 2), idle_timeout)
                    buf = buf[:-2] if buf.endswith(b"\r\n") else buf
                else:
                    data = await asyncio.wait_for(reader.read(65536), idle_timeout)
                    if not data:
                        return
                    buf += data
                while b"\n\n" in buf:
                    block, buf = buf.split(b"\n\n", 1)
                    kind, payload = "", b""
                    for line in block.split(b"\n"):
                        if line.startswith(b":"):
                            kind = kind or "keepalive"
                        elif line.startswith(b"event: "):
                            kind = line[7:].decode()
                        elif line.startswith(b"data: "):
                            payload += line[6:]
                    if kind:
                        yield kind, json.loads(payload) if payload else None
        except (ConnectionError, asyncio.IncompleteReadError, OSError, ValueError) as exc:
            raise HttpError(f"events {path}: {type(exc).__name__}: {exc}") from None
        except TimeoutError:
            raise HttpError(f"events {path}: nothing for {idle_timeout:.0f} s") from None
        finally:
            self.close()

    async def _exchange(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Response:
        assert self._reader is not None and self._writer is not None
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        if body or method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(body)}")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        sent_at = time.monotonic()
        self._writer.write(head + body if len(body) < 65536 else head)
        if len(body) >= 65536:
            self._writer.write(body)
        await self._writer.drain()
        status_line = await self._reader.readline()
        if not status_line:
            raise ConnectionResetError("closed before answering")
        try:
            parts = status_line.decode("latin-1").split(" ", 2)
            status = int(parts[1])
        except (IndexError, ValueError):
            err = HttpError(f"bad status line {status_line[:80]!r}")
            err.got_bytes = True  # type: ignore[attr-defined]
            raise err from None
        got: dict[str, list[str]] = {}
        while True:
            line = await self._reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            got.setdefault(name.strip().lower(), []).append(value.strip())
        if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            data = b""
        elif "chunked" in ",".join(got.get("transfer-encoding", [])).lower():
            chunks = []
            while True:
                size = int((await self._reader.readline()).split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while (await self._reader.readline()) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(await self._reader.readexactly(size))
                await self._reader.readexactly(2)
            data = b"".join(chunks)
        elif "content-length" in got:
            data = await self._reader.readexactly(int(got["content-length"][-1]))
        else:
            data = await self._reader.read()
            got["connection"] = ["close"]
        elapsed = time.monotonic() - sent_at
        if "close" in ",".join(got.get("connection", [])).lower():
            self.close()
        return Response(status, got, data, elapsed, sent_at)


def multipart(field_name: str, filename: str, content_type: str, data: bytes) -> tuple[str, bytes]:
    boundary = "----idsvcload" + str(time.monotonic_ns())
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="{field_name}"; filename="{filename}"\r\n'
        f"Content-Type: {content_type}\r\n\r\n"
    ).encode()
    return f"multipart/form-data; boundary={boundary}", head + data + f"\r\n--{boundary}--\r\n".encode()


@dataclass
class Browser:
    """A phone's browser: one connection per origin (from ``local_host``), cookies, redirects."""

    headers: dict[str, str]
    local_host: str | None = None
    cookies: dict[str, str] = field(default_factory=dict)  # by name; loopback hosts share them like browsers
    _conns: dict[tuple[str, int], Connection] = field(default_factory=dict)

    def close(self) -> None:
        for c in self._conns.values():
            c.close()
        self._conns.clear()

    def _conn(self, host: str, port: int) -> Connection:
        key = (host, port)
        if key not in self._conns:
            self._conns[key] = Connection(host, port, self.local_host)
        return self._conns[key]

    async def request(
        self, method: str, url: str, headers: dict[str, str] | None = None, body: bytes = b"", timeout: float = 30.0
    ) -> Response:
        u = urlsplit(url)
        if u.scheme != "http" or u.hostname not in ("127.0.0.1", "localhost"):
            raise HttpError(f"refusing non-loopback URL {url}")
        path = (u.path or "/") + (f"?{u.query}" if u.query else "")
        h = dict(self.headers)
        if self.cookies:
            h["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        h.update(headers or {})
        r = await self._conn("127.0.0.1", u.port or 80).request(method, path, h, body, timeout)
        r.url = url
        for raw in r.headers.get("set-cookie", []):
            pair, _, attrs = raw.partition(";")
            name, _, value = pair.partition("=")
            low = attrs.lower().replace(" ", "")
            if "max-age=0" in low or "expires=thu,01jan1970" in low:
                self.cookies.pop(name.strip(), None)
            else:
                self.cookies[name.strip()] = value.strip()
        return r

    async def get_following(
        self, url: str, max_hops: int = 6, timeout: float = 30.0
    ) -> tuple[Response, list[Response]]:
        """GET ``url`` and follow redirects; returns the last answer and every hop's answer."""
        hops: list[Response] = []
        r = await self.request("GET", url, timeout=timeout)
        hops.append(r)
        while r.status in (301, 302, 303, 307) and len(hops) <= max_hops:
            location = r.header("location").split("#", 1)[0]  # the fragment never leaves the browser
            r = await self.request("GET", urljoin(r.url, location), timeout=timeout)
            hops.append(r)
        return r, hops
