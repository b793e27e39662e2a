"""What the live rooms share beyond this process, behind one interface with two implementations.

:class:`SingleNode` is a process on its own: rooms are placed from the local
directory and nothing is kept elsewhere.  :class:`ClusterReplication` is a node
of a cluster coordinated through Redis (``cluster/node.py``): the room
directory, members, chat and tours live in Redis so another node can take a
room over; a room may live on another node (a :class:`Redirect`); a draining
node hands its rooms over.  The live rooms (``services/rooms.py``) call the
same methods either way and never ask which one they have.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from thirdspace.cluster.node import Cluster, ClusterUnavailable, least_loaded
from thirdspace.protocol.constants import CLOSE_MOVED, DEFAULT_AVATAR
from thirdspace.rooms.placement import Choice, LocalRoom, RoomOwner, preferred_room
from thirdspace.rooms.room import Outbound, Room, Visitor
from thirdspace.scenes.model import Scene
from thirdspace.services.rooms import LiveRooms, Redirect, RoomRunner

log = logging.getLogger(__name__)


class Replication(Protocol):
    cluster: Cluster | None
    hands_rooms_over: bool  # a draining node gives its rooms, members and all, to another node

    async def node_urls(self) -> list[str]: ...
    async def choose(self, scene: Scene, preferred: str, banned: frozenset[str]) -> RoomRunner | Redirect: ...
    async def resume_runner(self, scene: Scene, room_id: str) -> RoomRunner | Redirect | None: ...
    async def member_joined(self, runner: RoomRunner, visitor: Visitor) -> None: ...
    async def members_left(self, runner: RoomRunner, gone: list[int]) -> None: ...
    async def room_closed(self, room: Room) -> None: ...
    async def record_chat(self, runner: RoomRunner, line: dict[str, Any]) -> None: ...
    async def save_tours(self, runner: RoomRunner) -> None: ...
    async def publish_room(self, room: Room) -> None: ...
    def announce(self, kind: str, fields: dict[str, Any]) -> None: ...
    async def drain(self, timeout_s: float) -> None: ...


def _local(runner: RoomRunner | None) -> LocalRoom | None:
    if runner is None:
        return None
    return LocalRoom(runner.room.scene.id, runner.room.is_full, runner.room.locked)


class SingleNode:
    """One process holds every room: placement from the local directory, nothing kept elsewhere."""

    cluster = None
    hands_rooms_over = False

    def __init__(self, rooms: LiveRooms):
        self.rooms = rooms

    async def node_urls(self) -> list[str]:
        return []

    async def choose(self, scene: Scene, preferred: str, banned: frozenset[str]) -> RoomRunner | Redirect:
        room = self.rooms.directory.room(preferred) if preferred else None
        here = LocalRoom(room.scene.id, room.is_full, room.locked) if room is not None else None
        if room is None or preferred_room(scene.id, preferred, here, None, "", False) is not Choice.USE:
            room, _ = self.rooms.directory.place(scene, avoid=banned)
        return self.rooms.runner_for(room)

    async def resume_runner(self, scene: Scene, room_id: str) -> RoomRunner | None:
        return self.rooms.runners.get(room_id)

    async def member_joined(self, runner: RoomRunner, visitor: Visitor) -> None:
        pass

    async def members_left(self, runner: RoomRunner, gone: list[int]) -> None:
        pass

    async def room_closed(self, room: Room) -> None:
        pass

    async def record_chat(self, runner: RoomRunner, line: dict[str, Any]) -> None:
        pass

    async def save_tours(self, runner: RoomRunner) -> None:
        pass

    async def publish_room(self, room: Room) -> None:
        pass

    def announce(self, kind: str, fields: dict[str, Any]) -> None:
        pass

    async def drain(self, timeout_s: float) -> None:
        pass


class ClusterReplication:
    """A node of a cluster: the room directory, members, chat and tours in Redis; rooms may live elsewhere."""

    hands_rooms_over = True

    def __init__(self, rooms: LiveRooms, cluster: Cluster, announce: Callable[[str, dict[str, Any]], None]):
        self.rooms = rooms
        self.cluster = cluster
        self._announce = announce  # publish an event to the other nodes (in the background)
        self._opening: dict[str, asyncio.Future[RoomRunner | None]] = {}  # rooms being reopened from Redis
        cluster.load = rooms.load
        cluster.on_dead_room = self.reopen
        cluster.local_rooms = lambda: list(rooms.runners)
        cluster.on_lost_rooms = self.give_up_lost_rooms

    def announce(self, kind: str, fields: dict[str, Any]) -> None:
        self._announce(kind, fields)

    async def node_urls(self) -> list[str]:
        """Where a client may reconnect if this node goes away: this node first, then the other live ones."""
        cluster = self.cluster
        try:
            nodes = await cluster.nodes()
        except ClusterUnavailable:
            return [cluster.url]
        return [cluster.url, *sorted(n.url for n in nodes.values() if n.id != cluster.node_id and not n.draining)]

    async def choose(self, scene: Scene, preferred: str, banned: frozenset[str]) -> RoomRunner | Redirect:
        cluster = self.cluster
        for _ in range(4):  # a room may fill up between the directory's answer and the join
            if preferred:
                runner = self.rooms.runners.get(preferred)
                owner = await cluster.owner(preferred) if runner is None else None
                known = RoomOwner(owner.node, owner.alive) if owner is not None else None
                choice = preferred_room(scene.id, preferred, _local(runner), known, cluster.node_id, self.rooms.draining)
                if choice is Choice.USE and runner is not None:
                    return runner
                if choice is Choice.OPEN:
                    runner = await self.open(scene, preferred)
                    if runner is not None and not runner.room.is_full:
                        return runner
                if choice is Choice.REDIRECT and owner is not None and owner.url is not None:
                    return Redirect(owner.url, preferred)
                banned = banned | {preferred}
            preferred, node = await cluster.place(scene.id, scene.capacity, banned)
            if node.id != cluster.node_id:
                return Redirect(node.url, preferred)
        raise ClusterUnavailable(f"no room of {scene.id} has space")

    async def resume_runner(self, scene: Scene, room_id: str) -> RoomRunner | Redirect | None:
        runner = self.rooms.runners.get(room_id)
        if runner is not None or room_id.rpartition("-")[0] != scene.id:
            return runner
        cluster = self.cluster
        owner = await cluster.owner(room_id)
        if owner is None:
            return None
        if owner.node != cluster.node_id:
            if owner.alive:
                return Redirect(owner.url or "", room_id)
            if not await cluster.take(room_id, owner.node):  # its node died: take the room over here
                owner = await cluster.owner(room_id)
                return Redirect(owner.url, room_id) if owner is not None and owner.url is not None else None
        return await self.open(scene, room_id)

    async def open(self, scene: Scene, room_id: str) -> RoomRunner | None:
        """Open a room this node owns but does not run yet, with its members (away), chat and tours from Redis."""
        rooms = self.rooms
        runner = rooms.runners.get(room_id)
        if runner is not None:
            return runner
        pending = self._opening.get(room_id)
        if pending is not None:
            return await pending
        future: asyncio.Future[RoomRunner | None] = asyncio.get_running_loop().create_future()
        self._opening[room_id] = future
        try:
            members = await self.cluster.members(room_id)
            chat = await self.cluster.chat(room_id)
            tours = await self.cluster.tours(room_id)
            room = rooms.directory.add(Room(room_id, scene, rooms.directory.rules))
            runner = rooms.runner_for(room)
            now = time.monotonic()
            for visitor_id, member in sorted(members.items()):
                if room.is_full:
                    break
                visitor, _ = room.join(
                    member["name"],
                    member["language"],
                    member["colour"],
                    now,
                    visitor_id,
                    member["secret"],
                    member.get("avatar", DEFAULT_AVATAR),
                )
                visitor.can_guide = bool(member.get("can_guide"))
                runner.identities[visitor_id] = member.get("identity", "")
                room.detach(visitor_id, now, rooms.resume_window_s)
            room.restore_chat(chat)
            room.tours.restore(room.document, tours, set(room.visitors))
            for guided in room.tours.running.values():
                room.set_always_visible(guided.guide, True)
            if room.visitors:
                runner.start()  # expires the members who do not come back; an empty room starts with its first visitor
            await self.publish_room(room)
            log.info("room %s opened here with %d member(s) waiting to resume", room_id, len(room.visitors))
            future.set_result(runner)
            return runner
        except BaseException as err:
            future.set_exception(err) if not isinstance(err, asyncio.CancelledError) else future.cancel()
            raise
        finally:
            self._opening.pop(room_id, None)

    async def reopen(self, room_id: str, scene_id: str) -> None:
        """A room whose node died was handed to this node: open it so its visitors can resume here."""
        scene = self.rooms.scenes.get(scene_id)
        if scene is not None:
            await self.open(scene, room_id)

    # -- what Redis keeps ----------------------------------------------------------------------

    @staticmethod
    def _member(runner: RoomRunner, visitor: Visitor) -> dict[str, Any]:
        """What Redis keeps of a room member, enough to bring them back on another node."""
        extra = {"identity": runner.identities.get(visitor.id, ""), "can_guide": visitor.can_guide, "secret": visitor.secret}
        return visitor.presence() | extra

    async def member_joined(self, runner: RoomRunner, visitor: Visitor) -> None:
        await self.cluster.add_member(runner.room.id, visitor.id, self._member(runner, visitor))
        await self.publish_room(runner.room)

    async def members_left(self, runner: RoomRunner, gone: list[int]) -> None:
        with contextlib.suppress(ClusterUnavailable):
            await self.cluster.remove_members(runner.room.id, gone)
            await self.save_tours(runner)
            await self.publish_room(runner.room)

    async def room_closed(self, room: Room) -> None:
        with contextlib.suppress(ClusterUnavailable):
            await self.cluster.drop_room(room.id, room.scene.id)

    async def record_chat(self, runner: RoomRunner, line: dict[str, Any]) -> None:
        await self.cluster.append_chat(runner.room.id, line)

    async def save_tours(self, runner: RoomRunner) -> None:
        await self.cluster.save_tours(runner.room.id, runner.room.tours.snapshot())

    async def publish_room(self, room: Room) -> None:
        await self.cluster.set_room(room.id, room.scene.id, len(room.visitors), room.capacity, room.locked)

    async def _register(self, runner: RoomRunner) -> None:
        """Write a room this node runs back into Redis: directory, members, chat, tours."""
        room = runner.room
        await self.cluster.add_room(room.id, room.scene.id)
        await self.publish_room(room)
        for visitor in room.visitors.values():
            await self.cluster.add_member(room.id, visitor.id, self._member(runner, visitor))
        for line in room.chat_log:
            await self.cluster.append_chat(room.id, line)
        await self.save_tours(runner)
        log.warning("room %s written back to Redis (%d visitors)", room.id, len(room.visitors))

    # -- rooms changing hands ------------------------------------------------------------------

    async def give_up_lost_rooms(self, owners: dict[str, str | None], urls: dict[str, str]) -> None:
        """Rooms this node runs that Redis now gives to another node (this node was taken for dead, say,
        after a long stall): send their visitors to the owner, who reopened the room with its members."""
        cluster, rooms = self.cluster, self.rooms
        for room_id, owner in owners.items():
            runner = rooms.runners.get(room_id)
            if runner is None or owner == cluster.node_id:
                continue
            if owner is None and await cluster.take(room_id, ""):  # Redis lost its data (a restart): tell it again
                await self._register(runner)
                continue
            log.warning("room %s now belongs to node %s; sending its visitors there", room_id, owner)
            rooms.runners.pop(room_id, None)
            rooms.directory.remove(runner.room)
            closes = self._send_away(runner, urls.get(owner or ""), "this room moved to another node")
            runner.sessions.clear()  # the visitors are not leaving: nothing to tell Redis or the others
            await asyncio.gather(*closes, return_exceptions=True)
            if runner.task is not None:
                runner.task.cancel()

    def _send_away(self, runner: RoomRunner, url: str | None, reason: str) -> list[Awaitable[None]]:
        """Tell a room's visitors where it went (``move``) and close their connections with 4005 (to await)."""
        if url is not None:
            runner.deliver([Outbound({"type": "move", "url": url, "room": runner.room.id})])
        return [session.close(CLOSE_MOVED, reason) for session in runner.sessions.values()]

    async def drain(self, timeout_s: float) -> None:
        """Hand every room to another node and send its visitors there."""
        cluster = self.cluster
        cluster.draining = True
        with contextlib.suppress(ClusterUnavailable):
            await cluster.heartbeat()
        moves = []
        for runner in list(self.rooms.runners.values()):
            room = runner.room
            try:
                await self.save_tours(runner)
                nodes = await cluster.nodes()
                nodes.pop(cluster.node_id, None)
                target = least_loaded(nodes)
                if target is None or not await cluster.take(room.id, cluster.node_id, target.id):
                    continue
            except ClusterUnavailable:
                continue
            moves += self._send_away(runner, target.url, "this node is shutting down: reconnect")
            log.info("room %s handed to node %s (%d visitor(s) sent there)", room.id, target.id, len(runner.sessions))
        if moves:
            await asyncio.wait_for(asyncio.gather(*moves, return_exceptions=True), timeout_s)
