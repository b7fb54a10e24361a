"""BMS Hub: a building-automation supervisor in one process, on one port."""

__version__ = "0.1.0"
