"""The MQTT device contract (docs/mqtt.md): command requests, telemetry and alert actions."""
