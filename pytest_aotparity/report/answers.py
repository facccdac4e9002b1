"""The spike's questions, answered from a run's findings, warnings and totals.

A team adopting Native AOT asks four things before it decides: does the AOT publish succeed
without blocking warnings, do the tests pass against the AOT binary, is the build time
acceptable, and do the mappers and validators work at run time. Each answer here is one line
with its evidence, or "not measured" with how to measure it; nothing is guessed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

LIBRARIES: dict[str, tuple[str, ...]] = {
    "AutoMapper": ("reflection-mapping",),
    "Mapster": ("reflection-mapping",),
    "FluentValidation": ("explicit-validators",),
    "System.Text.Json": ("json-serializer-context", "serializer-options"),
}
"""Libraries the answers name, and the fix hints whose findings they are answerable by."""


def _ids(findings: Sequence[Mapping[str, Any]]) -> str:
    return ", ".join(str(f.get("id")) for f in findings)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _warnings_answer(
    findings: Sequence[Mapping[str, Any]], warnings: Mapping[str, Any] | None
) -> dict[str, Any]:
    question = "Does the AOT publish succeed without blocking warnings?"
    if warnings is None:
        return {
            "question": question,
            "answer": "not measured: give the AOT publish log (or its warnings as JSON) with "
            "--aot-parity-warnings",
            "evidence": None,
        }
    by_code = [
        (str(c.get("code")), int(c.get("count") or 0)) for c in warnings.get("by_code") or ()
    ]
    by_code.sort(key=lambda kv: (-kv[1], kv[0]))
    started = [f for f in findings if f.get("kind") == "start"]
    causes = [f for f in findings if f.get("kind") != "start"]
    linked = [f for f in causes if f.get("warnings")]
    unpredicted = [f for f in causes if not f.get("warnings")]
    total = int(warnings.get("count") or 0)
    codes = ", ".join(f"{code} ×{n}" for code, n in by_code[:6])
    answer = f"{_plural(total, 'trim/AOT warning')}" + (f" ({codes})" if codes else "")
    if started:
        failed = started[0]
        answer += (
            f"; the AOT build could not be started ({failed.get('id')}), "
            f"{_plural(len(failed.get('warnings') or ()), 'warning')} linked to its failure"
        )
    elif causes:
        answer += f"; {len(linked)} of {_plural(len(causes), 'finding')} linked to them"
        if unpredicted:
            answer += f"; predicted by no warning: {_ids(unpredicted)}"
    elif total:
        answer += "; none of them showed at run time on the requests compared"
    return {
        "question": question,
        "answer": answer,
        "evidence": {
            "by_code": dict(by_code),
            "findings_linked": [f.get("id") for f in linked],
            "findings_unpredicted": [f.get("id") for f in unpredicted],
        },
    }


def _tests_answer(
    findings: Sequence[Mapping[str, Any]], summary: Mapping[str, Any]
) -> dict[str, Any]:
    question = "Do the tests pass against the AOT build?"
    mirrored = int(summary.get("tests_mirrored") or 0)
    diverged = int(summary.get("tests_diverged") or 0)
    per_test: dict[str, list[str]] = {}
    for finding in findings:
        for nodeid in finding.get("tests") or ():
            per_test.setdefault(str(nodeid), []).append(str(finding.get("id")))
    if not mirrored and not diverged:
        answer = "not measured: no test's requests were compared"
    elif diverged:
        answer = (
            f"{diverged} of {_plural(max(mirrored, diverged), 'test')} got different answers "
            "from the AOT build (each fails with the pair of answers)"
        )
    else:
        answer = f"every one of {_plural(mirrored, 'test')} got the same answers from both builds"
    return {
        "question": question,
        "answer": answer,
        "evidence": {"tests_compared": mirrored, "tests_diverged": diverged, "tests": per_test},
    }


def _build_time_answer(tradeoffs: Mapping[str, Any]) -> dict[str, Any]:
    question = "Is the build time acceptable?"
    figures = {str(f.get("figure")): f for f in tradeoffs.get("figures") or ()}
    publish = figures.get("publish_seconds")
    if publish is not None:
        return {
            "question": question,
            "answer": f"publish took {publish.get('jit')} s (JIT) and {publish.get('aot')} s (AOT)",
            "evidence": dict(publish),
        }
    return {
        "question": question,
        "answer": "not measured: the plugin starts built images; time the two "
        "`dotnet publish` runs in the build (sample_app/build.sh prints them)",
        "evidence": None,
    }


def _libraries_answer(
    findings: Sequence[Mapping[str, Any]], warnings: Mapping[str, Any] | None
) -> dict[str, Any]:
    question = "Do the mappers and validators work at run time?"
    started = [f for f in findings if f.get("kind") == "start"]
    if started:
        return {
            "question": question,
            "answer": f"not measured: the builds could not be started ({started[0].get('id')})",
            "evidence": None,
        }
    warned = set((warnings or {}).get("by_library") or {})
    lines: dict[str, str] = {}
    for library, hints in LIBRARIES.items():
        hit = [
            f
            for f in findings
            if ((f.get("fix") or {}).get("id") in hints)
            and (
                library == "System.Text.Json"
                or any(
                    library in f"{w.get('type')} {w.get('member')}" for w in f.get("warnings") or ()
                )
                or any(library in str(line) for line in f.get("aot_log") or ())
            )
        ]
        root = library.split(".", 1)[0]
        if hit:
            if library == "FluentValidation":
                operations = {
                    e["endpoint"]
                    for f in hit
                    if f.get("kind") == "validator"
                    for e in f.get("endpoints") or ()
                }
                lines[library] = (
                    f"the validators did not run on AOT — {_plural(len(operations), 'operation')} "
                    f"accepted what JIT rejected ({_ids(hit)})"
                )
            elif library == "System.Text.Json":
                lines[library] = f"serialization differs or fails on AOT ({_ids(hit)})"
            else:
                lines[library] = f"mapping does not work on AOT ({_ids(hit)})"
        elif root in warned or library in warned:
            lines[library] = "warned at publish, no divergence on the requests compared"
    if not lines:
        answer = (
            "no mapper or validator recognised (from the publish warnings and the findings)"
            if warnings is not None
            else "not measured: give --aot-parity-warnings to recognise the libraries"
        )
    else:
        answer = "; ".join(f"{name}: {text}" for name, text in lines.items())
    return {"question": question, "answer": answer, "evidence": lines}


def spike_answers(
    findings: Sequence[Mapping[str, Any]],
    *,
    warnings: Mapping[str, Any] | None,
    summary: Mapping[str, Any],
    tradeoffs: Mapping[str, Any],
) -> list[dict[str, Any]]:
    """The four answers, in the spike's order."""
    return [
        _warnings_answer(findings, warnings),
        _tests_answer(findings, summary),
        _build_time_answer(tradeoffs),
        _libraries_answer(findings, warnings),
    ]


def render_answers(answers: Sequence[Mapping[str, Any]]) -> list[str]:
    lines = ["the spike's questions:"]
    lines.extend(f"  {a.get('question')} {a.get('answer')}" for a in answers)
    return lines
