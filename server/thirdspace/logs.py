"""Logging set-up: plain text for a terminal, or one JSON object per line (``--log-format json``).

Each record carries the request id of the HTTP request or WebSocket connection
it happened in and, once a visitor is in a room, the room id; both ride on
context variables, so code that logs does not have to pass them around.
"""

from __future__ import annotations

import contextvars
import logging
import secrets
from datetime import UTC, datetime

import orjson
from aiohttp import web

REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
ROOM_ID: contextvars.ContextVar[str] = contextvars.ContextVar("room_id", default="")
NODE_ID = {"value": ""}  # set once in cluster mode


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = getattr(record, "request_id", "") or REQUEST_ID.get()
        record.room = getattr(record, "room", "") or ROOM_ID.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in ("request_id", "room"):
            value = getattr(record, key, "")
            if value:
                entry[key] = value
        if NODE_ID["value"]:
            entry["node"] = NODE_ID["value"]
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry).decode()


def setup(level: str, log_format: str) -> None:
    if log_format not in ("text", "json"):
        raise ValueError(f"setting log_format: {log_format!r} is neither 'text' nor 'json'")
    handler = logging.StreamHandler()
    handler.addFilter(ContextFilter())
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("aiohttp.access",):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))


@web.middleware
async def request_id_middleware(request: web.Request, handler):
    """Give every request an id (or keep the proxy's ``X-Request-Id``), in its logs and its response."""
    incoming = request.headers.get("X-Request-Id", "")
    request_id = incoming if 0 < len(incoming) <= 64 and incoming.isprintable() else secrets.token_hex(8)
    REQUEST_ID.set(request_id)
    try:
        response = await handler(request)
    except web.HTTPException as err:
        err.headers["X-Request-Id"] = request_id
        raise
    if not response.prepared:
        response.headers["X-Request-Id"] = request_id
    return response
