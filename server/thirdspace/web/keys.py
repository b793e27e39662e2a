"""Typed application keys."""

from __future__ import annotations

from aiohttp import web

from thirdspace.assets.library import AssetLibrary
from thirdspace.config import Settings
from thirdspace.store import Database
from thirdspace.web.hub import Hub
from thirdspace.web.publishing import Publisher

SETTINGS = web.AppKey("settings", Settings)
HUB = web.AppKey("hub", Hub)
ASSETS = web.AppKey("assets", AssetLibrary)
SCENE_ASSETS = web.AppKey("scene_assets", dict)
DB = web.AppKey("db", Database)
PUBLISHER = web.AppKey("publisher", Publisher)
