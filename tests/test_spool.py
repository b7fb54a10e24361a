"""The store-and-forward spool on a real SQLite file: order, bounds, and survival across a reopen."""

from pathlib import Path

from hub.config import SpoolConfig
from hub.spool import Outgoing, Spool
from tests.fake_devices import FakeClock


def messages(first: int, last: int) -> list[Outgoing]:
    return [Outgoing("t/seq", str(n).encode()) for n in range(first, last + 1)]


async def open_spool(tmp_path: Path, clock: FakeClock | None = None, **bounds: float) -> Spool:
    spool = Spool(tmp_path / "spool.db", SpoolConfig(**bounds), **({"clock": clock} if clock else {}))  # type: ignore[arg-type]
    await spool.open()
    return spool


async def payloads(spool: Spool) -> list[int]:
    return [int(m.payload) for m in await spool.peek(10_000)]


async def test_keeps_order_and_removes_what_was_sent(tmp_path: Path):
    spool = await open_spool(tmp_path)
    await spool.append(messages(1, 5))
    await spool.append([Outgoing("t/retained", b"r", retain=True)])
    first = await spool.peek(3)
    await spool.remove_through(first[-1].seq)
    rest = await spool.peek(10)
    await spool.close()
    assert [int(m.payload) for m in first] == [1, 2, 3]
    assert [m.payload for m in rest] == [b"4", b"5", b"r"]
    assert [m.retain for m in rest] == [False, False, True]
    assert spool.depth == 3
    assert spool.bytes == sum(len(m.topic) + len(m.payload) for m in rest)


async def test_survives_a_reopen(tmp_path: Path):
    spool = await open_spool(tmp_path)
    await spool.append(messages(1, 4))
    await spool.close()
    again = await open_spool(tmp_path)
    assert (again.depth, await payloads(again)) == (4, [1, 2, 3, 4])
    await again.close()


async def test_max_messages__oldest_dropped_first_and_counted(tmp_path: Path):
    spool = await open_spool(tmp_path, max_messages=10)
    await spool.append(messages(1, 8))
    await spool.append(messages(9, 25))
    assert (spool.depth, spool.dropped) == (10, 15)
    assert await payloads(spool) == list(range(16, 26))
    await spool.close()


async def test_max_bytes__oldest_dropped_first(tmp_path: Path):
    spool = await open_spool(tmp_path, max_bytes=1024)
    big = [Outgoing("t", bytes(300)) for _ in range(5)]  # 301 bytes each
    await spool.append(big)
    assert (spool.depth, spool.dropped) == (3, 2)
    assert spool.bytes <= 1024
    await spool.close()


async def test_max_age__old_messages_dropped(tmp_path: Path):
    clock = FakeClock(1000.0)
    spool = await open_spool(tmp_path, clock, max_age=60)
    await spool.append(messages(1, 3))
    clock.now += 30
    await spool.append(messages(4, 5))
    assert spool.oldest_age() == 30
    clock.now += 31  # the first three are now 61 s old
    assert await payloads(spool) == [4, 5]
    assert (spool.depth, spool.dropped, spool.oldest_age()) == (2, 3, 31)
    await spool.close()
