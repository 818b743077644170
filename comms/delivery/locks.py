"""Advisory locks (PostgreSQL) that tell a live claim or fan-out from a dead one.

A claim of delivery rows and a message's fan-out are each held by a shared, session-level advisory lock of
the session that made them, taken in the same transaction. PostgreSQL releases it when that session ends for
any reason, so "the lock is free" means "whoever held this is gone": the sweeper can rescue the rows at once
instead of waiting out the longest a task may run. A claim's key is its claimed_at (every row of one claim
has the same); a fan-out's is the message id. Two keys may collide (the low 32 bits of two claim times 71
minutes apart): then both wait for the later holder, which only delays a rescue. Without PostgreSQL, or with
a pooler in transaction mode (where session locks do not follow the client), rescue falls back to
STALE_CLAIM_SECONDS and STALE_FAN_OUT_SECONDS.
"""

import datetime

from django.db import DatabaseError, connection

# Advisory lock key spaces (the first int4 of pg_advisory_lock(int4, int4)): "EARS" + 0 / + 1.
CLAIM_LOCKS = 0x45415253
FAN_OUT_LOCKS = CLAIM_LOCKS + 1

_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


def _lock_key(value) -> int:
    if isinstance(value, datetime.datetime):
        value = (value - _EPOCH) // datetime.timedelta(microseconds=1)
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value >= 1 << 31 else value


def hold_lock(space: int, value) -> bool:
    """Take the shared session lock (waiting while a sweeper holds it exclusively). False without PostgreSQL."""
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock_shared(%s, %s)", [space, _lock_key(value)])
    return True


def release_lock(space: int, value, shared: bool = True) -> None:
    if connection.vendor != "postgresql":
        return
    function = "pg_advisory_unlock_shared" if shared else "pg_advisory_unlock"
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {function}(%s, %s)", [space, _lock_key(value)])
    except DatabaseError:
        pass  # the session is gone, and its locks with it


def lock_is_free(space: int, value) -> bool:
    """Inside a transaction: take the exclusive lock until it ends, if no session holds the shared one."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", [space, _lock_key(value)])
        return cursor.fetchone()[0]


def take_lock_if_free(space: int, value) -> bool:
    """The exclusive session lock, if no session holds the key (release with release_lock(shared=False))."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [space, _lock_key(value)])
        return cursor.fetchone()[0]
