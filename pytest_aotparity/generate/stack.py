"""Running a generated test on a fresh thread's stack, in one large frame chunk.

CPython 3.11 and 3.12 keep a thread's frames in chunks, mapped when a call needs a new one
and unmapped when it returns out of it. Hypothesis' draws recurse tens of frames deep and
back thousands of times per example, so a chunk border inside that range costs an
``mmap``/``munmap`` pair at every crossing (figures: "How fast" in
docs/how-to/generated-requests.md, and ``benchmarks/bench_generate.py``). So a generated
test runs on a new thread (its stack starts empty), under :func:`_deep_chunk`, whose frame
is widened once to more than a chunk holds, so CPython gives it a large chunk of its own
that stays mapped while the test runs. CPython 3.13 keeps a spare chunk and needs no
widening; the thread stays (it is also how an interruption reaches the worker).

The calling thread waits. If it is interrupted while waiting (Ctrl-C, pytest-timeout's
signal), the worker is asked to stop (:class:`Cancelled` is raised at its next request)
and the interruption goes on in the calling thread.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

_FRAME_SLOTS = 8200
"""64 KiB of frame (8 bytes a slot): more than a chunk of 64 KiB can hold with its header,
so CPython allocates the next size, 128 KiB."""


def _deep_chunk(fn: Callable[[], T]) -> T:
    """``fn()``, called from a frame of 64 KiB (its code gets the extra local names below)."""
    return fn()


def _widen_frame() -> None:
    """Give :func:`_deep_chunk` ``_FRAME_SLOTS`` local names, never bound: a frame slot
    each — once, when the first generated test runs (it costs a few milliseconds; compiling
    a function with that many names, about 60). Where the running Python refuses, the test
    simply runs on the new thread's own chunk."""
    if sys.version_info >= (3, 13):  # no chunk thrashing to avoid there
        return
    code = _deep_chunk.__code__
    if code.co_nlocals > _FRAME_SLOTS:
        return
    names = code.co_varnames + tuple(f"_unused_{i}" for i in range(_FRAME_SLOTS))
    with contextlib.suppress(TypeError, ValueError):
        _deep_chunk.__code__ = code.replace(co_varnames=names, co_nlocals=len(names))


class Cancelled(KeyboardInterrupt):
    """Raised in the worker at its next request once the waiting thread was interrupted.

    A :class:`KeyboardInterrupt`, so that hypothesis stops at once instead of taking it
    for a failure to shrink."""


class StopSignal:
    """Set by the waiting thread, checked by the worker before each request."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def set(self) -> None:
        self._event.set()

    def clear(self) -> None:
        self._event.clear()

    def check(self) -> None:
        if self._event.is_set():
            raise Cancelled("the generated test was interrupted")


def on_fresh_stack(fn: Callable[[], T], *, name: str, stop: StopSignal) -> T:
    """``fn()`` run in a new thread, waited for: its result, or its exception raised here."""
    results: list[T] = []
    errors: list[BaseException] = []
    done = threading.Event()

    def work() -> None:
        try:
            results.append(_deep_chunk(fn))
        except BaseException as exc:  # handed to the waiting thread
            errors.append(exc)
        finally:
            done.set()

    _widen_frame()
    stop.clear()
    worker = threading.Thread(target=work, name=name, daemon=True)
    try:
        worker.start()
        # (an Event, not Thread.join: on Python 3.11 a join interrupted by Ctrl-C marks
        # the thread as stopped, and joining it again returns at once)
        done.wait()
    except BaseException:
        stop.set()
        if worker.ident is not None:  # (it started)
            done.wait()
        raise
    if errors:
        raise errors[0]
    return results[0]
