"""Sending one round's meter events: in batches of the provider's ``meter_batch_size``
(100 on Stripe's v2 meter event stream, 1 with v1 meter events), several batches in
flight at once (``USAGE_SEND_CONCURRENCY``), each row's outcome filed for
``billing.usage_sender`` to record.

A batch is one provider call, so the circuit breaker counts calls, not events: five
failed batches in a row rest the sender, whatever their size.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from billing.interfaces import MeterEvent, ProviderError, ProviderUnavailable

if TYPE_CHECKING:
    from billing.usage_sender import SendBreaker

log = logging.getLogger(__name__)


@dataclass
class Outcomes:
    """What became of a round's claimed rows, by id."""

    sent: list[int] = field(default_factory=list)
    retry: dict[int, str] = field(default_factory=dict)
    rejected: dict[int, str] = field(default_factory=dict)
    untried: list[int] = field(default_factory=list)


def file_outcome(outcomes: Outcomes, row_id: int, error: BaseException | None) -> None:
    """File one row's outcome; ``error`` None means the provider accepted it."""
    if error is None:
        outcomes.sent.append(row_id)
    elif isinstance(error, ProviderError):
        outcomes.rejected[row_id] = f"refused by the provider: {error}"
    elif isinstance(error, ProviderUnavailable):
        outcomes.retry[row_id] = f"provider unavailable: {error.detail or error}"
    else:  # a fault of ours: logged, and tried again later like an outage
        log.error("Sending usage event (row %s) failed", row_id, exc_info=error)
        outcomes.retry[row_id] = f"failed ({type(error).__name__}); will retry"


def tell_breaker(breaker: SendBreaker, now: datetime, error: BaseException | None) -> None:
    """Tell the breaker how one provider call ended (a fault of ours says nothing)."""
    if error is None or isinstance(error, ProviderError):
        breaker.answered()
    elif isinstance(error, ProviderUnavailable):
        breaker.unavailable(now)


def batches(jobs: Sequence[tuple[int, MeterEvent]], size: int) -> Iterator[list]:
    """``jobs`` (row id, meter event) in runs of at most ``size``."""
    size = max(1, size)
    for start in range(0, len(jobs), size):
        yield list(jobs[start:start + size])


def _file_batch(outcomes: Outcomes, batch: list, call: Future) -> None:
    error = call.exception()
    if error is not None:  # the whole batch failed: each row gets that outcome
        for row_id, _ in batch:
            file_outcome(outcomes, row_id, error)
        return
    refused = call.result()
    for row_id, event in batch:
        file_outcome(outcomes, row_id, refused.get(event.identifier))


def send_batches(provider, breaker: SendBreaker, jobs: Sequence[tuple[int, MeterEvent]],
                 now: datetime, concurrency: int, stop_at: float, outcomes: Outcomes) -> None:
    """Record the jobs' meter events in batches of ``provider.meter_batch_size``,
    ``concurrency`` batches in flight at once. No batch starts once the breaker opens
    or after ``stop_at`` (monotonic): its rows stay untried."""
    if not jobs:
        return
    waiting = batches(jobs, provider.meter_batch_size)
    in_flight: dict[Future, list] = {}
    count = -(-len(jobs) // max(1, provider.meter_batch_size))
    with ThreadPoolExecutor(max_workers=min(concurrency, count),
                            thread_name_prefix="bazaar-usage-send") as pool:

        def start_more() -> None:
            while len(in_flight) < concurrency:
                batch = next(waiting, None)
                if batch is None:
                    return
                if breaker.resting_until(now) or time.monotonic() > stop_at:
                    outcomes.untried.extend(row_id for row_id, _ in batch)
                    continue
                call = pool.submit(provider.record_meter_events,
                                   [event for _, event in batch])
                in_flight[call] = batch

        start_more()
        while in_flight:
            done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
            for call in done:
                _file_batch(outcomes, in_flight.pop(call), call)
                tell_breaker(breaker, now, call.exception())
            start_more()
