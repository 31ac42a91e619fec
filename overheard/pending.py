"""At most one waiting message per job: a source's collect, the re-check, `recover`, the sender's wake-up.

Beat sends each job every interval whether or not the last one has run. With an expiry on each message
and the same send order every tick, a worker that cannot run every job within an interval finds the
front of each tick expired and skips the same source every time (found in the 1-worker benchmark: one
source unswept for 13 s). So a job is sent only while none of it waits: sending first sets a marker in
Redis (`SET NX`, holding the message's id), and the task removes its own marker as it starts, so the
next tick can queue the next run while this one works. Nothing expires; the queue stays first in,
first out, and every source takes its turn however far behind the workers are.

A marker lives at most `pending_ttl_s`. A message lost while its marker survived (a broker crash
between the two writes) delays its job by at most that long; a message that waits longer than that may
be joined by a second one of the same job, which the job's database lock turns into a no-op.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from typing import Any

import redis
from celery import Celery

log = logging.getLogger("overheard.pending")

# Delete the marker only if it still names this message: a late or re-sent copy of an older message
# must not free the slot of a newer one that is still waiting.
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"


class PendingMarkers:
    """The markers of waiting jobs, kept in the broker's Redis under `<namespace>:pending:<task>:<subject>`."""

    def __init__(self, client: redis.Redis, namespace: str, ttl_s: float) -> None:
        self.client, self.namespace, self.ttl_ms = client, namespace, max(1, round(ttl_s * 1000))

    def key(self, task: str, subject: str) -> str:
        return f"{self.namespace}:pending:{task}:{subject}"

    def claim(self, task: str, subject: str) -> str | None:
        """A fresh message id if no message of this job waits (the slot is now taken), else None."""
        message_id = uuid.uuid4().hex
        taken = self.client.set(self.key(task, subject), message_id, nx=True, px=self.ttl_ms)
        return message_id if taken else None

    def waiting(self, task: str, subject: str) -> str | None:
        """The id of the message of this job that waits, if any."""
        value = self.client.get(self.key(task, subject))
        return value.decode() if isinstance(value, bytes) else value

    def release(self, task: str, subject: str, message_id: str) -> bool:
        """Free the slot if `message_id` holds it; True when it did."""
        return bool(self.client.eval(_RELEASE, 1, self.key(task, subject), message_id))

    def release_quietly(self, task: str, subject: str, message_id: str) -> None:
        """`release` at a task's start: an unreachable Redis only delays the next run until the marker expires."""
        try:
            self.release(task, subject, message_id)
        except redis.RedisError as exc:
            log.warning("pending.not_released", extra={"task": task, "subject": subject, "reason": str(exc)})


def send_once(app: Celery, markers: PendingMarkers, task: str, subject: str = "", **options: Any) -> str | None:
    """Send `task` for `subject` unless one already waits; the sent message's id, or None if one waits.

    A send that fails frees the slot again, so the next attempt is not blocked by a message never sent.
    """
    message_id = markers.claim(task, subject)
    if message_id is None:
        return None
    try:
        app.send_task(task, args=[subject] if subject else [], task_id=message_id, **options)
    except Exception:
        with contextlib.suppress(redis.RedisError):  # Redis itself is down: a written marker expires on its own
            markers.release(task, subject, message_id)
        raise
    return message_id
