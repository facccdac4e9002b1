"""Running a generated test on a fresh thread's stack, in one large frame chunk.

CPython keeps the frames of a thread in chunks (16 KiB each on 3.11); each time a call
needs a new chunk it is mapped, and each time the call returns out of it, unmapped again.
Hypothesis' draws of a schemathesis case recurse tens of frames deep and back, thousands
of times per example: wherever a chunk border falls inside that range, every crossing
costs an ``mmap``/``munmap`` pair and fresh pages. Measured on the sample app's five
operations with parameters (250 examples each run, 2 cores):

- in a pytest item (some 60 frames deep): 38,000 ``munmap`` calls, about 1.5 times as
  long as higher up;
- on a new thread (the stack starts empty): 3,100;
- on a new thread, below one frame large enough (64 KiB) that CPython gives it a chunk of
  128 KiB of its own: 20, and generation a quarter faster than on the plain thread.

So a generated test runs on a new thread, under :func:`_deep_chunk`: a function given
8,200 local names (never bound; a frame slot each), which stays on the stack while the
test runs, so the chunk it made (with some 60 KiB of room for the frames above it) is
never unmapped.

The calling thread waits. If it is interrupted while waiting (Ctrl-C, pytest-timeout's
signal), the worker is asked to stop (:class:`Cancelled` is raised at its next request)
and the interruption goes on in the calling thread.
"""

from __future__ import annotations

import contextlib
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
