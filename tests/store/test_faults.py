"""Faults on real files: kill -9 during ingest, a disk that fills up then frees space, a failing SD card."""

import asyncio
import contextlib
import dataclasses
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.health import HealthStatus
from tests.conftest import StartHub, make_config
from tests.http.helpers import call
from tests.store.conftest import T0, OpenStore, rows, sample_rows

MS = 1000

# The child ingests one point far faster than the writer can commit (500 samples a millisecond,
# one ms apart in time) and prints how many samples are committed after every commit, so the
# parent knows what must survive.
CHILD = """
import asyncio, sys, time
from pathlib import Path
from hub.bus import Bus
from hub.config import StoreConfig
from hub.store import Store
from hub.supervisor import Supervisor

async def main():
    store = Store(StoreConfig(commit_interval=0.05, batch_size=5000), Path(sys.argv[1]), Bus(), Supervisor())
    await store.start()
    base, sent, seen = int(sys.argv[2]), 0, 0
    while True:
        for _ in range(500):
            store.add("p", base + sent, float(sent))
            sent += 1
        await asyncio.sleep(0.001)  # a producer that never sleeps would starve the writer's thread hand-offs
        if store.commits != seen:
            seen = store.commits
            print(store.samples_written, flush=True)

asyncio.run(main())
"""


async def test_kill_9_during_ingest__intact_and_only_the_open_batch_lost(tmp_path):
    path = tmp_path / "hub.db"
    base = int(time.time() * MS)  # recent: retention keeps it
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CHILD, str(path), str(base), stdout=asyncio.subprocess.PIPE
    )
    assert child.stdout is not None
    committed = 0
    try:
        async with asyncio.timeout(30):
            for _ in range(5):  # five commits while ingest goes on
                committed = int(await child.stdout.readline())
    finally:
        child.send_signal(signal.SIGKILL)
        await child.wait()
    assert child.returncode == -signal.SIGKILL

    assert rows(path, "PRAGMA integrity_check") == [("ok",)]
    ((count, first, last),) = sample_rows(path, "SELECT count(*), min(ts), max(ts) FROM samples")
    assert count >= committed > 0, "every committed sample survived"
    assert (first, last) == (base, base + count - 1), "what survived is a prefix, with no holes"


def require_root(what: str) -> None:
    if os.geteuid() != 0:
        pytest.skip(f"{what} needs root (CI runs as root)")


@contextlib.contextmanager
def mounted(mount: Path, *args: str) -> Iterator[Path]:
    """`mount ARGS MOUNT` for the test (skipped when that cannot be mounted here), unmounted after."""
    mount.mkdir()
    done = subprocess.run(["mount", *args, str(mount)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount {' '.join(args)} here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MiB tmpfs mounted for the test."""
    require_root("mounting a size-limited tmpfs")
    with mounted(tmp_path / "disk", "-t", "tmpfs", "-o", "size=2m", "tmpfs") as mount:
        yield mount


def fill(folder: Path) -> Path:
    """Write a file until the filesystem is full; returns it (delete it to free the space)."""
    ballast = folder / "ballast"
    with ballast.open("wb", buffering=0) as file:
        try:
            while True:
                file.write(b"\0" * 4096)
        except OSError:
            pass
    return ballast


async def test_disk_full__degraded_bounded_then_recovers(tiny_disk: Path, open_store: OpenStore):
    store = await open_store(tiny_disk / "hub.db", queue_limit=25_000)
    store.add("p", int(T0 * MS), 0.0)
    assert await store.flush()
    ballast = fill(tiny_disk)

    for i in range(1, 30_001):
        store.add("p", int(T0 * MS) + i, float(i))
    assert not await store.flush()

    health = store.health()
    assert health.status == HealthStatus.DEGRADED
    assert "full" in health.detail["last_error"]
    assert (store.queue_depth, store.dropped) == (25_000, 5_000), "held in memory up to the limit"
    assert not await store.flush(), "still full"

    ballast.unlink()
    assert await store.flush()
    assert store.health().status == HealthStatus.OK
    assert store.queue_depth == 0
    assert sample_rows(tiny_disk / "hub.db", "SELECT count(*), max(ts) FROM samples") == [
        (25_001, int(T0 * MS) + 25_000)
    ]
    assert rows(tiny_disk / "hub.db", "PRAGMA integrity_check") == [("ok",)]
    await store.stop()


@dataclasses.dataclass(frozen=True)
class Card:
    """An ext4 file system on a loop device, mounted as a hub's SD card is (errors=remount-ro)."""

    mount: Path
    device: Path

    def fail(self) -> None:
        """Make ext4 hit an error, as a write the card refuses does: it aborts its journal, goes read-only."""
        trigger = Path("/sys/fs/ext4", self.device.name, "trigger_fs_error")
        if not trigger.exists():
            pytest.skip(f"this kernel has no {trigger} to make ext4 fail")
        trigger.write_text("1\n")


@pytest.fixture
def sd_card(tmp_path: Path) -> Iterator[Card]:
    """A 16 MiB ext4 image on a loop device, mounted for the test; detached after, even on failure."""
    require_root("a loop device")
    missing = [tool for tool in ("losetup", "mkfs.ext4") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"{' and '.join(missing)} not installed")
    image = tmp_path / "card.img"
    with image.open("wb") as file:
        file.truncate(16 * 2**20)
    subprocess.run(["mkfs.ext4", "-q", "-F", str(image)], check=True, capture_output=True)
    done = subprocess.run(["losetup", "-f", "--show", str(image)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"no loop device here: {done.stderr.strip()}")
    device = Path(done.stdout.strip())
    try:
        with mounted(tmp_path / "card", "-o", "errors=remount-ro", str(device)) as mount:
            yield Card(mount, device)
    finally:
        subprocess.run(["losetup", "-d", str(device)], check=True)


async def test_card_fails_read_only__degraded_bounded_reported_keeps_serving(
    sd_card: Card, start_hub: StartHub, tmp_path: Path
):
    config = make_config(tmp_path)
    store_config = dataclasses.replace(config.store, queue_limit=25_000, commit_interval=3600)
    running = await start_hub(
        dataclasses.replace(config, data_dir=sd_card.mount / "data", store=store_config)
    )
    store = running.hub.store
    base = int(time.time() * MS) - 60 * MS  # recent: retention keeps it
    store.add("p", base, 0.0)
    assert await store.flush()

    # A block device set read-only (blockdev --setro) does not make a loop device's writes fail on
    # this kernel (it only warns), and there is no device-mapper here: so ext4 is told it hit an
    # error, which is what a card refusing a write leads to.
    sd_card.fail()
    for i in range(1, 30_001):
        store.add("p", base + i, float(i))
    assert not await store.flush()

    _, body = await call(running, "GET", "/api/health")
    health = body["components"]["store"]
    assert health["status"] == str(HealthStatus.DEGRADED)
    assert (health["queue"], health["dropped"]) == (25_000, 5_000), "held in memory up to the limit"
    assert "read-only file system" in health["last_error"]
    status, body = await call(running, "GET", f"/api/data/timeseries?points=p&from={base}&to={base + MS}")
    assert status == 200, "the hub keeps answering, from what was committed"
    assert body["series"][0]["rows"] == [[base, 0.0, "good"]]

    # After an ext4 error the kernel keeps the file system read-only until it is unmounted and
    # checked: a read-write remount is refused, and the store keeps saying so.
    remount = await asyncio.create_subprocess_exec(
        "mount", "-o", "remount,rw", str(sd_card.mount), stderr=asyncio.subprocess.DEVNULL
    )
    assert await remount.wait() != 0
    assert not await store.flush()
    assert store.health().status == HealthStatus.DEGRADED
    assert (store.queue_depth, store.dropped) == (25_000, 5_000)
