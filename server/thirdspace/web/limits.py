"""Per-address and whole-server limits on connections and requests (docs/deploy.md, "Limits").

Two layers share one :class:`Limits` state (``app[LIMITS]``):

* :meth:`Limits.watch` hooks the aiohttp server's ``connection_made``/``connection_lost``
  (:class:`LimitedRunner` does it after ``setup``): it counts open connections, per
  direct peer and in all.  A connection beyond ``connections_per_address`` from its
  address, beyond that address's token bucket, or beyond ``max_connections`` in all
  is put *on probation*: it may still ask for ``/healthz`` or ``/readyz`` or be a
  signed-in curator or admin, anything else is refused, and if it sends no request
  within :data:`PROBATION_S` it is closed.  Beyond ``max_connections +
  connection_reserve`` a new connection is answered 503 at once and closed, so the
  process never runs out of file descriptors (and :func:`raise_fd_limit` lifts the
  soft limit to the hard one at start-up).
* :func:`limits_middleware` checks each request against its client address
  (:func:`~thirdspace.web.peers.peer_address`: behind a trusted proxy, the
  ``X-Forwarded-For`` client): requests in progress (``connections_per_address``)
  and the same token bucket (``requests_per_s``, ``request_burst``).  Past them:
  429 with ``Retry-After`` (503 when the server as a whole is full), JSON saying
  which limit.  A ``/ws`` upgrade is refused the same way, before it is upgraded.

Refusals are logged at most once a minute per address, with how many there were,
and at most :data:`LOG_LINES_PER_MINUTE` lines a minute in all.

The token bucket is a few lines here rather than a library: what is needed is a
refusal (not a wait, as ``aiolimiter`` offers) from state that costs two floats per
address, kept in least-recently-used order so that idle addresses are forgotten in
constant time per call (``limits``' in-memory storage keeps a timer thread and
per-key windows, more than this needs).
"""

from __future__ import annotations

import asyncio
import errno
import logging
import math
import resource
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import orjson
from aiohttp import web

from thirdspace.config import Settings
from thirdspace.protocol.connection import TokenBucket
from thirdspace.store import ROLES
from thirdspace.web.peers import _trusted, peer_address

log = logging.getLogger(__name__)

FLOOD_PENALTY_S = 10.0  # after a 4008 close, the address's new connections and requests wait this long
PROBATION_S = 5.0  # a connection on probation that has sent no request by then is closed
LOG_INTERVAL_S = 60.0  # one refusal line per address at most this often
LOG_LINES_PER_MINUTE = 20  # refusal lines in all, whatever the number of addresses
OPEN_PATHS = frozenset({"/healthz", "/readyz"})  # never refused by a limit (while the server still takes the connection)
STAFF_ROLE = "curator"  # signed in with this role or above: served from the reserve, and past per-address limits
MAX_TRACKED = 100_000  # addresses remembered at once (buckets and log counts); the least recently seen go first


@dataclass(frozen=True)
class Refusal:
    """Why a request is refused: the status, the setting that says the limit, and when to try again."""

    status: int
    limit: str
    message: str
    retry_after_s: int


def raise_fd_limit() -> int:
    """Lift this process's soft limit on open files to the hard limit; the limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        wanted = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
            soft = wanted
        except (ValueError, OSError) as err:  # e.g. a container forbids it: keep what there is
            log.warning("could not raise the open-file limit from %d to %d: %s", soft, wanted, err)
    return soft


def connection_caps(settings: Settings, fd_limit: int) -> tuple[int, int]:
    """(max_connections, hard cap): where the reserve begins and where new connections are closed at once.

    The hard cap stays ``fd_reserve`` below the open-file limit whatever ``max_connections`` says."""
    ceiling = max(fd_limit - settings.fd_reserve, 2)
    reserve = min(settings.connection_reserve, ceiling // 2)
    automatic = ceiling - reserve
    wanted = settings.max_connections or automatic
    if wanted > automatic:
        log.warning(
            "max_connections = %d does not fit in the open-file limit of %d (less fd_reserve %d and connection_reserve %d): using %d",
            wanted,
            fd_limit,
            settings.fd_reserve,
            reserve,
            automatic,
        )
        wanted = automatic
    return wanted, wanted + reserve


class TokenBuckets:
    """A :class:`~thirdspace.protocol.connection.TokenBucket` per key (``rate`` tokens a second, up to ``burst``),
    least recently used keys forgotten first."""

    def __init__(self, rate: float, burst: int, max_keys: int = MAX_TRACKED):
        self.rate = rate
        self.burst = float(burst)
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, TokenBucket] = OrderedDict()
        self._full_after = self.burst / rate  # an untouched bucket is full again after this long

    def _bucket(self, key: str) -> TokenBucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = TokenBucket(self.burst, self.rate)
        else:
            self._buckets.move_to_end(key)
        return bucket

    def take(self, key: str, now: float) -> float:
        """Take one token: 0.0 if there was one, else the seconds until there will be."""
        bucket = self._bucket(key)
        taken = bucket.take(now)
        self._forget(now)
        return 0.0 if taken else bucket.wait()

    def drain(self, key: str, now: float, seconds: float) -> None:
        """Empty ``key``'s bucket and owe ``seconds`` of refill: nothing is taken from it for that long."""
        self._bucket(key).drain(now, seconds)

    def _forget(self, now: float) -> None:
        buckets = self._buckets
        while buckets:
            key, bucket = next(iter(buckets.items()))
            if len(buckets) <= self.max_keys and bucket.at is not None and now - bucket.at < self._full_after:
                return
            del buckets[key]  # full again (as good as new) or the oldest of too many

    def __len__(self) -> int:
        return len(self._buckets)


class RefusalLog:
    """Log refusals without flooding: one line per address per interval with the count, and a cap on lines in all."""

    def __init__(self, interval_s: float = LOG_INTERVAL_S, lines_per_minute: int = LOG_LINES_PER_MINUTE):
        self.interval_s = interval_s
        self.lines_per_minute = lines_per_minute
        self._addresses: OrderedDict[str, list[Any]] = OrderedDict()  # address -> [last line at, refused since, reason]
        self._minute = (0.0, 0)  # (start, lines written in it)
        self._unlogged = 0  # refusals not reported because the line budget was spent

    def refused(self, address: str, reason: str, now: float) -> None:
        entry = self._addresses.get(address)
        if entry is None:
            entry = self._addresses[address] = [-math.inf, 0, reason]
            while len(self._addresses) > MAX_TRACKED:
                self._addresses.popitem(last=False)
        else:
            self._addresses.move_to_end(address)
        entry[1] += 1
        entry[2] = reason
        if now - entry[0] < self.interval_s:
            return
        start, lines = self._minute
        if now - start >= 60.0:
            start, lines = now, 0
        if lines >= self.lines_per_minute:
            self._unlogged += 1
            entry[1] -= 1
            return
        self._minute = (start, lines + 1)
        first = entry[0] == -math.inf
        count, entry[0], entry[1] = entry[1], now, 0
        others = f"; {self._unlogged} more refusals of other addresses were not logged" if self._unlogged else ""
        self._unlogged = 0
        if first:
            log.warning("refusing %s: %s (further refusals of this address: one line a minute)%s", address, reason, others)
        else:
            log.warning("refused %d connection(s) or request(s) from %s in the last minute: %s%s", count, address, reason, others)


class _QuietFdErrors(logging.Filter):
    """Let the event loop's "Too many open files" (accept) errors through once a minute, with a count, not thousands a second."""

    def __init__(self) -> None:
        super().__init__()
        self._last = -math.inf
        self._dropped = 0

    def filter(self, record: logging.LogRecord) -> bool:
        if not _fd_exhaustion(record):
            return True
        now = time.monotonic()
        if now - self._last < LOG_INTERVAL_S:
            self._dropped += 1
            return False
        if self._dropped:
            record.msg = f"{record.getMessage()} ({self._dropped} more like it in the last minute were not logged)"
            record.args = ()
        self._last, self._dropped = now, 0
        return True


def _fd_exhaustion(record: logging.LogRecord) -> bool:
    exc = record.exc_info[1] if record.exc_info else None
    if isinstance(exc, OSError) and exc.errno in (errno.EMFILE, errno.ENFILE):
        return True
    text = record.getMessage()
    return "Too many open files" in text or "out of system resource" in text


_QUIET = _QuietFdErrors()


def quiet_fd_errors() -> None:
    """Install the once-a-minute filter on the loggers the event loop and aiohttp report accept errors through."""
    for name in ("asyncio", "aiohttp.server", "aiohttp.web"):
        logger = logging.getLogger(name)
        if _QUIET not in logger.filters:
            logger.addFilter(_QUIET)


class Limits:
    """The state behind both layers: counts of open connections, buckets, requests in progress, probation."""

    def __init__(self, settings: Settings, fd_limit: int | None = None):
        self.settings = settings
        self.fd_limit = fd_limit if fd_limit is not None else resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        self.max_connections, self.hard_cap = connection_caps(settings, self.fd_limit)
        self.buckets = TokenBuckets(settings.requests_per_s, settings.request_burst)
        self.refusals = RefusalLog()
        self.open = 0  # client connections open now
        self.per_address: dict[str, int] = {}  # direct peers' open connections (not trusted proxies', not exempt ones)
        self.in_progress: dict[str, int] = {}  # requests being handled, per client address
        self._peers: dict[Any, str | None] = {}  # handler -> the address it is counted under (None: not counted)
        self._probation: dict[Any, tuple[Refusal, asyncio.TimerHandle | None, asyncio.BaseTransport]] = {}
        self.refused = 0  # refusals since start (for tests and metrics)

    # -- which addresses count ---------------------------------------------------------------------------

    def exempt(self, address: str) -> bool:
        return _trusted(address, self.settings.limits_exempt)

    def _counted(self, address: str | None) -> bool:
        """Whether a direct peer's connections count against its address (not a trusted proxy's, not an exempt one's)."""
        if not address:
            return False
        return not _trusted(address, self.settings.trusted_proxies) and not self.exempt(address)

    def penalise(self, address: str, seconds: float = FLOOD_PENALTY_S) -> None:
        """A connection from ``address`` was closed for flooding (4008): its new connections and requests get 429 for ``seconds``."""
        if address and not self.exempt(address):
            self.buckets.drain(address, time.monotonic(), seconds)

    # -- the connection layer ------------------------------------------------------------------------------

    def watch(self, server: web.Server) -> None:
        """Count ``server``'s connections (call once, after ``runner.setup()``: :class:`LimitedRunner` does)."""
        made, lost = server.connection_made, server.connection_lost

        def connection_made(handler: Any, transport: asyncio.Transport) -> None:
            made(handler, transport)
            self.connection_made(handler, transport)

        def connection_lost(handler: Any, exc: BaseException | None = None) -> None:
            self.connection_lost(handler)
            lost(handler, exc)

        server.connection_made = connection_made  # type: ignore[method-assign]
        server.connection_lost = connection_lost  # type: ignore[method-assign]

    def connection_made(self, handler: Any, transport: asyncio.Transport) -> None:
        peer = transport.get_extra_info("peername")
        address = str(peer[0]) if isinstance(peer, tuple | list) and peer else None
        self.open += 1
        counted = address if self._counted(address) else None
        self._peers[handler] = counted
        now = time.monotonic()
        refusal = None
        if counted is not None:
            self.per_address[counted] = self.per_address.get(counted, 0) + 1
            if self.per_address[counted] > 2 * self.settings.connections_per_address:  # as many again may wait on probation
                self._refuse_connection(transport, counted, self._too_many(counted), now)
                return
            if self.per_address[counted] > self.settings.connections_per_address:
                refusal = self._too_many(counted)
            else:
                wait = self.buckets.take(counted, now)
                if wait:
                    refusal = self._too_fast(wait)
        if self.open > self.hard_cap and not self._evict():
            self._refuse_connection(transport, address or "unknown", self._full(), now)
            return
        if refusal is None and self.open > self.max_connections:
            refusal = self._full()
        if refusal is not None:
            timer = asyncio.get_running_loop().call_later(PROBATION_S, self._end_probation, handler)
            self._probation[handler] = (refusal, timer, transport)

    def _evict(self) -> bool:
        """Close the oldest connection on probation that has not sent a request yet, to make room; False if there is none."""
        for handler, (refusal, timer, transport) in self._probation.items():
            if timer is not None:
                timer.cancel()
                self._probation[handler] = (refusal, None, transport)
                transport.close()
                return True
        return False

    def connection_lost(self, handler: Any) -> None:
        if handler not in self._peers:
            return
        self.open -= 1
        address = self._peers.pop(handler)
        if address is not None:
            left = self.per_address.get(address, 1) - 1
            if left > 0:
                self.per_address[address] = left
            else:
                self.per_address.pop(address, None)
        probation = self._probation.pop(handler, None)
        if probation is not None and probation[1] is not None:
            probation[1].cancel()

    def _end_probation(self, handler: Any) -> None:
        probation = self._probation.get(handler)
        if probation is not None and probation[1] is not None:  # no request came: close it
            self._probation[handler] = (probation[0], None, probation[2])
            probation[2].close()

    def _refuse_connection(self, transport: asyncio.Transport, address: str, refusal: Refusal, now: float) -> None:
        """Answer a connection the server has no room for before reading anything from it, and close it.

        Just after ``connection_made`` returns: aiohttp's handler must start before it may be told the connection is lost."""
        transport.pause_reading()
        asyncio.get_running_loop().call_soon(self._answer_and_close, transport, address, refusal, now)

    def _answer_and_close(self, transport: asyncio.Transport, address: str, refusal: Refusal, now: float) -> None:
        if transport.is_closing():
            return
        self.refused += 1
        self.refusals.refused(address, refusal.message, now)
        body = orjson.dumps({"error": refusal.message, "limit": refusal.limit, "retry_after_s": refusal.retry_after_s})
        reason = "Too Many Requests" if refusal.status == 429 else "Service Unavailable"
        head = (
            f"HTTP/1.1 {refusal.status} {reason}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nRetry-After: {refusal.retry_after_s}\r\nConnection: close\r\n\r\n"
        )
        try:
            transport.write(head.encode() + body)
        finally:
            transport.close()

    def probation(self, handler: Any) -> Refusal | None:
        """The refusal a connection on probation is under (its first request stops the timer), or None."""
        entry = self._probation.get(handler)
        if entry is None:
            return None
        refusal, timer, transport = entry
        if timer is not None:
            timer.cancel()
            self._probation[handler] = (refusal, None, transport)
        return refusal

    # -- refusals ------------------------------------------------------------------------------------------------

    def _too_many(self, address: str) -> Refusal:
        limit = self.settings.connections_per_address
        return Refusal(429, "connections_per_address", f"more than {limit} connections from {address} at once", 10)

    def _too_fast(self, wait: float) -> Refusal:
        per_s = self.settings.requests_per_s
        message = f"more than {per_s:g} requests a second (after a burst of {self.settings.request_burst})"
        return Refusal(429, "requests_per_s", message, max(1, math.ceil(wait)))

    def _full(self) -> Refusal:
        return Refusal(503, "max_connections", "the server has as many connections as it takes for now; try again shortly", 5)

    def check(self, request: web.Request, address: str, now: float) -> Refusal | None:
        """The limit this request is past, if any (it still may be served if it comes from staff)."""
        refusal = self.probation(request.protocol)
        if refusal is not None or self.exempt(address):
            return refusal
        if self.in_progress.get(address, 0) >= self.settings.connections_per_address:
            return self._too_many(address)
        wait = self.buckets.take(address, now)
        return self._too_fast(wait) if wait else None

    def response(self, request: web.Request, address: str, refusal: Refusal) -> web.Response:
        self.refused += 1
        self.refusals.refused(address, refusal.message, time.monotonic())
        body = {"error": refusal.message, "limit": refusal.limit, "retry_after_s": refusal.retry_after_s}
        response = web.Response(
            body=orjson.dumps(body),
            status=refusal.status,
            content_type="application/json",
            headers={"Retry-After": str(refusal.retry_after_s)},
        )
        if request.protocol in self._probation:
            response.force_close()  # the connection itself is one too many: it ends with this answer
        return response


LIMITS = web.AppKey("limits", Limits)


async def _staff(request: web.Request) -> bool:
    """Whether the request is signed in as a curator or an admin (asked of the store only for a request past a limit)."""
    from thirdspace.web.auth import COOKIE, authenticate

    if not request.headers.get("Authorization") and not request.cookies.get(COOKIE):
        return False
    try:
        user, _ = await authenticate(request)
    except web.HTTPException:
        return False
    return user is not None and ROLES.index(user.role) >= ROLES.index(STAFF_ROLE)


@web.middleware
async def limits_middleware(request: web.Request, handler):
    limits = request.app.get(LIMITS)
    if limits is None:
        return await handler(request)
    if request.path in OPEN_PATHS:
        limits.probation(request.protocol)  # a health check on probation is answered; its timer stops
        return await handler(request)
    address = peer_address(request)
    refusal = limits.check(request, address, time.monotonic())
    if refusal is not None and not await _staff(request):
        return limits.response(request, address, refusal)
    if limits.exempt(address):
        return await handler(request)
    limits.in_progress[address] = limits.in_progress.get(address, 0) + 1
    try:
        return await handler(request)
    finally:
        left = limits.in_progress[address] - 1
        if left:
            limits.in_progress[address] = left
        else:
            del limits.in_progress[address]


class LimitedRunner(web.AppRunner):
    """An ``AppRunner`` whose server's connections are counted by the application's :class:`Limits`."""

    async def setup(self) -> None:
        await super().setup()
        limits = self.app.get(LIMITS)
        if limits is not None and self.server is not None:
            limits.watch(self.server)
