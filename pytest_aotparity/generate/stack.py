"""Running a generated test on a fresh thread's stack.

CPython 3.11 keeps the frames of a thread in chunks of 16 KiB; each time a call crosses
into a new chunk it is mapped, and each time the call returns out of it, unmapped again.
A pytest item runs some 60 frames deep (pytest, pluggy, the runner), and hypothesis'
draws of a schemathesis case recurse tens of frames further, back and forth across a
chunk's border thousands of times per example. Measured on the sample app: 250 generated
examples cost 38,000 ``mmap``/``munmap`` pairs in a pytest item against 9,500 a few frames
higher, and took about 1.5 times as long. A new thread starts on an empty stack: the same
recursion stays inside its first chunk, which is never unmapped.

The calling thread waits. If it is interrupted while waiting (Ctrl-C, pytest-timeout's
signal), the worker is asked to stop (:class:`Cancelled` is raised at its next request)
and the interruption goes on in the calling thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


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
            results.append(fn())
        except BaseException as exc:  # handed to the waiting thread
            errors.append(exc)
        finally:
            done.set()

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
