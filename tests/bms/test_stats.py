"""A connection's status-card figures on a clock the test moves."""

from hub.bms.stats import DAY_S, ConnectionStats
from tests.bms.conftest import FIXED as T0
from tests.bms.conftest import Clock


def test_messages_today__reset_at_utc_midnight():
    clock = Clock()
    stats = ConnectionStats(clock)
    stats.message(3)
    clock.now += 60
    stats.message(2)
    view = stats.view()
    assert (view.messages_today, view.readings_today, view.last_message_at) == (2, 5, T0 + 60)
    clock.now = T0 + 12 * 3600  # the next UTC day
    view = stats.view()
    assert (view.messages_today, view.readings_today, view.last_message_at) == (0, 0, T0 + 60)


def test_uptime__of_the_current_session():
    clock = Clock()
    stats = ConnectionStats(clock)
    assert stats.view().uptime_s is None
    assert not stats.view().connected
    stats.connected()
    clock.now += 90
    assert (stats.view().connected, stats.view().uptime_s, stats.view().connected_since) == (True, 90, T0)
    stats.disconnected()
    assert stats.view().uptime_s is None


def test_errors__counted_over_the_last_24_hours():
    clock = Clock()
    stats = ConnectionStats(clock)
    stats.error(rejected=True)
    clock.now += 3600
    stats.error()
    assert (stats.view().errors_24h, stats.view().rejected_total) == (2, 1)
    clock.now = T0 + DAY_S  # the first error is now exactly 24 hours old
    assert stats.view().errors_24h == 1
    clock.now += 3600
    assert (stats.view().errors_24h, stats.view().rejected_total) == (0, 1)
