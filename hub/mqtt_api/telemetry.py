"""Telemetry on the MQTT contract: `bulk` batches (QoS 0) and retained per-point topics (QoS 1).

Every accepted sample that changed the point's value or quality (the registry already applied the
point's deadband) is published at once on `{controller_id}/{point_id}`, retained. Every sample is
kept for the next `bulk` batch, which carries each point's latest sample once. A batch of more
than `max_batch_size` points is split over several messages sharing one `batch_id`. When an
integration's points go away and have not come back by the next batch (a restart re-registers
them), their retained topics are cleared with an empty retained message, so no stale value
lingers. The topics are kept in a file in the data folder, so points deleted while the hub was
down are cleared upstream too (at the first batch after the start).
"""

import asyncio
import json
import logging
import os
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

from hub.codec import iso
from hub.config import MqttApiConfig
from hub.health import ComponentHealth, HealthStatus
from hub.identity import Identity
from hub.mqtt.broker import EmbeddedBroker
from hub.mqtt_api.requests import encode
from hub.points import DomainRemoved, PointRegistry, PointUpdate, Sample

_LOGGER = logging.getLogger(__name__)

BULK = "bulk"
TOPICS_FILE = "point_topics.json"
_NOT_IN_TOPICS = str.maketrans({"/": "_", "+": "_", "#": "_", "\x00": "_"})


class Telemetry:
    """Publishes point samples: per-point on change, and in bulk every `batch_interval`."""

    def __init__(
        self,
        broker: EmbeddedBroker,
        points: PointRegistry,
        identity: Identity,
        config: MqttApiConfig,
        data_dir: Path,
    ) -> None:
        self._broker = broker
        self._points = points
        self._prefix = identity.topic_prefix
        self._config = config
        self._pending: dict[str, tuple[str, Sample]] = {}  # point id -> (device id, latest sample)
        self._topics: dict[str, tuple[str, str]] = {}  # point id -> (device id, retained topic)
        self._gone: dict[str, tuple[str, str]] = {}  # like _topics, for points whose domain was removed
        self._file = data_dir / TOPICS_FILE
        self._saved: dict[str, tuple[str, str]] = {}  # what the file holds
        self._unsubscribe: list[Callable[[], None]] = []
        self.counters = {"point_messages": 0, "bulk_messages": 0, "bulk_points": 0, "cleared_topics": 0}
        self.last_batch_at: float | None = None

    def start(self) -> None:
        """Follow samples; topics of the last run are checked at the first batch."""
        self._saved = self._load()
        self._gone.update(self._saved)
        bus = self._points.bus
        self._unsubscribe = [
            bus.subscribe(PointUpdate, self._on_update),
            bus.subscribe(DomainRemoved, self._on_removed),
        ]

    def stop(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe = []

    def point_topic(self, device_id: str, point_id: str) -> str:
        """Where a point's latest sample is retained."""
        controller = self._config.controller_id or device_id
        return f"{self._prefix}{controller.translate(_NOT_IN_TOPICS)}/{point_id.translate(_NOT_IN_TOPICS)}"

    def _on_update(self, event: PointUpdate) -> None:
        point, sample, previous = event.point, event.sample, event.previous
        self._pending[point.id] = (point.device_id, sample)
        known = self._topics.get(point.id)
        if known is not None and previous is not None and _unchanged(previous, sample):
            return  # polled again with the same value: the retained topic already says it
        topic = known[1] if known is not None else self.point_topic(point.device_id, point.id)
        self._topics[point.id] = (point.device_id, topic)
        self._broker.publish(topic, encode(_sample_json(sample)), qos=1, retain=True)
        self.counters["point_messages"] += 1

    def _on_removed(self, event: DomainRemoved) -> None:
        gone = set(event.device_ids)
        for point_id in [p for p, (device_id, _) in self._topics.items() if device_id in gone]:
            self._gone[point_id] = self._topics.pop(point_id)
            self._pending.pop(point_id, None)

    def _clear_gone(self) -> None:
        """Clear the retained topics of removed points that were not registered again."""
        for point_id, (device_id, topic) in self._gone.items():
            try:
                self._points.point(point_id)
            except KeyError:
                self._broker.publish(topic, b"", qos=1, retain=True)
                self.counters["cleared_topics"] += 1
            else:
                self._topics.setdefault(point_id, (device_id, topic))
        self._gone.clear()

    def flush(self) -> int:
        """Clear topics of points gone, publish the pending samples as one batch; returns the messages."""
        return sum(1 for _ in self._batch())

    def _batch(self) -> Iterator[None]:
        """Publish the batch part by part, yielding after each (`run` lets the loop breathe in between)."""
        self._clear_gone()
        if self._topics != self._saved:
            self._save()
        if not self._pending:
            return
        pending, self._pending = list(self._pending.items()), {}
        size = self._config.max_batch_size
        parts = (len(pending) + size - 1) // size
        batch_id, now = uuid.uuid4().hex, iso(time.time())
        for index, start in enumerate(range(0, len(pending), size), 1):
            rows = [
                {"point_id": point_id, "device_id": device_id, **_sample_json(sample)}
                for point_id, (device_id, sample) in pending[start : start + size]
            ]
            body = {"timestamp": now, "batch_id": batch_id, "part": index, "parts": parts, "points": rows}
            self._broker.publish(self._prefix + BULK, encode(body), qos=0)
            self.counters["bulk_messages"] += 1
            self.counters["bulk_points"] += len(rows)
            yield
        self.last_batch_at = time.time()

    def _load(self) -> dict[str, tuple[str, str]]:
        try:
            data = json.loads(self._file.read_text())
            return {point_id: (device_id, topic) for point_id, (device_id, topic) in data.items()}
        except FileNotFoundError:
            return {}
        except (OSError, ValueError, TypeError, AttributeError) as err:
            _LOGGER.warning(
                "%s is unreadable (%s): topics of points deleted meanwhile stay retained", self._file, err
            )
            return {}

    def _save(self) -> None:
        """Write the retained point topics via a temporary file and a rename."""
        tmp = self._file.with_suffix(".tmp")
        try:
            tmp.write_text(json.dumps(self._topics, separators=(",", ":")))
            os.replace(tmp, self._file)
        except OSError as err:
            _LOGGER.warning("cannot save %s: %s", self._file, err)
            return
        self._saved = dict(self._topics)

    async def run(self) -> None:
        """Flush every `batch_interval` seconds."""
        while True:
            await asyncio.sleep(self._config.batch_interval)
            batch = self._batch()
            try:
                for _ in batch:  # thousands of points: a part per loop turn
                    await asyncio.sleep(0)
            finally:
                for _ in batch:  # stopped halfway: the rest of the batch goes at once
                    pass

    def health(self) -> ComponentHealth:
        detail: dict[str, object] = {
            **self.counters,
            "pending_points": len(self._pending),
            "retained_points": len(self._topics),
            "last_batch_at": iso(self.last_batch_at),
        }
        return ComponentHealth(HealthStatus.OK, detail)


def _sample_json(sample: Sample) -> dict[str, object]:
    return {"value": sample.value, "quality": str(sample.quality), "timestamp": iso(sample.timestamp)}


def _unchanged(previous: Sample, sample: Sample) -> bool:
    """Same value, quality and reason: a poll that tells subscribers nothing new."""
    return (previous.value, previous.quality, previous.reason) == (
        sample.value,
        sample.quality,
        sample.reason,
    )
