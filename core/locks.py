"""A lock for scheduled jobs, so a second copy started meanwhile exits at once.

Cron, a systemd timer or a Kubernetes CronJob may start a job while the last
run is still going (a slow night, a catch-up by hand). ``job_lock`` makes the
second one fail straight away with ``JobLocked`` instead of waiting or racing:

- PostgreSQL: a session-level advisory lock (``pg_try_advisory_lock``) on a
  connection kept open for the run. PostgreSQL releases it when the holder
  unlocks it or when its connection ends, so a killed process never leaves
  it behind. https://www.postgresql.org/docs/current/explicit-locking.html#ADVISORY-LOCKS
- SQLite (which has no such lock): a row in ``job_leases`` taken by a
  conditional UPDATE when free or expired, and renewed by the running job
  (``extend()``) so it never runs out while the job lives. A job that died
  leaves its lease to expire, and the next run takes it over.
"""

from __future__ import annotations

import hashlib
import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import insert, or_, select, text, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from core.db import utcnow
from core.models import JobLease

DEFAULT_LEASE = timedelta(minutes=10)


class JobLocked(RuntimeError):
    """Another process holds the job's lock; ``str(error)`` says which, in plain words."""


def lock_key(name: str) -> int:
    """A stable signed 64-bit advisory-lock key for ``name`` (the same in every process)."""
    digest = hashlib.blake2b(name.encode(), digest_size=8, person=b"bazaar-job").digest()
    return int.from_bytes(digest, "big", signed=True)


def _holder_id() -> str:
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


class AdvisoryLock:
    """A PostgreSQL session-level advisory lock, held on its own connection."""

    def __init__(self, engine: Engine, name: str):
        self.name = name
        self.key = lock_key(name)
        self._engine = engine
        self._connection: Connection | None = None

    def acquire(self) -> None:
        connection = self._engine.connect()
        try:
            taken = connection.execute(text("SELECT pg_try_advisory_lock(:key)"),
                                       {"key": self.key}).scalar()
            holder = None if taken else self._holder_pid(connection)
            # The lock belongs to the connection, not the transaction: end the
            # transaction so the connection does not sit "idle in transaction".
            connection.commit()
        except BaseException:
            connection.close()
            raise
        if not taken:
            connection.close()
            who = f"backend process {holder}" if holder else "another session"
            raise JobLocked(f"the {self.name} lock is held by PostgreSQL {who}")
        self._connection = connection

    def _holder_pid(self, connection: Connection) -> int | None:
        # A bigint key is stored as two 32-bit halves: classid (high), objid (low).
        high, low = (self.key >> 32) & 0xFFFFFFFF, self.key & 0xFFFFFFFF
        return connection.execute(text(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND classid::bigint = :high AND objid::bigint = :low AND objsubid = 1"),
            {"high": high, "low": low}).scalar()

    def extend(self) -> None:
        """Nothing to renew: the lock lasts as long as its connection."""
        if self._connection is None or self._connection.closed:
            raise JobLocked(f"the {self.name} lock's connection was lost")

    def release(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
            connection.commit()
        except Exception:
            # A pooled connection must never keep the lock: drop it, which
            # ends its PostgreSQL session and so the lock.
            connection.invalidate()
        finally:
            connection.close()


class LeaseLock:
    """A lease row in ``job_leases``: taken when free or expired, renewed by ``extend()``."""

    def __init__(self, engine: Engine, name: str, lease: timedelta = DEFAULT_LEASE):
        self.name = name
        self.holder = _holder_id()
        self._engine = engine
        self._lease = lease
        self._held = False

    def acquire(self) -> None:
        self._ensure_row()
        now = utcnow()
        with self._engine.begin() as connection:
            taken = connection.execute(
                update(JobLease)
                .where(JobLease.name == self.name,
                       or_(JobLease.holder.is_(None), JobLease.expires_at.is_(None),
                           JobLease.expires_at <= now))
                .values(holder=self.holder, expires_at=now + self._lease)
            ).rowcount
            if not taken:
                row = connection.execute(select(JobLease.holder, JobLease.expires_at)
                                         .where(JobLease.name == self.name)).one()
        if not taken:
            until = row.expires_at.strftime("%Y-%m-%d %H:%M:%S") if row.expires_at else "?"
            raise JobLocked(f"the {self.name} lease is held by {row.holder} until {until} UTC")
        self._held = True

    def _ensure_row(self) -> None:
        try:
            with self._engine.begin() as connection:
                exists = connection.execute(select(JobLease.name)
                                            .where(JobLease.name == self.name)).first()
                if exists is None:
                    connection.execute(insert(JobLease).values(name=self.name))
        except IntegrityError:
            pass  # another process made the row at the same moment: it exists now

    def extend(self) -> None:
        """Push the lease's end ``lease`` from now; ``JobLocked`` if it is no longer ours
        (it ran out and another process took it over)."""
        with self._engine.begin() as connection:
            kept = connection.execute(
                update(JobLease).where(JobLease.name == self.name, JobLease.holder == self.holder)
                .values(expires_at=utcnow() + self._lease)).rowcount
        if not kept:
            self._held = False
            raise JobLocked(f"the {self.name} lease ran out and was taken over")

    def release(self) -> None:
        if not self._held:
            return
        self._held = False
        with self._engine.begin() as connection:
            # Only if still ours: a lease that ran out may belong to another run now.
            connection.execute(update(JobLease)
                               .where(JobLease.name == self.name, JobLease.holder == self.holder)
                               .values(holder=None, expires_at=None))


@contextmanager
def job_lock(engine: Engine, name: str, *,
             lease: timedelta = DEFAULT_LEASE) -> Iterator[AdvisoryLock | LeaseLock]:
    """Hold the job lock ``name`` for the ``with`` block, or raise ``JobLocked`` at once.

    The handle's ``extend()`` renews a lease (call it between batches of a long
    run); ``lease`` is how long a SQLite lease lasts without renewal.
    """
    handle: AdvisoryLock | LeaseLock
    if engine.dialect.name == "postgresql":
        handle = AdvisoryLock(engine, name)
    else:
        handle = LeaseLock(engine, name, lease)
    handle.acquire()
    try:
        yield handle
    finally:
        handle.release()
