"""How a generated test runs: on a fresh thread's stack, and its search one request ahead.

No builds here: the search's pairs go to a recorder that answers at once.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from typing import Any

import pytest

from pytest_aotparity.diff.model import Category, Difference, DiffKind, Divergence
from pytest_aotparity.exchange import Exchange, RecordedRequest, RecordedResponse
from pytest_aotparity.generate.stack import Cancelled, StopSignal, on_fresh_stack

# -- the fresh stack -------------------------------------------------------------------------


def depth() -> int:
    frame, n = sys._getframe(1), 0
    while frame is not None:
        frame, n = frame.f_back, n + 1
    return n


def test_the_work_runs_on_a_new_threads_shallow_stack_and_its_result_comes_back() -> None:
    here = depth()
    seen: dict[str, Any] = {}

    def work() -> str:
        seen["thread"] = threading.current_thread()
        seen["depth"] = depth()
        frame = sys._getframe(1)
        seen["frame_slots"] = frame.f_code.co_nlocals if frame is not None else 0
        return "done"

    assert on_fresh_stack(work, name="aot-parity test", stop=StopSignal()) == "done"
    assert seen["thread"] is not threading.current_thread()
    assert seen["thread"].name == "aot-parity test"
    # a pytest test runs dozens of frames deep; the worker starts near the bottom
    assert here > 20
    assert seen["depth"] < 10
    # called from a frame of 64 KiB and more, which gets a frame chunk of its own
    assert seen["frame_slots"] * 8 > 64 * 1024


def test_the_works_exception_is_raised_in_the_waiting_thread() -> None:
    def work() -> None:
        raise ValueError("no document")

    with pytest.raises(ValueError, match="no document"):
        on_fresh_stack(work, name="t", stop=StopSignal())


def test_an_interrupted_wait_stops_the_worker_at_its_next_request() -> None:
    stop = StopSignal()
    started = threading.Event()
    ended: list[BaseException] = []

    def work() -> None:
        started.set()
        try:
            for _ in range(3000):  # a request every 10 ms, for 30 s unless stopped
                stop.check()
                time.sleep(0.01)
        except BaseException as exc:
            ended.append(exc)
            raise

    def interrupt() -> None:
        started.wait(10)
        time.sleep(0.05)
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C: the waiting (main) thread is interrupted

    threading.Thread(target=interrupt).start()
    with pytest.raises(KeyboardInterrupt) as raised:
        on_fresh_stack(work, name="t", stop=stop)
    assert not isinstance(raised.value, Cancelled)  # the waiting thread's own interruption
    [worker_ended] = ended
    assert isinstance(worker_ended, Cancelled)


# -- the search, one request ahead -----------------------------------------------------------

ORDERS = {
    "openapi": "3.0.3",
    "info": {"title": "orders", "version": "1"},
    "paths": {
        "/orders": {
            "post": {
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["quantity"],
                                "properties": {
                                    "quantity": {"type": "integer", "minimum": 0, "maximum": 9}
                                },
                            }
                        }
                    },
                },
                "responses": {"201": {"description": "stored"}},
            }
        }
    },
}


class Answered:
    """What :meth:`Recorder.start` returns: the answers are there already."""

    def __init__(self, number: int, request: RecordedRequest) -> None:
        self.number = number
        self.request = request
        self.pending = self
        self.abandoned = False

    def abandon(self) -> None:
        self.abandoned = True


def quantity(request: RecordedRequest) -> int:
    """The request's quantity; 0 when it has none (an invalid body)."""
    try:
        value = json.loads(request.body)["quantity"]
    except (ValueError, TypeError, KeyError):
        return 0
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


class Recorder:
    """Stands in for an item's pairs: records the order of sends and judgements; an odd
    quantity diverges (the aot build answers 500)."""

    def __init__(self) -> None:
        self.events: list[tuple[str, int]] = []
        self.flights: list[Answered] = []

    def start(self, request: RecordedRequest, mode: str, phase: str | None = None) -> Answered:
        number = len(self.flights) + 1
        self.events.append(("send", number))
        flight = Answered(number, request)
        self.flights.append(flight)
        return flight

    def settle(self, flight: Answered) -> tuple[Exchange, Divergence | None]:
        self.events.append(("judge", flight.number))
        odd = quantity(flight.request) % 2 == 1
        aot = 500 if odd else 201
        exchange = Exchange(
            request=flight.request,
            jit=RecordedResponse("jit", 201),
            aot=RecordedResponse("aot", aot),
        )
        if not odd:
            return exchange, None
        difference = Difference("status", DiffKind.STATUS, 201, 500)
        return exchange, Divergence(exchange, [difference], Category.AOT_FAILURE)


def explore_with(recorder: Recorder, examples: int = 30) -> list[tuple[Any, Divergence]]:
    import schemathesis

    from pytest_aotparity.generate.options import GenerateSettings
    from pytest_aotparity.generate.session import GenerationContext

    schema = schemathesis.openapi.from_dict(ORDERS)
    [operation] = [result.ok() for result in schema.get_all_operations()]
    context = GenerationContext(None, None, GenerateSettings(examples=examples))  # type: ignore[arg-type]
    known: set[tuple[object, ...]] = set()
    return context.explore(operation, {}, recorder, known, b"pipeline")  # type: ignore[arg-type]


def test_the_search_draws_the_next_request_while_one_is_out_and_judges_it_before_the_next(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pytest_aotparity.generate import cases

    recorder = Recorder()
    to_request = cases.case_to_request
    drawn = [0]

    def recorded(case: Any) -> RecordedRequest:
        drawn[0] += 1
        recorder.events.append(("drawn", drawn[0]))
        return to_request(case)

    monkeypatch.setattr(cases, "case_to_request", recorded)
    found = explore_with(recorder)

    # drawn 1, sent 1, drawn 2 (while 1 is out), judged 1, sent 2, drawn 3, judged 2, ...:
    # hypothesis draws the next request while the builds answer, and never are two
    # requests out at once; the last one is judged too
    n = len(recorder.flights)
    assert n >= 30
    expected = [("drawn", 1), ("send", 1)]
    for k in range(2, n + 1):
        expected += [("drawn", k), ("judge", k - 1), ("send", k)]
    expected.append(("judge", n))
    assert recorder.events == expected

    # the first odd quantity is kept (one kind: AOT failure, 201 against 500), the others
    # are counted only
    odd = [f.request for f in recorder.flights if quantity(f.request) % 2 == 1]
    assert len(odd) > 1
    [(case, divergence)] = found
    assert divergence.exchange.request == odd[0]
    assert case.body["quantity"] % 2 == 1


def test_an_interrupted_search_abandons_the_request_on_its_way(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pytest_aotparity.generate import cases

    to_request = cases.case_to_request
    calls = []

    def interrupted_at_the_fifth(case: Any) -> RecordedRequest:
        calls.append(case)
        if len(calls) == 5:  # while hypothesis prepares the fifth, the fourth is on its way
            raise Cancelled("stop")
        return to_request(case)

    monkeypatch.setattr(cases, "case_to_request", interrupted_at_the_fifth)
    recorder = Recorder()
    with pytest.raises(Cancelled):
        explore_with(recorder)
    assert [f.abandoned for f in recorder.flights] == [False, False, False, True]
    assert recorder.events[-1] == ("send", 4)  # the fourth never judged
