"""`decide()`: the one place a batch's backend and worker count are settled (plan, GUI preview and
prestart, bench). `choose()` is the estimate inside it (tests/core/test_choice.py); these are the rules
around it: a named backend, the user's worker count, the settings' limit, the warm pool."""

from __future__ import annotations

from xlbatch.executors.choice import USER_CHOICE, Choice, choose, decide, is_adaptive

KB = 1_000


def test_auto_is_the_estimate_where_it_does_not_decide_while_running():
    sizes = [100 * KB] * 4
    assert decide("cpu", sizes, cores=2, warm_pool=lambda _n: True) == choose("cpu", sizes, cores=2, warm_pool=True)
    assert decide("io", sizes, cores=2) == choose("io", sizes, cores=2)
    assert decide("cpu", sizes, cores=2, time_limit=10) == choose("cpu", sizes, cores=2)
    # Without a warm pool, a CPU-bound batch measures instead (tests/core/test_adaptive.py).
    assert is_adaptive(decide("cpu", sizes, cores=2, warm_pool=lambda _n: False))


def test_a_named_backend_runs_as_named_with_the_reason_given():
    assert decide("cpu", [KB] * 4, "threads", cores=2) == Choice("threads", 2, USER_CHOICE)
    assert decide("io", [KB] * 4, "processes", 3, cores=2) == Choice("processes", 3, USER_CHOICE)
    origin = "set for this task in your settings file"
    assert decide("cpu", [KB] * 4, "sequential", 5, cores=2, origin=origin) == Choice("sequential", 1, origin)


def test_the_settings_limit_caps_the_automatic_count_only():
    capped = decide("io", [KB] * 10, cores=2, max_workers=3)
    assert (capped.backend, capped.workers) == ("threads", 3)
    assert capped.reason.endswith(" (limited to 3 workers by the settings)")
    assert decide("io", [KB] * 10, workers=6, cores=2, max_workers=3).workers == 6  # the user's count wins
    assert decide("cpu", [KB] * 10, "threads", cores=2, max_workers=1).workers == 1


def test_the_warm_pool_is_asked_about_the_count_the_batch_would_use():
    asked: list[int] = []

    def warm(count: int) -> bool:
        asked.append(count)
        return True

    decide("cpu", [100 * KB] * 4, cores=2, max_workers=1, warm_pool=warm)
    decide("cpu", [100 * KB] * 4, workers=3, cores=2, max_workers=1, warm_pool=warm)
    decide("cpu", [100 * KB] * 4, cores=2, warm_pool=warm)
    assert asked == [1, 3, 2]
    # A named backend does not depend on the pool.
    decide("cpu", [100 * KB] * 4, "processes", cores=2, warm_pool=warm)
    assert asked == [1, 3, 2]
