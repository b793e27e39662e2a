"""Voice rooms in a Janus SFU: the server's client for Janus's HTTP API and admin API.

In ``voice = "janus"`` mode each Third Space room has a Janus VideoRoom room (audio only, Opus),
and only the visitors the server admits can use it:

- Janus runs with ``token_auth = true``: every Janus API request needs a token the server added
  through the admin API (``add_token``, limited to the VideoRoom plugin). The server adds one for
  itself at :meth:`JanusRooms.start` and one per admitted visitor.
- Each room is private (not listed), has a secret known only to this server (derived from the
  admin secret and the room number, so a restarted server can still manage its rooms), and an
  ``allowed`` list: only a token on it may join the room as a publisher.
- Creating rooms needs the VideoRoom plugin's ``admin_key`` when Janus is configured with one;
  this client sends the admin secret as that key (docs/deploy.md: set both to the same secret).

If Janus restarts, the next request finds the session gone; the client then opens a new session
and recreates its rooms and the visitors' tokens, so visitors reconnect on their next try.
All of it is asynchronous over one aiohttp ``ClientSession``; nothing blocks the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass, field
from typing import Any

import aiohttp

log = logging.getLogger(__name__)

VIDEOROOM = "janus.plugin.videoroom"
KEEPALIVE_S = 25.0  # Janus's default session_timeout is 60 s
MAX_PUBLISHERS = 1000  # a Third Space room's capacity: everyone may speak; the server chooses who hears whom
AUDIO_BITRATE = 64000  # bits per second: ample for speech in Opus

# Janus core error codes (src/apierror.h) and VideoRoom error codes (janus_videoroom.c) this client acts on.
UNAUTHORIZED = 403  # also what a restarted Janus answers first: it checks the token before the session
SESSION_NOT_FOUND = 458
HANDLE_NOT_FOUND = 459
TOKEN_NOT_FOUND = 470
NO_SUCH_ROOM = 426
ROOM_EXISTS = 427
NO_SUCH_FEED = 428
LOST = (UNAUTHORIZED, SESSION_NOT_FOUND, HANDLE_NOT_FOUND)  # our session is gone: Janus restarted or timed it out


class JanusError(Exception):
    """Janus refused a request, answered something unexpected, or could not be reached."""

    def __init__(self, message: str, code: int | None = None):
        super().__init__(message)
        self.code = code


@dataclass
class VoiceRoom:
    description: str
    secret: str
    allowed: set[str] = field(default_factory=set)


class JanusRooms:
    """Creates and destroys Janus VideoRoom rooms and admits visitors' tokens to them."""

    def __init__(self, url: str, admin_url: str, admin_secret: str, timeout_s: float = 5.0):
        self.url = url.rstrip("/")
        self.admin_url = admin_url.rstrip("/")
        self.admin_secret = admin_secret
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)
        self.token = secrets.token_urlsafe(24)  # this server's own Janus token
        self.rooms: dict[int, VoiceRoom] = {}
        self._http: aiohttp.ClientSession | None = None
        self._session_id: int | None = None
        self._handle_id: int | None = None
        self._keepalive: asyncio.Task | None = None
        self._reconnect = asyncio.Lock()

    # -- lifecycle

    async def start(self) -> None:
        """Add this server's token, open a Janus session with a VideoRoom handle, and keep it alive."""
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession(timeout=self.timeout)
        await self._connect()
        if self._keepalive is None or self._keepalive.done():
            self._keepalive = asyncio.create_task(self._keep_alive(), name="janus keepalive")

    async def close(self) -> None:
        """Destroy this server's rooms and visitors' tokens in Janus (best effort), then its session."""
        if self._keepalive is not None:
            self._keepalive.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._keepalive
            self._keepalive = None
        if self._http is None:
            return
        for room in list(self.rooms):
            try:
                await self.destroy_room(room)
            except JanusError as err:
                log.warning("janus: room %s not destroyed at close: %s", room, err)
        with contextlib.suppress(JanusError):
            if self._session_id is not None:
                await self._post(f"{self.url}/{self._session_id}", {"janus": "destroy"})
        with contextlib.suppress(JanusError):
            await self._admin("remove_token", token=self.token)
        self._session_id = self._handle_id = None
        await self._http.close()
        self._http = None

    # -- rooms

    def room_secret(self, room: int) -> str:
        """The room's secret: the same for the same admin secret, so a restarted server still holds it."""
        return hmac.new(self.admin_secret.encode(), f"thirdspace voice room {room}".encode(), hashlib.sha256).hexdigest()

    async def create_room(self, room: int, description: str) -> None:
        """A private, audio-only (Opus) room for up to 1000 publishers, with an empty ``allowed`` list.

        A room of that number left behind in Janus (by an earlier run of this server) is destroyed
        and created anew, so no token from before stays on its list.
        """
        voice_room = VoiceRoom(description=description[:100], secret=self.room_secret(room))
        try:
            await self._create(room, voice_room)
        except JanusError as err:
            if err.code != ROOM_EXISTS:
                raise
            await self._room_request({"request": "destroy", "room": room, "secret": voice_room.secret})
            await self._create(room, voice_room)
        self.rooms[room] = voice_room

    async def _create(self, room: int, voice_room: VoiceRoom) -> None:
        await self._room_request(
            {
                "request": "create",
                "room": room,
                "permanent": False,
                "description": voice_room.description,
                "secret": voice_room.secret,
                "admin_key": self.admin_secret,
                "is_private": True,
                "publishers": MAX_PUBLISHERS,
                "audiocodec": "opus",
                "opus_fec": True,
                "bitrate": AUDIO_BITRATE,
                "allowed": sorted(voice_room.allowed),
            }
        )

    async def destroy_room(self, room: int) -> None:
        """Destroy the room (its participants are told and dropped) and remove its visitors' tokens."""
        voice_room = self.rooms.pop(room, None)
        secret = voice_room.secret if voice_room else self.room_secret(room)
        try:
            await self._room_request({"request": "destroy", "room": room, "secret": secret})
        except JanusError as err:
            if err.code != NO_SUCH_ROOM:
                raise
        for token in voice_room.allowed if voice_room else ():
            await self._remove_token(token)

    # -- visitors

    async def admit(self, room: int, token: str) -> None:
        """Let ``token`` use Janus (VideoRoom only) and publish in ``room``."""
        voice_room = self._room(room)
        await self._admin("add_token", token=token, plugins=[VIDEOROOM])
        await self._room_request({"request": "allowed", "room": room, "secret": voice_room.secret, "action": "add", "allowed": [token]})
        voice_room.allowed.add(token)

    async def revoke(self, room: int, token: str) -> None:
        """Take ``token`` off the room's list and out of Janus: its next request is refused."""
        voice_room = self._room(room)
        voice_room.allowed.discard(token)
        try:
            await self._room_request(
                {"request": "allowed", "room": room, "secret": voice_room.secret, "action": "remove", "allowed": [token]}
            )
        finally:
            await self._remove_token(token)

    async def unpublish(self, room: int, feed: int, token: str | None = None) -> None:
        """Moderation: kick publisher ``feed`` out of the room (a feed not in the room is no error).

        With ``token``, that token also leaves the room's ``allowed`` list, so the visitor cannot
        publish again (they still hear others: subscribing needs only their Janus token) until
        :meth:`admit` adds it back.
        """
        voice_room = self._room(room)
        if token is not None and token in voice_room.allowed:
            await self._room_request(
                {"request": "allowed", "room": room, "secret": voice_room.secret, "action": "remove", "allowed": [token]}
            )
            voice_room.allowed.discard(token)
        try:
            await self._room_request({"request": "kick", "room": room, "secret": voice_room.secret, "id": feed})
        except JanusError as err:
            if err.code != NO_SUCH_FEED:
                raise

    async def participants(self, room: int) -> list[dict[str, Any]]:
        """The room's participants as Janus lists them (``id``, ``publisher``, ...)."""
        data = await self._room_request({"request": "listparticipants", "room": room})
        return list(data.get("participants", []))

    def _room(self, room: int) -> VoiceRoom:
        voice_room = self.rooms.get(room)
        if voice_room is None:
            raise JanusError(f"no voice room {room} in Janus", NO_SUCH_ROOM)
        return voice_room

    async def _remove_token(self, token: str) -> None:
        try:
            await self._admin("remove_token", token=token)
        except JanusError as err:
            if err.code != TOKEN_NOT_FOUND:
                raise

    # -- the wire

    async def _connect(self) -> None:
        await self._admin("add_token", token=self.token, plugins=[VIDEOROOM])
        session = await self._post(self.url, {"janus": "create"})
        self._session_id = int(session["data"]["id"])
        handle = await self._post(f"{self.url}/{self._session_id}", {"janus": "attach", "plugin": VIDEOROOM})
        self._handle_id = int(handle["data"]["id"])

    async def _restore(self, lost_session: int | None) -> None:
        """After Janus lost our session (it restarted): a new session, then every room and token again."""
        async with self._reconnect:
            if self._session_id != lost_session:
                return  # another request already reconnected
            log.warning("janus: session %s is gone; reconnecting and recreating %d rooms", lost_session, len(self.rooms))
            await self._connect()
            for room, voice_room in list(self.rooms.items()):
                for token in voice_room.allowed:
                    await self._admin("add_token", token=token, plugins=[VIDEOROOM])
                try:
                    await self._create(room, voice_room)
                except JanusError as err:
                    if err.code != ROOM_EXISTS:  # Janus did not restart after all: the room is still there
                        raise

    async def _room_request(self, body: dict[str, Any]) -> dict[str, Any]:
        """A synchronous VideoRoom request; its answer's data, or JanusError with the plugin's error code."""
        for attempt in (1, 2):
            session, handle = self._session_id, self._handle_id
            if session is None or handle is None:
                raise JanusError("the Janus client is not started")
            try:
                answer = await self._post(f"{self.url}/{session}/{handle}", {"janus": "message", "body": body})
            except JanusError as err:
                if err.code in LOST and attempt == 1:
                    await self._restore(session)
                    continue
                raise
            data = answer.get("plugindata", {}).get("data", {})
            if not isinstance(data, dict):
                raise JanusError(f"Janus answered {body['request']} without data")
            if "error_code" in data:
                raise JanusError(f"videoroom {body['request']}: {data.get('error', 'refused')}", data["error_code"])
            return data
        raise AssertionError("unreachable")

    async def _admin(self, request: str, **fields: Any) -> dict[str, Any]:
        return await self._post(self.admin_url, {"janus": request, "admin_secret": self.admin_secret, **fields}, token=False)

    async def _post(self, url: str, body: dict[str, Any], token: bool = True) -> dict[str, Any]:
        if self._http is None:
            raise JanusError("the Janus client is not started")
        message = {**body, "transaction": secrets.token_hex(8)}
        if token:
            message["token"] = self.token
        for attempt in (1, 2):
            try:
                async with self._http.post(url, json=message) as response:
                    answer = await response.json(content_type=None)
                break
            except aiohttp.ServerDisconnectedError:
                if attempt == 2:  # else: a kept-alive connection to a Janus that has since restarted; once more
                    raise JanusError(f"{url}: Janus closed the connection") from None
            except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
                raise JanusError(f"{url}: {exc or type(exc).__name__}") from None
        if not isinstance(answer, dict):
            raise JanusError(f"{url} answered {answer!r}")
        if answer.get("janus") == "error":
            error = answer.get("error") or {}
            raise JanusError(f"janus {body['janus']}: {error.get('reason', 'error')}", error.get("code"))
        if answer.get("janus") not in ("success", "ack", "pong", "server_info"):
            raise JanusError(f"janus {body['janus']}: unexpected answer {answer.get('janus')!r}")
        return answer

    async def _keep_alive(self) -> None:
        while True:
            await asyncio.sleep(KEEPALIVE_S)
            session = self._session_id
            try:
                await self._post(f"{self.url}/{session}", {"janus": "keepalive"})
            except JanusError as err:
                if err.code in LOST:
                    try:
                        await self._restore(session)
                    except JanusError as again:
                        log.warning("janus: reconnecting failed: %s", again)
                else:
                    log.warning("janus: keepalive failed: %s", err)
