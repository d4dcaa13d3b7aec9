"""Node's ``EventEmitter`` and ``events.once()``, in snake_case (DESIGN §3 "Events", §11).

Listeners run in the task that emits, in registration order, on a snapshot of
the listener list taken when the emission starts (a listener added or removed
during an emission does not change that emission), as Node's ``emit`` does.

- :meth:`EventEmitter.emit` is synchronous: it refuses listeners that return an
  awaitable (an ``async def`` listener), because nothing would await them.
- :meth:`EventEmitter.emit_async` awaits each listener's awaitable result in
  turn, in the calling task (never detached). The library emits with it from
  its own tasks, so user listeners there may be plain or ``async def``.

Both follow Node's ``'error'`` rule: emitting ``'error'`` with no ``'error'``
listener raises the error (or :class:`~trio_nodehttp.errors.UnhandledErrorError`
wrapping a value that is not an exception).

Listener lists are stored as tuples replaced on every change, so an emission
iterates without copying; emitting an event nobody listens to costs one dict
lookup.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any, ClassVar, Self

import trio

from .errors import OutOfRangeError, UnhandledErrorError

__all__ = ["EventEmitter", "MaxListenersExceededWarning", "once"]

Listener = Callable[..., Any]


class MaxListenersExceededWarning(RuntimeWarning):
    """Node's ``MaxListenersExceededWarning``: more listeners for one event than the limit.

    Issued (with :func:`warnings.warn`) when a listener count goes over the
    emitter's ``get_max_listeners()``, a likely leak.
    """


class _OnceWrapper:
    """A ``once`` listener: removes itself from its emitter, then calls the original.

    ``listener`` is the original function, as Node's wrapper's ``.listener``.
    """

    __slots__ = ("emitter", "event", "fired", "listener")

    def __init__(self, emitter: EventEmitter, event: str, listener: Listener) -> None:
        self.emitter = emitter
        self.event = event
        self.listener = listener
        self.fired = False

    def __call__(self, *args: Any) -> Any:
        if self.fired:
            return None
        self.fired = True
        self.emitter.off(self.event, self)
        return self.listener(*args)


def _original(listener: Listener) -> Listener:
    return listener.listener if isinstance(listener, _OnceWrapper) else listener


def _raise_unhandled(args: tuple[Any, ...]) -> None:
    """Node: ``emit('error', er)`` with no listener throws ``er``, or wraps a non-Error."""
    err = args[0] if args else None
    if isinstance(err, BaseException):
        raise err
    raise UnhandledErrorError(err)


class EventEmitter:
    """Node's ``EventEmitter``: ``on``, ``once``, ``off``, ``emit``, ... returning ``self`` as Node.

    Subclasses must call ``super().__init__()``. The class uses ``__slots__``;
    subclasses may add slots or have a ``__dict__``.
    """

    __slots__ = ("_events", "_max_listeners")

    default_max_listeners: ClassVar[int | float] = 10
    """Node's ``EventEmitter.defaultMaxListeners``: the limit of emitters that set none."""

    _events: dict[str, tuple[Listener, ...]]
    _max_listeners: int | float | None

    def __init__(self) -> None:
        self._events = {}
        self._max_listeners = None

    # --- adding -----------------------------------------------------------------

    def _add(self, event: str, listener: Listener, prepend: bool) -> Self:
        if not callable(listener):
            raise TypeError(f'The "listener" argument must be callable. Received {listener!r}')
        events = self._events
        if "newListener" in events:
            # Node emits 'newListener' before adding, with the original function.
            self.emit("newListener", event, _original(listener))
        existing = events.get(event)
        if existing is None:
            events[event] = (listener,)
            return self
        updated = (listener, *existing) if prepend else (*existing, listener)
        events[event] = updated
        limit = self.get_max_listeners()
        if 0 < limit < len(updated) and len(existing) <= limit:
            warnings.warn(
                f"Possible EventEmitter memory leak detected. {len(updated)} {event} "
                f"listeners added to {type(self).__name__}. MaxListeners is {limit}. "
                "Use emitter.set_max_listeners() to increase limit",
                MaxListenersExceededWarning,
                stacklevel=3,
            )
        return self

    def on(self, event: str, listener: Listener) -> Self:
        """Add ``listener`` at the end of ``event``'s list (Node ``emitter.on``).

        The same function may be added several times; it is then called as
        many times. ``'newListener'`` is emitted first, as in Node.
        """
        return self._add(event, listener, False)

    add_listener = on

    def prepend_listener(self, event: str, listener: Listener) -> Self:
        """Add ``listener`` at the start of ``event``'s list (Node ``prependListener``)."""
        return self._add(event, listener, True)

    def once(self, event: str, listener: Listener) -> Self:
        """Add a listener that is removed before its first call (Node ``emitter.once``).

        ``off(event, listener)`` with the original function removes it.
        """
        return self._add(event, _OnceWrapper(self, event, listener), False)

    def prepend_once_listener(self, event: str, listener: Listener) -> Self:
        """``once``, added at the start of the list (Node ``prependOnceListener``)."""
        return self._add(event, _OnceWrapper(self, event, listener), True)

    # --- removing ---------------------------------------------------------------

    def off(self, event: str, listener: Listener) -> Self:
        """Remove the most recently added instance of ``listener`` (Node ``removeListener``).

        A ``once`` listener is found by its original function. Removing a
        listener that is absent does nothing. ``'removeListener'`` is emitted
        after the removal, with the original function.
        """
        events = self._events
        existing = events.get(event)
        if existing is None:
            return self
        for index in range(len(existing) - 1, -1, -1):
            candidate = existing[index]
            if candidate == listener or (
                isinstance(candidate, _OnceWrapper) and candidate.listener == listener
            ):
                break
        else:
            return self
        if len(existing) == 1:
            del events[event]
        else:
            events[event] = existing[:index] + existing[index + 1 :]
        if "removeListener" in events:
            self.emit("removeListener", event, _original(candidate))
        return self

    remove_listener = off

    def remove_all_listeners(self, event: str | None = None) -> Self:
        """Remove every listener of ``event``, or of every event (Node ``removeAllListeners``).

        With ``'removeListener'`` listeners present, each removal is reported
        (last added first, and ``'removeListener'``'s own listeners last), as Node.
        """
        events = self._events
        if "removeListener" not in events:
            if event is None:
                events.clear()
            else:
                events.pop(event, None)
            return self
        if event is None:
            for name in [n for n in events if n != "removeListener"]:
                self.remove_all_listeners(name)
            self.remove_all_listeners("removeListener")
            return self
        for listener in reversed(events.get(event, ())):
            self.off(event, listener)
        return self

    # --- inspecting ---------------------------------------------------------------

    def listeners(self, event: str) -> list[Listener]:
        """A copy of ``event``'s listeners, ``once`` ones as their original functions."""
        return [_original(listener) for listener in self._events.get(event, ())]

    def raw_listeners(self, event: str) -> list[Listener]:
        """A copy of ``event``'s listeners, ``once`` ones as their wrappers (``.listener``)."""
        return list(self._events.get(event, ()))

    def listener_count(self, event: str, listener: Listener | None = None) -> int:
        """How many listeners ``event`` has (only those that are ``listener``, if given)."""
        registered = self._events.get(event, ())
        if listener is None:
            return len(registered)
        return sum(1 for item in registered if item == listener or _original(item) == listener)

    def event_names(self) -> list[str]:
        """The events that have listeners, in the order they first got one."""
        return list(self._events)

    def set_max_listeners(self, n: int | float) -> Self:
        """Set the limit past which adding a listener warns; ``0`` or ``math.inf`` is no limit.

        Node: a negative or NaN ``n`` raises ``ERR_OUT_OF_RANGE``.
        """
        if isinstance(n, bool) or not isinstance(n, int | float) or not n >= 0:
            raise OutOfRangeError("n", "a non-negative number", n)
        self._max_listeners = n
        return self

    def get_max_listeners(self) -> int | float:
        """The limit set by ``set_max_listeners``, else ``default_max_listeners`` (10)."""
        limit = self._max_listeners
        return self.default_max_listeners if limit is None else limit

    # --- emitting -----------------------------------------------------------------

    def emit(self, event: str, *args: Any) -> bool:
        """Call ``event``'s listeners with ``args``, synchronously; ``True`` if there were any.

        A listener's exception propagates (the remaining listeners are not
        called), as in Node. A listener returning an awaitable raises
        :class:`TypeError` (the coroutine is closed): use :meth:`emit_async`.
        ``'error'`` with no listener raises (Node's rule, module docstring).
        """
        handlers = self._events.get(event)
        if handlers is None:
            if event == "error":
                _raise_unhandled(args)
            return False
        for handler in handlers:
            result = handler(*args)
            if result is not None and hasattr(result, "__await__"):
                close = getattr(result, "close", None)
                if close is not None:
                    close()
                raise TypeError(
                    f"listener for {event!r} is async: this event is emitted synchronously; "
                    "use 'await emitter.emit_async(...)'"
                )
        return True

    async def emit_async(self, event: str, *args: Any) -> bool:
        """Like :meth:`emit`, but each awaitable a listener returns is awaited before the next.

        Everything runs in the calling task (DESIGN §11 "Where listeners run").
        """
        handlers = self._events.get(event)
        if handlers is None:
            if event == "error":
                _raise_unhandled(args)
            return False
        for handler in handlers:
            result = handler(*args)
            if result is not None and hasattr(result, "__await__"):
                await result
        return True


async def once(emitter: EventEmitter, event: str) -> tuple[Any, ...]:
    """Wait for one ``event`` and return its arguments as a tuple (Node ``events.once``).

    If ``'error'`` is emitted first (and ``event`` is not ``'error'``), raise
    it (a non-exception value is wrapped in ``UnhandledErrorError``). The
    listeners it adds are removed on every exit, cancellation included.
    """
    done = trio.Event()
    outcome: list[tuple[bool, Any]] = []

    def on_event(*args: Any) -> None:
        if not done.is_set():
            outcome.append((True, args))
            done.set()

    def on_error(*args: Any) -> None:
        if not done.is_set():
            outcome.append((False, args[0] if args else None))
            done.set()

    emitter.on(event, on_event)
    watch_errors = event != "error"
    if watch_errors:
        emitter.on("error", on_error)
    try:
        await done.wait()
    finally:
        emitter.off(event, on_event)
        if watch_errors:
            emitter.off("error", on_error)
    ok, value = outcome[0]
    if ok:
        result: tuple[Any, ...] = value
        return result
    if isinstance(value, BaseException):
        raise value
    raise UnhandledErrorError(value)
