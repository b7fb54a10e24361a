"""Repeated failed logins lock a user name for a while: per address, and for all past many."""

from hub.auth.lockout import NAME_FACTOR, Locked, Lockout

HERE = "10.0.0.5"
THERE = "10.0.0.9"


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def test_failures_within_the_window_lock_the_name_for_that_address_for_the_duration():
    clock = Clock()
    lockout = Lockout(failures=3, window=60, duration=300, clock=clock)
    assert [lockout.failed("Ada", HERE) for _ in range(3)] == [Locked.NOTHING, Locked.NOTHING, Locked.ADDRESS]
    assert lockout.locked_for("ada", HERE) == 300  # names compare without case
    assert lockout.locked_for("ada", THERE) == 0, "the operator at another PC still logs in"
    clock.now += 299
    assert lockout.locked_for("ADA", HERE) == 1
    clock.now += 1
    assert lockout.locked_for("ada", HERE) == 0
    assert lockout.failed("ada", HERE) is Locked.NOTHING, "the count starts again after a lockout"


def test_failures_spread_beyond_the_window_never_lock():
    clock = Clock()
    lockout = Lockout(failures=3, window=60, duration=300, clock=clock)
    for _ in range(10):
        assert lockout.failed("ada", HERE) is Locked.NOTHING
        clock.now += 30.5  # at most two failures in any 60 s


def test_a_success_clears_that_address_failures_and_other_names_are_untouched():
    lockout = Lockout(failures=2, window=60, duration=300, clock=Clock())
    lockout.failed("ada", HERE)
    lockout.succeeded("ada", HERE)
    assert lockout.failed("ada", HERE) is Locked.NOTHING
    assert lockout.failed("bob", HERE) is Locked.NOTHING
    assert lockout.failed("bob", HERE) is Locked.ADDRESS
    assert lockout.locked_for("ada", HERE) == 0


def test_guessing_from_many_addresses_locks_the_name_for_every_address():
    clock = Clock()
    lockout = Lockout(failures=2, window=60, duration=300, clock=clock)
    outcomes = [lockout.failed("ada", f"10.0.1.{n // 2}") for n in range(2 * NAME_FACTOR)]
    assert outcomes[:-1] == [Locked.NOTHING, Locked.ADDRESS] * (NAME_FACTOR - 1) + [Locked.NOTHING]
    assert outcomes[-1] is Locked.NAME
    assert lockout.locked_for("ada", "10.0.2.1") == 300
    lockout.succeeded("ada", "10.0.2.1")  # a right password does not lift it
    assert lockout.locked_for("ada", "10.0.2.1") == 300
    assert lockout.locked_for("bob", "10.0.2.1") == 0
