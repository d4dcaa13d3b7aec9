"""Node's ``AbortController`` and ``AbortSignal``, on trio cancel scopes (DESIGN §4 "AbortSignal").

An operation bound to a signal runs its work inside :func:`cancel_on_abort`:
``controller.abort()`` cancels every scope registered that way, and the
operation raises :class:`~trio_nodehttp.errors.AbortError` (``ABORT_ERR``)
with the signal's reason as ``.cause`` (inventory R1-087, R2-019).

``AbortSignal.timeout(seconds)`` needs no task and no timer: the signal holds a
trio deadline, scopes bound to it get that deadline, and ``aborted`` compares
it with ``trio.current_time()``. Its ``'abort'`` event therefore fires when the
expiry is first observed (reading ``aborted``/``reason``, ``throw_if_aborted()``,
or a bound operation ending by the deadline), not at the deadline itself.

``'abort'`` is emitted synchronously (``EventEmitter.emit``) from ``abort()``,
so ``'abort'`` listeners and ``onabort`` must be plain functions: an
``async def`` listener raises ``TypeError`` out of ``abort()``.
"""

from __future__ import annotations

import contextlib
import math
import weakref
from collections.abc import Iterable, Iterator
from typing import Any

import trio

from .errors import AbortError, DOMAbortError, DOMTimeoutError, OutOfRangeError
from .events import EventEmitter, Listener

__all__ = ["AbortController", "AbortSignal", "cancel_on_abort"]


class AbortSignal(EventEmitter):
    """Node's ``AbortSignal``: an ``EventEmitter`` that emits ``'abort'`` (no arguments) once.

    Made by :class:`AbortController`, :meth:`abort`, :meth:`timeout` or :meth:`any`.
    """

    __slots__ = (
        "__weakref__",
        "_aborted",
        "_deadline",
        "_dependents",
        "_onabort",
        "_reason",
        "_scopes",
    )

    def __init__(self) -> None:
        super().__init__()
        self._aborted = False
        self._reason: Any = None
        self._deadline = math.inf
        self._scopes: set[trio.CancelScope] = set()
        self._dependents: weakref.WeakSet[AbortSignal] = weakref.WeakSet()
        self._onabort: Listener | None = None

    # --- state --------------------------------------------------------------------

    @property
    def aborted(self) -> bool:
        """Whether the signal is aborted; a timeout signal becomes so once its deadline passes."""
        if self._aborted:
            return True
        if self._deadline != math.inf and trio.current_time() >= self._deadline:
            self._abort(DOMTimeoutError())
            return True
        return False

    @property
    def reason(self) -> Any:
        """Why it was aborted (``None`` while it is not): the value given to ``abort()``,
        a ``DOMAbortError`` by default, a ``DOMTimeoutError`` for ``timeout()``."""
        return self._reason if self.aborted else None

    @property
    def deadline(self) -> float:
        """The trio time at which the signal aborts by itself (``math.inf``: never)."""
        return self._deadline

    def throw_if_aborted(self) -> None:
        """Raise the reason if aborted (Node ``throwIfAborted``).

        A reason that is not an exception is raised as ``AbortError(cause=reason)``.
        """
        if self.aborted:
            reason = self._reason
            if isinstance(reason, BaseException):
                raise reason
            raise AbortError(cause=reason)

    @property
    def onabort(self) -> Listener | None:
        """Node's ``onabort`` handler: one ``'abort'`` listener that replaces the previous one."""
        return self._onabort

    @onabort.setter
    def onabort(self, handler: Listener | None) -> None:
        if self._onabort is not None:
            self.off("abort", self._onabort)
        self._onabort = handler
        if handler is not None:
            self.on("abort", handler)

    # --- aborting -------------------------------------------------------------------

    def _mark(self, reason: Any) -> None:
        """Set aborted and reason and cancel the bound scopes (no event yet)."""
        self._aborted = True
        self._reason = reason
        scopes = list(self._scopes)
        for scope in scopes:
            scope.cancel(reason="AbortSignal aborted")

    def _abort(self, reason: Any) -> None:
        """The DOM "signal abort" steps, once: mark this signal aborted, then :meth:`_fire`."""
        if self._aborted:
            return
        self._mark(reason)
        self._fire(reason)

    def _fire(self, reason: Any) -> None:
        """Mark the dependents (``any()`` results) not yet aborted, emit ``'abort'`` here,
        then fire them: every signal is aborted before any ``'abort'`` listener runs, and
        the dependents still fire if a listener here raises."""
        dependents = [d for d in self._dependents if not d._aborted]
        self._dependents = weakref.WeakSet()
        for dependent in dependents:
            dependent._mark(reason)
        try:
            self.emit("abort")
        finally:
            for dependent in dependents:
                dependent._fire(reason)

    # --- factories ------------------------------------------------------------------

    @staticmethod
    def abort(reason: Any = None) -> AbortSignal:
        """A signal that is already aborted (Node ``AbortSignal.abort``); reason defaults to
        ``DOMAbortError()``."""
        signal = AbortSignal()
        signal._mark(DOMAbortError() if reason is None else reason)
        return signal

    @staticmethod
    def timeout(seconds: float) -> AbortSignal:
        """A signal that aborts ``seconds`` from now with ``DOMTimeoutError`` (Node
        ``AbortSignal.timeout``). Call it inside ``trio.run``: the deadline is trio time.

        A negative or NaN ``seconds`` raises ``ERR_OUT_OF_RANGE``.
        """
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not seconds >= 0:
            raise OutOfRangeError("seconds", ">= 0", seconds)
        signal = AbortSignal()
        signal._deadline = trio.current_time() + seconds
        return signal

    @staticmethod
    def any(signals: Iterable[AbortSignal]) -> AbortSignal:
        """A signal aborted when any of ``signals`` is, with that signal's reason (Node
        ``AbortSignal.any``).

        If one is already aborted, the result is aborted with the first such
        reason. Its deadline is the earliest of the inputs' deadlines.
        """
        sources = list(signals)
        for source in sources:
            if source.aborted:
                return AbortSignal.abort(source._reason)
        result = AbortSignal()
        for source in sources:
            result._deadline = min(result._deadline, source._deadline)
            source._dependents.add(result)
        return result


class AbortController:
    """Node's ``AbortController``: owns a :class:`AbortSignal` and aborts it."""

    __slots__ = ("signal",)

    def __init__(self) -> None:
        self.signal = AbortSignal()

    def abort(self, reason: Any = None) -> None:
        """Abort the signal with ``reason`` (default ``DOMAbortError()``); later calls do nothing.

        Bound operations are cancelled, then ``'abort'`` is emitted synchronously.
        """
        self.signal._abort(DOMAbortError() if reason is None else reason)


@contextlib.contextmanager
def cancel_on_abort(signal: AbortSignal | None) -> Iterator[trio.CancelScope]:
    """Run the body in a cancel scope that the signal cancels, raising ``AbortError`` if it did.

    ``abort()`` cancels the scope; a timeout signal's deadline is the scope's
    deadline. When the scope caught the cancellation and the signal is
    aborted, raise ``AbortError(cause=signal.reason)`` (Node's ``ABORT_ERR``,
    R1-087). A cancellation by an enclosing scope propagates unchanged. With
    ``signal=None`` it is a plain ``CancelScope``. A signal already aborted on
    entry raises ``AbortError`` at once, without running the body.
    """
    if signal is None:
        with trio.CancelScope() as plain:
            yield plain
        return
    if signal.aborted:
        raise AbortError(cause=signal._reason)
    scope = trio.CancelScope(deadline=signal._deadline)
    signal._scopes.add(scope)
    try:
        with scope:
            yield scope
    finally:
        signal._scopes.discard(scope)
    if scope.cancelled_caught and signal.aborted:
        raise AbortError(cause=signal._reason)
