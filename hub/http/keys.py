"""Typed keys for what the aiohttp application and its requests hold."""

from aiohttp import web

from hub.auth.roles import Role
from hub.core import Hub

HUB_KEY = web.AppKey("hub", Hub)
USER_KEY = web.RequestKey("user", str)  # who made an authenticated request (the actor of its writes)
ROLE_KEY = web.RequestKey("role", Role)  # the caller's role (pages hide what it may not do)
