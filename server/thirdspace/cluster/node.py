"""Cluster mode: rooms spread over several processes or machines, coordinated through Redis.

Every node keeps a heartbeat key with a short TTL.  A room lives on exactly one
node; Redis holds the directory (room -> owner node, occupancy) and what must
outlive a node: each room's members (for resuming), its chat history and its
running tours.  Ownership changes only through atomic compare-and-set scripts,
so two nodes never both take over a room.  Scene publishes, curators' draft
saves and tour announcements reach the other nodes on one pub/sub channel.

Keys (all under ``thirdspace:``)::

    node:{id}             JSON {url, visitors, rooms, draining}, expires unless refreshed
    nodes                 set of node ids ever seen (dead ones are pruned)
    room-node             hash room id -> owner node id
    room-info             hash room id -> JSON {scene, visitors, capacity, locked}
    scene-rooms:{scene}   set of the scene's room ids
    members:{room}        hash visitor id -> JSON {name, language, colour, avatar, identity, can_guide, secret}
    chat:{room}           list of chat lines (JSON), the newest ``chat_history``
    tours:{room}          JSON of the room's running tours
    events                pub/sub channel
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import orjson

from thirdspace.metrics import REDIS_ERRORS, REDIS_SECONDS
from thirdspace.rooms.placement import candidates, free_number, node_for_new_room, room_number

log = logging.getLogger(__name__)
T = TypeVar("T")
PREFIX = "thirdspace:"
HEARTBEAT_S = 0.5
NODE_TTL_MS = 2000  # a node that misses this many milliseconds of heartbeats is dead
LOOP_STALL_S = 10.0  # an event loop silent this long is stuck: stop heartbeating, let the others take over
OP_TIMEOUT_S = 2.0

# Compare-and-set: give a room to ARGV[2] only if ARGV[1] ("" for nobody) holds it now.
TAKE_ROOM = """
local current = redis.call('HGET', KEYS[1], ARGV[1])
if (current == false and ARGV[2] == '') or current == ARGV[2] then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
  return 1
end
return 0
"""
# Forget a room, only if ARGV[2] still owns it.
DROP_ROOM = """
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
  redis.call('HDEL', KEYS[1], ARGV[1])
  redis.call('HDEL', KEYS[2], ARGV[1])
  redis.call('SREM', KEYS[3], ARGV[1])
  redis.call('DEL', KEYS[4], KEYS[5], KEYS[6])
  return 1
end
return 0
"""


# Take a seat: the first room in ARGV[2..] (oldest first) that is unlocked and has fewer than ARGV[1]
# visitors gets one more, at once, so a burst of joins fills rooms instead of opening many half-empty ones.
# The owner writes the true count back on every join and leave.
TAKE_SEAT = """
for i = 2, #ARGV do
  local raw = redis.call('HGET', KEYS[1], ARGV[i])
  if raw then
    local info = cjson.decode(raw)
    if not info.locked and info.visitors < tonumber(ARGV[1]) then
      info.visitors = info.visitors + 1
      redis.call('HSET', KEYS[1], ARGV[i], cjson.encode(info))
      return ARGV[i]
    end
  end
end
return false
"""


class ClusterUnavailable(Exception):
    """Redis could not be reached (or answered too slowly)."""


@dataclass(frozen=True)
class Node:
    id: str
    url: str
    visitors: int
    rooms: int
    draining: bool


@dataclass(frozen=True)
class Owner:
    node: str
    url: str | None  # None: the owner is not heartbeating (dead)

    @property
    def alive(self) -> bool:
        return self.url is not None


def http_base(ws_url: str) -> str:
    """``ws://host:port/ws`` -> ``http://host:port`` (and wss -> https): where a node answers HTTP."""
    scheme, _, rest = ws_url.partition("://")
    return f"{'https' if scheme == 'wss' else 'http'}://{rest.split('/', 1)[0]}"


def least_loaded(nodes: dict[str, Node], prefer: str | None = None) -> Node | None:
    """The node with the fewest visitors (then rooms); ``prefer`` wins ties (no redirect needed)."""
    open_nodes = [n for n in nodes.values() if not n.draining]
    if not open_nodes:
        return None
    return min(open_nodes, key=lambda n: (n.visitors, n.rooms, n.id != prefer, n.id))


class Cluster:
    def __init__(self, redis_url: str, node_id: str, public_url: str, chat_history: int = 100):
        import redis.asyncio as aioredis  # only cluster mode needs it

        self.redis = aioredis.from_url(redis_url, socket_timeout=OP_TIMEOUT_S, socket_connect_timeout=OP_TIMEOUT_S)
        self.redis_url = redis_url
        self.node_id = node_id
        self.url = public_url
        self.chat_history = chat_history
        self.draining = False
        self.load: Callable[[], tuple[int, int]] = lambda: (0, 0)  # (visitors, rooms) here, for the heartbeat
        self.on_event: Callable[[dict[str, Any]], Awaitable[None]] | None = None
        self.on_dead_room: Callable[[str, str], Awaitable[None]] | None = None  # (room id, scene id) to reopen here
        self.local_rooms: Callable[[], list[str]] = list  # the rooms this node runs
        # rooms it runs that Redis gives to another node now ({room: owner}, {node: url})
        self.on_lost_rooms: Callable[[dict[str, str | None], dict[str, str]], Awaitable[None]] | None = None
        self.reachable = False
        self._tasks: list[asyncio.Task[None]] = []
        # Heartbeats come from a thread of their own, so a node whose event loop is merely busy (a long
        # tick, a loaded machine) is not taken for dead; the loop proves it is alive through _loop_seen.
        self._loop_seen = time.monotonic()
        self._load = (0, 0)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._take = self.redis.register_script(TAKE_ROOM)
        self._seat = self.redis.register_script(TAKE_SEAT)
        self._placing: dict[str, asyncio.Lock] = {}  # per scene: one placement at a time on this node
        self._drop = self.redis.register_script(DROP_ROOM)

    # -- plumbing -------------------------------------------------------------------

    async def call(self, op: str, awaitable: Awaitable[T]) -> T:
        """One Redis round trip, timed and counted; ``ClusterUnavailable`` if Redis does not answer."""
        started = time.perf_counter()
        try:
            result = await asyncio.wait_for(awaitable, OP_TIMEOUT_S)
        except (OSError, TimeoutError) as err:
            REDIS_ERRORS.inc()
            self.reachable = False
            raise ClusterUnavailable(f"Redis at {self.redis_url}: {err or type(err).__name__}") from err
        except Exception as err:
            if type(err).__module__.startswith("redis"):
                REDIS_ERRORS.inc()
                self.reachable = False
                raise ClusterUnavailable(f"Redis at {self.redis_url}: {err}") from err
            raise
        REDIS_SECONDS.labels(op).observe(time.perf_counter() - started)
        self.reachable = True
        return result

    async def start(self) -> None:
        await self.heartbeat()
        self._thread = threading.Thread(target=self._beat_thread, name="cluster heartbeat", daemon=True)
        self._thread.start()
        self._tasks = [
            asyncio.create_task(self._beat(), name="cluster heartbeat"),
            asyncio.create_task(self._listen(), name="cluster events"),
        ]
        log.info("cluster node %s at %s joined through %s", self.node_id, self.url, self.redis_url)

    async def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            await asyncio.get_running_loop().run_in_executor(None, self._thread.join, 5)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.redis.delete(PREFIX + "node:" + self.node_id), OP_TIMEOUT_S)
        with contextlib.suppress(Exception):
            await self.redis.aclose()

    async def ping(self) -> bool:
        """Whether Redis answers and holds this node's registration (refreshed now, as a heartbeat)."""
        try:
            await self.heartbeat()
        except ClusterUnavailable:
            return False
        return True

    def _info(self) -> bytes:
        visitors, rooms = self._load
        return orjson.dumps({"url": self.url, "visitors": visitors, "rooms": rooms, "draining": self.draining})

    async def heartbeat(self) -> None:
        self._load = self.load()
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.set(PREFIX + "node:" + self.node_id, self._info(), px=NODE_TTL_MS).sadd(PREFIX + "nodes", self.node_id)
            await self.call("heartbeat", pipe.execute())

    def _beat_thread(self) -> None:
        import redis

        client = redis.Redis.from_url(self.redis_url, socket_timeout=OP_TIMEOUT_S, socket_connect_timeout=OP_TIMEOUT_S)
        failing = False
        while not self._stop.wait(HEARTBEAT_S):
            if time.monotonic() - self._loop_seen > LOOP_STALL_S:
                continue  # the event loop is stuck: stop vouching for this node
            started = time.perf_counter()
            try:
                pipe = client.pipeline(transaction=False)
                pipe.set(PREFIX + "node:" + self.node_id, self._info(), px=NODE_TTL_MS).sadd(PREFIX + "nodes", self.node_id)
                pipe.execute()
            except Exception as err:  # noqa: BLE001 - any failure means Redis is away; say so once
                REDIS_ERRORS.inc()
                self.reachable = False
                if not failing:
                    log.warning("cluster heartbeat failed: %s", err)
                failing = True
                continue
            REDIS_SECONDS.labels("heartbeat").observe(time.perf_counter() - started)
            self.reachable, failing = True, False
        client.close()

    async def _beat(self) -> None:
        """On the event loop: prove it runs, refresh the load figures, look after ownership every second."""
        beats = 0
        while True:
            self._loop_seen = time.monotonic()
            self._load = self.load()
            beats += 1
            if beats % 2 == 0 and not self.draining:
                try:
                    await self.check_ownership()
                    await self.sweep()
                except ClusterUnavailable as err:
                    log.warning("cluster directory: %s", err)
                except Exception:
                    log.exception("cluster directory")
            await asyncio.sleep(HEARTBEAT_S)

    async def _listen(self) -> None:
        while True:
            pubsub = self.redis.pubsub()
            try:
                await pubsub.subscribe(PREFIX + "events")
                async for message in pubsub.listen():
                    if message.get("type") != "message":
                        continue
                    event = orjson.loads(message["data"])
                    if event.get("origin") == self.node_id or self.on_event is None:
                        continue
                    try:
                        await self.on_event(event)
                    except Exception:
                        log.exception("cluster event %s", event.get("kind"))
            except asyncio.CancelledError:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
                raise
            except Exception as err:  # Redis went away: try again shortly
                log.warning("cluster events: %s; resubscribing", err)
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
                await asyncio.sleep(1.0)

    async def publish(self, kind: str, **fields: Any) -> None:
        event = {"kind": kind, "origin": self.node_id, **fields}
        await self.call("publish", self.redis.publish(PREFIX + "events", orjson.dumps(event)))

    # -- nodes and the room directory -------------------------------------------------------

    async def nodes(self) -> dict[str, Node]:
        """The live nodes (those heartbeating)."""
        ids = sorted(i.decode() for i in await self.call("smembers", self.redis.smembers(PREFIX + "nodes")))
        if not ids:
            return {}
        values = await self.call("mget", self.redis.mget([PREFIX + "node:" + i for i in ids]))
        live = {}
        for node_id, raw in zip(ids, values, strict=True):
            if raw is not None:
                info = orjson.loads(raw)
                live[node_id] = Node(node_id, info["url"], info["visitors"], info["rooms"], info["draining"])
        return live

    async def owner(self, room_id: str) -> Owner | None:
        node_id = await self.call("hget", self.redis.hget(PREFIX + "room-node", room_id))
        if node_id is None:
            return None
        node_id = node_id.decode()
        if node_id == self.node_id:
            return Owner(node_id, self.url)
        raw = await self.call("get", self.redis.get(PREFIX + "node:" + node_id))
        return Owner(node_id, orjson.loads(raw)["url"] if raw is not None else None)

    async def take(self, room_id: str, from_node: str, to_node: str | None = None) -> bool:
        """Move a room from ``from_node`` ("" for a new room) to ``to_node`` (default: here), atomically."""
        to_node = to_node or self.node_id
        taken = await self.call("take", self._take(keys=[PREFIX + "room-node"], args=[room_id, from_node, to_node]))
        return bool(taken)

    async def place(self, scene_id: str, capacity: int, avoid: frozenset[str] = frozenset()) -> tuple[str, Node]:
        """A room of the scene with a seat taken for one more visitor, and the node holding it.

        The oldest room with space on a live node is chosen, so visitors meet;
        when every room is full a new one opens on the node running the fewest rooms.
        """
        async with self._placing.setdefault(scene_id, asyncio.Lock()):
            nodes = await self.nodes()
            members = await self.call("smembers", self.redis.smembers(PREFIX + f"scene-rooms:{scene_id}"))
            room_ids = sorted((r.decode() for r in members), key=room_number)
            open_nodes = {node_id for node_id, node in nodes.items() if not node.draining}
            if room_ids:
                owner_ids = await self.call("hmget", self.redis.hmget(PREFIX + "room-node", room_ids))
                owners = {r: o.decode() if o else None for r, o in zip(room_ids, owner_ids, strict=True)}
                seats = candidates(room_ids, owners, open_nodes, avoid)
                if seats:
                    seat = await self.call("seat", self._seat(keys=[PREFIX + "room-info"], args=[capacity, *seats]))
                    if seat:
                        seat = seat.decode()
                        owner = await self.call("hget", self.redis.hget(PREFIX + "room-node", seat))
                        node = nodes.get(owner.decode()) if owner else None
                        if node is not None:
                            return seat, node
            target = node_for_new_room(await self._directory_load(open_nodes), self.node_id)
            if target is None:
                raise ClusterUnavailable("no node is taking visitors")
            taken = {room_number(r) for r in room_ids}
            while True:
                room_id = f"{scene_id}-{free_number(taken)}"
                if await self.take(room_id, "", target):
                    await self.set_room(room_id, scene_id, 1, capacity, False)  # the seat of the visitor who opens it
                    await self.add_room(room_id, scene_id)
                    return room_id, nodes[target]
                taken.add(room_number(room_id))  # another node opened that number first

    async def _directory_load(self, open_nodes: set[str]) -> dict[str, tuple[int, int]]:
        """Rooms and visitors of each node taking visitors, counted from the directory itself (a burst of joins
        opens rooms faster than heartbeats report them)."""
        owners = await self.call("hgetall", self.redis.hgetall(PREFIX + "room-node"))
        infos = await self.call("hgetall", self.redis.hgetall(PREFIX + "room-info"))
        load = {node_id: [0, 0] for node_id in open_nodes}
        for room_id, owner in owners.items():
            counts = load.get(owner.decode())
            if counts is not None:
                raw = infos.get(room_id)
                counts[0] += 1
                counts[1] += orjson.loads(raw)["visitors"] if raw else 0
        return {node_id: (rooms, visitors) for node_id, (rooms, visitors) in load.items()}

    async def add_room(self, room_id: str, scene_id: str) -> None:
        await self.call("sadd", self.redis.sadd(PREFIX + f"scene-rooms:{scene_id}", room_id))

    async def set_room(self, room_id: str, scene_id: str, visitors: int, capacity: int, locked: bool) -> None:
        info = {"scene": scene_id, "visitors": visitors, "capacity": capacity, "locked": locked}
        await self.call("hset", self.redis.hset(PREFIX + "room-info", room_id, orjson.dumps(info)))

    async def scene_rooms(self, scene_id: str) -> list[dict[str, Any]]:
        """The scene's rooms on every node: id, visitors (seats taken) and capacity."""
        members = await self.call("smembers", self.redis.smembers(PREFIX + f"scene-rooms:{scene_id}"))
        room_ids = sorted((r.decode() for r in members), key=room_number)
        infos = await self.call("hmget", self.redis.hmget(PREFIX + "room-info", room_ids)) if room_ids else []
        rooms = []
        for room_id, raw in zip(room_ids, infos, strict=True):
            if raw is not None:
                info = orjson.loads(raw)
                rooms.append({"id": room_id, "visitors": info["visitors"], "capacity": info["capacity"]})
        return rooms

    async def drop_room(self, room_id: str, scene_id: str) -> None:
        keys = [
            PREFIX + "room-node", PREFIX + "room-info", PREFIX + f"scene-rooms:{scene_id}",
            PREFIX + f"members:{room_id}", PREFIX + f"chat:{room_id}", PREFIX + f"tours:{room_id}",
        ]  # fmt: skip
        await self.call("drop", self._drop(keys=keys, args=[room_id, self.node_id]))

    async def check_ownership(self) -> None:
        """Still the owner of every room run here?  Hand over the ones another node has taken."""
        rooms = self.local_rooms()
        if not rooms or self.on_lost_rooms is None:
            return
        owners = await self.call("hmget", self.redis.hmget(PREFIX + "room-node", rooms))
        lost = {room: owner.decode() if owner else None for room, owner in zip(rooms, owners, strict=True)}
        lost = {room: owner for room, owner in lost.items() if owner != self.node_id}
        if lost:
            urls = {node.id: node.url for node in (await self.nodes()).values()}
            await self.on_lost_rooms(lost, urls)

    async def sweep(self) -> None:
        """Reopen the rooms of nodes that stopped heartbeating, if this is the least-loaded live node."""
        owners = await self.call("hgetall", self.redis.hgetall(PREFIX + "room-node"))
        if not owners:
            return
        nodes = await self.nodes()
        orphans = [(r.decode(), n.decode()) for r, n in owners.items() if n.decode() not in nodes]
        if not orphans or self.on_dead_room is None:
            return
        target = least_loaded(nodes)
        if target is None or target.id != self.node_id:
            return  # the least-loaded node does it; ties go to the lowest node id, the same on every node
        infos = await self.call("hmget", self.redis.hmget(PREFIX + "room-info", [r for r, _ in orphans]))
        for (room_id, dead), raw in zip(orphans, infos, strict=True):
            scene_id = orjson.loads(raw)["scene"] if raw else room_id.rpartition("-")[0]
            if await self.take(room_id, dead):
                log.warning("node %s stopped heartbeating: reopening its room %s here", dead, room_id)
                await self.on_dead_room(room_id, scene_id)
        dead_nodes = {dead for _, dead in orphans}
        await self.call("srem", self.redis.srem(PREFIX + "nodes", *dead_nodes))

    # -- what outlives a node: members, chat, tours -----------------------------------------

    async def add_member(self, room_id: str, visitor_id: int, record: dict[str, Any]) -> None:
        await self.call("hset", self.redis.hset(PREFIX + f"members:{room_id}", str(visitor_id), orjson.dumps(record)))

    async def remove_members(self, room_id: str, visitor_ids: list[int]) -> None:
        if visitor_ids:
            await self.call("hdel", self.redis.hdel(PREFIX + f"members:{room_id}", *map(str, visitor_ids)))

    async def members(self, room_id: str) -> dict[int, dict[str, Any]]:
        raw = await self.call("hgetall", self.redis.hgetall(PREFIX + f"members:{room_id}"))
        return {int(k): orjson.loads(v) for k, v in raw.items()}

    async def append_chat(self, room_id: str, line: dict[str, Any]) -> None:
        key = PREFIX + f"chat:{room_id}"
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.rpush(key, orjson.dumps(line)).ltrim(key, -self.chat_history, -1)
            await self.call("chat", pipe.execute())

    async def chat(self, room_id: str) -> list[dict[str, Any]]:
        lines = await self.call("lrange", self.redis.lrange(PREFIX + f"chat:{room_id}", 0, -1))
        return [orjson.loads(line) for line in lines]

    async def save_tours(self, room_id: str, tours: dict[str, Any]) -> None:
        await self.call("set", self.redis.set(PREFIX + f"tours:{room_id}", orjson.dumps(tours)))

    async def tours(self, room_id: str) -> dict[str, Any]:
        raw = await self.call("get", self.redis.get(PREFIX + f"tours:{room_id}"))
        return orjson.loads(raw) if raw else {}
