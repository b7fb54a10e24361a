"""External BMS connections: systems such as EcoStruxure or WebCTRL publishing readings to the hub."""
