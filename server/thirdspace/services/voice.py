"""Voice on this node: what browsers need to connect (ICE servers, TURN credentials), and the SFU's rooms.

The room's own voice state (who is on, who is paired, signalling) is pure and lives in
:class:`~thirdspace.voice.room.RoomVoice`. This service adds what touches the outside:

- **peer to peer** (``voice = "p2p"``): the ``voice`` part of every welcome, with the
  configured STUN/TURN servers and, with ``turn_secret``, TURN credentials minted for
  the visitor (coturn's ``use-auth-secret``: a user name ``EXPIRY:ID`` and its HMAC-SHA1);
- **Janus** (``voice = "janus"``): a Janus VideoRoom per Third Space room, created when its
  first visitor turns voice on and destroyed when the room closes; a token per visitor,
  added to Janus (and to the room's allowed list) before the visitor is told it, and
  revoked when they leave; a visitor a moderator mutes is unpublished.

Janus calls are HTTP requests: they run in tasks of their own, and a failure becomes an
``unavailable`` refusal for the visitor or a warning in the log, never a stalled room.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
import secrets
import time
from typing import Any

from thirdspace.config import Settings
from thirdspace.voice.room import VoiceRules

log = logging.getLogger(__name__)


def voice_rules(settings: Settings) -> VoiceRules:
    sfu = settings.voice == "janus"
    return VoiceRules(
        hearing_radius_m=settings.hearing_radius_m,
        max_voices=settings.max_voices,
        max_always_listeners=None if sfu else VoiceRules.max_always_listeners,
        relay_only=settings.voice_relay_only,
        sfu=sfu,
    )


def turn_credentials(secret: str, user: str, valid_s: float, now: float | None = None) -> tuple[str, str]:
    """TURN REST API credentials (coturn ``use-auth-secret``): ``(username, credential)``, valid for ``valid_s``."""
    expiry = int((time.time() if now is None else now) + valid_s)
    username = f"{expiry}:{user}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode()


class VoiceProblem(Exception):
    """Voice cannot be turned on right now (the SFU is away)."""


class Voice:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.mode = settings.voice
        self.janus: Any = None  # services.janus.JanusRooms, started with the app
        self.janus_rooms: dict[str, int] = {}  # Third Space room id -> Janus room number
        self.tokens: dict[tuple[str, int], tuple[str, int]] = {}  # (room, visitor) -> (Janus token, feed id)
        self._room_ready: dict[str, asyncio.Future[None]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        servers = [url.strip() for url in settings.ice_servers.split(",") if url.strip()]
        self.stun = [url for url in servers if url.startswith("stun:")]
        self.turn = [url for url in servers if url.startswith(("turn:", "turns:"))]

    @property
    def enabled(self) -> bool:
        return self.mode != "off"

    def problem(self) -> str:
        """Why these settings cannot carry voice, or ""."""
        s = self.settings
        if s.voice_relay_only and not self.turn:
            return "voice_relay_only needs a TURN server in ice_servers (turn:HOST:PORT)"
        if s.voice == "janus" and not (s.janus_url and s.janus_admin_url):
            return "voice = janus needs janus_url and janus_admin_url (docs/voice.md)"
        return ""

    async def start(self) -> None:
        if self.mode == "janus":
            from thirdspace.services.janus import JanusRooms

            s = self.settings
            self.janus = JanusRooms(s.janus_url, s.janus_admin_url, s.janus_admin_secret)
            await self.janus.start()

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self.janus is not None:
            for room in list(self.janus_rooms.values()):
                try:
                    await self.janus.destroy_room(room)
                except Exception as err:  # shutting down: say so, go on
                    log.warning("could not destroy Janus room %s: %s", room, err)
            await self.janus.close()

    # -- what a welcome says ---------------------------------------------------------

    def client_config(self, rules: VoiceRules, room_id: str, visitor_id: int) -> dict[str, Any] | None:
        """The ``voice`` part of a welcome: transport, hearing radius, ICE servers with this visitor's TURN credentials."""
        if not self.enabled:
            return None
        ice: list[dict[str, Any]] = []
        if self.stun:
            ice.append({"urls": self.stun})
        if self.turn:
            entry: dict[str, Any] = {"urls": self.turn}
            if self.settings.turn_secret:
                valid_s = self.settings.session_hours * 3600
                user, credential = turn_credentials(self.settings.turn_secret, f"{room_id}-{visitor_id}", valid_s)
                entry |= {"username": user, "credential": credential}
            ice.append(entry)
        return {
            "transport": "janus" if rules.sfu else "p2p",
            "hearing_radius_m": rules.hearing_radius_m,
            "max_voices": rules.max_voices,
            "ice_servers": ice,
            "ice_transport_policy": "relay" if rules.relay_only else "all",
        }

    # -- the SFU -----------------------------------------------------------------------

    async def admit(self, room_id: str, visitor_id: int) -> tuple[dict[str, Any], int] | None:
        """Janus mode: the room's VideoRoom exists and the visitor's token is admitted; ``({"janus": ...}, feed)``.

        None peer to peer. :class:`VoiceProblem` if Janus cannot be reached."""
        if self.janus is None:
            return None
        known = self.tokens.get((room_id, visitor_id))
        try:
            number = await self._janus_room(room_id)
            if known is None:
                token, feed = secrets.token_urlsafe(24), secrets.randbelow(2**52) + 1
                await self.janus.admit(number, token)
                self.tokens[(room_id, visitor_id)] = known = (token, feed)
        except Exception as err:
            log.warning("Janus: cannot admit visitor %s of room %s: %s", visitor_id, room_id, err)
            raise VoiceProblem(str(err)) from None
        token, feed = known
        url = self.settings.janus_public_url or self.settings.janus_url
        return {"janus": {"url": url, "room": number, "token": token, "feed": feed}}, feed

    async def _janus_room(self, room_id: str) -> int:
        ready = self._room_ready.get(room_id)
        if ready is None:
            number = self.janus_rooms.setdefault(room_id, secrets.randbelow(2**52) + 1)
            ready = self._room_ready[room_id] = asyncio.get_running_loop().create_future()
            try:
                await self.janus.create_room(number, f"Third Space room {room_id}")
            except BaseException as err:
                self._room_ready.pop(room_id, None)
                self.janus_rooms.pop(room_id, None)
                ready.set_exception(err)
                ready.exception()  # retrieved: whoever waits sees it too
                raise
            ready.set_result(None)
        await asyncio.shield(ready)
        return self.janus_rooms[room_id]

    def left(self, room_id: str, visitor_id: int) -> None:
        """The visitor left the room (or lost the connection): their Janus token goes."""
        known = self.tokens.pop((room_id, visitor_id), None)
        number = self.janus_rooms.get(room_id)
        if known is None or number is None or self.janus is None:
            return
        self._background(self.janus.revoke(number, known[0]), f"revoke visitor {visitor_id}'s token in room {room_id}")

    def muted(self, room_id: str, visitor_id: int) -> None:
        """A moderator muted the visitor: Janus stops forwarding their voice (they are unpublished)."""
        known = self.tokens.get((room_id, visitor_id))
        number = self.janus_rooms.get(room_id)
        if known is None or number is None or self.janus is None:
            return
        # with the token: off the room's list, so the visitor cannot publish again until unmuted (they still listen)
        self._background(self.janus.unpublish(number, known[1], token=known[0]), f"unpublish visitor {visitor_id} in room {room_id}")

    def unmuted(self, room_id: str, visitor_id: int) -> None:
        """The moderator lifted the mute: the visitor's token may publish in the room again."""
        known = self.tokens.get((room_id, visitor_id))
        number = self.janus_rooms.get(room_id)
        if known is None or number is None or self.janus is None:
            return
        self._background(self.janus.admit(number, known[0]), f"admit visitor {visitor_id} again in room {room_id}")

    def room_closed(self, room_id: str) -> None:
        number = self.janus_rooms.pop(room_id, None)
        self._room_ready.pop(room_id, None)
        for key in [key for key in self.tokens if key[0] == room_id]:
            del self.tokens[key]
        if number is not None and self.janus is not None:
            self._background(self.janus.destroy_room(number), f"destroy the Janus room of room {room_id}")

    def _background(self, call: Any, what: str) -> None:
        async def run() -> None:
            try:
                await call
            except Exception as err:
                log.warning("Janus: could not %s: %s", what, err)

        task = asyncio.get_running_loop().create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
