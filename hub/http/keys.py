"""Typed keys for what the aiohttp application holds."""

from aiohttp import web

from hub.core import Hub

HUB_KEY = web.AppKey("hub", Hub)
