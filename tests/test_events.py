"""EventEmitter and events.once behave as Node's (DESIGN §3 "Events", §11 "Where listeners run")."""

from __future__ import annotations

import math
from typing import Any

import pytest
import trio

from trio_nodehttp import events
from trio_nodehttp.errors import OutOfRangeError, UnhandledErrorError
from trio_nodehttp.events import EventEmitter, MaxListenersExceededWarning


def test_listeners_run_in_registration_order_with_the_emitted_args() -> None:
    e = EventEmitter()
    calls: list[tuple[str, tuple[Any, ...]]] = []
    e.on("x", lambda *a: calls.append(("first", a)))
    e.on("x", lambda *a: calls.append(("second", a)))
    assert e.emit("x", 1, "two") is True
    assert calls == [("first", (1, "two")), ("second", (1, "two"))]


def test_emit_without_listeners_returns_false() -> None:
    assert EventEmitter().emit("nothing", 1) is False


def test_methods_that_return_self_in_node_return_self() -> None:
    e = EventEmitter()

    def f() -> None:
        pass

    assert e.on("a", f) is e
    assert e.add_listener("a", f) is e
    assert e.prepend_listener("a", f) is e
    assert e.once("a", f) is e
    assert e.prepend_once_listener("a", f) is e
    assert e.off("a", f) is e
    assert e.remove_listener("a", f) is e
    assert e.remove_all_listeners("a") is e
    assert e.set_max_listeners(5) is e


def test_prepend_listener_runs_first() -> None:
    e = EventEmitter()
    order: list[str] = []
    e.on("x", lambda: order.append("on"))
    e.prepend_listener("x", lambda: order.append("prepended"))
    e.prepend_once_listener("x", lambda: order.append("prepended once"))
    e.emit("x")
    e.emit("x")
    assert order == ["prepended once", "prepended", "on", "prepended", "on"]


def test_once_listener_runs_only_once() -> None:
    e = EventEmitter()
    seen: list[int] = []
    e.once("x", seen.append)
    assert e.emit("x", 1) is True
    assert e.emit("x", 2) is False
    assert seen == [1]
    assert e.listener_count("x") == 0


def test_once_listener_can_be_removed_by_its_original_function() -> None:
    e = EventEmitter()
    seen: list[int] = []
    e.once("x", seen.append)
    e.off("x", seen.append)
    e.emit("x", 1)
    assert seen == []
    assert e.event_names() == []


def test_listeners_returns_originals_and_raw_listeners_returns_once_wrappers() -> None:
    e = EventEmitter()

    def f() -> None:
        pass

    e.once("x", f)
    assert e.listeners("x") == [f]
    (raw,) = e.raw_listeners("x")
    assert raw is not f
    assert getattr(raw, "listener", None) is f
    raw()  # calling the wrapper runs f once and removes it, as Node's
    assert e.listeners("x") == []


def test_off_removes_the_most_recently_added_instance() -> None:
    e = EventEmitter()
    order: list[str] = []

    def a() -> None:
        order.append("a")

    def b() -> None:
        order.append("b")

    e.on("x", a).on("x", b).on("x", a)
    e.off("x", a)
    e.emit("x")
    assert order == ["a", "b"]


def test_off_of_an_absent_listener_does_nothing() -> None:
    e = EventEmitter()
    e.on("x", print)
    e.off("x", repr).off("other", repr)
    assert e.listeners("x") == [print]


def test_bound_methods_can_be_removed_by_an_equal_bound_method() -> None:
    class Counter:
        def __init__(self) -> None:
            self.n = 0

        def bump(self) -> None:
            self.n += 1

    c = Counter()
    e = EventEmitter()
    e.on("x", c.bump)
    e.off("x", c.bump)  # a new bound-method object, equal to the first
    e.emit("x")
    assert c.n == 0


def test_emission_uses_a_snapshot_of_the_listener_list() -> None:
    e = EventEmitter()
    order: list[str] = []

    def late() -> None:
        order.append("late")

    def first() -> None:
        order.append("first")
        e.on("x", late)
        e.off("x", second)

    def second() -> None:
        order.append("second")

    e.on("x", first).on("x", second)
    e.emit("x")
    assert order == ["first", "second"]
    order.clear()
    e.emit("x")
    assert order == ["first", "late"]


def test_new_listener_is_emitted_before_adding_with_the_original_function() -> None:
    e = EventEmitter()
    seen: list[tuple[str, object, int]] = []

    def listener() -> None:
        pass

    e.on("newListener", lambda ev, fn: seen.append((ev, fn, e.listener_count(ev))))
    e.once("data", listener)
    assert seen == [("data", listener, 0)]


def test_remove_listener_is_emitted_after_removing() -> None:
    e = EventEmitter()
    seen: list[tuple[str, object, int]] = []

    def listener() -> None:
        pass

    e.on("removeListener", lambda ev, fn: seen.append((ev, fn, e.listener_count(ev))))
    e.once("data", listener)
    e.emit("data")  # a fired once-listener removes itself: reported with the original
    e.on("data", listener).off("data", listener)
    assert seen == [("data", listener, 0), ("data", listener, 0)]


def test_remove_all_listeners_reports_each_removal_and_clears() -> None:
    e = EventEmitter()
    removed: list[str] = []

    def a() -> None:
        pass

    def b() -> None:
        pass

    e.on("x", a).on("x", b).on("y", a)
    e.on("removeListener", lambda ev, fn: removed.append(f"{ev}:{fn.__name__}"))
    e.remove_all_listeners("x")
    assert removed == ["x:b", "x:a"]  # last added first, as Node
    e.remove_all_listeners()
    assert removed[2:] == ["y:a"]
    assert e.event_names() == []


def test_remove_all_listeners_without_remove_listener_listeners() -> None:
    e = EventEmitter()
    e.on("x", print).on("y", print)
    e.remove_all_listeners("x")
    assert e.event_names() == ["y"]
    e.remove_all_listeners()
    assert e.event_names() == []


def test_listener_count_and_event_names() -> None:
    e = EventEmitter()
    e.on("a", print).on("a", repr).once("b", print)
    assert e.listener_count("a") == 2
    assert e.listener_count("a", print) == 1
    assert e.listener_count("b", print) == 1
    assert e.listener_count("missing") == 0
    assert e.event_names() == ["a", "b"]


def test_error_without_listener_raises_the_error() -> None:
    e = EventEmitter()
    boom = ValueError("boom")
    with pytest.raises(ValueError) as caught:
        e.emit("error", boom)
    assert caught.value is boom


def test_error_value_that_is_not_an_exception_raises_unhandled_error() -> None:
    e = EventEmitter()
    with pytest.raises(UnhandledErrorError) as caught:
        e.emit("error", "just text")
    assert caught.value.code == "ERR_UNHANDLED_ERROR"
    assert str(caught.value) == "Unhandled error. ('just text')"
    assert caught.value.context == "just text"


def test_error_with_a_listener_goes_to_the_listener() -> None:
    e = EventEmitter()
    seen: list[BaseException] = []
    e.on("error", seen.append)
    err = RuntimeError("x")
    assert e.emit("error", err) is True
    assert seen == [err]


def test_a_listener_exception_propagates_out_of_emit() -> None:
    e = EventEmitter()
    later: list[int] = []

    def bad() -> None:
        raise KeyError("k")

    e.on("x", bad).on("x", lambda: later.append(1))
    with pytest.raises(KeyError):
        e.emit("x")
    assert later == []


def test_sync_emit_rejects_an_async_listener() -> None:
    e = EventEmitter()

    async def listener() -> None:
        await trio.lowlevel.checkpoint()

    e.on("request", listener)
    # the coroutine is closed (no "never awaited" warning, which is an error here)
    with pytest.raises(TypeError, match=r"listener for 'request' is async.*emit_async"):
        e.emit("request")


async def test_emit_async_awaits_async_listeners_in_order_in_the_calling_task() -> None:
    e = EventEmitter()
    order: list[str] = []
    me = trio.lowlevel.current_task()

    async def slow(tag: str) -> None:
        assert trio.lowlevel.current_task() is me
        await trio.sleep(0.01)
        order.append(f"{tag} done")

    e.on("x", lambda: slow("a"))
    e.on("x", lambda: order.append("sync"))
    e.once("x", lambda: slow("b"))
    with trio.fail_after(5):
        assert await e.emit_async("x") is True
        assert await e.emit_async("nothing") is False
    assert order == ["a done", "sync", "b done"]
    assert e.listener_count("x") == 2


async def test_emit_async_error_without_listener_raises() -> None:
    e = EventEmitter()
    with trio.fail_after(5):
        with pytest.raises(OSError):
            await e.emit_async("error", OSError("x"))
        with pytest.raises(UnhandledErrorError):
            await e.emit_async("error")


def test_max_listeners_default_is_ten_and_exceeding_it_warns_once() -> None:
    e = EventEmitter()
    assert e.get_max_listeners() == 10
    for _ in range(10):
        e.on("x", print)
    with pytest.warns(MaxListenersExceededWarning, match="11 x listeners added to EventEmitter"):
        e.on("x", print)
    e.on("x", print)  # past the threshold already: no second warning (filterwarnings=error)


def test_set_max_listeners_zero_or_infinity_means_no_limit() -> None:
    e = EventEmitter().set_max_listeners(0)
    for _ in range(20):
        e.on("x", print)
    e2 = EventEmitter().set_max_listeners(math.inf)
    for _ in range(20):
        e2.on("x", print)
    assert e2.get_max_listeners() == math.inf


def test_set_max_listeners_rejects_negative_numbers_like_node() -> None:
    with pytest.raises(OutOfRangeError) as caught:
        EventEmitter().set_max_listeners(-1)
    assert str(caught.value) == (
        'The value of "n" is out of range. It must be a non-negative number. Received -1'
    )


def test_on_rejects_a_non_callable_listener() -> None:
    with pytest.raises(TypeError):
        EventEmitter().on("x", 42)  # type: ignore[arg-type]


def test_subclasses_with_and_without_slots_work() -> None:
    class Slotted(EventEmitter):
        __slots__ = ("extra",)

        def __init__(self) -> None:
            super().__init__()
            self.extra = 1

    class Plain(EventEmitter):
        pass

    for e in (Slotted(), Plain()):
        seen: list[int] = []
        e.on("x", seen.append).emit("x", 7)
        assert seen == [7]
    plain = Plain()
    plain.anything = 1  # type: ignore[attr-defined]


async def test_once_returns_the_args_of_the_next_emission() -> None:
    e = EventEmitter()

    async def later() -> None:
        await trio.sleep(0.01)
        e.emit("ready", 1, 2)
        e.emit("ready", 3)

    with trio.fail_after(5):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(later)
            assert await events.once(e, "ready") == (1, 2)
    assert e.event_names() == []


async def test_once_raises_an_error_emitted_first() -> None:
    e = EventEmitter()
    err = ConnectionResetError("socket hang up")

    async def later() -> None:
        await trio.sleep(0.01)
        e.emit("error", err)

    with trio.fail_after(5):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(later)
            with pytest.raises(ConnectionResetError) as caught:
                await events.once(e, "response")
    assert caught.value is err
    assert e.event_names() == []


async def test_once_of_error_returns_the_error_as_args() -> None:
    e = EventEmitter()
    err = ValueError("x")

    async def later() -> None:
        await trio.sleep(0.01)
        e.emit("error", err)

    with trio.fail_after(5):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(later)
            assert await events.once(e, "error") == (err,)


async def test_once_removes_its_listeners_when_cancelled() -> None:
    e = EventEmitter()
    with trio.fail_after(5):
        with trio.move_on_after(0.01) as scope:
            await events.once(e, "never")
    assert scope.cancelled_caught
    assert e.event_names() == []
