"""Network parts for tests, all on loopback: a proxy (HTTP forward, CONNECT, SOCKS4, SOCKS5 on
one port) that counts what passes through it, and a scripted DNS resolver.

The proxy only ever connects to loopback: names are mapped by the test (``routes``), loopback
literals go as they are, anything else is refused. So a test may use public-looking names without
a packet leaving the machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
import struct
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from aiohttp.abc import AbstractResolver, ResolveResult


@dataclass
class Passed:
    kind: str  # "http", "connect", "socks4", "socks5"
    host: str
    port: int
    line: str = ""  # the HTTP request line, for "http"


@dataclass
class LoopbackProxy:
    routes: dict[str, int] = field(default_factory=dict)  # host name -> loopback port
    passed: list[Passed] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    port: int = 0
    _server: asyncio.AbstractServer | None = None
    _clients: set[asyncio.Task] = field(default_factory=set)

    def url(self, scheme: str = "http") -> str:
        return f"{scheme}://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            if self._clients:  # tunnels end once their client has gone; give them a moment
                await asyncio.wait(list(self._clients), timeout=2)
            for task in list(self._clients):
                task.cancel()
            await asyncio.gather(*self._clients, return_exceptions=True)
            await self._server.wait_closed()

    def _target(self, host: str, port: int) -> tuple[str, int] | None:
        host = host.strip("[]").rstrip(".").lower()
        if host in self.routes:
            return "127.0.0.1", self.routes[host]
        try:
            if ipaddress.ip_address(host).is_loopback:
                return host, port
        except ValueError:
            pass
        self.refused.append(f"{host}:{port}")
        return None

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._clients.add(task)
        try:
            first = await reader.readexactly(1)
            if first == b"\x05":
                await self._socks5(reader, writer)
            elif first == b"\x04":
                await self._socks4(reader, writer)
            else:
                await self._http(first, reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError, ValueError,
                asyncio.CancelledError):
            pass
        finally:
            self._clients.discard(task)
            writer.close()
            with contextlib.suppress(ConnectionError, asyncio.CancelledError):
                await writer.wait_closed()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                    target: tuple[str, int], head: bytes = b"") -> None:
        up_reader, up_writer = await asyncio.open_connection(*target)

        async def copy(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while chunk := await src.read(65536):
                    dst.write(chunk)
                    await dst.drain()
            except ConnectionError:
                pass
            finally:
                with contextlib.suppress(ConnectionError, RuntimeError):
                    if dst.can_write_eof():
                        dst.write_eof()

        if head:
            up_writer.write(head)
        # Whichever side finishes first ends the tunnel (HTTP keep-alive would hold it open).
        tasks = [asyncio.ensure_future(copy(reader, up_writer)),
                 asyncio.ensure_future(copy(up_reader, writer))]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            up_writer.close()
            with contextlib.suppress(ConnectionError, asyncio.CancelledError):
                await up_writer.wait_closed()

    async def _http(self, first: bytes, reader: asyncio.StreamReader,
                    writer: asyncio.StreamWriter) -> None:
        head = first + await reader.readuntil(b"\r\n\r\n")
        line, *header_lines = head.decode("latin-1").split("\r\n")
        method, target, version = line.split(" ", 2)
        if method == "CONNECT":
            host, _, port = target.rpartition(":")
            self.passed.append(Passed("connect", host.strip("[]"), int(port), line))
            where = self._target(host, int(port))
            if where is None:
                writer.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
                return
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            await writer.drain()
            await self._pipe(reader, writer, where)
            return
        parts = urlsplit(target)
        host, port_n = parts.hostname or "", parts.port or 80
        path = parts.path.lstrip("/") + (f"?{parts.query}" if parts.query else "")
        self.passed.append(Passed("http", host, port_n, line))
        where = self._target(host, port_n)
        if where is None:
            writer.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
            return
        kept = [h for h in header_lines if h and not h.lower().startswith(
            ("proxy-connection:", "connection:", "keep-alive:"))]
        forwarded = (f"{method} /{path} {version}\r\n" + "".join(h + "\r\n" for h in kept)
                     + "Connection: close\r\n\r\n").encode("latin-1")
        await self._pipe(reader, writer, where, forwarded)

    async def _socks5(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        n_methods = (await reader.readexactly(1))[0]
        await reader.readexactly(n_methods)
        writer.write(b"\x05\x00")  # no authentication
        _ver, cmd, _rsv, atyp = await reader.readexactly(4)
        if atyp == 1:
            host = socket.inet_ntop(socket.AF_INET, await reader.readexactly(4))
        elif atyp == 4:
            host = socket.inet_ntop(socket.AF_INET6, await reader.readexactly(16))
        else:
            size = (await reader.readexactly(1))[0]
            host = (await reader.readexactly(size)).decode("idna")
        (port,) = struct.unpack("!H", await reader.readexactly(2))
        self.passed.append(Passed("socks5", host, port))
        where = self._target(host, port) if cmd == 1 else None
        if where is None:
            writer.write(b"\x05\x02\x00\x01" + b"\0" * 6)  # connection not allowed
            return
        writer.write(b"\x05\x00\x00\x01" + b"\0" * 6)
        await writer.drain()
        await self._pipe(reader, writer, where)

    async def _socks4(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        cmd, port_hi, port_lo = await reader.readexactly(3)
        raw_ip = await reader.readexactly(4)
        await reader.readuntil(b"\0")  # user id
        host = socket.inet_ntop(socket.AF_INET, raw_ip)
        if raw_ip[:3] == b"\0\0\0" and raw_ip[3]:  # SOCKS4a: a name follows
            host = (await reader.readuntil(b"\0"))[:-1].decode("idna")
        port = port_hi << 8 | port_lo
        self.passed.append(Passed("socks4", host, port))
        where = self._target(host, port) if cmd == 1 else None
        if where is None:
            writer.write(b"\x00\x5b" + b"\0" * 6)
            return
        writer.write(b"\x00\x5a" + b"\0" * 6)
        await writer.drain()
        await self._pipe(reader, writer, where)


class ScriptedResolver(AbstractResolver):
    """Answers names from a script: each lookup of a name takes its next answer (the last one
    repeats). ``{"news.example.com": ["93.184.216.34", "127.0.0.1"]}`` is DNS rebinding: public
    for whoever asks first, loopback afterwards. Names not in the script do not resolve."""

    def __init__(self, script: dict[str, list[str]]) -> None:
        self.script = {k: list(v) for k, v in script.items()}
        self.asked: list[str] = []

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        name = host.rstrip(".").lower()
        self.asked.append(name)
        answers = self.script.get(name)
        if not answers:
            raise OSError(f"{name}: name does not resolve (scripted)")
        address = answers.pop(0) if len(answers) > 1 else answers[0]
        fam = socket.AF_INET6 if ":" in address else socket.AF_INET
        return [{"hostname": name, "host": address, "port": port, "family": fam, "proto": 0,
                 "flags": socket.AI_NUMERICHOST}]

    async def close(self) -> None:
        pass
