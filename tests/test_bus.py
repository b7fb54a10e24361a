"""The in-process event bus."""

from dataclasses import dataclass

from hub.bus import Bus


@dataclass(frozen=True)
class PointChanged:
    point: str
    value: float


@dataclass(frozen=True)
class AlarmRaised(PointChanged):
    severity: int = 1


@dataclass(frozen=True)
class Unrelated:
    pass


def test_handler_gets_events_of_its_type_and_subclasses():
    bus = Bus()
    changes: list[object] = []
    alarms: list[object] = []
    bus.subscribe(PointChanged, changes.append)
    bus.subscribe(AlarmRaised, alarms.append)
    change, alarm = PointChanged("t1", 20.5), AlarmRaised("t1", 90.0, severity=3)
    bus.publish(change)
    bus.publish(alarm)
    bus.publish(Unrelated())
    assert changes == [change, alarm]  # a subclass is delivered to base-class handlers
    assert alarms == [alarm]  # but a base-class event is not delivered to subclass handlers


def test_object_handler_sees_everything():
    bus = Bus()
    seen: list[object] = []
    bus.subscribe(object, seen.append)
    bus.publish(Unrelated())
    bus.publish(PointChanged("p", 1))
    assert len(seen) == 2


def test_failing_handler_is_counted_and_the_others_still_run(caplog):
    bus = Bus()
    got: list[object] = []

    def broken(event: PointChanged) -> None:
        raise RuntimeError("handler bug")

    bus.subscribe(PointChanged, got.append)
    bus.subscribe(PointChanged, broken)
    bus.subscribe(PointChanged, got.append)
    bus.publish(PointChanged("p", 1))
    assert len(got) == 2
    assert bus.handler_errors == 1
    assert "failed on PointChanged" in caplog.text


def test_unsubscribe_stops_delivery():
    bus = Bus()
    got: list[object] = []
    unsubscribe = bus.subscribe(PointChanged, got.append)
    bus.publish(PointChanged("p", 1))
    unsubscribe()
    bus.publish(PointChanged("p", 2))
    assert [e.value for e in got] == [1]  # type: ignore[attr-defined]


def test_unsubscribe_removes_only_that_subscription():
    bus = Bus()
    first: list[object] = []
    second: list[object] = []
    unsubscribe = bus.subscribe(PointChanged, first.append)
    bus.subscribe(PointChanged, second.append)
    unsubscribe()
    bus.publish(PointChanged("p", 1))
    assert first == []
    assert len(second) == 1


def test_handler_that_unsubscribes_itself_does_not_hide_the_next_one():
    """A one-shot handler removes itself while the bus is delivering; the next handler must still run."""
    bus = Bus()
    got: list[str] = []

    def once(event: PointChanged) -> None:
        got.append("once")
        unsubscribe()

    unsubscribe = bus.subscribe(PointChanged, once)
    bus.subscribe(PointChanged, lambda event: got.append("always"))
    bus.publish(PointChanged("p", 1))
    bus.publish(PointChanged("p", 2))
    assert got == ["once", "always", "always"]
