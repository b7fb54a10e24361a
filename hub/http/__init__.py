"""The hub's one HTTP port: REST API, MQTT over WebSocket at /mqtt."""
