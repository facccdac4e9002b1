"""The plugin core's pure parts: id lockstep, origin matching, route templates, JSON paths,
the summary and the report document."""

from __future__ import annotations

import json
import subprocess
import sys

import httpx
import jsonschema
import pytest

from pytest_aotparity.config import validate_json_paths
from pytest_aotparity.diff.model import Category, Difference, DiffKind, Divergence
from pytest_aotparity.endpoints import infer_template
from pytest_aotparity.exchange import Exchange, RecordedRequest, RecordedResponse
from pytest_aotparity.jsonpath import problem as json_path_problem
from pytest_aotparity.replay.mirror import origin_key
from pytest_aotparity.report.json_report import (
    build_report,
    divergence_record,
    jsonable,
    load_schema,
    write_report,
)
from pytest_aotparity.report.summary import ParityTotals
from pytest_aotparity.transport.idmap import (
    IdMap,
    is_create,
    location_ids,
    rewrite_json_body,
    rewrite_path,
)

JIT_ID = "3f2b8a9e-0000-4000-8000-000000000001"
AOT_ID = "9c1d7e55-0000-4000-8000-000000000002"


# -- id lockstep --------------------------------------------------------------------------


def test_rewrite_path_segments_and_query_values() -> None:
    mapping = {JIT_ID: AOT_ID}
    assert rewrite_path(f"/players/by-id/{JIT_ID}", mapping) == f"/players/by-id/{AOT_ID}"
    assert rewrite_path(f"/players?id={JIT_ID}&x=1", mapping) == f"/players?id={AOT_ID}&x=1"
    assert rewrite_path(f"/players/{JIT_ID}x", mapping) == f"/players/{JIT_ID}x"
    assert rewrite_path("/players/7", mapping) == "/players/7"


def test_rewrite_json_body_nested_values_only_where_equal() -> None:
    body = json.dumps(
        {"playerId": JIT_ID, "note": f"about {JIT_ID}", "ids": [JIT_ID, "other"], "n": 5}
    ).encode()
    out = json.loads(rewrite_json_body(body, {JIT_ID: AOT_ID}))
    assert out == {"playerId": AOT_ID, "note": f"about {JIT_ID}", "ids": [AOT_ID, "other"], "n": 5}
    assert rewrite_json_body(b"not json " + JIT_ID.encode(), {JIT_ID: AOT_ID}).startswith(b"not")


def test_numeric_ids_stay_numbers() -> None:
    assert json.loads(rewrite_json_body(b'{"ownerId": 41}', {"41": "42"})) == {"ownerId": 42}


def test_idmap_rewrites_request_and_fixes_content_length() -> None:
    ids = IdMap("aot")
    assert ids.learn({JIT_ID: AOT_ID, "same": "same", "": "x"}) == {JIT_ID: AOT_ID}
    body = json.dumps({"id": JIT_ID}).encode()
    request = RecordedRequest(
        "PUT",
        f"/players/by-id/{JIT_ID}",
        headers=(("content-type", "application/json"), ("content-length", str(len(body)))),
        body=body,
    )
    rewritten = ids.rewrite(request)
    assert rewritten.path == f"/players/by-id/{AOT_ID}"
    assert json.loads(rewritten.body) == {"id": AOT_ID}
    assert rewritten.header("content-length") == str(len(rewritten.body))
    untouched = RecordedRequest("GET", "/players/7")
    assert ids.rewrite(untouched) is untouched


def test_location_ids_and_create_detection() -> None:
    assert location_ids(f"/players/{JIT_ID}", f"http://h:1/players/{AOT_ID}") == {JIT_ID: AOT_ID}
    assert location_ids("/players/7", "/players/7") == {}
    request = RecordedRequest("POST", "/players")
    assert is_create(request, RecordedResponse("jit", 400))
    assert is_create(RecordedRequest("PUT", "/x"), RecordedResponse("jit", 201))
    assert is_create(
        RecordedRequest("PUT", "/x"), RecordedResponse("jit", 200, headers=(("Location", "/x/1"),))
    )
    assert not is_create(RecordedRequest("GET", "/x"), RecordedResponse("jit", 200))


# -- routing ---------------------------------------------------------------------------------


def test_origin_key_folds_loopback_and_default_ports() -> None:
    assert origin_key("http://localhost:5000") == origin_key(httpx.URL("http://127.0.0.1:5000/x"))
    assert origin_key("http://[::1]:5000") == origin_key("http://127.0.0.1:5000")
    assert origin_key("https://api.example") == ("https", "api.example", 443)
    assert origin_key("http://127.0.0.1:5000") != origin_key("http://127.0.0.1:5001")


# -- templates and paths ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "template"),
    [
        ("/players/7", "/players/{id}"),
        ("/players/7/stats?x=1", "/players/{id}/stats"),
        (f"/players/by-id/{JIT_ID}", "/players/by-id/{id}"),
        ("/players/by-id/65f1c0ffee0123456789abcd", "/players/by-id/{id}"),
        ("/players", "/players"),
        ("/", "/"),
    ],
)
def test_infer_template(path: str, template: str) -> None:
    assert infer_template(path) == template


def test_infer_template_uses_learned_ids() -> None:
    assert infer_template("/teams/arsenal-fc", {"arsenal-fc"}) == "/teams/{id}"


@pytest.mark.parametrize(
    "path", ["$", "$.a", "$.items[*].id", "$..requestId", "$['odd key'].x", "$[0]", "$.a.*"]
)
def test_valid_json_paths(path: str) -> None:
    assert json_path_problem(path) is None


@pytest.mark.parametrize(
    ("path", "hint"),
    [
        ("requestId", "did you mean '$.requestId'"),
        ("$.items[", "not a JSON path"),
        ("$.a b", "not a JSON path"),
        ("$items", "not a JSON path"),
    ],
)
def test_invalid_json_paths(path: str, hint: str) -> None:
    problem = json_path_problem(path)
    assert problem is not None
    assert hint in problem
    with pytest.raises(pytest.UsageError, match="--where"):
        validate_json_paths([path], "--where")


# -- summary and report ---------------------------------------------------------------------


def _divergence(nodeid: str = "t.py::test_a") -> Divergence:
    request = RecordedRequest(
        "GET",
        "/players/7",
        headers=(("Authorization", "Bearer s3cret"), ("accept", "application/json")),
    )
    exchange = Exchange(
        request=request,
        jit=RecordedResponse("jit", 200, (("content-type", "application/json"),), b"{}"),
        aot=RecordedResponse("aot", 200, (("content-type", "application/json"),), b"{}"),
        nodeid=nodeid,
    )
    return Divergence(
        exchange=exchange,
        differences=[
            Difference("$.fullName", DiffKind.MISSING, "Lionel Messi", None),
            Difference("$.tags[3]", DiffKind.VALUE, b"\xff", {"a": {1, 2}}),
        ],
        category=Category.MAPPING_LOST_DATA,
        noise_cancelled=2,
    )


def _curl(request: RecordedRequest, base_url: str, redact: object) -> str:
    return f"curl -X {request.method} {base_url}{request.path}"


def test_record_redacts_and_is_jsonable() -> None:
    record = divergence_record(
        _divergence(),
        redact={"authorization"},
        jit_url="http://127.0.0.1:1",
        aot_url="http://127.0.0.1:2",
        curl=_curl,
    )
    text = json.dumps(record)
    assert "s3cret" not in text
    assert record["request"]["headers"][0] == ["Authorization", "***"]
    assert record["path_template"] == "/players/{id}"
    assert record["category"] == "mapping lost data"
    assert record["differences"][0]["kind"] == "missing field"
    assert record["differences"][1]["generic_path"] == "$.tags[*]"
    assert record["curl"] == {
        "jit": "curl -X GET http://127.0.0.1:1/players/7",
        "aot": "curl -X GET http://127.0.0.1:2/players/7",
    }


def test_jsonable_odd_values() -> None:
    assert jsonable(float("nan")) == "nan"
    assert jsonable(b"\xff").startswith("base64:")
    assert jsonable(Category.AOT_FAILURE) == "AOT failure"
    assert jsonable((1, {"a": b"x"})) == [1, {"a": "x"}]


def test_totals_group_by_endpoint_and_field() -> None:
    totals = ParityTotals(noise_instance=True)
    records = [
        divergence_record(_divergence(f"t.py::test_{i}"), redact=(), jit_url="", aot_url="")
        for i in range(3)
    ]
    totals.add_payload("t.py::test_0", {"compared": 5, "noise_filtered": 4, "divergences": records})
    totals.add_payload("t.py::test_x", {"compared": 0, "mirrored": False, "divergences": []})
    (group,) = totals.endpoints()
    assert group.endpoint == "GET /players/{id}"
    assert group.divergences == 3
    assert [(f.path, f.kind, f.count) for f in group.field_counts()] == [
        ("$.fullName", "missing field", 3),
        ("$.tags[*]", "value change", 3),
    ]
    text = "\n".join(totals.render_lines())
    assert "compared 5 requests" in text
    assert "the noise instance filtered 4 differences" in text
    assert "3 divergent responses in 3 tests" in text
    assert "GET /players/{id}  3 responses: mapping lost data x3" in text
    assert "1 test not mirrored" in text


def test_report_document_validates_against_schema(tmp_path: object) -> None:
    totals = ParityTotals()
    totals.targets.append(
        {
            "build": "jit",
            "kind": "cmd",
            "spec": "python app.py --port {port}",
            "base_url": "http://127.0.0.1:1",
            "ready_seconds": 0.5,
            "worker": None,
        }
    )
    record = divergence_record(_divergence(), redact=(), jit_url="", aot_url="", curl=_curl)
    totals.add_payload("t.py::test_a", {"compared": 1, "divergences": [record]})
    document = build_report(totals, settings={"jit": "cmd:x"}, extra_sections={"custom": {}})
    jsonschema.Draft202012Validator(load_schema()).validate(document)
    with pytest.raises(ValueError, match="already exists"):
        build_report(totals, extra_sections={"summary": {}})
    broken = json.loads(json.dumps(document))
    broken["divergences"][0]["category"] = "something else"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(load_schema()).validate(broken)


def test_write_report_is_atomic_and_creates_directories(tmp_path: pytest.TempPathFactory) -> None:
    from pathlib import Path

    target = Path(str(tmp_path)) / "deep" / "dir" / "report.json"
    write_report(target, {"a": 1})
    assert json.loads(target.read_text()) == {"a": 1}
    assert [p.name for p in target.parent.iterdir()] == ["report.json"]


# -- cost when off ---------------------------------------------------------------------------


def test_importing_the_plugin_imports_nothing_heavy() -> None:
    code = (
        "import sys, pytest_aotparity.plugin\n"
        "heavy = [m for m in ('testcontainers', 'docker', 'deepdiff', 'hypothesis', "
        "'schemathesis', 'httpx', 'pytest_aotparity.run.parity', "
        "'pytest_aotparity.diff.compare') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_record_redacts_query_and_json_body_fields_too() -> None:
    divergence = _divergence()
    body = json.dumps({"user": "x", "api_key": "k3y", "nested": [{"Authorization": "t0k"}]})
    divergence.exchange.request = RecordedRequest(
        "POST",
        "/login?api_key=k3y&page=2",
        headers=(("content-type", "application/json"), ("X-Api-Key", "k3y")),
        body=body.encode(),
    )
    record = divergence_record(
        divergence, redact={"authorization", "x-api-key", "api-key"}, jit_url="", aot_url=""
    )
    text = json.dumps(record)
    assert "k3y" not in text
    assert "t0k" not in text
    assert record["request"]["path"] == "/login?api_key=***&page=2"
    assert json.loads(record["request"]["body"])["user"] == "x"


def test_one_redaction_list_covers_requests_and_responses() -> None:
    from pytest_aotparity.diff.render import curl_command
    from pytest_aotparity.redaction import redaction_names
    from pytest_aotparity.report.verdict import _response_extra

    names = redaction_names(["X-Token"])
    assert {"set-cookie", "authorization", "proxy-authenticate", "x-token"} <= names
    response = RecordedResponse(
        "aot",
        200,
        (("Set-Cookie", "sid=1"), ("Proxy-Authenticate", "Basic"), ("X-Token", "t"), ("A", "b")),
        b"{}",
    )
    shown = dict(_response_extra(response, names)["headers"])
    assert shown == {"Set-Cookie": "***", "Proxy-Authenticate": "***", "X-Token": "***", "A": "b"}
    request = RecordedRequest("GET", "/x", headers=(("Cookie", "sid=1"), ("X-Token", "t")))
    curl = curl_command(request, "http://127.0.0.1:1", names)
    assert "sid=1" not in curl
    assert "X-Token: t" not in curl
