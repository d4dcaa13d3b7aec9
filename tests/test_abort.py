"""AbortController / AbortSignal as Node's, on trio cancel scopes (DESIGN §4 "AbortSignal")."""

from __future__ import annotations

import gc
import math

import pytest
import trio
import trio.testing

from trio_nodehttp.abort import AbortController, AbortSignal, cancel_on_abort
from trio_nodehttp.errors import AbortError, DOMAbortError, DOMTimeoutError, OutOfRangeError
from trio_nodehttp.events import EventEmitter


def test_a_new_signal_is_not_aborted_and_has_no_reason() -> None:
    controller = AbortController()
    assert isinstance(controller.signal, EventEmitter)
    assert controller.signal.aborted is False
    assert controller.signal.reason is None
    controller.signal.throw_if_aborted()  # does nothing


def test_abort_without_reason_uses_a_dom_abort_error() -> None:
    controller = AbortController()
    controller.abort()
    assert controller.signal.aborted is True
    reason = controller.signal.reason
    assert isinstance(reason, DOMAbortError)
    assert reason.name == "AbortError"
    assert str(reason) == "This operation was aborted"


def test_abort_with_reason_keeps_that_reason() -> None:
    controller = AbortController()
    reason = ValueError("user gave up")
    controller.abort(reason)
    assert controller.signal.reason is reason


def test_abort_emits_abort_once_and_a_second_abort_is_a_no_op() -> None:
    controller = AbortController()
    fired: list[tuple[object, ...]] = []
    controller.signal.on("abort", lambda *args: fired.append(args))
    controller.abort("first")
    controller.abort("second")
    assert fired == [()]
    assert controller.signal.reason == "first"


def test_onabort_is_a_single_replaceable_abort_listener() -> None:
    controller = AbortController()
    seen: list[str] = []

    def old() -> None:
        seen.append("old")

    def new() -> None:
        seen.append("new")

    controller.signal.onabort = old
    controller.signal.onabort = new
    assert controller.signal.onabort is new
    assert controller.signal.listener_count("abort") == 1
    controller.abort()
    assert seen == ["new"]
    controller.signal.onabort = None
    assert controller.signal.listener_count("abort") == 0


def test_async_abort_listeners_are_rejected_because_abort_is_synchronous() -> None:
    controller = AbortController()

    async def listener() -> None:
        await trio.lowlevel.checkpoint()

    controller.signal.on("abort", listener)
    with pytest.raises(TypeError, match="emit_async"):
        controller.abort()
    assert controller.signal.aborted  # the state changed before listeners ran


def test_throw_if_aborted_raises_the_reason_or_wraps_it() -> None:
    controller = AbortController()
    reason = KeyError("k")
    controller.abort(reason)
    with pytest.raises(KeyError) as caught:
        controller.signal.throw_if_aborted()
    assert caught.value is reason

    text = AbortSignal.abort("plain text")
    with pytest.raises(AbortError) as wrapped:
        text.throw_if_aborted()
    assert wrapped.value.cause == "plain text"
    assert wrapped.value.code == "ABORT_ERR"


def test_static_abort_is_already_aborted() -> None:
    signal = AbortSignal.abort()
    assert signal.aborted
    assert isinstance(signal.reason, DOMAbortError)
    assert AbortSignal.abort(42).reason == 42


async def test_timeout_aborts_once_the_deadline_passes(
    autojump_clock: trio.testing.MockClock,
) -> None:
    with trio.fail_after(60):
        signal = AbortSignal.timeout(5.0)
        fired: list[float] = []
        signal.on("abort", lambda: fired.append(trio.current_time()))
        assert signal.deadline == trio.current_time() + 5.0
        await trio.sleep(4.9)
        assert not signal.aborted
        await trio.sleep(0.2)
        assert signal.aborted
        assert isinstance(signal.reason, DOMTimeoutError)
        assert str(signal.reason) == "The operation was aborted due to timeout"
        assert signal.reason.name == "TimeoutError"
        assert len(fired) == 1  # fired when the expiry was observed
        with pytest.raises(DOMTimeoutError):
            signal.throw_if_aborted()


async def test_timeout_rejects_negative_seconds() -> None:
    with trio.fail_after(5):
        with pytest.raises(OutOfRangeError):
            AbortSignal.timeout(-1)
        assert AbortSignal.timeout(math.inf).aborted is False


def test_timeout_needs_a_trio_run() -> None:
    with pytest.raises(RuntimeError):
        AbortSignal.timeout(1.0)


def test_any_aborts_with_the_reason_of_the_input_that_aborted() -> None:
    a, b = AbortController(), AbortController()
    combined = AbortSignal.any([a.signal, b.signal])
    order: list[str] = []
    b.signal.on("abort", lambda: order.append(f"b sees combined aborted={combined.aborted}"))
    combined.on("abort", lambda: order.append("combined"))
    assert not combined.aborted
    b.abort("b's reason")
    assert combined.aborted
    assert combined.reason == "b's reason"
    # every signal is aborted before any 'abort' listener runs; the source fires first
    assert order == ["b sees combined aborted=True", "combined"]
    a.abort("late")
    assert combined.reason == "b's reason"


def test_any_of_an_already_aborted_signal_is_aborted_with_its_reason() -> None:
    done = AbortSignal.abort("already")
    combined = AbortSignal.any([AbortController().signal, done])
    assert combined.aborted
    assert combined.reason == "already"


def test_any_chains_propagate() -> None:
    a = AbortController()
    inner = AbortSignal.any([a.signal])
    outer = AbortSignal.any([inner, AbortController().signal])
    a.abort("root")
    assert outer.reason == "root"


def test_any_does_not_keep_unused_combined_signals_alive() -> None:
    source = AbortController()
    AbortSignal.any([source.signal])
    gc.collect()
    assert len(source.signal._dependents) == 0


async def test_any_takes_the_earliest_deadline_of_its_inputs(
    autojump_clock: trio.testing.MockClock,
) -> None:
    with trio.fail_after(60):
        combined = AbortSignal.any([AbortSignal.timeout(10), AbortController().signal])
        other = AbortSignal.any([AbortSignal.timeout(3), combined])
        assert other.deadline == combined.deadline - 7
        await trio.sleep(3.5)
        assert other.aborted and not combined.aborted
        assert isinstance(other.reason, DOMTimeoutError)


async def test_cancel_on_abort_raises_abort_error_with_the_reason_as_cause() -> None:
    # R1-087: AbortError: The operation was aborted (+ cause)
    controller = AbortController()
    reason = RuntimeError("stop now")
    reached_end = False

    async def abort_soon() -> None:
        await trio.sleep(0.01)
        controller.abort(reason)

    with trio.fail_after(5):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(abort_soon)
            with pytest.raises(AbortError) as caught:
                with cancel_on_abort(controller.signal):
                    await trio.sleep_forever()
                    reached_end = True
    assert not reached_end
    assert caught.value.cause is reason
    assert caught.value.__cause__ is reason
    assert str(caught.value) == "The operation was aborted"
    assert controller.signal._scopes == set()  # the scope was unregistered


async def test_cancel_on_abort_raises_at_once_for_an_already_aborted_signal() -> None:
    ran = False
    with trio.fail_after(5):
        with pytest.raises(AbortError) as caught:
            with cancel_on_abort(AbortSignal.abort("before")):
                ran = True
    assert not ran
    assert caught.value.cause == "before"


async def test_cancel_on_abort_uses_a_timeout_signals_deadline(
    autojump_clock: trio.testing.MockClock,
) -> None:
    with trio.fail_after(60):
        signal = AbortSignal.timeout(2.0)
        start = trio.current_time()
        with pytest.raises(AbortError) as caught:
            with cancel_on_abort(signal) as scope:
                assert scope.deadline == signal.deadline
                await trio.sleep(100)
        assert trio.current_time() - start == pytest.approx(2.0)
        assert isinstance(caught.value.cause, DOMTimeoutError)


async def test_cancel_on_abort_does_not_turn_an_outer_cancellation_into_abort_error() -> None:
    controller = AbortController()
    with trio.fail_after(5):
        with trio.CancelScope() as outer:
            with cancel_on_abort(controller.signal):
                outer.cancel()
                controller.abort()  # both cancelled: the outer scope wins
                await trio.sleep_forever()
    assert outer.cancelled_caught

    with trio.fail_after(5):
        with trio.move_on_after(0.01) as timeout:
            with cancel_on_abort(AbortController().signal):
                await trio.sleep_forever()
    assert timeout.cancelled_caught


async def test_cancel_on_abort_that_finishes_normally_returns_normally() -> None:
    controller = AbortController()
    with trio.fail_after(5):
        with cancel_on_abort(controller.signal) as scope:
            await trio.lowlevel.checkpoint()
    assert not scope.cancelled_caught
    controller.abort()  # after the body: nothing left to cancel


async def test_cancel_on_abort_does_not_hide_a_body_exception() -> None:
    controller = AbortController()
    with trio.fail_after(5):
        with pytest.raises(ZeroDivisionError):
            with cancel_on_abort(controller.signal):
                controller.abort()
                raise ZeroDivisionError


async def test_cancel_on_abort_without_signal_is_a_plain_cancel_scope() -> None:
    with trio.fail_after(5):
        with cancel_on_abort(None) as scope:
            scope.cancel()
            await trio.sleep_forever()
    assert scope.cancelled_caught


async def test_a_scope_cancelled_directly_without_abort_is_not_an_abort_error() -> None:
    with trio.fail_after(5):
        with cancel_on_abort(AbortController().signal) as scope:
            scope.cancel()
            await trio.sleep_forever()
    assert scope.cancelled_caught
