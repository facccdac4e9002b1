"""The enabled plugin: one :class:`ParityRun` per pytest session, registered as a plugin
object by :mod:`pytest_aotparity.plugin` when ``--aot-parity`` is on.

Life of a run
-------------
``pytest_sessionstart``
    Decide the role: a plain run and every pytest-xdist *worker* start their own targets
    (jit, aot, optional noise — concurrently, via :func:`~pytest_aotparity.targets.start_targets`),
    export the base URL, and patch httpx (:class:`~pytest_aotparity.replay.mirror.Mirror`).
    The xdist *controller* starts nothing; it only sweeps orphans of killed runs (before
    the workers exist) and aggregates what the workers report.
each test
    ``pytest_runtest_protocol`` makes the test the owner of every mirrored request until it
    ends (setup, call and teardown; a session fixture's requests belong to the test whose
    setup made them). At the end of the call phase its exchanges so far are compared; a
    divergence fails the test (:class:`ParityFailure`), or is appended to the failure if
    the test failed anyway. Teardown requests are checked at the end of teardown.
    Each phase report carries a JSON-able payload (``report.aot_parity``) — that is how
    results reach the xdist controller.
``pytest_sessionfinish`` / ``pytest_unconfigure``
    Write the JSON report, unpatch httpx, stop every target, restore the environment.
    Every path out (failure, Ctrl-C, an exception in a hook) reaches
    ``pytest_unconfigure``; SIGTERM and interpreter exit are covered by
    :func:`~pytest_aotparity.targets.register_emergency_cleanup`.
"""

from __future__ import annotations

import contextlib
import os
import threading
import uuid
from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from pytest_aotparity.config import MarkerRules, Settings, marker_rules
from pytest_aotparity.diff.compare import CompareRules, NoiseMemory, learn_ids
from pytest_aotparity.diff.model import Divergence
from pytest_aotparity.diff.render import (
    LOG_LINES,
    curl_command,
    log_excerpt,
    render_divergence,
)
from pytest_aotparity.endpoints import Operations, known_ids, template_of
from pytest_aotparity.exchange import BuildName, Exchange
from pytest_aotparity.redaction import redaction_names
from pytest_aotparity.replay.mirror import Mirror
from pytest_aotparity.report.json_report import build_report, divergence_record, write_report
from pytest_aotparity.report.summary import ParityTotals
from pytest_aotparity.report.verdict import Gate  # aot-parity verdict: baseline, trade-offs, HTML
from pytest_aotparity.run.judge import Judge
from pytest_aotparity.targets import (
    EmergencyCleanup,
    HealthPathError,
    StartFailedError,
    Target,
    TargetStartError,
    register_emergency_cleanup,
    start_error_note,
    start_targets,
    stop_targets,
    sweep_orphans,
)
from pytest_aotparity.targets.base import default_state_dir
from pytest_aotparity.transport.idmap import IdMap
from pytest_aotparity.transport.pair import Build, PairSender

MAX_RENDERED = 10
"""Divergences rendered in full in one failure; the rest are counted."""

ITEM_KEY = pytest.StashKey["ItemParity"]()
PAYLOAD_KEY = pytest.StashKey[dict[str, dict[str, Any]]]()
APPEND_KEY = pytest.StashKey[dict[str, str]]()
MARKER_KEY = pytest.StashKey[MarkerRules]()


# pytest.fail.Exception is the public name of pytest's Failed; mypy cannot take a class
# attribute as a base class, hence the ignore.
class ParityFailure(pytest.fail.Exception):  # type: ignore[name-defined,misc]
    """A test whose requests got different answers from the JIT and the AOT build.

    Shown like ``pytest.fail(..., pytrace=False)``: the rendered divergences, no traceback.
    """

    __module__ = "builtins"  # "ParityFailure: ..." in the short test summary

    def __init__(self, message: str, divergences: Sequence[Divergence]) -> None:
        super().__init__(message, pytrace=False)
        self.divergences = list(divergences)


@dataclass
class ItemParity:
    """The mirrored traffic of one test (or of the session outside any test)."""

    nodeid: str | None
    rules: CompareRules | None
    skip: bool = False
    exchanges: list[Exchange] = field(default_factory=list)
    checked: int = 0
    divergences: list[Divergence] = field(default_factory=list)
    reported: int = 0
    compared: int = 0
    noise_filtered: int = 0
    payload_compared: int = 0
    payload_noise: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, exchange: Exchange) -> None:
        with self.lock:
            self.exchanges.append(exchange)


_BUILD_FAILURES = frozenset({"exited", "unhealthy"})
"""Start failures that say something about a build; the others (a wrong health path, a
missing image, a start waited out) may be the settings' and stay usage errors."""

_AOT_LOG = "aot_log"
"""Key in :attr:`Divergence.extra`: the AOT log excerpt, once read."""


class ParityRun:
    """Hooks and state of one enabled run (see the module docstring)."""

    def __init__(self, config: pytest.Config, settings: Settings, *, listing: bool = False) -> None:
        self.config = config
        self.settings = settings
        self.role: str = "listing" if listing else "single"
        """single, worker or xdist-controller; listing for runs that only list (no build
        starts, except the JIT build alone while the generated tests are collected)."""
        self.worker_id: str | None = None
        self.targets: dict[BuildName, Target] = {}
        self.cleanup: EmergencyCleanup | None = None
        self.mirror: Mirror | None = None
        self.sender: PairSender | None = None
        self.aot_ids = IdMap("aot")
        self.operations: Operations | None = None
        """The OpenAPI document's operations, once generation has read it: requests and
        response members are then named after it."""
        self.noise_memory = NoiseMemory()
        """Noise per endpoint, for the whole run (suite and generated requests)."""
        self.noise_ids = IdMap("noise")
        self.current: ItemParity | None = None
        self.outside: ItemParity | None = None
        self.totals = ParityTotals(noise_instance=settings.noise is not None)
        if settings.report_path is not None:
            self.totals.report_path = str(settings.report_path)
        self._env_saved: dict[str, str | None] = {}
        self._base_rules: CompareRules | None = None
        self._judge: Judge | None = None
        self._redact: frozenset[str] | None = None
        self._shut_down = False
        self._outside_done = False
        self.start_failed: StartFailedError | None = None
        """A start that failed on a build (not on the settings): the run then writes its
        reports with the failure as the verdict instead of stopping with a usage error."""
        # -- aot-parity verdict (report/verdict.py): options checked here (UsageError) --
        self.gate = Gate(config)

    # -- roles --------------------------------------------------------------------------

    @property
    def is_worker(self) -> bool:
        return hasattr(self.config, "workerinput")

    @property
    def runs_targets(self) -> bool:
        return self.role in ("single", "worker")

    @property
    def aggregates(self) -> bool:
        """Whether this process writes the summary and the report."""
        return self.role in ("single", "xdist-controller")

    # -- diff engine (imported lazily: deepdiff) ------------------------------------------

    @property
    def base_rules(self) -> CompareRules:
        if self._base_rules is None:
            self._base_rules = CompareRules(
                headers=self.settings.headers,
                ignore_paths=self.settings.ignore_paths,
                ignore_headers=self.settings.ignore_headers,
                ignore_order=self.settings.ignore_order,
                default_noise=self.settings.default_noise,
            )
        return self._base_rules

    def rules_for(self, marker: MarkerRules) -> CompareRules:
        if not marker.ignore_paths and not marker.ignore_headers and marker.ignore_order is None:
            return self.base_rules
        return self.base_rules.merged(
            ignore_paths=marker.ignore_paths,
            ignore_headers=marker.ignore_headers,
            ignore_order=(
                marker.ignore_order
                if marker.ignore_order is not None
                else self.settings.ignore_order
            ),
        )

    @property
    def judge(self) -> Judge:
        """The one judge of every exchange of the run, whatever sent it."""
        if self._judge is None:
            self._judge = Judge(self.base_rules, memory=self.noise_memory, ids=self.aot_ids)
        return self._judge

    @property
    def redact(self) -> frozenset[str]:
        if self._redact is None:
            self._redact = redaction_names(self.settings.redact)
        return self._redact

    # -- session start --------------------------------------------------------------------

    def _state_dir(self) -> Path:
        # One directory per user on this host, not the project's .pytest_cache: a run that
        # was killed in a directory that no longer exists (a CI workspace, a pytester tmp
        # dir) still leaves its pid files where the next run of any project sweeps them.
        # Sweeping is safe across projects: only targets whose owner process is dead go.
        return default_state_dir()

    @pytest.hookimpl
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        if self.role == "listing":
            return
        if self.is_worker:
            self.role = "worker"
            self.worker_id = str(self.config.workerinput.get("workerid"))  # type: ignore[attr-defined]
        elif self.config.pluginmanager.has_plugin("dsession"):
            self.role = "xdist-controller"
        state_dir = self._state_dir()
        if self.role != "worker":
            # Workers never sweep: the other workers' targets are alive, and the
            # controller swept before any worker started.
            images = any(spec.kind == "image" for spec in self.settings.specs())
            report = sweep_orphans(state_dir, containers=images)
            swept = report.render()
            if swept:
                self._write_line(swept)
        if not self.runs_targets:
            return
        self.start(state_dir)

    def start(self, state_dir: Path) -> None:
        session_id = uuid.uuid4().hex[:12] + (f"-{self.worker_id}" if self.worker_id else "")
        options = self.settings.target_options(
            session_id=session_id,
            workdir=str(self.config.rootpath),
            state_dir=str(state_dir),
        )
        self.cleanup = register_emergency_cleanup()
        try:
            self.targets = start_targets(self.settings.specs(), options, emergency=self.cleanup)
        except TargetStartError as exc:
            self.shutdown()
            if isinstance(exc, StartFailedError) and self._reported_as_verdict(exc):
                self.start_failed = exc
                self.totals.start_failures.extend(f.to_dict() for f in exc.failures)
                for failure in exc.failures:
                    self._write_line(
                        f"aot-parity: {failure.summary}; no test will run (the reports are "
                        "still written, the failure in full is under FAILURES)"
                    )
                return
            raise pytest.UsageError(exc.render() + "\n" + start_error_note(exc)) from None
        jit = self.targets["jit"]
        self.sender = self._pair_sender()
        self.mirror = Mirror(
            sender=self.sender,
            app_origins=[self.settings.app_url] if self.settings.app_url else [],
            sink=self._record,
            active=self._active,
            nodeid=self._current_nodeid,
        )
        self.mirror.install()
        self._export_env(self.settings.base_url_env, jit.base_url)
        for build, target in self.targets.items():
            self.totals.targets.append(self._target_info(build, target))

    def start_jit_alone(self, why: str) -> bool:
        """A listing run: start the JIT build on its own (``why`` ends the error if it
        cannot start). False when no JIT build is configured."""
        if self.settings.jit is None:
            return False
        options = self.settings.target_options(
            session_id=uuid.uuid4().hex[:12],
            workdir=str(self.config.rootpath),
            state_dir=str(default_state_dir()),
        )
        try:
            started = start_targets([self.settings.jit], options)
        except TargetStartError as exc:
            raise pytest.UsageError(
                exc.render() + f"\n(aot-parity started the jit build {why})"
            ) from None
        self.targets = dict(started)
        self.sender = PairSender(Build("jit", self.targets["jit"].base_url), [])
        return True

    def stop_jit_alone(self) -> None:
        targets, self.targets = self.targets, {}
        sender, self.sender = self.sender, None
        try:
            if sender is not None:
                sender.close()
        finally:
            if targets:
                stop_targets(targets.values())

    def _pair_sender(self) -> PairSender:
        """The one pair sender of the run: the mirrored suite and generation share it, and
        with it the id maps."""
        targets = self.targets
        others = [Build("aot", targets["aot"].base_url, self.aot_ids)]
        if "noise" in targets:
            others.append(Build("noise", targets["noise"].base_url, self.noise_ids))
        return PairSender(Build("jit", targets["jit"].base_url), others, learn_ids=learn_ids)

    def _reported_as_verdict(self, exc: StartFailedError) -> bool:
        """Whether a start failure is the builds' (then it is the run's verdict, and every
        report is written) rather than the settings' (a wrong health path, a missing image
        or command: a usage error). xdist workers keep the usage error: their controller
        has no way to receive the failure yet."""
        if self.role != "single" or isinstance(exc, HealthPathError):
            return False
        return all(failure.kind in _BUILD_FAILURES for failure in exc.failures)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> object:
        """After a failed start no test can run: they are reported once, as one failed
        ``aot-parity::start`` entry (terminal, JUnit), not as N identical errors."""
        failed = self.start_failed
        if failed is None or session.config.option.collectonly:
            return None
        self.totals.tests_not_run = len(session.items)
        nodeid = "aot-parity::start"
        location = ("aot-parity", None, "start")
        text = (
            failed.render()
            + f"\n\n{len(session.items)} collected test"
            + ("s were" if len(session.items) != 1 else " was")
            + " not run: the builds could not be started."
        )
        hook = session.config.hook
        hook.pytest_runtest_logstart(nodeid=nodeid, location=location)
        report = pytest.TestReport(
            nodeid=nodeid,
            location=location,
            keywords={"aot-parity": 1},
            outcome="failed",
            longrepr=text,
            when="call",
        )
        hook.pytest_runtest_logreport(report=report)
        hook.pytest_runtest_logfinish(nodeid=nodeid, location=location)
        session.testsfailed += 1
        return True

    def _target_info(self, build: BuildName, target: Target) -> dict[str, Any]:
        ready = target.ready_seconds
        return {
            "build": build,
            "kind": target.spec.kind,
            "spec": target.spec.value,
            "base_url": target.base_url,
            "ready_seconds": round(ready, 3) if ready is not None else None,
            "worker": self.worker_id,
            **self.gate.target_figures(target),  # aot-parity verdict: size, memory at start
        }

    def _export_env(self, name: str, value: str) -> None:
        if name not in self._env_saved:
            self._env_saved[name] = os.environ.get(name)
        os.environ[name] = value

    def _restore_env(self) -> None:
        saved, self._env_saved = self._env_saved, {}
        for name, old in saved.items():
            if old is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = old

    def _write_line(self, text: str) -> None:
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            for line in text.splitlines():
                reporter.write_line(line)

    @pytest.hookimpl
    def pytest_report_header(self, config: pytest.Config) -> list[str]:
        if self.role == "xdist-controller":
            return ["aot-parity: each xdist worker starts its own jit and aot builds"]
        lines = []
        for build, target in self.targets.items():
            ready = target.ready_seconds
            ready_text = f", ready in {ready:.2f} s" if ready is not None else ""
            lines.append(
                f"aot-parity: {build} {target.spec.kind}:{target.spec.value} at "
                f"{target.base_url}{ready_text}"
            )
        if self.targets:
            lines.append(
                f"aot-parity: mirroring httpx requests to {self.targets['jit'].base_url}"
                + (f" and {self.settings.app_url}" if self.settings.app_url else "")
                + f" (exported as {self.settings.base_url_env})"
            )
        return lines

    # -- recording ------------------------------------------------------------------------

    def _active(self) -> bool:
        current = self.current
        return current is None or not current.skip

    def _current_nodeid(self) -> str | None:
        current = self.current
        return current.nodeid if current is not None else None

    def _record(self, exchange: Exchange) -> None:
        current = self.current
        if current is None:
            if self.outside is None:
                self.outside = ItemParity(nodeid=None, rules=self.base_rules)
            current = self.outside
        current.add(exchange)

    # -- comparing ------------------------------------------------------------------------

    def check(self, state: ItemParity) -> list[Divergence]:
        """Judge the exchanges of ``state`` not judged yet; return the new divergences."""
        with state.lock:
            pending = state.exchanges[state.checked :]
            state.checked = len(state.exchanges)
        if not pending:
            return []
        rules = state.rules or self.base_rules
        judge = self.judge
        new: list[Divergence] = []
        for exchange in pending:
            state.compared += 1
            divergence, noise = judge(exchange, rules)
            state.noise_filtered += noise
            if divergence is not None:
                new.append(divergence)
        state.divergences.extend(new)
        return new

    def _aot_log_tail(self, divergence: Divergence) -> Sequence[str]:
        """The AOT build's log lines of the failure, read when its test's failure is shown
        (then the last failure in the log is this test's) and kept on the divergence, so the
        reports written at the end of the run show the same lines, not a later test's."""
        kept: Sequence[str] | None = divergence.extra.get(_AOT_LOG)
        if kept is not None:
            return kept
        aot = divergence.exchange.aot
        failed = aot.status is None or aot.status >= 500
        target = self.targets.get("aot")
        if not failed or target is None:
            return ()
        lines: list[str] = []
        with contextlib.suppress(Exception):
            tail = target.log_tail(LOG_LINES)
            # the failure's own lines; without one (a crash, say) the last lines as they are
            lines = log_excerpt(tail) or list(tail[-20:])
        divergence.extra[_AOT_LOG] = lines
        return lines

    def render(self, divergences: Sequence[Divergence], state: ItemParity) -> str:
        jit_url = self.targets["jit"].base_url if "jit" in self.targets else ""
        aot_url = self.targets["aot"].base_url if "aot" in self.targets else ""
        count = len(divergences)
        total = state.compared
        what = "; ".join(
            dict.fromkeys(
                f"{d.exchange.request.method} "
                f"{template_of(d.exchange.request, (), self.operations)}"
                f": {getattr(d.category, 'value', d.category)}"
                for d in divergences
            )
        )
        plural = "s" if total != 1 else ""
        if state.nodeid:
            header = (
                f"{what} ({count} of the {total} request{plural} of this test got different "
                "answers from the jit and aot builds)"
            )
        else:
            header = (
                f"{what} ({count} request{'s' if count != 1 else ''} made outside any test got "
                "different answers from the jit and aot builds)"
            )
        parts = [header]
        for divergence in divergences[:MAX_RENDERED]:
            parts.append(
                render_divergence(
                    divergence,
                    jit_url=jit_url,
                    aot_url=aot_url,
                    aot_log_tail=self._aot_log_tail(divergence),
                    redact=self.redact,
                )
            )
        if count > MAX_RENDERED:
            parts.append(
                f"... and {count - MAX_RENDERED} more divergences (see the aot-parity terminal "
                "summary, or --aot-parity-report)"
            )
        for build, target in self.targets.items():
            code = None
            with contextlib.suppress(Exception):
                code = target.exit_code()
            if code is not None:
                parts.append(f"note: the {build} build has exited (exit code {code}).")
        return "\n\n".join(parts)

    def records(self, divergences: Sequence[Divergence]) -> list[dict[str, Any]]:
        jit_url = self.targets["jit"].base_url if "jit" in self.targets else ""
        aot_url = self.targets["aot"].base_url if "aot" in self.targets else ""
        ids = known_ids([self.aot_ids.mapping])
        records = [
            divergence_record(
                divergence,
                redact=self.redact,
                jit_url=jit_url,
                aot_url=aot_url,
                known_ids=ids,
                curl=curl_command,
                operations=self.operations,
            )
            for divergence in divergences
        ]
        # -- aot-parity verdict: baseline status (known ones do not fail), bodies, log tail --
        self.gate.enrich(divergences, records, aot_log_tail=self._aot_log_tail, redact=self.redact)
        return records

    def _finish_phase(self, item: pytest.Item, when: str) -> tuple[list[Divergence], str]:
        """Compare what is pending, store the phase payload; return the divergences not yet
        reported and their rendering."""
        state = item.stash.get(ITEM_KEY, None)
        if state is None:
            return [], ""
        self.check(state)
        fresh = state.divergences[state.reported :]
        state.reported = len(state.divergences)
        payload = {
            "compared": state.compared - state.payload_compared,
            "noise_filtered": state.noise_filtered - state.payload_noise,
            "mirrored": not state.skip,
            "divergences": self.records(fresh),
            # aot-parity verdict: latencies and requests per endpoint of this phase
            "traffic": self.gate.traffic(
                state.exchanges[state.payload_compared : state.compared],
                known_ids([self.aot_ids.mapping]),
                self.operations,
            ),
        }
        state.payload_compared = state.compared
        state.payload_noise = state.noise_filtered
        item.stash.setdefault(PAYLOAD_KEY, {})[when] = payload
        # -- aot-parity verdict: divergences known to the baseline are not failures
        failing = self.gate.failing(fresh)
        if not failing:
            return [], ""
        text = self.render(failing, state)
        note = self.gate.known_note(fresh)
        return failing, f"{text}\n\n{note}" if note else text

    # -- per-test hooks -------------------------------------------------------------------

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            item.stash[MARKER_KEY] = marker_rules(item)  # UsageError for a bad marker

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item) -> Generator[None, object, object]:
        marker = item.stash.get(MARKER_KEY, None)
        if marker is None:
            marker = item.stash[MARKER_KEY] = marker_rules(item)
        state = ItemParity(
            nodeid=item.nodeid,
            rules=None if marker.skip or not self.runs_targets else self.rules_for(marker),
            skip=marker.skip,
        )
        item.stash[ITEM_KEY] = state
        self.current = state if self.runs_targets else None
        try:
            return (yield)
        finally:
            self.current = None

    def _phase(self, item: pytest.Item, when: str, outcome_error: BaseException | None) -> None:
        if not self.runs_targets:
            return
        fresh, text = self._finish_phase(item, when)
        if not fresh:
            return
        if outcome_error is None:
            raise ParityFailure(text, fresh)
        if isinstance(outcome_error, pytest.skip.Exception):
            return  # the test skipped itself: counted in the summary, not a failure
        item.stash.setdefault(APPEND_KEY, {})[when] = text

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> Generator[None, object, object]:
        try:
            result = yield
        except BaseException as exc:
            # Only when setup fails: otherwise its requests are checked with the call.
            self._phase(item, "setup", exc)
            raise
        return result

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, object, object]:
        try:
            result = yield
        except BaseException as exc:
            self._phase(item, "call", exc)
            raise
        self._phase(item, "call", None)
        return result

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_teardown(self, item: pytest.Item) -> Generator[None, object, object]:
        try:
            result = yield
        except BaseException as exc:
            self._phase(item, "teardown", exc)
            raise
        self._phase(item, "teardown", None)
        return result

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        payload = item.stash.get(PAYLOAD_KEY, {}).pop(call.when, None)
        if payload is not None:
            report.aot_parity = payload  # type: ignore[attr-defined]
        self.gate.add_properties(item, report, payload)  # aot-parity verdict: JUnit XML properties
        text = item.stash.get(APPEND_KEY, {}).pop(call.when, None)
        if text:
            addsection = getattr(report.longrepr, "addsection", None)
            if callable(addsection):
                addsection("aot-parity: the jit and aot builds also answered differently", text)
            else:
                report.sections.append(("aot-parity divergences", text))
        return report

    # -- aggregation (single process and xdist controller) --------------------------------

    @pytest.hookimpl
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if not self.aggregates:
            return
        payload = getattr(report, "aot_parity", None)
        if isinstance(payload, Mapping):
            self.totals.add_payload(report.nodeid, payload)

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        output = getattr(node, "workeroutput", None) or {}
        data = output.get("aot_parity")
        if not isinstance(data, Mapping):
            return
        self.totals.targets.extend(data.get("targets", ()))
        self.totals.exited.extend(data.get("exited", ()))
        outside = data.get("outside")
        if isinstance(outside, Mapping):
            self.totals.add_payload(None, outside)

    # -- session end ----------------------------------------------------------------------

    def _finish_outside(self) -> dict[str, Any] | None:
        if self._outside_done:
            return None
        self._outside_done = True
        state = self.outside
        if state is None:
            return None
        fresh = self.check(state)
        payload = {
            "compared": state.compared,
            "noise_filtered": state.noise_filtered,
            "mirrored": True,
            "divergences": self.records(fresh),
            "traffic": self.gate.traffic(
                state.exchanges, known_ids([self.aot_ids.mapping]), self.operations
            ),
        }
        failing = self.gate.failing(fresh)  # aot-parity verdict: known ones are not failures
        if failing:
            self._write_line(self.render(failing, state))
        return payload

    def _exited(self) -> list[dict[str, Any]]:
        out = []
        for build, target in self.targets.items():
            code = None
            with contextlib.suppress(Exception):
                code = target.exit_code()
            if code is None:
                continue
            tail: list[str] = []
            with contextlib.suppress(Exception):
                tail = list(target.log_tail(20))
            out.append(
                {"build": build, "exit_code": code, "log_tail": tail, "worker": self.worker_id}
            )
        return out

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.runs_targets:
            outside = self._finish_outside()
            exited = self._exited()
            # aot-parity verdict: memory after the run, before the builds stop
            self.gate.end_of_run(
                {str(build): target for build, target in self.targets.items()},
                self.totals.targets,
                self.worker_id,
            )
            if self.role == "worker":
                workeroutput: dict[str, Any] = self.config.workeroutput  # type: ignore[attr-defined]
                workeroutput["aot_parity"] = {
                    "targets": list(self.totals.targets),
                    "exited": exited,
                    "outside": outside,
                }
            else:
                self.totals.exited.extend(exited)
                if outside is not None:
                    self.totals.add_payload(None, outside)
            new_outside = [d for d in (outside or {}).get("divergences", ()) if not d.get("known")]
            if new_outside and session.exitstatus == pytest.ExitCode.OK:
                session.exitstatus = pytest.ExitCode.TESTS_FAILED
        # -- aot-parity verdict (report/verdict.py): warnings, trade-offs, baseline, HTML --
        if self.aggregates:
            sections = self.gate.finish(self.totals)
            document = build_report(
                self.totals, settings=self.settings_record(), extra_sections=sections
            )
            if self.settings.report_path is not None:
                write_report(self.settings.report_path, document)
            self.gate.write_html(document)
        # -- end of aot-parity verdict --
        self.shutdown()

    def settings_record(self) -> dict[str, Any]:
        s = self.settings
        return {
            "jit": f"{s.jit.kind}:{s.jit.value}" if s.jit else None,
            "aot": f"{s.aot.kind}:{s.aot.value}" if s.aot else None,
            "noise": ("auto" if s.noise_auto else f"{s.noise.kind}:{s.noise.value}")
            if s.noise
            else None,
            "headers": list(s.headers),
            "ignore_paths": list(s.ignore_paths),
            "ignore_headers": list(s.ignore_headers),
            "ignore_order": s.ignore_order,
            "default_noise": s.default_noise,
            "app_url": s.app_url,
            "base_url_env": s.base_url_env,
        }

    @pytest.hookimpl
    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self.aggregates:
            return
        terminalreporter.section("aot-parity")
        for line in self.gate.head_lines():  # the verdict and the findings first
            terminalreporter.write_line(line)
        findings = self.gate.result.findings if self.gate.result is not None else []
        for line in self.totals.render_lines(grouped=bool(findings)):
            terminalreporter.write_line(line)
        for line in self.gate.summary_lines():  # aot-parity verdict: verdict, trade-offs, ...
            terminalreporter.write_line(line)

    def shutdown(self) -> None:
        """Unpatch httpx, stop every target, restore the environment. Idempotent."""
        if self._shut_down:
            return
        self._shut_down = True
        mirror, self.mirror = self.mirror, None
        sender, self.sender = self.sender, None
        try:
            if mirror is not None:
                mirror.uninstall()
            if sender is not None:
                sender.close()
        finally:
            try:
                if self.targets:
                    report = stop_targets(self.targets.values())
                    if not report:
                        self._write_line(report.render())
            finally:
                if self.cleanup is not None:
                    self.cleanup.unregister()
                    self.cleanup = None
                self._restore_env()
