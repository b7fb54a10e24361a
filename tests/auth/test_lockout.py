"""Repeated failed logins lock a user name for a while (a controlled clock)."""

from hub.auth.lockout import Lockout


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def test_failures_within_the_window_lock_the_name_for_the_duration():
    clock = Clock()
    lockout = Lockout(failures=3, window=60, duration=300, clock=clock)
    assert [lockout.failed("Ada") for _ in range(3)] == [False, False, True]
    assert lockout.locked_for("ada") == 300  # names compare without case
    clock.now += 299
    assert lockout.locked_for("ADA") == 1
    clock.now += 1
    assert lockout.locked_for("ada") == 0
    assert lockout.failed("ada") is False, "the count starts again after a lockout"


def test_failures_spread_beyond_the_window_never_lock():
    clock = Clock()
    lockout = Lockout(failures=3, window=60, duration=300, clock=clock)
    for _ in range(10):
        assert lockout.failed("ada") is False
        clock.now += 30.5  # at most two failures in any 60 s


def test_a_success_clears_the_failures_and_other_names_are_untouched():
    lockout = Lockout(failures=2, window=60, duration=300, clock=Clock())
    lockout.failed("ada")
    lockout.succeeded("ada")
    assert lockout.failed("ada") is False
    assert lockout.failed("bob") is False
    assert lockout.failed("bob") is True
    assert lockout.locked_for("ada") == 0
