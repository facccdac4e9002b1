"""A small players API that stands in for a .NET build in the plugin's own tests.

Run it as ``python tests/fakeapps/players.py --flavour jit|aot --port PORT``. The ``jit``
flavour is the reference; the ``aot`` flavour plants one divergence of each kind that
Native AOT really causes in ASP.NET Core apps:

==============================  ==========================================  =====================
request                         what the aot flavour does                   expected category
==============================  ==========================================  =====================
GET /players                    ``team`` is null on every player            mapping lost data
GET /players/{squad}            ``fullName`` is missing                     mapping lost data
GET /players/by-id/{id}         ``position`` is a number, not a name        serialization differs
POST /players (squad > 99)      201 where jit answers 400 problem+json      validator bypassed
GET /players/{squad}/stats      500 problem+json                            AOT failure
GET /players/{squad}/summary    ``Content-Type: text/html``                 header
PUT /players/{squad} + GET      ``league`` is not updated (seen on read)    behaviour differs
==============================  ==========================================  =====================

Both flavours carry the same noise: ``requestId`` (a fresh UUID) and ``servedAt`` (the
current time) on single-player reads, and a fresh UUID ``id`` for every created player.
The aot flavour also hides ``/players/{squad}/summary`` from its OpenAPI document.

Fault switches for target tests: ``--exit-at-start CODE`` prints a few log lines and exits,
``--never-ready`` answers 503 on /health forever, ``--crash-after N`` exits the process
(code 134) when request N arrives, ``--log-exceptions`` prints a stack trace when /stats fails,
``--reverse-lists`` answers GET /players in reverse order (for order-insensitive comparison).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import uuid
from typing import Annotated, Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

POSITIONS = {
    "GK": "Goalkeeper",
    "RB": "Right-Back",
    "CB": "Centre-Back",
    "LB": "Left-Back",
    "DM": "Defensive Midfield",
    "CM": "Central Midfield",
    "AM": "Attacking Midfield",
    "RW": "Right Winger",
    "LW": "Left Winger",
    "CF": "Centre-Forward",
}
POSITION_CODES = list(POSITIONS)

SEED: list[dict[str, Any]] = [
    {
        "squadNumber": 1,
        "firstName": "Emiliano",
        "middleName": None,
        "lastName": "Martinez",
        "dateOfBirth": "1992-09-02",
        "position": "GK",
        "team": "Aston Villa",
        "league": "Premier League",
        "starting11": True,
    },
    {
        "squadNumber": 4,
        "firstName": "Cristian",
        "middleName": "Gabriel",
        "lastName": "Romero",
        "dateOfBirth": "1998-04-27",
        "position": "CB",
        "team": "Tottenham Hotspur",
        "league": "Premier League",
        "starting11": True,
    },
    {
        "squadNumber": 7,
        "firstName": "Rodrigo",
        "middleName": "Javier",
        "lastName": "De Paul",
        "dateOfBirth": "1994-05-24",
        "position": "CM",
        "team": "Atletico Madrid",
        "league": "La Liga",
        "starting11": True,
    },
    {
        "squadNumber": 10,
        "firstName": "Lionel",
        "middleName": "Andres",
        "lastName": "Messi",
        "dateOfBirth": "1987-06-24",
        "position": "RW",
        "team": "Inter Miami",
        "league": "Major League Soccer",
        "starting11": True,
    },
    {
        "squadNumber": 11,
        "firstName": "Angel",
        "middleName": "Fabian",
        "lastName": "Di Maria",
        "dateOfBirth": "1988-02-14",
        "position": "LW",
        "team": "SL Benfica",
        "league": "Liga Portugal",
        "starting11": True,
    },
    {
        "squadNumber": 9,
        "firstName": "Julian",
        "middleName": None,
        "lastName": "Alvarez",
        "dateOfBirth": "2000-01-31",
        "position": "CF",
        "team": "Atletico Madrid",
        "league": "La Liga",
        "starting11": False,
    },
    {
        "squadNumber": 23,
        "firstName": "Gerónimo",
        "middleName": None,
        "lastName": "Rulli",
        "dateOfBirth": "1992-05-20",
        "position": "GK",
        "team": "Ajax",
        "league": "Eredivisie",
        "starting11": False,
    },
    {
        "squadNumber": 26,
        "firstName": "Nahuel",
        "middleName": None,
        "lastName": "Molina",
        "dateOfBirth": "1998-04-06",
        "position": "RB",
        "team": "Atletico Madrid",
        "league": "La Liga",
        "starting11": True,
    },
]

# Seed ids are fixed so both flavours agree on them (as a seeded database would).
SEED_IDS = {p["squadNumber"]: str(uuid.UUID(int=p["squadNumber"])) for p in SEED}

SquadNumber = Annotated[int, WithJsonSchema({"type": "integer", "minimum": 1, "maximum": 99})]
Name = Annotated[str, WithJsonSchema({"type": "string", "minLength": 1, "maxLength": 40})]


class PlayerIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    squadNumber: SquadNumber
    firstName: Name
    middleName: str | None = None
    lastName: Name
    dateOfBirth: dt.date
    position: Annotated[str, WithJsonSchema({"type": "string", "enum": POSITION_CODES})]
    team: str | None = None
    league: str | None = None
    starting11: bool = Field(default=False)


def problem(status: int, title: str, errors: dict[str, list[str]] | None = None) -> JSONResponse:
    body: dict[str, Any] = {
        "type": "https://tools.ietf.org/html/rfc9110",
        "title": title,
        "status": status,
    }
    if errors:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type="application/problem+json")


def build_app(
    flavour: str,
    crash_after: int | None,
    never_ready: bool,
    log_exceptions: bool,
    reverse_lists: bool = False,
) -> FastAPI:
    aot = flavour == "aot"
    app = FastAPI(title="Players (fake)", version="1.0")
    store: dict[int, dict[str, Any]] = {}
    for seed in SEED:
        store[seed["squadNumber"]] = {**seed, "id": SEED_IDS[seed["squadNumber"]]}
    served = {"count": 0}

    @app.middleware("http")
    async def count_requests(request: Request, call_next: Any) -> Response:
        served["count"] += 1
        if crash_after is not None and served["count"] >= crash_after:
            print(f"fatal: crashing on request {served['count']} as asked", flush=True)
            os._exit(134)
        response: Response = await call_next(request)
        return response

    def dto(player: dict[str, Any]) -> dict[str, Any]:
        names = [player["firstName"], player.get("middleName"), player["lastName"]]
        out = {
            "id": player["id"],
            "squadNumber": player["squadNumber"],
            "fullName": " ".join(n for n in names if n),
            "firstName": player["firstName"],
            "middleName": player.get("middleName"),
            "lastName": player["lastName"],
            "dateOfBirth": str(player["dateOfBirth"]),
            "position": POSITIONS[player["position"]],
            "positionCode": player["position"],
            "team": player.get("team"),
            "league": player.get("league"),
            "starting11": player["starting11"],
        }
        return out

    def validate(body: PlayerIn) -> dict[str, list[str]]:
        errors: dict[str, list[str]] = {}
        # The aot flavour lost the squad-number range rule (as an assembly-scanned
        # validator the trimmer removed would be).
        if not aot and not 1 <= body.squadNumber <= 99:
            errors["SquadNumber"] = ["'Squad Number' must be between 1 and 99."]
        if not body.firstName.strip():
            errors["FirstName"] = ["'First Name' must not be empty."]
        if not body.lastName.strip():
            errors["LastName"] = ["'Last Name' must not be empty."]
        if body.position not in POSITIONS:
            errors["Position"] = ["'Position' must be a known abbreviation."]
        return errors

    @app.get("/health")
    def health() -> Response:
        if never_ready:
            return PlainTextResponse("Starting", status_code=503)
        return PlainTextResponse("Healthy")

    @app.get("/players")
    def list_players() -> list[dict[str, Any]]:
        players = [dto(p) for _, p in sorted(store.items(), reverse=reverse_lists)]
        if aot:
            for p in players:
                p["team"] = None
        return players

    @app.get("/players/by-id/{player_id}")
    def get_by_id(player_id: str) -> Response:
        for p in store.values():
            if p["id"] == player_id:
                out = dto(p)
                if aot:
                    out["position"] = POSITION_CODES.index(p["position"])
                out["requestId"] = str(uuid.uuid4())
                out["servedAt"] = dt.datetime.now(dt.UTC).isoformat()
                return JSONResponse(out)
        return problem(404, "Not Found")

    @app.get("/players/{squad_number}")
    def get_player(squad_number: int) -> Response:
        p = store.get(squad_number)
        if p is None:
            return problem(404, "Not Found")
        out = dto(p)
        if aot:
            del out["fullName"]
        out["requestId"] = str(uuid.uuid4())
        out["servedAt"] = dt.datetime.now(dt.UTC).isoformat()
        return JSONResponse(out)

    @app.get("/players/{squad_number}/stats")
    def stats(squad_number: int) -> Response:
        p = store.get(squad_number)
        if p is None:
            return problem(404, "Not Found")
        if aot:
            if log_exceptions:
                print(
                    "fail: Microsoft.AspNetCore.Server.Kestrel[13] Unhandled exception",
                    file=sys.stderr,
                    flush=True,
                )
                print(
                    "System.InvalidOperationException: Reflection-based serialization has "
                    "been disabled for this application.",
                    file=sys.stderr,
                    flush=True,
                )
            return problem(500, "An error occurred while processing your request.")
        return JSONResponse(
            {
                "squadNumber": squad_number,
                "appearances": 40 + squad_number,
                "goals": squad_number * 2,
            }
        )

    @app.get("/players/{squad_number}/summary", include_in_schema=not aot)
    def summary(squad_number: int) -> Response:
        p = store.get(squad_number)
        if p is None:
            return problem(404, "Not Found")
        text = f"{dto(p)['fullName']} ({p['position']})"
        media = "text/html" if aot else "text/plain"
        return Response(text, media_type=media)

    @app.post("/players", status_code=201)
    def create(body: PlayerIn) -> Response:
        errors = validate(body)
        if errors:
            return problem(400, "One or more validation errors occurred.", errors)
        if body.squadNumber in store:
            return problem(409, "Conflict")
        player = {**body.model_dump(), "id": str(uuid.uuid4())}
        player["dateOfBirth"] = str(body.dateOfBirth)
        store[body.squadNumber] = player
        return JSONResponse(
            dto(player), status_code=201, headers={"Location": f"/players/{body.squadNumber}"}
        )

    @app.put("/players/{squad_number}", status_code=204)
    def update(squad_number: int, body: PlayerIn) -> Response:
        if squad_number not in store:
            return problem(404, "Not Found")
        errors = validate(body)
        if errors:
            return problem(400, "One or more validation errors occurred.", errors)
        current = store[squad_number]
        changes = body.model_dump()
        changes["dateOfBirth"] = str(body.dateOfBirth)
        changes["squadNumber"] = squad_number
        if aot:
            changes["league"] = current.get("league")
        current.update(changes)
        return Response(status_code=204)

    @app.delete("/players/{squad_number}", status_code=204)
    def delete(squad_number: int) -> Response:
        if store.pop(squad_number, None) is None:
            return problem(404, "Not Found")
        return Response(status_code=204)

    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flavour", choices=["jit", "aot"], default="jit")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--exit-at-start", type=int, default=None)
    parser.add_argument("--never-ready", action="store_true")
    parser.add_argument("--crash-after", type=int, default=None)
    parser.add_argument("--log-exceptions", action="store_true")
    parser.add_argument("--reverse-lists", action="store_true")
    args = parser.parse_args(argv)
    print(
        f"info: fake players app ({args.flavour}) starting on {args.host}:{args.port}", flush=True
    )
    if args.exit_at_start is not None:
        print("fail: Unhandled exception. System.IO.FileNotFoundException: players.db", flush=True)
        print("   at Program.<Main>$(String[] args)", flush=True)
        sys.exit(args.exit_at_start)

    import uvicorn

    app = build_app(
        args.flavour, args.crash_after, args.never_ready, args.log_exceptions, args.reverse_lists
    )
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
