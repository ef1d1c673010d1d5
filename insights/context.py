"""Who and where an event comes from: request or job context carried in context variables.

The middleware binds the request's client IP, user agent, acting user and a fresh correlation
id; a job binds its own correlation id and a system initiator. `record()` reads them, so a
service never has to thread a request through its arguments.
"""

import contextlib
import functools
import uuid
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field, replace


@dataclass(frozen=True)
class EventContext:
    """What every event written in this request or job shares."""

    correlation_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    client_ip: str | None = None
    user_agent: str = ""
    actor: object | None = None  # the signed-in user, when there is one
    initiator_type: str = "system"


_current: ContextVar[EventContext | None] = ContextVar("insights_event_context", default=None)


def current() -> EventContext:
    """The bound context, or a fresh system context when nothing is bound."""
    return _current.get() or EventContext()


@contextlib.contextmanager
def bind(**values) -> Iterator[EventContext]:
    """Bind an event context for the duration of a block (a request, a job, a command)."""
    base = _current.get()
    ctx = replace(base, **values) if base is not None else EventContext(**values)
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)


def job_bound(func: Callable) -> Callable:
    """Decorate an RQ job so everything it records shares one correlation id and a system initiator.

    Pass `correlation_id=current().correlation_id` when enqueuing from a request to make the job's
    events share the request's id; without it the job gets a fresh one.
    """

    @functools.wraps(func)
    def wrapper(*args, correlation_id: str | None = None, **kwargs):
        values = {"initiator_type": "system", "actor": None, "client_ip": None, "user_agent": ""}
        values["correlation_id"] = correlation_id or str(uuid.uuid4())
        token = _current.set(EventContext(**values))
        try:
            return func(*args, **kwargs)
        finally:
            _current.reset(token)

    return wrapper
