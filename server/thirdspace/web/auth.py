"""Who is asking: bearer tokens, session cookies with CSRF protection, roles, WebSocket origins.

A request is identified once by :func:`auth_middleware` (every ``/api/`` request and
the ``/ws`` upgrade): ``Authorization: Bearer TOKEN`` first, then the
``thirdspace_session`` cookie.  A state-changing request
that relies on the cookie must also send the session's CSRF token in
``X-CSRF-Token`` (a bearer token is never sent by a browser on its own, so it
needs none).  Roles nest: an admin may do what a curator may, a curator what a
visitor may.
"""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from thirdspace.store import ROLES, User
from thirdspace.web.keys import DB, SETTINGS

COOKIE = "thirdspace_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
USER = web.RequestKey("user", object)  # User | None
CSRF = web.RequestKey("csrf", object)  # str | None: set when the user came by cookie
ERRORS: dict[int, type[web.HTTPException]] = {
    cls.status_code: cls
    for cls in (
        web.HTTPBadRequest,
        web.HTTPUnauthorized,
        web.HTTPForbidden,
        web.HTTPNotFound,
        web.HTTPConflict,
        web.HTTPPreconditionFailed,
        web.HTTPRequestEntityTooLarge,
        web.HTTPUnsupportedMediaType,
        web.HTTPUnprocessableEntity,
        web.HTTPPreconditionRequired,
        web.HTTPInternalServerError,
        web.HTTPBadGateway,
        web.HTTPServiceUnavailable,
    )
}


def http_error(status: int, message: str, field: str | None = None, **extra: Any) -> web.HTTPException:
    body: dict[str, Any] = {"error": message, **extra}
    if field is not None:
        body["field"] = field
    kwargs: dict[str, Any] = {"text": orjson.dumps(body).decode(), "content_type": "application/json"}
    if status == 413:  # aiohttp's class wants the sizes for a text of its own; the body here says what the limit is
        kwargs |= {"max_size": 0, "actual_size": 0}
    error = ERRORS[status](**kwargs)
    if status == 401:
        error.headers["WWW-Authenticate"] = 'Bearer realm="thirdspace"'
    return error


async def authenticate(request: web.Request) -> tuple[User | None, str | None]:
    """(user, CSRF token if the user came by cookie): the store is asked at most once per request."""
    db = request.app[DB]
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise http_error(401, "Authorization must be 'Bearer TOKEN'", "Authorization")
        user = await db.user_by_token(token.strip())
        if user is None:
            raise http_error(401, "unknown or revoked token", "Authorization")
        return user, None
    session_id = request.cookies.get(COOKIE)
    if session_id:
        found = await db.session(session_id)
        if found is not None:
            return found
    return None, None


def identify(request: web.Request) -> tuple[User | None, str | None]:
    """Who :func:`auth_middleware` found for this request (an ``/api/`` request or the ``/ws`` upgrade)."""
    return request.get(USER), request.get(CSRF)


def identified(path: str) -> bool:
    return path.startswith("/api/") or path == "/ws"


@web.middleware
async def auth_middleware(request: web.Request, handler):
    if identified(request.path):
        request[USER], request[CSRF] = await authenticate(request)
    return await handler(request)


def require(request: web.Request, role: str) -> User:
    """The signed-in user if their role is at least ``role``; 401 or 403 otherwise (and 403 without a CSRF token)."""
    user: User | None = request.get(USER)
    if user is None:
        raise http_error(401, f"sign in as a {role} first", "Authorization")
    if ROLES.index(user.role) < ROLES.index(role):
        raise http_error(403, f"this needs the {role} role; you are a {user.role}", "role")
    csrf = request.get(CSRF)
    if csrf is not None and request.method not in SAFE_METHODS and request.headers.get(CSRF_HEADER) != csrf:
        raise http_error(403, f"a request signed in by cookie must send the session's {CSRF_HEADER} header", CSRF_HEADER)
    return user


def origin_allowed(request: web.Request) -> bool:
    """A browser's WebSocket upgrade must come from an allowed origin (default: this server's own)."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True  # not a browser: a bot or the Python client, which authenticate by token
    configured = request.app[SETTINGS].allowed_origins
    allowed = {o.strip().rstrip("/") for o in configured.split(",") if o.strip()} or {f"{request.scheme}://{request.host}"}
    return origin.rstrip("/") in allowed


async def sign_in(request: web.Request) -> web.Response:
    """POST /api/session {"token"}: a session cookie (HttpOnly, SameSite=Strict) and its CSRF token."""
    from thirdspace.web.http import json_response, read_json

    body = await read_json(request, {"token"})
    token = body.get("token")
    if not isinstance(token, str) or not token:
        raise http_error(400, "token must be a non-empty string", "token")
    db = request.app[DB]
    user = await db.user_by_token(token)
    if user is None:
        raise http_error(401, "unknown or revoked token", "token")
    session_id, csrf = await db.open_session(user, request.app[SETTINGS].session_hours)
    response = json_response({"user": user.public(), "csrf": csrf})
    response.set_cookie(
        COOKIE,
        session_id,
        httponly=True,
        samesite="Strict",
        secure=request.secure,
        path="/",
        max_age=int(request.app[SETTINGS].session_hours * 3600),
    )
    return response


async def whoami(request: web.Request) -> web.Response:
    from thirdspace.web.http import json_response

    user = request.get(USER)
    return json_response({"user": user.public() if user else None, "csrf": request.get(CSRF)})


async def sign_out(request: web.Request) -> web.Response:
    session_id = request.cookies.get(COOKIE)
    if session_id:
        await request.app[DB].close_session(session_id)
    response = web.Response(status=204)
    response.del_cookie(COOKIE, path="/")
    return response
