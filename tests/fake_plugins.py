"""Fake integrations the hub loads through a real entry point (the `fake_plugins` fixture installs it).

The entry points `alpha` and `beta` name the FakePlugin objects below; `async_setup` builds a
PluginFake: the FakeIntegration of tests/fake_devices.py with devices made from its config, and a
discovery that plays exactly the steps the test queues (events, an exception to raise, or None to
end) and otherwise waits, so a test decides every moment of a discovery.

Devices poll once an hour by default, so a sample a test caused stays the latest; `fixed` makes a
point always read as one sample (a bad or uncertain one, an old timestamp), whoever reads it.
"""

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

import voluptuous as vol

from hub.integration import (
    DeviceError,
    DiscoveredDevice,
    DiscoveryEvent,
    DiscoveryRequest,
    IntegrationContext,
)
from hub.points import Device, Limits, Point, PointKind, Sample
from tests.fake_devices import FakeIntegration, analog_points

DOMAINS = ("alpha", "beta")
Step = DiscoveryEvent | Exception | None


class PluginFake(FakeIntegration):
    """FakeIntegration with scripted discovery and fixed samples; devices `{domain}-{n}` (see `points`)."""

    def __init__(self, ctx: IntegrationContext, config: Mapping[str, Any]) -> None:
        super().__init__(ctx.points, ctx.domain)
        self._config = config
        self.steps: asyncio.Queue[Step] = asyncio.Queue()
        self.requests: list[DiscoveryRequest] = []
        self.discovery_cancelled = asyncio.Event()
        self.fixed: dict[str, Sample] = {}  # point id -> the sample every read returns

    async def start(self) -> None:
        await super().start()
        for n in range(1, self._config["devices"] + 1):
            device_id = f"{self.domain}-{n}"
            device = Device(
                device_id,
                f"{self.domain} device {n}",
                self.domain,
                poll_interval=self._config["poll_interval"],
            )
            self.add_device(device, points(device_id))
            if device_id in self._config["unreachable"]:  # fails from its first poll on
                self.devices[device_id].fail(1_000_000, DeviceError(f"no answer from 10.0.0.{n}"))

    async def read(self, points: Sequence[Point]) -> Mapping[str, Sample]:
        samples = dict(await super().read(points))
        samples.update((p.id, self.fixed[p.id]) for p in points if p.id in self.fixed)
        return samples

    def play(self, *steps: Step) -> None:
        """Queue what discover() yields next: an event, an exception to raise, or None to end."""
        for step in steps:
            self.steps.put_nowait(step)

    def new_device(self, name: str) -> DiscoveredDevice:
        """A device discovery can report (not registered in the hub)."""
        device_id = f"{self.domain}-{name}"
        device = Device(device_id, f"found {name}", self.domain, address=f"10.0.0.{len(name)}")
        return DiscoveredDevice(device, tuple(points(device_id)))

    async def discover(self, request: DiscoveryRequest) -> AsyncIterator[DiscoveryEvent]:
        self.requests.append(request)
        try:
            while (step := await self.steps.get()) is not None:
                if isinstance(step, Exception):
                    raise step
                yield step
        except asyncio.CancelledError:
            self.discovery_cancelled.set()
            raise


def points(device_id: str) -> list[Point]:
    """Two read-only analog points, a writable setpoint (10..30 °C) and a writable binary enable."""
    return [
        *analog_points(device_id, 2, units="°C"),
        Point(
            f"{device_id}.setpoint",
            device_id,
            "setpoint",
            PointKind.ANALOG,
            units="°C",
            writable=True,
            limits=Limits(minimum=10, maximum=30),
        ),
        Point(f"{device_id}.enable", device_id, "enable", PointKind.BINARY, writable=True),
    ]


class FakePlugin:
    """What an entry point loads: the module-level names of an integration, for one domain."""

    CONFIG_SCHEMA = vol.Schema(
        {
            vol.Optional("devices", default=1): int,
            vol.Optional("poll_interval", default=3600.0): vol.Coerce(float),
            vol.Optional("unreachable", default=[]): [str],
        }
    )

    def __init__(self, domain: str) -> None:
        self.DOMAIN = domain

    async def async_setup(self, ctx: IntegrationContext, config: Mapping[str, Any]) -> PluginFake:
        return PluginFake(ctx, config)


alpha = FakePlugin("alpha")
beta = FakePlugin("beta")
