"""Users and roles, passwords, sessions, API tokens, lockout, MQTT credentials, secrets at rest, audit."""
