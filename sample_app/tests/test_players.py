"""Reads, CRUD, validation and not-found behaviour of the players API."""

from __future__ import annotations

import httpx
import pytest


def test_health(client: httpx.Client) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.text == "Healthy"


def test_list_players_returns_the_seeded_squad(client: httpx.Client) -> None:
    response = client.get("/players")
    assert response.status_code == 200
    players = response.json()
    assert len(players) >= 26
    numbers = [p["squadNumber"] for p in players]
    assert numbers == sorted(numbers)


def test_get_player_by_squad_number(client: httpx.Client) -> None:
    response = client.get("/players/10")
    assert response.status_code == 200
    player = response.json()
    assert player["lastName"] == "Messi"
    assert player["fullName"] == "Lionel Andrés Messi"
    assert player["birthDate"] == "24 June 1987"


def test_get_player_by_id(client: httpx.Client) -> None:
    player_id = client.get("/players/23").json()["id"]
    response = client.get(f"/players/by-id/{player_id}")
    assert response.status_code == 200
    assert response.json()["lastName"] == "Martínez"


def test_starting_eleven(client: httpx.Client) -> None:
    response = client.get("/players/starting11")
    assert response.status_code == 200
    assert len(response.json()) == 11


@pytest.mark.parametrize(
    "path", ["/players/98", "/players/by-id/00000000-0000-0000-0000-000000000000"]
)
def test_unknown_player_is_404_problem(client: httpx.Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["title"] == "Not Found"


def test_create_rejects_an_empty_last_name(
    client: httpx.Client, new_player: dict[str, object]
) -> None:
    response = client.post("/players", json={**new_player, "lastName": ""})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "LastName" in response.json()["errors"]


def test_create_conflicts_on_a_taken_squad_number(
    client: httpx.Client, new_player: dict[str, object]
) -> None:
    response = client.post("/players", json={**new_player, "squadNumber": 10})
    assert response.status_code == 409


def test_player_lifecycle(client: httpx.Client, new_player: dict[str, object]) -> None:
    created = client.post("/players", json=new_player)
    assert created.status_code == 201
    assert created.headers["location"] == "/players/77"
    body = created.json()
    assert body["fullName"] == "Valentín Mariano Barco"

    by_id = client.get(f"/players/by-id/{body['id']}")
    assert by_id.status_code == 200

    updated = client.put("/players/77", json={**new_player, "team": "Sevilla", "league": "La Liga"})
    assert updated.status_code == 204
    assert client.get("/players/77").json()["team"] == "Sevilla"

    deleted = client.delete("/players/77")
    assert deleted.status_code == 204
    assert client.get("/players/77").status_code == 404
