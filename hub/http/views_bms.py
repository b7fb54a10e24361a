"""The BMS connections page: a status card per connection, the two-step connect wizard, and card actions.

Everything goes through hub.bms (BmsConnections), the service behind /api/bms, as the logged-in user;
who may do what is hub.http.auth_rules' `/bms` rules, the same as `/api/bms`. The dialogs' routes
are in views_bms_dialogs and views_bms_mapping.
"""

import time
from dataclasses import dataclass

from aiohttp import web
from markupsafe import Markup, escape

from hub.bms.guide import GUIDES, Guide, Values
from hub.bms.ingest import Destination, MessageOutcome
from hub.bms.model import BmsType, Connection, Transport
from hub.bms.service import BmsConnections, ConnectionChanges, NotFound
from hub.bms.stats import StatsView
from hub.http.bms_json import credentials, endpoints
from hub.http.keys import HUB_KEY, USER_KEY
from hub.http.point_rows import format_age
from hub.http.templating import render
from hub.http.views_page import FormError, page

routes = web.RouteTableDef()

TYPE_LABELS = {
    BmsType.ECOSTRUXURE: "Schneider EcoStruxure",
    BmsType.WEBCTRL: "WebCTRL",
    BmsType.GENERIC: "Generic MQTT",
}
TRANSPORT_LABELS = {Transport.WEBSOCKET: "MQTT over WebSocket", Transport.TCP: "MQTT over TCP"}
MAX_NAME = 100  # as the REST API


@dataclass(frozen=True)
class Card:
    """One connection's status card."""

    connection: Connection
    stats: StatsView
    mapped: int
    unmapped: int
    last_message_text: str
    uptime_text: str


@dataclass(frozen=True)
class TransportChoice:
    """A protocol the wizard offers, and why it cannot be chosen when it cannot."""

    transport: Transport
    label: str
    endpoint: str | None
    unavailable: str | None


def service(request: web.Request) -> BmsConnections:
    return request.app[HUB_KEY].bms


def connection_of(request: web.Request) -> Connection:
    """The connection the URL names; an HTTP 404 with a message fragment when there is none."""
    connection_id = request.match_info["connection_id"]
    try:
        return service(request).get(connection_id)
    except NotFound:
        text = escape(f"No BMS connection {connection_id!r}: it may have been deleted.")
        raise web.HTTPNotFound(
            text=f'<div class="message error" role="alert">{text}</div>', content_type="text/html"
        ) from None


async def message(request: web.Request, kind: str, text: str, status: int = 200) -> web.Response:
    return await render(request, "fragments/message.html", status=status, kind=kind, text=text)


def guide_for(request: web.Request, connection: Connection) -> tuple[Guide, Values]:
    """The settings to enter in the connection's BMS, filled with its own credentials and endpoint."""
    urls = endpoints(request)
    endpoint = urls.get(str(connection.transport)) or urls["websocket"]
    values = Values(connection.client_id, connection.username, connection.topic, f"`{endpoint}`")
    return GUIDES[connection.bms_type], values


def inline_code(text: str) -> Markup:
    """Inline Markdown's `code` spans as <code> elements, everything escaped (the guide's text)."""
    return Markup("").join(
        Markup("<code>{}</code>").format(part) if index % 2 else escape(part)
        for index, part in enumerate(text.split("`"))
    )


async def with_credentials(
    request: web.Request, template: str, connection: Connection, password: str | None, status: int = 200
) -> web.Response:
    """Render `template` with the connection's credentials and the settings its type of BMS needs."""
    guide, values = guide_for(request, connection)
    return await render(
        request,
        template,
        status=status,
        connection=connection,
        given=credentials(request, connection, password),
        guide=guide,
        values=values,
        inline_code=inline_code,
        labels=TYPE_LABELS,
    )


def transport_choices(request: web.Request) -> list[TransportChoice]:
    """WebSocket always; TCP when the hub's listener is on; TLS is named as not available (no listener)."""
    urls = endpoints(request)
    tcp_off = "not available: the hub's TCP listener is off (mqtt.tcp.enabled in its configuration)"
    return [
        TransportChoice(Transport.WEBSOCKET, TRANSPORT_LABELS[Transport.WEBSOCKET], urls["websocket"], None),
        TransportChoice(
            Transport.TCP, TRANSPORT_LABELS[Transport.TCP], urls["tcp"], None if urls["tcp"] else tcp_off
        ),
    ]


@routes.get("/bms")
async def bms_page(request: web.Request) -> web.Response:
    """Every connection's status card, or the empty state with the connect button."""
    return await page(request, "pages/bms.html", "/bms", cards=cards(request), labels=TYPE_LABELS)


@routes.get("/bms/cards")
async def cards_fragment(request: web.Request) -> web.Response:
    """The cards again, after a connection was created or deleted (htmx)."""
    return await render(request, "fragments/bms_cards.html", cards=cards(request), labels=TYPE_LABELS)


@routes.get("/bms/{connection_id}/status")
async def status_fragment(request: web.Request) -> web.Response:
    """A card's figures, polled every few seconds: connected, messages today, last message, errors."""
    return await render(request, "fragments/bms_status.html", card=card(request, connection_of(request)))


@routes.get("/bms/wizard")
async def wizard_step_one(request: web.Request) -> web.Response:
    """Step 1 of connecting a BMS: its type and a name."""
    return await _step_one(request, {"name": "", "bms_type": BmsType.ECOSTRUXURE}, None)


@routes.post("/bms/wizard")
async def wizard_step_two(request: web.Request) -> web.Response:
    """Step 2: how the BMS reaches the broker (after step 1's fields are checked)."""
    form = await request.post()
    fields = {"name": str(form.get("name", "")).strip(), "bms_type": str(form.get("bms_type", ""))}
    try:
        bms_type = _bms_type(fields["bms_type"])
        name = _name(fields["name"])
    except FormError as err:
        return await _step_one(request, fields, str(err))
    return await _step_two(request, name, bms_type, None)


@routes.post("/bms/connections")
async def create(request: web.Request) -> web.Response:
    """Create the connection and show its credentials, the only time the password is shown unasked."""
    form = await request.post()
    name_text, type_text = str(form.get("name", "")).strip(), str(form.get("bms_type", ""))
    try:
        bms_type, name = _bms_type(type_text), _name(name_text)
    except FormError as err:
        return await _step_one(request, {"name": name_text, "bms_type": type_text}, str(err))
    try:
        transport = _transport(request, str(form.get("transport", "")))
    except FormError as err:
        return await _step_two(request, name, bms_type, str(err))
    connection, password = await service(request).create(name, bms_type, transport, "", request[USER_KEY])
    response = await with_credentials(request, "fragments/bms_created.html", connection, password, status=201)
    response.headers["HX-Trigger"] = "bms-changed"  # the page redraws its cards
    return response


@routes.post("/bms/{connection_id}/enabled")
async def set_enabled(request: web.Request) -> web.Response:
    """Enable or disable (disabling drops the BMS's session and refuses it until enabled again)."""
    connection = connection_of(request)
    wanted = (await request.post()).get("enabled", "")
    if wanted not in ("true", "false"):
        return await message(request, "error", f"enabled: expected true or false, got {wanted!r}", 422)
    changed = await service(request).update(
        connection.id, ConnectionChanges(enabled=wanted == "true"), request[USER_KEY]
    )
    return await render(request, "fragments/bms_card.html", card=card(request, changed), labels=TYPE_LABELS)


@routes.delete("/bms/{connection_id}")
async def delete(request: web.Request) -> web.Response:
    """Delete the connection, its mappings and the points they created (its log stays)."""
    connection = connection_of(request)
    await service(request).delete(connection.id, request[USER_KEY])
    response = await message(request, "ok", f"{connection.name} was deleted.")
    response.headers["HX-Trigger"] = "bms-changed"
    return response


@routes.post("/bms/{connection_id}/test")
async def test(request: web.Request) -> web.Response:
    """Publish a test reading as the BMS would and say whether it arrived and where it went."""
    connection = connection_of(request)
    outcome = service(request).test(connection.id, "bms-hub-test", 1)
    if outcome is None:
        text = "The test reading did not arrive: is the connection enabled?"
        return await message(request, "error", text)
    return await message(request, "ok" if outcome.accepted else "error", test_text(outcome))


def test_text(outcome: MessageOutcome) -> str:
    """Where a test message went, in words."""
    if not outcome.accepted:
        return f"The test message reached {outcome.topic} but was rejected: {outcome.problem}"
    parts = []
    for reading in outcome.readings:
        if reading.destination is Destination.TEST and reading.point_id:
            parts.append(f"{reading.external_id} would be stored in {reading.point_id} as {reading.value}")
        else:
            parts.append(f"{reading.external_id}: {reading.problem or reading.destination}")
    return f"Arrived on {outcome.topic}. " + "; ".join(parts) + " (test readings are never stored)."


def cards(request: web.Request) -> list[Card]:
    return [card(request, connection) for connection in service(request).connections()]


def card(request: web.Request, connection: Connection) -> Card:
    bms = service(request)
    stats = bms.stats_of(connection.id).view()
    now = time.time()
    last = stats.last_message_at
    return Card(
        connection,
        stats,
        mapped=len(bms.mappings.of(connection.id)),
        unmapped=len(bms.mappings.unmapped(connection.id)),
        last_message_text="never" if last is None else f"{format_age(max(0.0, now - last))} ago",
        uptime_text="—" if stats.uptime_s is None else format_age(stats.uptime_s),
    )


async def _step_one(request: web.Request, fields: dict[str, str], error: str | None) -> web.Response:
    return await _wizard(request, "fragments/bms_wizard_type.html", error, fields=fields)


async def _step_two(request: web.Request, name: str, bms_type: BmsType, error: str | None) -> web.Response:
    choices = transport_choices(request)
    return await _wizard(
        request,
        "fragments/bms_wizard_protocol.html",
        error,
        connection_name=name,
        bms_type=bms_type,
        choices=choices,
    )


async def _wizard(request: web.Request, template: str, error: str | None, **context: object) -> web.Response:
    """A wizard step: 422 with the message when a field was wrong."""
    status = 200 if error is None else 422
    return await render(request, template, status=status, labels=TYPE_LABELS, error=error, **context)


def _name(text: str) -> str:
    if not text:
        raise FormError("name: required, e.g. Tower A EcoStruxure")
    if len(text) > MAX_NAME:
        raise FormError(f"name: expected at most {MAX_NAME} characters, got {len(text)}")
    return text


def _bms_type(text: str) -> BmsType:
    if text not in set(BmsType):
        raise FormError(f"bms_type: expected one of {', '.join(BmsType)}, got {text!r}")
    return BmsType(text)


def _transport(request: web.Request, text: str) -> Transport:
    choice = next((c for c in transport_choices(request) if c.transport == text), None)
    if choice is None:
        raise FormError(f"transport: expected one of {', '.join(Transport)}, got {text!r}")
    if choice.unavailable:
        raise FormError(f"transport: {choice.label} is {choice.unavailable}")
    return choice.transport
