"""Generated devices for load tests: many analog points that wander smoothly and cost almost nothing to read.

Each point is a slow sine wave around its own base value plus noise from a table made once from the
seed, so a value is a pure function of (seed, point, simulated time): no per-step work, no state.
"""

import math
import random
from dataclasses import dataclass

from hub.integration import DiscoveredDevice
from hub.points import Value

from .equipment import PointTemplate, make_device, make_point

_NOISE_TABLE = 1021  # prime, so point offsets do not line up
_TEMPLATE = PointTemplate(units="°C", cov_increment=0.1)


@dataclass(frozen=True)
class ScaleOutSpec:
    """How many generated devices (`sim-001`...) to add, each with `points_per_device` analog points."""

    count: int
    points_per_device: int = 10


def generated_device_ids(spec: ScaleOutSpec) -> list[str]:
    """The ids the generated devices get, e.g. sim-001 ... sim-100."""
    width = max(3, len(str(spec.count)))
    return [f"sim-{number:0{width}d}" for number in range(1, spec.count + 1)]


class ScaleOut:
    """The generated devices and the value of each of their points at `time`."""

    def __init__(self, spec: ScaleOutSpec, seed: int, poll_interval: float) -> None:
        rng = random.Random(f"scale-out:{seed}")
        width = max(3, len(str(spec.points_per_device)))
        devices = []
        self._params: dict[str, tuple[float, float, float, float, int]] = {}
        for device_id in generated_device_ids(spec):
            points = tuple(
                make_point(device_id, f"p{number:0{width}d}", _TEMPLATE)
                for number in range(1, spec.points_per_device + 1)
            )
            for point in points:
                period = rng.uniform(600.0, 7200.0)
                self._params[point.id] = (
                    rng.uniform(15.0, 25.0),  # base
                    rng.uniform(0.5, 3.0),  # amplitude
                    2 * math.pi / period,
                    rng.uniform(0.0, 2 * math.pi),  # phase
                    rng.randrange(_NOISE_TABLE),  # where in the noise table this point starts
                )
            devices.append(
                DiscoveredDevice(make_device(device_id, device_id, "Generated device", poll_interval), points)
            )
        self.devices = tuple(devices)
        self._noise = [rng.gauss(0.0, 0.05) for _ in range(_NOISE_TABLE)]
        self.time = 0  # simulated seconds; the simulation moves it

    def value(self, point_id: str) -> Value:
        """The point's value at `time`."""
        base, amplitude, omega, phase, offset = self._params[point_id]
        time = self.time
        return round(
            base + amplitude * math.sin(omega * time + phase) + self._noise[(time + offset) % _NOISE_TABLE], 2
        )
