"""The JSON shapes of the /api/bms answers (docs/rest.md): connections, credentials, mappings, log, test."""

from typing import Any

from aiohttp import web

from hub.bms.activity import ActivityEntry
from hub.bms.ingest import MessageOutcome
from hub.bms.mapping import point_name
from hub.bms.model import Connection, Mapping, Unmapped
from hub.bms.stats import StatsView
from hub.codec import iso, json_value
from hub.http.keys import HUB_KEY


def endpoints(request: web.Request) -> dict[str, str | None]:
    """Where a BMS connects: the WebSocket on this HTTP port, and the TCP listener when it is on."""
    hub = request.app[HUB_KEY]
    scheme = "wss" if request.secure else "ws"
    tcp = hub.broker.tcp_port if hub.config.mqtt.tcp.enabled else None
    host = request.url.host or "HUB"
    return {
        "websocket": f"{scheme}://{request.host}/mqtt",
        "tcp": f"mqtt://{host}:{tcp}" if tcp else None,
    }


def credentials(request: web.Request, connection: Connection, password: str | None) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "client_id": connection.client_id,
        "username": connection.username,
        "topic": connection.topic,
        "endpoints": endpoints(request),
        "payload_template": {
            "point_id": "<point id>",
            "value": 0,
            "unit": "<unit>",
            "timestamp": "<ISO 8601>",
        },
    }
    if password is not None:
        answer["password"] = password
    return answer


def stats_json(stats: StatsView) -> dict[str, Any]:
    return {
        "messages_today": stats.messages_today,
        "readings_today": stats.readings_today,
        "last_message_at": iso(stats.last_message_at),
        "connected": stats.connected,
        "connected_since": iso(stats.connected_since),
        "uptime_s": stats.uptime_s,
        "errors_24h": stats.errors_24h,
        "rejected_total": stats.rejected_total,
    }


def connection_json(request: web.Request, connection: Connection) -> dict[str, Any]:
    service = request.app[HUB_KEY].bms
    return {
        "id": connection.id,
        "name": connection.name,
        "bms_type": connection.bms_type,
        "transport": connection.transport,
        "description": connection.description,
        "enabled": connection.enabled,
        "created_at": iso(connection.created_at),
        "updated_at": iso(connection.updated_at),
        "device_id": connection.device_id,
        "credentials": credentials(request, connection, None),
        "stats": stats_json(service.stats_of(connection.id).view()),
        "mappings": len(service.mappings.of(connection.id)),
        "unmapped": len(service.mappings.unmapped(connection.id)),
    }


def mapping_json(mapping: Mapping) -> dict[str, Any]:
    return {
        "id": mapping.id,
        "external_id": mapping.external_id,
        "point_id": mapping.point_id,
        "source_unit": mapping.source_unit,
        "units": mapping.point_units,
        "kind": mapping.point_kind,
        "created_point": mapping.created_point,
    }


def unmapped_json(entry: Unmapped) -> dict[str, Any]:
    return {
        "external_id": entry.external_id,
        "first_seen": iso(entry.first_seen),
        "last_seen": iso(entry.last_seen),
        "count": entry.count,
        "last_value": json_value(entry.last_value),
        "last_unit": entry.last_unit,
        "suggested_point": point_name(entry.external_id),
    }


def entry_json(entry: ActivityEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "timestamp": iso(entry.timestamp),
        "type": entry.type,
        "severity": entry.severity,
        "message": entry.message,
        "detail": entry.detail,
    }


def outcome_json(outcome: MessageOutcome | None) -> dict[str, Any]:
    if outcome is None:
        return {
            "arrived": False,
            "problem": "the ingest did not see the message (is the connection enabled?)",
        }
    return {
        "arrived": True,
        "topic": outcome.topic,
        "accepted": outcome.accepted,
        "problem": outcome.problem,
        "readings": [
            {
                "external_id": r.external_id,
                "destination": r.destination,
                "point_id": r.point_id,
                "value": json_value(r.value),
                "bucket": iso(r.bucket),
                "problem": r.problem,
            }
            for r in outcome.readings
        ],
    }
