"""Mirroring an existing httpx suite: every client style, ids in lockstep, the fixtures, the
environment variable, the marker, rerouting a hard-coded origin, and attribution of
requests made in fixtures. Each test runs a small suite against fake players apps."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import fake_target, parity_args

# The jit flavour twice: the builds agree except for per-request noise.
AGREEING = parity_args(
    aot=fake_target("jit"),
    extra=("--aot-parity-ignore=$.requestId", "--aot-parity-ignore=$.servedAt"),
)


def test_every_httpx_style_is_mirrored(
    pytester: pytest.Pytester, players_suite: Callable[..., Path]
) -> None:
    players_suite(
        """
        import asyncio
        import http.server
        import os
        import threading

        import httpx


        def test_sync_client(client):
            response = client.get("/players/10")
            assert response.status_code == 200
            assert response.json()["fullName"] == "Lionel Andres Messi"  # the JIT answer


        def test_async_client(base_url):
            async def go():
                async with httpx.AsyncClient(base_url=base_url) as c:
                    return await c.get("/players/10")

            response = asyncio.run(go())
            assert response.json()["fullName"] == "Lionel Andres Messi"


        def test_top_level_get(base_url):
            assert httpx.get(base_url + "/players/10").json()["lastName"] == "Messi"


        def test_top_level_post(base_url, new_player):
            response = httpx.post(base_url + "/players", json={**new_player, "squadNumber": 100})
            assert response.status_code == 400


        def test_stream(client):
            with client.stream("GET", "/players/10") as response:
                assert b"Lionel Andres Messi" in response.read()


        def test_other_origins_are_untouched(aot_parity):
            class Handler(http.server.BaseHTTPRequestHandler):
                def do_GET(self):
                    self.send_response(200)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")

                def log_message(self, *args):
                    pass

            server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
            threading.Thread(target=server.serve_forever, daemon=True).start()
            try:
                url = f"http://127.0.0.1:{server.server_address[1]}/players/10"
                assert httpx.get(url).text == "ok"
            finally:
                server.shutdown()
                server.server_close()
            assert aot_parity.exchanges == []
        """
    )
    result = pytester.runpytest(*parity_args())
    result.assert_outcomes(passed=1, failed=5)
    result.stdout.fnmatch_lines(
        [
            "FAILED test_suite.py::test_sync_client - ParityFailure: GET /players/{id}: *",
            "FAILED test_suite.py::test_async_client - ParityFailure: GET /players/{id}: *",
            "FAILED test_suite.py::test_top_level_get - ParityFailure: GET /players/{id}: *",
            "FAILED test_suite.py::test_top_level_post - ParityFailure: POST /players: *",
            "FAILED test_suite.py::test_stream - ParityFailure: GET /players/{id}: *",
        ],
        consecutive=False,
    )
    assert "AOT_PARITY_BASE_URL" not in os.environ


def test_lockstep_ids_through_create_read_update_delete(
    pytester: pytest.Pytester, players_suite: Callable[..., Path]
) -> None:
    players_suite(
        """
        def test_crud(client, new_player, aot_parity):
            created = client.post("/players", json=new_player)
            assert created.status_code == 201
            player_id = created.json()["id"]

            read = client.get(f"/players/by-id/{player_id}")
            assert read.status_code == 200

            changed = {**new_player, "league": "La Liga", "team": "Girona"}
            assert client.put("/players/77", json=changed).status_code == 204
            assert client.get(f"/players/by-id/{player_id}").json()["league"] == "La Liga"
            assert client.get("/players", params={"id": player_id}).status_code == 200
            assert client.delete("/players/77").status_code == 204
            assert client.get(f"/players/by-id/{player_id}").status_code == 404

            # The other build created its own id; later requests reached it with that id.
            aot_id = aot_parity.id_map[player_id]
            assert aot_id != player_id
            exchanges = aot_parity.exchanges
            assert len(exchanges) == 7
            assert exchanges[1].aot_request.path == f"/players/by-id/{aot_id}"
            assert exchanges[4].aot_request.path == f"/players?id={aot_id}"
            assert exchanges[0].aot_request is None
            assert [e.aot.status for e in exchanges] == [e.jit.status for e in exchanges]
            assert aot_parity.divergences == []
        """
    )
    result = pytester.runpytest(*AGREEING)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        ["*compared 7 requests from 1 test on the jit and aot builds*", "*no divergence*"]
    )


def test_fixtures_and_exported_base_url(
    pytester: pytest.Pytester, players_suite: Callable[..., Path]
) -> None:
    players_suite(
        """
        import os


        def test_base_url(aot_parity_base_url, aot_parity):
            assert os.environ["API_BASE_URL"] == aot_parity_base_url == aot_parity.jit_url
            assert aot_parity_base_url.startswith("http://127.0.0.1:")
            assert set(aot_parity.targets) == {"jit", "aot"}
            assert aot_parity.aot_url != aot_parity.jit_url
            assert aot_parity.noise_url is None
            assert aot_parity.mirrored


        def test_parity_client(parity_client, aot_parity):
            assert parity_client.get("/players/1").status_code == 200
            assert [e.request.path for e in aot_parity.exchanges] == ["/players/1"]


        def test_one_build_clients(jit_client, aot_client, new_player, aot_parity):
            assert jit_client.post("/players", json=new_player).status_code == 201
            assert jit_client.get("/players/77").status_code == 200
            assert aot_client.get("/players/77").status_code == 404  # the POST was not mirrored
            assert str(aot_client.base_url).rstrip("/") == aot_parity.aot_url
            assert aot_parity.exchanges == []  # neither is mirrored nor compared
        """,
        env="API_BASE_URL",
    )
    result = pytester.runpytest(*AGREEING, "--aot-parity-base-url-env=API_BASE_URL")
    result.assert_outcomes(passed=3)
    assert "API_BASE_URL" not in os.environ


def test_marker_skip_ignore_and_ignore_order(
    pytester: pytest.Pytester, players_suite: Callable[..., Path]
) -> None:
    players_suite(
        """
        import pytest

        NOISE = ["$.requestId", "$.servedAt"]


        @pytest.mark.aot_parity(skip=True)
        def test_not_mirrored(client, aot_parity):
            assert client.get("/players/10").status_code == 200
            assert not aot_parity.mirrored
            assert aot_parity.exchanges == []


        @pytest.mark.aot_parity(ignore=["$.fullName", *NOISE])
        def test_ignored_field(client):
            assert client.get("/players/10").status_code == 200


        @pytest.mark.aot_parity(ignore=["$.fullName"])
        @pytest.mark.aot_parity(ignore=NOISE)
        def test_markers_combine(client):
            assert client.get("/players/10").status_code == 200


        @pytest.mark.aot_parity(ignore=["$[*].team"], ignore_order=True)
        def test_order_ignored(client):
            assert len(client.get("/players").json()) == 8


        @pytest.mark.aot_parity(ignore=["$[*].team"])
        def test_order_compared(client):
            assert len(client.get("/players").json()) == 8


        @pytest.mark.aot_parity(ignore=NOISE)
        def test_still_compared(client):
            assert client.get("/players/10").status_code == 200
        """
    )
    aot = fake_target("aot", "--reverse-lists")
    result = pytester.runpytest(*parity_args(aot=aot), "-rA")
    result.assert_outcomes(passed=4, failed=2)
    result.stdout.fnmatch_lines(
        [
            "*1 test not mirrored (@pytest.mark.aot_parity(skip=True))*",
            "PASSED test_suite.py::test_not_mirrored",
            "PASSED test_suite.py::test_ignored_field",
            "PASSED test_suite.py::test_markers_combine",
            "PASSED test_suite.py::test_order_ignored",
            "FAILED test_suite.py::test_order_compared - ParityFailure: GET /players: *",
            "FAILED test_suite.py::test_still_compared - ParityFailure: GET /players/{id}: *",
        ],
        consecutive=False,
    )
    failure = result.stdout.str().split("test_still_compared ___", 1)[1]
    assert "$.fullName" in failure
    assert "requestId" not in failure.split("short test summary")[0]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_hard_coded_origin_is_rerouted_and_mirrored(
    pytester: pytest.Pytester, players_suite: Callable[..., Path]
) -> None:
    port = _free_port()  # nothing listens there: only the reroute can answer
    players_suite(
        f"""
        import httpx

        APP = "http://localhost:{port}"


        def test_hard_coded(aot_parity):
            response = httpx.get(APP + "/players/10")
            assert response.json()["fullName"] == "Lionel Andres Messi"
            assert str(response.request.url) == APP + "/players/10"
            assert len(aot_parity.exchanges) == 1


        def test_hard_coded_async(aot_parity):
            import asyncio

            async def go():
                async with httpx.AsyncClient(base_url=APP) as client:
                    return await client.get("/players/1")

            assert asyncio.run(go()).json()["fullName"] == "Emiliano Martinez"
        """
    )
    result = pytester.runpytest(
        *parity_args(extra=(f"--aot-parity-app-url=http://localhost:{port}",))
    )
    # both got the JIT answer (their own assertions passed) and were mirrored (and diverged)
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        [
            "FAILED test_suite.py::test_hard_coded - ParityFailure: GET /players/{id}: *",
            "FAILED test_suite.py::test_hard_coded_async - ParityFailure: GET /players/{id}: *",
        ]
    )


def test_attribution_and_failures_that_keep_the_original_error(
    pytester: pytest.Pytester, players_suite: Callable[..., Path]
) -> None:
    players_suite(
        """
        import httpx
        import pytest


        @pytest.fixture(scope="session")
        def seeded(base_url):
            # made during the setup of the first test that uses it: attributed to that test
            return httpx.get(base_url + "/players").json()


        def test_first_user_of_session_fixture(seeded):
            assert len(seeded) == 8


        def test_second_user_of_session_fixture(seeded):
            assert len(seeded) == 8


        def test_own_failure_is_kept(client):
            response = client.get("/players/7/stats")
            assert response.json()["goals"] == 99


        @pytest.fixture
        def cleanup(base_url):
            yield
            httpx.get(base_url + "/players/11/stats")


        def test_teardown_requests_are_checked(cleanup):
            pass
        """
    )
    result = pytester.runpytest(*parity_args())
    result.assert_outcomes(passed=2, failed=2, errors=1)
    out = result.stdout.str()
    result.stdout.fnmatch_lines(
        [
            "FAILED test_suite.py::test_first_user_of_session_fixture - "
            "ParityFailure: GET /players: *",
            "FAILED test_suite.py::test_own_failure_is_kept - assert 14 == 99",
            "ERROR test_suite.py::test_teardown_requests_are_checked - ParityFailure: "
            "GET /players/{id}/stats: *",
        ],
        consecutive=False,
    )
    own = out.split("___ test_own_failure_is_kept ___", 1)[1].split("___ ", 1)[0]
    assert "assert 14 == 99" in own
    assert "aot-parity: the jit and aot builds also answered differently" in own
    assert "GET /players/{id}/stats: AOT failure" in own


def test_requests_outside_any_test_are_compared_and_fail_the_run(
    pytester: pytest.Pytester, players_suite: Callable[..., Path]
) -> None:
    players_suite(
        """
        import os

        import httpx

        # at import time, during collection: no test owns this request
        SEEDED = httpx.get(os.environ["AOT_PARITY_BASE_URL"] + "/players/10").json()


        def test_uses_import_time_data():
            assert SEEDED["lastName"] == "Messi"
        """
    )
    result = pytester.runpytest(
        *parity_args(extra=("--aot-parity-ignore=$.requestId", "--aot-parity-ignore=$.servedAt"))
    )
    result.assert_outcomes(passed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "GET /players/{id}: mapping lost data (1 request made outside any test got "
            "different answers from the jit and aot builds)",
            "*1 of them came from requests made outside any test*",
        ],
        consecutive=False,
    )
