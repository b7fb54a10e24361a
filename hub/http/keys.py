"""Typed keys for what the aiohttp application and its requests hold."""

from aiohttp import web

from hub.core import Hub

HUB_KEY = web.AppKey("hub", Hub)
USER_KEY = web.RequestKey("user", str)  # who made an authenticated request (the actor of its writes)
