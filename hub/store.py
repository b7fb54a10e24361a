"""The time-series store: bus events are queued in O(1); one supervised writer task batches them into SQLite.

The writer commits every `commit_interval` seconds, or sooner once `batch_size` samples wait: big
batches and few commits are what SQLite (and an SD card) do fast. Each commit runs one small
retention step, merges the samples into each point's chunks (hub/store_samples.py) and updates the
15- and 30-minute rollups. When the disk is full or read-only the commit is rolled back and the
samples stay queued (up to `queue_limit`; newer ones are then dropped and counted), health turns
degraded, and the next interval tries again.
Readers use their own connection, so in WAL mode they never block the writer.
"""

import asyncio
import contextlib
import logging
import sqlite3
import time
from collections import ChainMap, defaultdict, deque
from collections.abc import AsyncIterator, Callable
from itertools import islice
from pathlib import Path

import aiosqlite

from hub.bus import Bus
from hub.codec import iso
from hub.commands import AuditEvent
from hub.config import StoreConfig
from hub.health import ComponentHealth, HealthStatus
from hub.points import (
    Device,
    DeviceAdded,
    DeviceStatusChanged,
    Point,
    PointAdded,
    PointUpdate,
    Value,
)
from hub.store_buckets import bucket_start
from hub.store_chunks import Sample
from hub.store_db import connect, corrupt_marker, is_corrupt, on_read_only_filesystem, open_database
from hub.store_retention import Purger, RetentionPolicy
from hub.store_samples import QUALITY_CODES, OpenChunks, write
from hub.store_tables import ConfigVersions, EventRow, SqliteDiscoveryStore, audit_row, device_status_row
from hub.supervisor import Supervisor

_LOGGER = logging.getLogger(__name__)

_EVENT_LIMIT = 10_000  # queued events while the disk cannot take them
_INT64 = 2**63

QueuedSample = tuple[str, int, Value, int]  # point id, ts ms, value, quality code

_NEW_POINTS = "INSERT OR IGNORE INTO points VALUES (?, ?, '', ?, '', '', ?)"
_UPSERT_POINTS = """
INSERT INTO points (key, point_id, device_id, name, kind, units, updated_ms) VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (point_id) DO UPDATE SET device_id = excluded.device_id, name = excluded.name,
    kind = excluded.kind, units = excluded.units, updated_ms = excluded.updated_ms
"""
_UPSERT_DEVICES = "INSERT OR REPLACE INTO devices VALUES (?, ?, ?, ?, ?, ?, ?)"
_INSERT_EVENTS = "INSERT INTO events (ts, kind, subject, data) VALUES (?, ?, ?, ?)"


class Store:
    """The hub's SQLite database: samples, rollups, metadata, events, config versions, discovery results."""

    def __init__(
        self,
        config: StoreConfig,
        path: Path,
        bus: Bus,
        supervisor: Supervisor,
        *,
        clock: Callable[[], float] = time.time,
        legacy_discovery: Path | None = None,
    ) -> None:
        self.config = config
        self.path = path
        self._bus = bus
        self._supervisor = supervisor
        self._clock = clock
        self.purger = Purger(
            RetentionPolicy(
                config.raw_retention_hours,
                config.raw_retention_overrides,
                config.rollup_retention_days,
                config.event_retention_days,
            )
        )
        self.discovery = SqliteDiscoveryStore(self, legacy_discovery)
        self.config_versions = ConfigVersions(self)
        self._samples: deque[QueuedSample] = deque()
        self._events: deque[EventRow] = deque()
        self._points: dict[str, Point] = {}  # metadata not yet written
        self._devices: dict[str, Device] = {}
        self._keys: dict[str, int] = {}  # point id -> integer key, as committed
        self._ids: dict[int, str] = {}
        self._next_key = 1
        self._open = OpenChunks()  # each point's newest chunk, as committed
        self._max_batch = max(config.batch_size, 1) * 4
        self._db: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._writing = False
        self._stopping = False
        self._unsubscribe: list[Callable[[], None]] = []
        self.dropped = 0
        self.dropped_events = 0
        self.commits = 0
        self.samples_written = 0
        self.last_commit: float | None = None
        self.commit_seconds = 0.0  # how long the last commit took (its transaction, start to COMMIT)
        self.last_error: str | None = None

    # -- life cycle -----------------------------------------------------------------------

    async def start(self) -> None:
        """Open (migrating or replacing a damaged file), subscribe to the bus, start the writer."""
        try:
            self._db = await open_database(self.path)
            self._reader = await connect(self.path, read_only=True)
        except sqlite3.Error as err:
            if self._db is not None:
                await self._db.close()
                self._db = None
            raise RuntimeError(f"cannot open the database {self.path}: {type(err).__name__}: {err}") from err
        async with self._db.execute("SELECT key, point_id FROM points") as cursor:
            for key, point_id in await cursor.fetchall():
                self._keys[point_id] = key
                self._ids[key] = point_id
        self._next_key = max(self._ids, default=0) + 1
        bus = self._bus
        self._unsubscribe = [
            bus.subscribe(PointUpdate, self._on_update),
            bus.subscribe(PointAdded, lambda event: self._points.__setitem__(event.point.id, event.point)),
            bus.subscribe(
                DeviceAdded, lambda event: self._devices.__setitem__(event.device.id, event.device)
            ),
            bus.subscribe(AuditEvent, lambda event: self._add_event(audit_row(event))),
            bus.subscribe(
                DeviceStatusChanged, lambda event: self._add_event(device_status_row(event, self._clock()))
            ),
        ]
        self._stopping = False
        self._supervisor.spawn("store", self._run)

    async def stop(self) -> None:
        """Stop taking events, write what is queued (a last try if the disk is failing), close."""
        if self._db is None:
            return
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe = []
        self._stopping = True
        self._wake.set()
        if self._writing:
            await self._idle.wait()
        else:
            await self._drain()
        await self._supervisor.stop_task("store")
        if self.queue_depth:
            _LOGGER.error(
                "stopping with %d samples that could not be written: they are lost", self.queue_depth
            )
        for db in (self._reader, self._db):
            if db is not None:
                await db.close()
        self._db = self._reader = None

    # -- intake (bus handlers: O(1), never I/O) --------------------------------------------

    def _on_update(self, update: PointUpdate) -> None:
        sample = update.sample
        self.add(update.point.id, int(sample.timestamp * 1000), sample.value, QUALITY_CODES[sample.quality])

    def add(self, point_id: str, ts_ms: int, value: Value, quality: int = 0) -> None:
        """Queue one sample (epoch ms, quality code); when the queue is full it is dropped and counted."""
        if len(self._samples) >= self.config.queue_limit:
            self.dropped += 1
            return
        if value.__class__ is bool:
            value = int(value)  # type: ignore[arg-type]
        elif value.__class__ is int and not -_INT64 <= value < _INT64:  # type: ignore[operator]
            value = float(value)  # stored integers are 64-bit
        self._samples.append((point_id, ts_ms, value, quality))
        if len(self._samples) == self.config.batch_size:
            self._wake.set()

    def add_bucketed(self, point_id: str, ts_ms: int, value: Value, minutes: int = 30) -> None:
        """Queue a reading at the start of its UTC bucket: a later one for the same bucket overwrites it."""
        self.add(point_id, bucket_start(ts_ms, minutes), value)

    def _add_event(self, row: EventRow) -> None:
        if len(self._events) >= _EVENT_LIMIT:
            self.dropped_events += 1
            return
        self._events.append(row)

    @property
    def queue_depth(self) -> int:
        return len(self._samples)

    # -- the writer -----------------------------------------------------------------------

    async def _run(self) -> None:
        """Commit on every interval, or sooner when a batch is full; a last flush when stopping."""
        self._writing = True
        self._idle.clear()
        try:
            while not self._stopping:
                if not self._wake.is_set():
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(self.config.commit_interval):
                            await self._wake.wait()
                self._wake.clear()
                if await self.flush() and self.queue_depth >= self.config.batch_size:
                    self._wake.set()  # a backlog: go again at once (after a failure, wait an interval)
            await self._drain()
        finally:
            self._writing = False
            self._idle.set()

    async def _drain(self) -> None:
        """Flush until the queue is empty or a write fails."""
        while await self.flush() and self.queue_depth:
            pass

    async def flush(self) -> bool:
        """Write up to a few batches of what is queued in one transaction; False (queue kept) if it failed."""
        db = self._require()
        async with self._lock:
            count = min(len(self._samples), self._max_batch)
            batch = list(islice(self._samples, count))
            events = list(self._events)
            points, devices = dict(self._points), dict(self._devices)
            now_ms = int(self._clock() * 1000)
            began = time.perf_counter()
            try:
                new_keys, batches = await asyncio.to_thread(self._keyed, batch, points)
                await db.execute("BEGIN IMMEDIATE")
                await self._write_metadata(db, points, devices, new_keys, now_ms)
                ids = ChainMap({key: point_id for point_id, key in new_keys.items()}, self._ids)
                await self.purger.step(db, now_ms, ids)  # first, while few pages are dirty: shorter steps
                self._open.forget(self.purger.visited)  # their newest chunk may be gone
                plan = await write(db, batches, self._open)
                await db.executemany(_INSERT_EVENTS, events)
                await db.execute("COMMIT")
                self._open.committed(plan.newest)
            except BaseException as err:
                self._open.forget()  # whatever this transaction held may not be in the file
                with contextlib.suppress(sqlite3.Error):
                    await db.execute("ROLLBACK")
                if not isinstance(err, sqlite3.Error):
                    raise  # a bug or a cancellation: the transaction is not left open
                self._failed(err)
                return False
        self.commit_seconds = time.perf_counter() - began
        self._committed(count, len(events), points, devices, new_keys)
        return True

    def _keyed(
        self, batch: list[QueuedSample], points: dict[str, Point]
    ) -> tuple[dict[str, int], dict[int, list[Sample]]]:
        """Keys for points seen for the first time, and the batch's samples by point key, in arrival order.

        Runs in a worker thread: it is O(batch), which at thousands of points would hold the event loop.
        """
        keys = self._keys
        new_keys: dict[str, int] = {}
        for point_id in [*points, *(sample[0] for sample in batch)]:
            if point_id not in keys and point_id not in new_keys:
                new_keys[point_id] = self._next_key + len(new_keys)
        if new_keys:
            keys = keys | new_keys
        batches: dict[int, list[Sample]] = defaultdict(list)
        for point_id, ts, value, quality in batch:
            batches[keys[point_id]].append((ts, value, quality))
        return new_keys, batches

    async def _write_metadata(
        self,
        db: aiosqlite.Connection,
        points: dict[str, Point],
        devices: dict[str, Device],
        new_keys: dict[str, int],
        now_ms: int,
    ) -> None:
        keys = ChainMap(new_keys, self._keys)
        await db.executemany(
            _NEW_POINTS, [(key, point_id, point_id, now_ms) for point_id, key in new_keys.items()]
        )
        await db.executemany(
            _UPSERT_POINTS,
            [(keys[p.id], p.id, p.device_id, p.name, str(p.kind), p.units, now_ms) for p in points.values()],
        )
        await db.executemany(
            _UPSERT_DEVICES,
            [(d.id, d.name, d.domain, d.address, d.vendor, d.model, now_ms) for d in devices.values()],
        )

    def _committed(
        self,
        count: int,
        events: int,
        points: dict[str, Point],
        devices: dict[str, Device],
        new_keys: dict[str, int],
    ) -> None:
        for _ in range(count):
            self._samples.popleft()
        for _ in range(events):
            self._events.popleft()
        for point_id, point in points.items():
            if self._points.get(point_id) is point:  # unless it changed while the batch was written
                del self._points[point_id]
        for device_id, device in devices.items():
            if self._devices.get(device_id) is device:
                del self._devices[device_id]
        self._keys.update(new_keys)
        self._ids.update((key, point_id) for point_id, key in new_keys.items())
        self._next_key += len(new_keys)
        self.commits += 1
        self.samples_written += count
        self.last_commit = self._clock()
        if self.last_error is not None:
            _LOGGER.warning(
                "the database takes writes again; %d samples were dropped meanwhile", self.dropped
            )
        self.last_error = None

    def _failed(self, err: sqlite3.Error) -> None:
        message = f"{type(err).__name__}: {err}"
        if on_read_only_filesystem(self.path):
            message += (
                f"; {self.path.parent} is on a read-only file system (a failing disk or SD card?): "
                "stop the hub, repair and remount it, start the hub"
            )
        if message != self.last_error:
            _LOGGER.error(
                "cannot write to %s (%s); keeping up to %d samples queued and retrying every %gs",
                self.path, message, self.config.queue_limit, self.config.commit_interval,
            )  # fmt: skip
        self.last_error = message
        if is_corrupt(err):
            with contextlib.suppress(OSError):
                corrupt_marker(self.path).write_text(message, encoding="utf-8")

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """The writer connection inside BEGIN IMMEDIATE ... COMMIT (ROLLBACK on error), between batches."""
        db = self._require()
        async with self._lock:
            await db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    await db.execute("ROLLBACK")
                raise
            await db.execute("COMMIT")

    @property
    def reader(self) -> aiosqlite.Connection:
        """A query-only connection: reads see committed data and never block the writer."""
        if self._reader is None:
            raise RuntimeError("the store has not started")
        return self._reader

    def _require(self) -> aiosqlite.Connection:
        if self._db is None:
            raise RuntimeError("the store has not started")
        return self._db

    # -- health ---------------------------------------------------------------------------

    def database_bytes(self) -> int:
        """Size of the database file and its write-ahead log."""
        total = 0
        for suffix in ("", "-wal"):
            with contextlib.suppress(OSError):
                total += self.path.with_name(self.path.name + suffix).stat().st_size
        return total

    def health(self) -> ComponentHealth:
        """Degraded while writes fail (samples are then held in memory, up to the queue limit)."""
        detail = {
            "queue": self.queue_depth,
            "queue_limit": self.config.queue_limit,
            "dropped": self.dropped,
            "dropped_events": self.dropped_events,
            "samples_written": self.samples_written,
            "last_commit": iso(self.last_commit),
            "commit_ms": round(self.commit_seconds * 1000, 3),
            "db_bytes": self.database_bytes(),
            "rows_purged": self.purger.rows_purged,
            "events_purged": self.purger.events_purged,
            "last_error": self.last_error,
        }
        status = HealthStatus.DEGRADED if self.last_error or self._db is None else HealthStatus.OK
        return ComponentHealth(status, detail)
