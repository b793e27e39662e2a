"""The server's walk check, over a real connection: a pose through a wall is refused, and nobody else sees it."""

from __future__ import annotations

import asyncio
import math

import numpy as np

from thirdspace.client import ThirdSpaceClient
from thirdspace.scenes.walk import WalkGrid

MM = 0.001


def through_a_wall(grid: WalkGrid) -> tuple[tuple[float, float], tuple[float, float]]:
    """Two points on level floor with a short run of wall (solid above any head) between them along x."""
    nx, nz = grid.shape
    for j in range(nz):
        for i in range(nx - 3):
            if math.isnan(grid.floor[i, j]) or abs(grid.floor[i, j]) > 0.05:
                continue
            k = i + 1
            while k < nx and math.isnan(grid.floor[k, j]) and grid.top[k, j] == np.inf:
                k += 1
            if 2 <= k - i - 1 <= 8 and k < nx and abs(grid.floor[k, j]) < 0.05:
                centre = lambda c: grid.origin_x + (c + 0.5) * grid.cell_m  # noqa: E731
                z = grid.origin_z + (j + 0.5) * grid.cell_m
                return (centre(i), z), (centre(k), z)
    raise AssertionError("no wall between two floors in this scene")


async def test_a_pose_through_a_wall_is_refused_and_never_reaches_the_others(server):
    async with await ThirdSpaceClient.connect(server.ws, "caravanserai", "watcher") as watcher:
        async with await ThirdSpaceClient.connect(server.ws, "caravanserai", "ghost") as ghost:
            room = server.rooms.runners[ghost.room].room
            assert room.walk is not None
            (ax, az), (bx, bz) = through_a_wall(room.walk)
            assert room.walk.floor_at(ax, az) is not None and room.walk.floor_at(bx, bz) is not None
            await ghost.send_pose((ax, 1.6, az))
            await watcher.wait_for(lambda c: ghost.id in c.poses and abs(c.poses[ghost.id][0, 0] - ax) < MM)
            refused = room.stats.poses_not_walkable
            await asyncio.sleep(0.3)  # slow enough for the speed limit: only the wall is in the way
            await ghost.send_pose((bx, 1.6, bz))
            error = await ghost.wait_for(lambda c: next((e for e in c.errors if e.get("code") == "not_walkable"), None))
            assert error["field"] == "pose" and "passes through" in error["message"]
            np.testing.assert_allclose(error["at"], (ax, 1.6, az), atol=0.01)  # where the room keeps the visitor
            assert room.stats.poses_not_walkable == refused + 1
            await asyncio.sleep(0.3)
            assert abs(watcher.poses[ghost.id][0, 0] - ax) < MM  # the others never saw it
