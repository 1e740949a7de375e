"""The one retry policy every outbox uses (core.outbox.Backoff)."""

from __future__ import annotations

import random
from datetime import timedelta

from core.outbox import Backoff


def test_waits_double_from_the_base_up_to_the_cap_without_jitter():
    policy = Backoff(base=timedelta(seconds=2), cap=timedelta(minutes=10), jitter=0.0)
    waits = [policy.delay(n).total_seconds() for n in range(1, 12)]
    assert waits == [2, 4, 8, 16, 32, 64, 128, 256, 512, 600, 600]
    assert policy.delay(0) == policy.delay(1)  # no attempt yet waits like the first
    assert policy.delay(10_000) == timedelta(minutes=10)  # no overflow far out


def test_jitter_spreads_each_wait_within_its_bounds_and_never_past_the_cap():
    policy = Backoff(base=timedelta(seconds=30), cap=timedelta(hours=6), jitter=0.10)
    rng = random.Random(7)
    for attempts in range(1, 10):
        exact = 30 * 2 ** (attempts - 1)
        seen = {policy.delay(attempts, rng).total_seconds() for _ in range(50)}
        assert min(seen) >= exact * 0.9 and max(seen) <= exact * 1.1
        assert len(seen) > 1  # spread, so rows that failed together don't retry together
    assert all(policy.delay(40, rng) == timedelta(hours=6) for _ in range(20))
