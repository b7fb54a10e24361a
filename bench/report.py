"""Results of bench/broker.py and how they are printed: the table, hub/other ratios, the summary."""

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from mqtt_load import PubResult, SubResult


class Mode(StrEnum):
    """How a row's throughput was measured."""

    QOS0 = "QoS 0"  # sustained: publishers never more than the e2e window ahead of their subscribers
    QOS1 = "QoS 1"  # publishers keep `window` PUBLISH unacknowledged by the broker
    QOS0_OPEN = "QoS 0 open"  # open-loop flood: as fast as the broker reads


@dataclass(frozen=True)
class Measurement:
    """One phase: what the workers saw, CPU over the measured window (%), the hub's counter deltas."""

    pub: PubResult
    sub: SubResult
    expected: int
    broker_cpu: float
    pub_cpu: float
    sub_cpu: float
    other_cpu: float  # used by unrelated processes on the machine meanwhile
    counters: dict[str, int]

    @property
    def msg_rate(self) -> float:
        return self.pub.in_window / self.pub.window_s

    @property
    def delivery_rate(self) -> float:
        return self.sub.in_window / self.sub.window_s

    @property
    def lost(self) -> int:
        return max(0, self.expected - self.sub.received)

    @property
    def extra(self) -> int:
        """Deliveries beyond what was sent (duplicates): should always be 0."""
        return max(0, self.sub.received - self.expected)


@dataclass
class Row:
    """One line of the table: a scenario on one broker, throughput runs plus a paced latency run."""

    scenario: str
    mode: Mode
    broker: str
    runs: list[Measurement] = field(default_factory=list)
    paced: Measurement | None = None
    error: str | None = None

    @property
    def phases(self) -> list[Measurement]:
        return [*self.runs, *([self.paced] if self.paced else [])]

    def median(self, value: Callable[[Measurement], float]) -> float | None:
        """Median over the throughput runs."""
        return statistics.median(value(m) for m in self.runs) if self.runs else None

    @property
    def deliveries(self) -> float | None:
        return self.median(lambda m: m.delivery_rate)

    def latency_ms(self, quantile: float) -> float | None:
        if self.paced is None or not self.paced.sub.latencies_ns:
            return None
        ordered = sorted(self.paced.sub.latencies_ns)
        return ordered[min(len(ordered) - 1, int(quantile * len(ordered)))] / 1e6

    @property
    def lost(self) -> int:
        """Deliveries never received, over every phase of the row."""
        return sum(m.lost for m in self.phases)

    @property
    def expected(self) -> int:
        return sum(m.expected for m in self.phases)

    @property
    def extra(self) -> int:
        return sum(m.extra for m in self.phases)

    def counter(self, name: str) -> int:
        """Sum of one of the hub's counter deltas over every phase (0 for other brokers)."""
        return sum(m.counters.get(name, 0) for m in self.phases)

    @property
    def packets_per_frame(self) -> float | None:
        """Packets per WebSocket frame the broker sent to the subscribers."""
        frames = sum(m.sub.frames for m in self.runs)
        return sum(m.sub.received for m in self.runs) / frames if frames else None


def find(rows: Sequence[Row], scenario: str, mode: Mode, broker: str) -> Row | None:
    """The row of a scenario on a broker, if it was measured without error."""
    for row in rows:
        if (row.scenario, row.mode, row.broker) == (scenario, mode, broker) and not row.error:
            return row
    return None


# -- the table ----------------------------------------------------------------------------

_COLUMNS = (
    ("scenario", 8, "<"),
    ("mode", 10, "<"),
    ("broker", 14, "<"),
    ("msg/s", 8, ">"),
    ("deliveries/s", 12, ">"),
    ("runs min-max", 15, ">"),
    ("p50 ms", 6, ">"),
    ("p99 ms", 6, ">"),
    ("max ms", 6, ">"),
    ("lost", 16, ">"),
    ("hub drop", 9, ">"),
    ("pk/frm", 6, ">"),
    ("brk CPU", 7, ">"),
    ("pub CPU", 7, ">"),
    ("sub CPU", 7, ">"),
    ("other", 5, ">"),
)


def _line(cells: Sequence[str]) -> str:
    return "  ".join(
        f"{cell:{align}{width}}" for cell, (_, width, align) in zip(cells, _COLUMNS, strict=True)
    ).rstrip()


def _cell(value: float | None, digits: int = 0, suffix: str = "") -> str:
    return "-" if value is None else f"{value:,.{digits}f}{suffix}"


def _row_cells(row: Row) -> list[str]:
    rates = [m.delivery_rate for m in row.runs]
    spread = f"{min(rates):,.0f}-{max(rates):,.0f}" if len(rates) > 1 else ""
    lost = f"{row.lost:,}" + (f" {100 * row.lost / row.expected:.1f}%" if row.lost and row.expected else "")
    if row.extra:
        lost += f" +{row.extra:,} dup"
    hub_drop = f"{row.counter('qos0_dropped'):,}" if row.runs and row.runs[0].counters else "-"
    return [
        row.scenario,
        row.mode,
        row.broker,
        _cell(row.median(lambda m: m.msg_rate)),
        _cell(row.deliveries),
        spread,
        _cell(row.latency_ms(0.50), 2),
        _cell(row.latency_ms(0.99), 2),
        _cell(row.latency_ms(1.0), 1),
        lost,
        hub_drop,
        _cell(row.packets_per_frame, 1),
        _cell(row.median(lambda m: m.broker_cpu), suffix="%"),
        _cell(row.median(lambda m: m.pub_cpu), suffix="%"),
        _cell(row.median(lambda m: m.sub_cpu), suffix="%"),
        _cell(row.median(lambda m: m.other_cpu), suffix="%"),
    ]


def format_table(rows: Sequence[Row]) -> str:
    """One line per scenario, mode and broker; a blank line between groups."""
    header = _line([name for name, _, _ in _COLUMNS])
    lines = [header, "-" * len(header)]
    previous = None
    for row in rows:
        if previous is not None and (row.scenario, row.mode) != previous:
            lines.append("")
        previous = (row.scenario, row.mode)
        if row.error:
            lines.append(_line([row.scenario, row.mode, row.broker, *[""] * 13]) + f"  ERROR: {row.error}")
            continue
        lines.append(_line(_row_cells(row)))
        disconnects = row.counter("backlog_disconnects")
        if disconnects:
            lines.append(f"{'':36}hub disconnected {disconnects} subscriber(s) for a QoS 1 backlog")
    return "\n".join(lines)


def format_ratios(rows: Sequence[Row], base: str, others: Sequence[str]) -> str:
    """Median deliveries/s of `base` divided by each other broker's, per scenario and mode."""
    lines = [f"{'scenario':8}  {'mode':10}  " + "  ".join(f"{base}/{other}" for other in others)]
    seen: list[tuple[str, Mode]] = []
    for row in rows:
        key = (row.scenario, row.mode)
        if key in seen or row.broker != base:
            continue
        seen.append(key)
        cells = []
        for other in others:
            mine, theirs = find(rows, *key, base), find(rows, *key, other)
            a, b = (mine.deliveries if mine else None), (theirs.deliveries if theirs else None)
            cells.append(f"{a / b:.2f}" if a and b else "-")
        lines.append(
            f"{key[0]:8}  {key[1]:10}  "
            + "  ".join(f"{c:>{len(base) + 1 + len(o)}}" for c, o in zip(cells, others, strict=True))
        )
    return "\n".join(lines)


# -- the targets ------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """One of the issue's targets and a broker's figure for it."""

    label: str
    value: float | None
    limit: float
    higher_is_better: bool
    unit: str
    note: str = ""

    @property
    def verdict(self) -> str:
        if self.value is None:
            return "not measured"
        ok = self.value >= self.limit if self.higher_is_better else self.value < self.limit
        return "meets" if ok else "below"

    def __str__(self) -> str:
        sign = ">=" if self.higher_is_better else "<"
        value = "n/a" if self.value is None else f"{self.value:,.{0 if self.value >= 100 else 2}f}"
        note = f" [{self.note}]" if self.note else ""
        return f"{self.label} {value} {self.unit} (target {sign} {self.limit:,g}): {self.verdict}{note}"


def _open_note(rows: Sequence[Row], scenario: str, broker: str) -> str:
    row = find(rows, scenario, Mode.QOS0_OPEN, broker)
    if row is None or row.deliveries is None:
        return ""
    lost = f", {100 * row.lost / row.expected:.0f}% lost" if row.expected else ""
    return f"open-loop flood: {row.deliveries:,.0f}/s delivered{lost}"


def targets_for(rows: Sequence[Row], broker: str, idle_rss_mb: float | None) -> list[Target]:
    """The issue's four targets, applied to one broker's figures (QoS 0 = sustained rows)."""
    one0, one1 = find(rows, "1→1", Mode.QOS0, broker), find(rows, "1→1", Mode.QOS1, broker)
    fan = find(rows, "1→50", Mode.QOS0, broker)
    p99s = [p for p in (r.latency_ms(0.99) for r in (one0, one1) if r is not None) if p is not None]
    return [
        Target(
            "QoS 0 1→1 WS",
            one0.deliveries if one0 else None,
            15_000,
            True,
            "msg/s",
            _open_note(rows, "1→1", broker),
        ),
        Target(
            "QoS 0 1→50",
            fan.deliveries if fan else None,
            40_000,
            True,
            "deliveries/s",
            _open_note(rows, "1→50", broker),
        ),
        Target("p99 at 1,000 msg/s 1→1 (worse of QoS 0/1)", max(p99s, default=None), 5.0, False, "ms"),
        Target("idle RSS", idle_rss_mb, 60.0, False, "MB"),
    ]
