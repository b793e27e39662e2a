"""Typed application keys."""

from __future__ import annotations

from aiohttp import web

from thirdspace.cluster.node import Cluster
from thirdspace.config import Settings
from thirdspace.services.assets import AsyncAssetLibrary
from thirdspace.services.rooms import LiveRooms
from thirdspace.services.store import AsyncDatabase
from thirdspace.web.heartbeat import Heartbeats
from thirdspace.web.publishing import Publisher

SETTINGS = web.AppKey("settings", Settings)
ROOMS = web.AppKey("rooms", LiveRooms)  # the live rooms of this node
ASSETS = web.AppKey("assets", AsyncAssetLibrary)  # asset work runs in its worker processes
SCENE_ASSETS = web.AppKey("scene_assets", dict)
DB = web.AppKey("db", AsyncDatabase)  # every method is a coroutine: await it
PUBLISHER = web.AppKey("publisher", Publisher)
CLUSTER = web.AppKey("cluster", Cluster)  # only in cluster mode
STATE = web.AppKey("state", dict)  # {"ready": bool}: kernels compiled and not shutting down
HEARTBEATS = web.AppKey("heartbeats", Heartbeats)  # pings idle WebSocket connections, drops silent ones
