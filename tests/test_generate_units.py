"""Unit tests of request generation (pytest_aotparity.generate): no builds, no network."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from pytest_aotparity.diff.model import Category, Difference, DiffKind, Divergence
from pytest_aotparity.exchange import Exchange, RecordedRequest, RecordedResponse
from pytest_aotparity.generate.document import (
    DocumentError,
    diff_documents,
    document_category,
    operation_changes,
    parse_document,
)
from pytest_aotparity.generate.options import PathValueRule, parse_path_value_rule
from pytest_aotparity.generate.plan import (
    operation_plans,
    required_body_members,
    resources,
    template_pattern,
)
from pytest_aotparity.generate.runner import (
    GeneratedDivergence,
    Observations,
    Step,
    collect_failures,
    divergence_error,
    finish,
    shortest_sequences,
)
from pytest_aotparity.generate.stateful import created_key
from pytest_aotparity.generate.values import (
    field_candidates,
    harvest_field,
    parent_paths,
    scalar_values,
    value_sources,
)
from pytest_aotparity.jsonpath import problem as json_path_problem
from pytest_aotparity.jsonpath import select

PLAYER = {
    "type": "object",
    "required": ["squadNumber", "firstName"],
    "properties": {
        "squadNumber": {"type": "integer", "minimum": 1, "maximum": 99},
        "firstName": {"type": "string", "minLength": 1},
        "team": {"type": ["string", "null"]},
        "league": {"type": ["string", "null"]},
    },
}


def document() -> dict[str, Any]:
    body = {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Player"}}},
    }
    param = {"name": "squadNumber", "in": "path", "required": True, "schema": {"type": "integer"}}
    ok = {"200": {"description": "OK"}}
    return {
        "openapi": "3.0.3",
        "info": {"title": "players", "version": "1"},
        "servers": [{"url": "http://localhost:5000"}],
        "paths": {
            "/players": {
                "post": {"operationId": "Create", "requestBody": body, "responses": ok},
                "get": {"operationId": "List", "tags": ["Players"], "responses": ok},
            },
            "/players/{squadNumber}": {
                "delete": {"parameters": [param], "responses": ok},
                "put": {"parameters": [param], "requestBody": body, "responses": ok},
                "get": {"operationId": "Get", "parameters": [param], "responses": ok},
            },
            "/players/by-id/{playerId}": {
                "get": {
                    "parameters": [
                        {"name": "playerId", "in": "path", "required": True, "schema": {}}
                    ],
                    "responses": ok,
                }
            },
            "/players/{squadNumber}/stats": {"get": {"parameters": [param], "responses": ok}},
        },
        "components": {"schemas": {"Player": PLAYER}},
    }


# -- values ------------------------------------------------------------------------------


def test_select_follows_json_paths() -> None:
    data = {"items": [{"id": "a", "n": 1}, {"id": "b", "n": 2}], "meta": {"id": "m"}}
    assert select(data, "$.items[*].id") == ["a", "b"]
    assert select(data, "$.items[1].n") == [2]
    assert sorted(select(data, "$..id")) == ["a", "b", "m"]
    assert select(data, "$['meta'].id") == ["m"]
    assert select([{"x": 1}, {"x": 2}], "$[*].x") == [1, 2]
    assert select(data, "$.missing[*].id") == []


def test_json_path_problem_names_the_fix() -> None:
    assert json_path_problem("$[*].squadNumber") is None
    assert json_path_problem("$.items[*]..id") is None
    assert "starts with $" in (json_path_problem("items[*].id") or "")
    assert "segments" in (json_path_problem("$.items[") or "")


def test_scalar_values_keep_strings_and_ints_once_in_order() -> None:
    assert scalar_values([3, "a", 3, True, 1.5, None, "", {"x": 1}, "b"]) == (3, "a", "b")
    assert scalar_values(range(100), limit=3) == (0, 1, 2)


def test_field_candidates_match_spellings_and_ids() -> None:
    assert field_candidates("squad_number") == ["squadnumber"]
    assert field_candidates("playerId") == ["playerid", "id"]
    assert field_candidates("id") == ["id"]


def test_harvest_field_from_a_list_or_an_envelope() -> None:
    players = [{"squadNumber": 10, "id": "x"}, {"squadNumber": 7, "id": "y"}]
    assert harvest_field(players, "squad_number") == ("$[*].squadNumber", (10, 7))
    assert harvest_field(players, "playerId") == ("$[*].id", ("x", "y"))
    assert harvest_field({"items": players, "total": 2}, "squadNumber") == (
        "$.items[*].squadNumber",
        (10, 7),
    )
    assert harvest_field(players, "season") is None
    assert harvest_field({"ok": True}, "id") is None


def test_parent_paths_nearest_first() -> None:
    assert parent_paths("/players/by-id") == ["/players"]
    assert parent_paths("/a/b/c") == ["/a/b", "/a"]


def test_value_sources_find_the_parent_list_or_use_the_rule() -> None:
    listed = ["/players", "/health"]
    sources = value_sources("/players/{squadNumber}/stats", ["squadNumber"], listed)
    assert sources["squadNumber"].path == "/players"
    assert sources["squadNumber"].json_path is None
    by_id = value_sources("/players/by-id/{playerId}", ["playerId"], listed)
    assert by_id["playerId"].path == "/players"
    assert value_sources("/teams/{team}/players/{n}", ["team", "n"], listed) == {}
    rule = PathValueRule("squad_number", "/squad", "$.players[*].number")
    configured = value_sources("/players/{squadNumber}", ["squadNumber"], listed, [rule])
    assert configured["squadNumber"].path == "/squad"
    assert configured["squadNumber"].json_path == "$.players[*].number"
    assert configured["squadNumber"].configured


# -- options -----------------------------------------------------------------------------


def test_parse_path_value_rule() -> None:
    rule = parse_path_value_rule("squadNumber=/players:$[*].squadNumber")
    assert rule == PathValueRule("squadNumber", "/players", "$[*].squadNumber")
    assert parse_path_value_rule(" {id} = /v1/orders:$.items[*].id ").path == "/v1/orders"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("squadNumber", "does not start with a parameter name"),
        ("squadNumber=/players", "no ':$...' JSON path"),
        ("squadNumber=players:$[*].squadNumber", "not a path on the app"),
        ("squadNumber=/players/{n}:$[*].x", "not a path on the app"),
        ("squadNumber=/players:$[*", "segments"),
    ],
)
def test_parse_path_value_rule_says_how_to_write_it(raw: str, message: str) -> None:
    with pytest.raises(pytest.UsageError) as info:
        parse_path_value_rule(raw)
    text = str(info.value)
    assert message in text
    assert "--aot-parity-path-values" in text
    assert "squadNumber=/players:$[*].squadNumber" in text


# -- the document ------------------------------------------------------------------------


def test_parse_document_accepts_json_and_yaml_and_rejects_the_rest() -> None:
    assert parse_document(json.dumps(document()).encode())["openapi"] == "3.0.3"
    assert parse_document(b"openapi: 3.1.0\npaths: {}\n")["openapi"] == "3.1.0"
    with pytest.raises(DocumentError, match="no 'openapi'"):
        parse_document(b'{"hello": 1}')
    with pytest.raises(DocumentError, match="not valid JSON"):
        parse_document(b"<html>", "application/json")


def test_identical_documents_except_servers_do_not_differ() -> None:
    jit = document()
    aot = copy.deepcopy(jit)
    aot["servers"] = [{"url": "http://localhost:5001"}]
    assert diff_documents(jit, aot) == []


def test_a_vanished_operation_is_one_missing_difference() -> None:
    jit = document()
    aot = copy.deepcopy(jit)
    del aot["paths"]["/players/{squadNumber}/stats"]
    del aot["paths"]["/players"]["post"]
    differences = diff_documents(jit, aot)
    assert {d.path for d in differences} == {
        "$.paths['/players/{squadNumber}/stats']",
        "$.paths['/players'].post",
    }
    assert all(d.kind is DiffKind.MISSING and d.aot is None for d in differences)
    assert document_category(differences) is Category.API_DESCRIPTION_DIFFERS
    changes = {(c.method, c.path) for c in operation_changes(jit, aot)}
    assert changes == {("GET", "/players/{squadNumber}/stats"), ("POST", "/players")}


def test_changed_parameters_and_schemas_are_named_precisely() -> None:
    jit = document()
    aot = copy.deepcopy(jit)
    get = aot["paths"]["/players/{squadNumber}"]["get"]
    get["parameters"] = [{**get["parameters"][0], "schema": {"type": "string"}}]
    aot["components"]["schemas"]["Player"]["required"] = ["firstName", "squadNumber"]
    del aot["components"]["schemas"]["Player"]["properties"]["team"]
    differences = {d.path: d for d in diff_documents(jit, aot)}
    param = "$.paths['/players/{squadNumber}'].get.parameters[?path:squadNumber].schema.type"
    assert differences[param].kind is DiffKind.VALUE
    assert (differences[param].jit, differences[param].aot) == ("integer", "string")
    team = "$.components.schemas.Player.properties.team"
    assert differences[team].kind is DiffKind.MISSING
    # `required` is a set: the same names in another order are not a difference
    assert not any("required" in path for path in differences)


# -- plans -------------------------------------------------------------------------------


def test_operation_plans_put_reads_first_and_deletes_last() -> None:
    labels = [plan.label for plan in operation_plans(document())]
    assert labels == [
        "GET /players",
        "GET /players/{squadNumber}",
        "GET /players/by-id/{playerId}",
        "GET /players/{squadNumber}/stats",
        "POST /players",
        "PUT /players/{squadNumber}",
        "DELETE /players/{squadNumber}",
    ]
    safe = [plan.label for plan in operation_plans(document(), safe_only=True)]
    assert all(label.startswith("GET ") for label in safe)
    get = next(p for p in operation_plans(document()) if p.label == "GET /players/{squadNumber}")
    assert get.operation_id == "Get"
    assert get.sources["squadNumber"].path == "/players"


def test_resources_pair_a_create_with_its_item_path() -> None:
    found = resources(document())
    assert len(found) == 1
    resource = found[0]
    assert (resource.collection, resource.item, resource.param) == (
        "/players",
        "/players/{squadNumber}",
        "squadNumber",
    )
    assert resource.methods == frozenset({"GET", "PUT", "DELETE"})


def test_required_body_members_follow_refs() -> None:
    assert required_body_members(document(), "/players", "POST") == {"squadNumber", "firstName"}
    assert required_body_members(document(), "/players", "GET") == frozenset()


def test_template_pattern_matches_one_segment_per_parameter() -> None:
    pattern = template_pattern("/players/{squadNumber}")
    assert pattern.match("/players/10")
    assert pattern.match("/players/10/")
    assert not pattern.match("/players/10/stats")
    assert not pattern.match("/teams/10")


# -- cases (schemathesis) ----------------------------------------------------------------


def test_coverage_cases_put_the_least_severe_violation_first() -> None:
    import schemathesis

    from pytest_aotparity.generate.cases import (
        case_to_request,
        coverage_cases,
        mode_name,
        severity,
    )

    schema = schemathesis.openapi.from_dict(document())
    cases = coverage_cases(schema["/players"]["POST"])
    severities = [severity(case) for case in cases]
    assert severities == sorted(severities)
    assert {case.method.upper() for case in cases} == {"POST"}
    first_negative = next(case for case in cases if mode_name(case) == "negative")
    assert severity(first_negative) == 1
    assert first_negative.body["squadNumber"] in (0, 100)
    request = case_to_request(first_negative)
    assert request.method == "POST"
    assert request.path == "/players"
    assert request.path_template == "/players"
    assert json.loads(request.body) == first_negative.body
    names = {k.lower() for k, _ in request.headers}
    assert "content-type" in names
    assert "x-schemathesis-testcaseid" not in names
    assert "user-agent" not in names


def test_case_to_request_quotes_path_values() -> None:
    import schemathesis

    from pytest_aotparity.generate.cases import case_to_request, with_real_values_cycled

    schema = schemathesis.openapi.from_dict(document())
    case = schema["/players/by-id/{playerId}"]["GET"].Case(path_parameters={"playerId": "x"})
    [real] = with_real_values_cycled([case], {"playerId": ["a b/c"]})
    assert case_to_request(real).path == "/players/by-id/a%20b%2Fc"
    assert case.path_parameters == {"playerId": "x"}  # the original is not changed


# -- outcomes ----------------------------------------------------------------------------


def exchange(body: bytes, jit: int, aot: int, aot_location: str | None = None) -> Exchange:
    headers = (("location", aot_location),) if aot_location else ()
    return Exchange(
        request=RecordedRequest("POST", "/players", body=body, path_template="/players"),
        jit=RecordedResponse("jit", jit),
        aot=RecordedResponse("aot", aot, headers=headers),
        origin="generated",
    )


def divergence(ex: Exchange, category: Category = Category.VALIDATOR_BYPASSED) -> Divergence:
    return Divergence(
        exchange=ex,
        differences=[Difference("status", DiffKind.STATUS, ex.jit.status, ex.aot.status)],
        category=category,
    )


def test_finish_shows_the_first_answers_to_the_minimal_request() -> None:
    observations = Observations()
    first = divergence(exchange(b'{"squadNumber":100}', 400, 201))
    again = divergence(exchange(b'{"squadNumber":100}', 400, 409), Category.STATUS_DIFFERS)
    observations.note(first.exchange, first, 0, "negative")
    observations.note(again.exchange, again, 0, "negative")
    [found] = finish([divergence_error(again)], observations, flaky=False)
    assert found.divergence is first
    assert found.replaced_by_first
    assert found.times_sent == 2
    assert found.mode == "negative"
    assert observations.negative == 2
    same = divergence(exchange(b'{"squadNumber":100}', 400, 201))
    [found] = finish([divergence_error(same)], observations, flaky=False)
    assert not found.replaced_by_first


def test_each_category_is_its_own_exception_type() -> None:
    a = divergence_error(divergence(exchange(b"", 400, 201)))
    b = divergence_error(divergence(exchange(b"", 200, 500), Category.AOT_FAILURE))
    assert isinstance(a, GeneratedDivergence)
    assert isinstance(a, AssertionError)
    assert type(a) is not type(b)


def test_collect_failures_flattens_groups_and_reraises_other_errors() -> None:
    from hypothesis.errors import FlakyFailure

    a = divergence_error(divergence(exchange(b"", 400, 201)))
    b = divergence_error(divergence(exchange(b"", 200, 500), Category.AOT_FAILURE))
    found, flaky = collect_failures(ExceptionGroup("two bugs", [a, b]))
    assert found == [a, b]
    assert not flaky
    found, flaky = collect_failures(FlakyFailure("flaky", [a]))
    assert found == [a]
    assert flaky
    boom = ExceptionGroup("mixed", [a, RuntimeError("bug in a hook")])
    with pytest.raises(ExceptionGroup):
        collect_failures(boom)


def test_shortest_sequence_per_category() -> None:
    long = [Step(RecordedRequest("GET", "/x"), None, 200, 200)] * 4
    short = long[:2]
    d = divergence(exchange(b"", 200, 200), Category.BEHAVIOUR_DIFFERS)
    [only] = shortest_sequences([(long, d), (short, d)])
    assert len(only.steps) == 2


def test_created_key_from_location_answer_or_request() -> None:
    from pytest_aotparity.generate.plan import Resource

    resource = Resource("/players", "/players/{squadNumber}", "squadNumber", frozenset({"GET"}))
    ex = Exchange(
        request=RecordedRequest("POST", "/players", body=b'{"squadNumber": 5}'),
        jit=RecordedResponse("jit", 201, headers=(("Location", "/players/77"),)),
        aot=RecordedResponse("aot", 201),
    )
    assert created_key(resource, ex) == "77"
    ex.jit = RecordedResponse("jit", 201, body=b'{"squadNumber": 12}')
    assert created_key(resource, ex) == "12"
    ex.jit = RecordedResponse("jit", 409, body=b'{"squadNumber": 12}')
    assert created_key(resource, ex) == "5"
    ex.jit = RecordedResponse("jit", 201, headers=(("Location", "http://h:1/players/a%20b"),))
    assert created_key(resource, ex) == "a b"


# -- shortening a divergent sequence -----------------------------------------------------


class TwoStores:
    """Two in-memory builds of a collection keyed by generated ids (``/things/{id}``): the
    aot one ignores ``league`` on updates. What a :class:`StatefulContext` sends lands here."""

    def __init__(self) -> None:
        self.stores: dict[str, dict[str, dict[str, Any]]] = {"jit": {}, "aot": {}}
        self.counter = 100  # ids the replays get differ from those of the steps
        self.ids: dict[str, str] = {}  # jit id -> aot id
        self.sent: list[tuple[str, str]] = []

    def answer(self, build: str, request: RecordedRequest) -> RecordedResponse:
        store = self.stores[build]
        if request.method == "POST":
            self.counter += 1
            new = f"{build}-{self.counter}"
            store[new] = json.loads(request.body)
            return RecordedResponse(build, 201, headers=(("Location", f"/things/{new}"),))
        key = request.path.rsplit("/", 1)[-1]
        if key not in store:
            return RecordedResponse(build, 404)
        if request.method == "GET":
            return RecordedResponse(build, 200, body=json.dumps(store[key]).encode())
        if request.method == "PUT":
            changes = json.loads(request.body)
            if build == "aot":
                changes.pop("league", None)
            store[key].update(changes)
            return RecordedResponse(build, 204)
        del store[key]
        return RecordedResponse(build, 204)

    def send(self, request: RecordedRequest, rule: str) -> tuple[Exchange, Divergence | None]:
        self.sent.append((request.method, request.path))
        aot_path = request.path
        for jit_id, aot_id in self.ids.items():
            aot_path = aot_path.replace(jit_id, aot_id)
        aot_request = RecordedRequest(
            request.method, aot_path, body=request.body, path_template=request.path_template
        )
        jit, aot = self.answer("jit", request), self.answer("aot", aot_request)
        if request.method == "POST" and jit.status == aot.status == 201:
            self.ids[jit.header("location").rsplit("/", 1)[-1]] = aot.header("location").rsplit(
                "/", 1
            )[-1]
        ex = Exchange(request=request, jit=jit, aot=aot, aot_request=aot_request)
        if jit.body != aot.body and request.method == "GET":
            diff = Difference("$.league", DiffKind.VALUE, "b", "a")
            return ex, Divergence(ex, [diff], Category.BEHAVIOUR_DIFFERS)
        return ex, None


def things_context() -> tuple[TwoStores, Any]:
    """Two in-memory builds and a stateful context that sends to them."""
    from pytest_aotparity.generate.plan import Resource
    from pytest_aotparity.generate.stateful import StatefulContext

    things = Resource("/things", "/things/{id}", "id", frozenset({"GET", "PUT", "DELETE"}))
    builds = TwoStores()
    context = StatefulContext(
        resources=[things],
        strategies={},
        send=builds.send,
        to_request=lambda case: case,
        cleanup=lambda request: builds.send(request, "cleanup") and None,
    )
    return builds, context


def test_shorten_drops_create_delete_pairs_hypothesis_cannot() -> None:
    from pytest_aotparity.generate.stateful import replay, shorten

    builds, context = things_context()
    body = json.dumps({"name": "x", "league": "a"}).encode()

    def step(method: str, path: str, payload: bytes = b"", key: str | None = None) -> Step:
        template = "/things" if method == "POST" else "/things/{id}"
        request = RecordedRequest(method, path, body=payload, path_template=template)
        return Step(request, None, None, None, rule=f"{method} {template}", key=key)

    # What hypothesis left: a create, its read and a delete, twice, before the update whose
    # effect the final read shows. The ids are those the jit build gave the first time.
    update = json.dumps({"league": "b"}).encode()
    original = [
        step("POST", "/things", body, key="jit-1"),
        step("GET", "/things/jit-1"),
        step("DELETE", "/things/jit-1"),
        step("POST", "/things", body, key="jit-3"),
        step("GET", "/things/jit-3"),
        step("DELETE", "/things/jit-3"),
        step("POST", "/things", body, key="jit-5"),
        step("PUT", "/things/jit-5", update),
        step("GET", "/things/jit-5"),
    ]
    sent, found = replay(context, original)
    assert found is not None
    assert len(sent) == len(original)
    # a replay's creates get new ids: later steps are sent with them
    assert sent[-1].request.path == f"/things/{sent[6].key}" != "/things/jit-5"

    d = Divergence(found.exchange, found.differences, Category.BEHAVIOUR_DIFFERS)
    short = shorten(context, divergence_error(d, original))
    assert [(s.request.method, s.request.path_template) for s in short.steps] == [
        ("POST", "/things"),
        ("PUT", "/things/{id}"),
        ("GET", "/things/{id}"),
    ]
    assert short.divergence.category is Category.BEHAVIOUR_DIFFERS
    assert context.replays > 0
    # every replay cleaned up after itself: both builds are empty again
    assert builds.stores == {"jit": {}, "aot": {}}


def test_shorten_keeps_a_sequence_that_needs_every_step() -> None:
    from pytest_aotparity.generate.stateful import shorten

    builds, context = things_context()
    create = RecordedRequest("POST", "/things", body=b'{"league": "a"}', path_template="/things")
    put = RecordedRequest("PUT", "/things/jit-1", b'{"league": "b"}', path_template="/things/{id}")
    get = RecordedRequest("GET", "/things/jit-1", path_template="/things/{id}")
    steps = [
        Step(create, None, 201, 201, key="jit-1"),
        Step(put, None, 204, 204),
        Step(get, None, 200, 200),
    ]
    ex = Exchange(request=get, jit=RecordedResponse("jit", 200), aot=RecordedResponse("aot", 200))
    league = Difference("$.league", DiffKind.VALUE, "b", "a")
    failure = divergence_error(Divergence(ex, [league], Category.BEHAVIOUR_DIFFERS), steps)
    assert shorten(context, failure) is failure
    assert builds.stores == {"jit": {}, "aot": {}}


# -- sending a pair ------------------------------------------------------------------------


def test_pair_sender_asks_every_build_and_records_a_refusal(ok_server: str) -> None:
    import socket

    from pytest_aotparity.transport.pair import Build, PairSender

    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        refusing = f"http://127.0.0.1:{closed.getsockname()[1]}"  # bound, never listening
        sender = PairSender(
            Build("jit", ok_server), [Build("aot", refusing), Build("noise", ok_server)]
        )
        try:
            for _ in range(3):  # the kept-alive connections are used again
                exchange = sender.send(RecordedRequest("GET", "/players", path_template="/players"))
                assert exchange.jit.status == 200
                assert exchange.jit.body == b'{"ok":true}'
                assert exchange.noise is not None
                assert exchange.noise.status == 200
                assert exchange.aot.status is None
                assert exchange.aot.error is not None
                assert exchange.aot.error.startswith("connection refused")
                assert exchange.jit.elapsed_ms > 0
        finally:
            sender.close()
