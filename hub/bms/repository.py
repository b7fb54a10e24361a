"""Connections, mappings and unmapped points in SQLite (migration m005), through the store's writer."""

from collections.abc import Iterable
from dataclasses import replace

import aiosqlite

from hub.bms.model import BmsType, Connection, Mapping, Transport, Unmapped
from hub.points import PointKind
from hub.store_tables import Database

_CONNECTION_COLUMNS = (
    "id, name, bms_type, transport, description, enabled, password_hash, password_secret, "
    "created_ms, updated_ms"
)
_MAPPING_COLUMNS = (
    "id, connection_id, external_id, point_id, source_unit, created_point, "
    "point_name, point_units, point_kind"
)
_UPSERT_UNMAPPED = """
INSERT INTO bms_unmapped (connection_id, external_id, first_ms, last_ms, count, last_value, last_unit)
VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (connection_id, external_id) DO UPDATE SET last_ms = excluded.last_ms,
    count = excluded.count, last_value = excluded.last_value, last_unit = excluded.last_unit
"""


def _connection(row: tuple) -> Connection:
    return Connection(
        row[0], row[1], BmsType(row[2]), Transport(row[3]), row[4], bool(row[5]), row[6], row[7],
        row[8] / 1000, row[9] / 1000,
    )  # fmt: skip


def _mapping(row: tuple) -> Mapping:
    return Mapping(row[0], row[1], row[2], row[3], row[4], bool(row[5]), row[6], row[7], PointKind(row[8]))


def _marks(count: int) -> str:
    return ", ".join("?" * count)


class BmsRepository:
    """Reads and writes the BMS tables; every write is one transaction of the store's writer."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def connections(self) -> list[Connection]:
        async with self._db.reader.execute(f"SELECT {_CONNECTION_COLUMNS} FROM bms_connections") as cursor:
            return [_connection(tuple(row)) for row in await cursor.fetchall()]

    async def mappings(self) -> list[Mapping]:
        async with self._db.reader.execute(f"SELECT {_MAPPING_COLUMNS} FROM bms_mappings") as cursor:
            return [_mapping(tuple(row)) for row in await cursor.fetchall()]

    async def unmapped(self) -> list[tuple[str, Unmapped]]:
        sql = (
            "SELECT connection_id, external_id, first_ms, last_ms, count, last_value, last_unit "
            "FROM bms_unmapped"
        )
        async with self._db.reader.execute(sql) as cursor:
            rows = await cursor.fetchall()
        return [(r[0], Unmapped(r[1], r[2] / 1000, r[3] / 1000, r[4], r[5], r[6])) for r in rows]

    async def save_connection(self, c: Connection) -> None:
        async with self._db.transaction() as db:
            await db.execute(
                f"INSERT OR REPLACE INTO bms_connections ({_CONNECTION_COLUMNS}) VALUES ({_marks(10)})",
                (
                    c.id, c.name, str(c.bms_type), str(c.transport), c.description, int(c.enabled),
                    c.password_hash, c.password_secret, int(c.created_at * 1000), int(c.updated_at * 1000),
                ),
            )  # fmt: skip

    async def delete_connection(self, connection_id: str) -> None:
        async with self._db.transaction() as db:
            for table, column in (("bms_mappings", "connection_id"), ("bms_unmapped", "connection_id")):
                await db.execute(f"DELETE FROM {table} WHERE {column} = ?", (connection_id,))
            await db.execute("DELETE FROM bms_connections WHERE id = ?", (connection_id,))

    async def add_mapping(self, m: Mapping) -> Mapping:
        """Insert `m` (its id is ignored) and drop the external id from the unmapped list."""
        async with self._db.transaction() as db:
            cursor = await db.execute(
                "INSERT INTO bms_mappings (connection_id, external_id, point_id, source_unit, created_point, "
                "point_name, point_units, point_kind) VALUES (?,?,?,?,?,?,?,?)",
                (
                    m.connection_id, m.external_id, m.point_id, m.source_unit, int(m.created_point),
                    m.point_name, m.point_units, str(m.point_kind),
                ),
            )  # fmt: skip
            await _forget_unmapped(db, m.connection_id, m.external_id)
            return replace(m, id=cursor.lastrowid or 0)

    async def update_mapping(self, m: Mapping) -> None:
        async with self._db.transaction() as db:
            await db.execute(
                "UPDATE bms_mappings SET point_id = ?, source_unit = ?, point_units = ? WHERE id = ?",
                (m.point_id, m.source_unit, m.point_units, m.id),
            )

    async def delete_mapping(self, mapping_id: int) -> None:
        async with self._db.transaction() as db:
            await db.execute("DELETE FROM bms_mappings WHERE id = ?", (mapping_id,))

    async def save_unmapped(self, rows: Iterable[tuple[str, Unmapped]]) -> None:
        values = [
            (
                cid,
                u.external_id,
                int(u.first_seen * 1000),
                int(u.last_seen * 1000),
                u.count,
                u.last_value,
                u.last_unit,
            )
            for cid, u in rows
        ]
        if values:
            async with self._db.transaction() as db:
                await db.executemany(_UPSERT_UNMAPPED, values)


async def _forget_unmapped(db: aiosqlite.Connection, connection_id: str, external_id: str) -> None:
    await db.execute(
        "DELETE FROM bms_unmapped WHERE connection_id = ? AND external_id = ?", (connection_id, external_id)
    )
