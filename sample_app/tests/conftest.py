"""The sample app's own API suite: plain httpx, the base URL from PLAYERS_API_URL.

This is what a team already has. Run it against any instance of the API:

    PLAYERS_API_URL=http://127.0.0.1:5000 pytest sample_app/tests

With ``pytest --aot-parity`` the plugin starts both builds, exports PLAYERS_API_URL (the
ini key ``aot_parity_base_url_env`` names it) and mirrors every request to the AOT build.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import httpx
import pytest


@pytest.fixture(scope="session")
def base_url() -> str:
    url = os.environ.get("PLAYERS_API_URL")
    if not url:
        raise pytest.UsageError(
            "PLAYERS_API_URL is not set: point it at a running players API, "
            "or run `pytest --aot-parity` to start both builds"
        )
    return url


@pytest.fixture
def client(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=10.0) as c:
        yield c


@pytest.fixture
def new_player() -> dict[str, object]:
    return {
        "squadNumber": 77,
        "firstName": "Valentín",
        "middleName": "Mariano",
        "lastName": "Barco",
        "dateOfBirth": "2004-07-23",
        "position": "LB",
        "team": "Brighton & Hove Albion",
        "league": "Premier League",
        "starting11": False,
    }
