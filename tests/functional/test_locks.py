"""The job lock (``core/locks.py``) on both databases: a second holder
fails at once with a message, a released lock can be taken again, and a lease
left by a process that died is taken over once it runs out."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlmodel import select

from core.db import get_engine, utcnow
from core.locks import JobLocked, LeaseLock, job_lock, lock_key
from core.models import JobLease
from tests import factories


def fresh(db) -> None:
    """Forget what ``db`` read: the lock writes through its own connections."""
    db.rollback()
    db.expire_all()


def test_a_second_holder_fails_at_once_with_a_message(app):
    engine = get_engine(app)
    with job_lock(engine, "nightly"):
        started = time.monotonic()
        with pytest.raises(JobLocked, match="nightly") as caught:
            with job_lock(engine, "nightly"):
                pass  # pragma: no cover - must not be reached
        assert time.monotonic() - started < 2  # it did not wait
        assert "held by" in str(caught.value)
        with job_lock(engine, "another-job"):  # other jobs are not blocked
            pass
    with job_lock(engine, "nightly"):  # released: free again
        pass


def test_the_lock_is_released_when_the_block_fails(app):
    engine = get_engine(app)
    with pytest.raises(RuntimeError):
        with job_lock(engine, "nightly"):
            raise RuntimeError("the job broke")
    with job_lock(engine, "nightly"):
        pass


def test_the_database_picks_its_kind_of_lock(app, db_backend):
    with job_lock(get_engine(app), "nightly") as handle:
        handle.extend()
        kind = type(handle).__name__
    assert kind == ("AdvisoryLock" if db_backend == "postgresql" else "LeaseLock")


def test_a_lease_that_ran_out_is_taken_over(app, db):
    engine = get_engine(app)
    dead = LeaseLock(engine, "nightly", lease=timedelta(minutes=10))
    dead.acquire()  # a process that then dies without releasing
    live = LeaseLock(engine, "nightly")
    with pytest.raises(JobLocked, match=dead.holder.split(":")[0]):
        live.acquire()

    lease = db.get(JobLease, "nightly")
    lease.expires_at = utcnow() - timedelta(seconds=1)
    factories.save(db, lease)
    live.acquire()

    fresh(db)
    assert db.exec(select(JobLease.holder).where(JobLease.name == "nightly")).one() == live.holder
    # The dead holder's renewals now fail, and its release leaves the new lease alone.
    with pytest.raises(JobLocked, match="taken over"):
        dead.extend()
    dead.release()
    fresh(db)
    assert db.get(JobLease, "nightly").holder == live.holder
    live.release()
    fresh(db)
    assert db.get(JobLease, "nightly").holder is None


def test_extending_a_lease_pushes_its_end(app, db):
    lease = LeaseLock(get_engine(app), "nightly", lease=timedelta(minutes=1))
    lease.acquire()
    first_end = db.get(JobLease, "nightly").expires_at
    time.sleep(0.01)
    lease.extend()
    fresh(db)
    assert db.get(JobLease, "nightly").expires_at > first_end
    lease.release()


def test_the_advisory_key_is_stable_and_fits_in_64_bits():
    assert lock_key("listings.prune") == lock_key("listings.prune")
    assert lock_key("listings.prune") != lock_key("listings.other")
    assert -2 ** 63 <= lock_key("listings.prune") < 2 ** 63


def test_a_holder_that_dies_does_not_keep_the_lock(app, db, db_backend):
    engine = get_engine(app)
    lock = job_lock(engine, "nightly")
    handle = lock.__enter__()  # a process that then dies without leaving the block
    if db_backend == "postgresql":
        # Its connection ends with it; PostgreSQL drops its advisory locks.
        handle._connection.invalidate()
    else:
        # Its lease is no longer renewed and runs out.
        lease = db.get(JobLease, "nightly")
        lease.expires_at = utcnow() - timedelta(seconds=1)
        factories.save(db, lease)
    with job_lock(engine, "nightly"):
        pass
    lock.__exit__(None, None, None)  # what is left of the dead holder cleans up quietly
