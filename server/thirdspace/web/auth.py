"""Who is asking: bearer tokens, session cookies with CSRF protection, roles, WebSocket origins.

A request is identified once by :func:`auth_middleware` (every ``/api/`` request and
the ``/ws`` upgrade): ``Authorization: Bearer TOKEN`` first, then the
``thirdspace_session`` cookie.  A state-changing request
that relies on the cookie must also send the session's CSRF token in
``X-CSRF-Token`` and come from this site's pages (``Origin``, or ``Referer`` when a
browser sends no Origin, is this server's origin as the browser sees it, or one of
``allowed_origins``); a bearer token is never sent by a browser on its own, so it
needs neither.  Roles nest: an admin may do what a curator may, a curator what a
visitor may.

Every browser also gets a ``thirdspace_browser`` cookie at its first visit (the page,
or the ``/ws`` upgrade): a random id signed with a key kept in the store, so that a
moderator's kick or mute follows the person who comes back without signing in
(:func:`visitor_identities`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.cookies
import secrets
import urllib.parse
import weakref
from typing import Any

import orjson
from aiohttp import web

from thirdspace.store import ROLES, User
from thirdspace.web.keys import DB, SETTINGS
from thirdspace.web.peers import _via_proxy, came_over_https, peer_address

COOKIE = "thirdspace_session"
BROWSER_COOKIE = "thirdspace_browser"  # a per-browser identity for moderation: "ID.SIGNATURE"
BROWSER_COOKIE_DAYS = 400  # as long as browsers keep a cookie
BROWSER_PAGES = {"/", "/curate", "/ws"}  # the responses that hand a browser its identity when it has none
BROWSER = web.RequestKey("browser", object)  # (browser id, True if issued by this response) on BROWSER_PAGES
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


_browser_keys: weakref.WeakKeyDictionary[Any, bytes] = weakref.WeakKeyDictionary()


async def _browser_key(request: web.Request) -> bytes:
    db = request.app[DB]
    key = _browser_keys.get(db)
    if key is None:
        key = _browser_keys[db] = (await db.secret("browser-cookie")).encode()
    return key


def _signature(key: bytes, browser_id: str) -> str:
    digest = hmac.new(key, browser_id.encode(), hashlib.sha256).digest()[:18]
    return base64.urlsafe_b64encode(digest).decode()


async def _browser(request: web.Request) -> tuple[str, bool]:
    """The browser's id from its signed cookie, or a new one (True) when it has none or one this server did not sign."""
    key = await _browser_key(request)
    browser_id, _, signature = request.cookies.get(BROWSER_COOKIE, "").partition(".")
    if browser_id and hmac.compare_digest(signature, _signature(key, browser_id)):
        return browser_id, False
    return secrets.token_urlsafe(16), True


async def issue_browser_cookie(request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare``: hand a browser that came without one its signed identity cookie."""
    browser = request.get(BROWSER)
    if browser is None or not browser[1]:
        return
    key = await _browser_key(request)
    cookie = http.cookies.SimpleCookie()
    cookie[BROWSER_COOKIE] = f"{browser[0]}.{_signature(key, browser[0])}"
    morsel = cookie[BROWSER_COOKIE]
    morsel.update({"httponly": "1", "samesite": "Lax", "path": "/", "max-age": str(BROWSER_COOKIE_DAYS * 86400)})
    if came_over_https(request):
        morsel["secure"] = "1"
    response.headers.add("Set-Cookie", morsel.OutputString())  # the response's own cookies are in its headers already


def visitor_identities(request: web.Request, user: User | None) -> str:
    """Who a visitor is, for kicks and mutes: "user:ID" when signed in, "browser:ID" (the signed cookie) and
    "addr:IP" (the client address), space-separated, with "fresh" when the browser cookie is issued by this very
    connection (it came without one: the address then stands in for it, see services/rooms.py)."""
    parts = [f"user:{user.id}"] if user is not None else []
    browser = request.get(BROWSER)
    if browser is not None:
        parts.append(f"browser:{browser[0]}")
    parts.append(f"addr:{peer_address(request)}")
    if browser is None or browser[1]:
        parts.append("fresh")
    return " ".join(parts)


def identify(request: web.Request) -> tuple[User | None, str | None]:
    """Who :func:`auth_middleware` found for this request (an ``/api/`` request or the ``/ws`` upgrade)."""
    return request.get(USER), request.get(CSRF)


def identified(path: str) -> bool:
    return path.startswith("/api/") or path == "/ws"


@web.middleware
async def auth_middleware(request: web.Request, handler):
    if request.path in BROWSER_PAGES and request.method in ("GET", "HEAD"):
        request[BROWSER] = await _browser(request)
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
    if csrf is not None and request.method not in SAFE_METHODS:
        _check_origin(request)
    return user


def own_origin(request: web.Request) -> str:
    """This server's origin as the browser sees it: behind a trusted proxy, with its X-Forwarded-Proto and -Host."""
    host = request.host
    if _via_proxy(request):
        host = request.headers.get("X-Forwarded-Host", "").split(",")[0].strip() or host
    return f"{'https' if came_over_https(request) else 'http'}://{host}".lower()


def _configured_origins(request: web.Request) -> set[str]:
    return {o.strip().rstrip("/").lower() for o in request.app[SETTINGS].allowed_origins.split(",") if o.strip()}


def _check_origin(request: web.Request) -> None:
    """A cookie-authenticated write must come from this site's pages: Origin (or, without it, Referer) must be
    this server's own origin or one of ``allowed_origins``; a request with neither header is not from a browser page."""
    origin = request.headers.get("Origin")
    header = "Origin"
    if origin is None:
        referer = request.headers.get("Referer")
        if referer is None:
            return
        parts = urllib.parse.urlsplit(referer)
        origin, header = f"{parts.scheme}://{parts.netloc}", "Referer"
    origin = origin.strip().rstrip("/").lower()
    if origin != own_origin(request) and origin not in _configured_origins(request):
        raise http_error(
            403, f"a request signed in by cookie must come from this site's pages; {header} {origin!r} is not allowed", "Origin"
        )


def origin_allowed(request: web.Request) -> bool:
    """A browser's WebSocket upgrade must come from an allowed origin (default: this server's own)."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True  # not a browser: a bot or the Python client, which authenticate by token
    allowed = _configured_origins(request) or {own_origin(request), f"{request.scheme}://{request.host}".lower()}
    return origin.rstrip("/").lower() in allowed


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
        secure=came_over_https(request),
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
