"""Which requests the read API answers, who counts as local, and how much a body may be.

A loopback API is still reachable from a browser on the same host. A page on
attacker.example can make its own name resolve to 127.0.0.1 (DNS rebinding) and then read
the answers, or send requests blind (CSRF). So a request must name this server in `Host`
(an IP address cannot be rebound, so any address is fine; names are loopback's, the
configured `server.host` and `server.allowed_hosts`); a request a page sends carries
`Origin`, which must be in `server.allowed_origins` (none by default); and a POST body must
be `application/json`, which a page can send cross-site only after a CORS preflight this
API never grants.

Local callers (ad-hoc SQL and admin calls need no token) are decided from the socket peer
alone: uvicorn's proxy-header rewriting is off. A loopback peer still does not count when it
is a configured reverse proxy (`server.trusted_proxies`) or when the request carries a
forwarding header, the sign of a proxy relaying someone else's request.
"""

from __future__ import annotations

import asyncio
import ipaddress
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.requests import Request

from outcrop.core.errors import BadPayload, Forbidden, PayloadTooLarge, QueryError, RequestTimeout, UnsupportedMediaType
from outcrop.core.settings import ServerSettings

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
LOOPBACK_NAMES = frozenset({"localhost"})
# any of these says a proxy relayed the request (RFC 7239, de-facto headers, CDNs)
FORWARDING_HEADERS = ("forwarded", "x-forwarded-for", "x-real-ip", "via", "x-forwarded-host",
                      "true-client-ip", "cf-connecting-ip", "x-client-ip", "fastly-client-ip")
_WILDCARDS = frozenset({"", "0.0.0.0", "::"})


@dataclass(frozen=True, slots=True)
class RequestPolicy:
    host_names: frozenset[str]
    origins: frozenset[str]
    proxies: frozenset[IpAddress]
    max_body_bytes: int
    body_timeout_seconds: float

    @classmethod
    def from_settings(cls, server: ServerSettings) -> RequestPolicy:
        names = {_host_name(h) for h in server.allowed_hosts} | LOOPBACK_NAMES
        if server.host not in _WILDCARDS:
            names.add(_host_name(server.host))
        return cls(
            host_names=frozenset(names),
            origins=frozenset(_origin(o) for o in server.allowed_origins),
            proxies=frozenset(server.trusted_proxies),
            max_body_bytes=server.api_max_body_bytes,
            body_timeout_seconds=server.api_body_timeout_seconds,
        )

    def check_caller(self, request: Request) -> None:
        """Refuse a request for another host name, or one a foreign page sent."""
        host = request.headers.get("host")
        if host is not None and not self._host_ok(_host_name(host)):
            raise Forbidden(f"Host {_host_name(host)!r} is not a name of this server; if clients reach it "
                            "by that name, add it to server.allowed_hosts")
        origin = request.headers.get("origin")
        if origin is not None and _origin(origin) not in self.origins:
            raise Forbidden(f"cross-site request refused: Origin {origin!r} is not in server.allowed_origins")

    def _host_ok(self, name: str) -> bool:
        try:
            ipaddress.ip_address(name)
        except ValueError:
            return name in self.host_names
        return True

    def is_local(self, request: Request) -> bool:
        """A caller on this host: a loopback socket peer, not a proxy, relaying no one."""
        try:
            peer: IpAddress = ipaddress.ip_address(request.client.host if request.client else "")
        except ValueError:
            return False
        if isinstance(peer, ipaddress.IPv6Address) and peer.ipv4_mapped is not None:
            peer = peer.ipv4_mapped
        if not peer.is_loopback or peer in self.proxies:
            return False
        return not any(name in request.headers for name in FORWARDING_HEADERS)

    async def read_json(self, request: Request) -> dict[str, Any]:
        """The body as a JSON object, bounded in size and in the time to receive it."""
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media != "application/json":
            raise UnsupportedMediaType(f"send the body as Content-Type: application/json, not {media or 'none'}")
        try:
            async with asyncio.timeout(self.body_timeout_seconds):
                raw = await self._read_body(request)
        except TimeoutError:
            raise RequestTimeout(f"request body not received within {self.body_timeout_seconds:g} s "
                                 "(server.api_body_timeout_seconds)") from None
        try:
            body = orjson.loads(raw) if raw else {}
        except orjson.JSONDecodeError as exc:
            raise BadPayload(f"request body is not JSON: {exc}") from None
        if not isinstance(body, dict):
            raise BadPayload("request body must be a JSON object")
        return body

    async def _read_body(self, request: Request) -> bytes:
        too_large = PayloadTooLarge(f"request body is larger than {self.max_body_bytes} bytes "
                                    "(server.api_max_body_bytes)")
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            raise too_large
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > self.max_body_bytes:
                raise too_large
            chunks.append(chunk)
        return b"".join(chunks)


def _host_name(host: str) -> str:
    """`Host` without its port, brackets and trailing dot, lower case."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:host.find("]")] if "]" in host else host[1:]
    if host.count(":") == 1:
        host = host.split(":", 1)[0]
    return host.rstrip(".")


def _origin(origin: str) -> str:
    return origin.strip().rstrip("/").lower()


def body_params(body: dict[str, Any]) -> dict[str, Any]:
    """The `params` object of a read's body (a named query's or a report's); {} when absent."""
    params = body.get("params") or {}
    if not isinstance(params, dict):
        raise QueryError("params must be an object")
    return params


def by_and_where(params: dict[str, Any], default_by: list[str]) -> tuple[list[Any], dict[str, Any]]:
    """A report's `by` list and `where` mapping, checked for shape (their keys are checked by
    the named queries)."""
    by, where = params.get("by", default_by), params.get("where", {})
    if not isinstance(by, list) or not isinstance(where, dict):
        raise QueryError("'by' must be a list of group keys and 'where' a mapping of key to value(s)")
    return by, where
