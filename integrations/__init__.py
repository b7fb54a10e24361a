"""Built-in integrations; each registers through the `bms_hub.integrations` entry point like any other."""
