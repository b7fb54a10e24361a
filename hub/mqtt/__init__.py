"""The embedded MQTT broker: amqtt fed from aiohttp's WebSocket (and an optional TCP listener)."""
