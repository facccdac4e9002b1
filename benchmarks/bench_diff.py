"""How fast is the diff engine on a large JSON answer? (a script, not a test)

Builds a ~5 MB JSON list of player-like objects and measures, as the median of several
runs (``time.perf_counter``):

(a) parsing both bodies with ``json.loads`` — the yardstick;
(b) ``compare`` of two equal bodies: byte-identical (the common case), and equal but
    serialised differently (whitespace and key order), which needs a real parse;
(c) ``compare`` of a pair with a few differences (a missing field, a null, a type change,
    a value change, an extra item) — the walker only descends where the bodies differ;
(d) the same pair with ``ignore_order`` and the lists shuffled, and with a noise answer.

The requirement checked at the end: compare of equal bodies ≤ 2x the parse time (the
worse of the two equal cases). compare pauses the cyclic garbage collector while it works;
the parse time is measured as json.loads runs normally, and also with the collector paused
for reference.

    .venv/bin/python benchmarks/bench_diff.py [--players 20000] [--runs 7]
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any

from pytest_aotparity.diff.compare import CompareRules, compare
from pytest_aotparity.diff.normalise import _orjson
from pytest_aotparity.exchange import Exchange, RecordedRequest, RecordedResponse

POSITIONS = [
    "Goalkeeper",
    "Right-Back",
    "Centre-Back",
    "Left-Back",
    "Central Midfield",
    "Attacking Midfield",
    "Right Winger",
    "Left Winger",
    "Centre-Forward",
]
TEAMS = [
    "Aston Villa",
    "Tottenham Hotspur",
    "Atletico Madrid",
    "Inter Miami",
    "SL Benfica",
    "Ajax",
    "Juventus",
    "Olympique Lyonnais",
    "Manchester United",
    "Fenerbahce",
]
LEAGUES = [
    "Premier League",
    "La Liga",
    "Major League Soccer",
    "Liga Portugal",
    "Eredivisie",
    "Serie A",
    "Ligue 1",
    "Super Lig",
]
FIRST = [
    "Emiliano",
    "Cristian",
    "Rodrigo",
    "Lionel",
    "Angel",
    "Julian",
    "Geronimo",
    "Nahuel",
    "Alexis",
    "Enzo",
    "Lisandro",
    "Nicolas",
    "Leandro",
    "Gonzalo",
    "Marcos",
    "Paulo",
]
LAST = [
    "Martinez",
    "Romero",
    "De Paul",
    "Messi",
    "Di Maria",
    "Alvarez",
    "Rulli",
    "Molina",
    "Mac Allister",
    "Fernandez",
    "Otamendi",
    "Tagliafico",
    "Paredes",
    "Montiel",
    "Acuna",
]


def player(rng: random.Random, n: int) -> dict[str, Any]:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    middle = rng.choice([None, "Gabriel", "Javier", "Andres", "Fabian"])
    return {
        "id": str(uuid.UUID(int=rng.getrandbits(128))),
        "squadNumber": n,
        "fullName": " ".join(x for x in (first, middle, last) if x),
        "firstName": first,
        "middleName": middle,
        "lastName": last,
        "dateOfBirth": f"{rng.randint(1980, 2006)}-{rng.randint(1, 12):02d}-"
        f"{rng.randint(1, 28):02d}",
        "position": rng.choice(POSITIONS),
        "team": rng.choice(TEAMS),
        "league": rng.choice(LEAGUES),
        "starting11": rng.random() < 0.5,
        "marketValue": round(rng.uniform(0.5, 120.0), 2),
        "stats": {
            "appearances": rng.randint(0, 600),
            "goals": rng.randint(0, 300),
            "assists": rng.randint(0, 200),
        },
        "tags": rng.sample(["captain", "veteran", "academy", "loan", "injured"], 2),
    }


def response(build: str, body: bytes) -> RecordedResponse:
    return RecordedResponse(
        build,  # type: ignore[arg-type]
        200,
        (("content-type", "application/json; charset=utf-8"),),
        body,
    )


def exchange(jit: bytes, aot: bytes, noise: bytes | None = None) -> Exchange:
    return Exchange(
        request=RecordedRequest("GET", "/players"),
        jit=response("jit", jit),
        aot=response("aot", aot),
        noise=response("noise", noise) if noise is not None else None,
    )


def median_seconds(fn: Callable[[], object], runs: int) -> float:
    fn()  # warm up (imports, caches)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--players", type=int, default=0, help="default: enough for ~5 MB")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)

    rng = random.Random(args.seed)
    players: list[dict[str, Any]] = []
    size = 0
    target = 5 * 1024 * 1024
    while (args.players and len(players) < args.players) or (not args.players and size < target):
        p = player(rng, len(players) + 1)
        players.append(p)
        size += len(json.dumps(p)) + 2
    jit_body = json.dumps(players).encode()
    same_bytes = bytes(jit_body)
    # Equal, but written differently: other whitespace, keys in another order.
    reordered = [dict(reversed(list(p.items()))) for p in players]
    same_value = json.dumps(reordered, indent=1).encode()

    changed = json.loads(jit_body)
    changed[10].pop("fullName")  # missing field
    changed[2000]["team"] = None  # null vs value
    changed[5000]["position"] = 3  # type change
    changed[9000]["stats"]["goals"] += 1  # value change
    changed.append(player(rng, 99_999))  # extra item
    few_diffs = json.dumps(changed).encode()
    shuffled = list(changed)
    random.Random(args.seed + 1).shuffle(shuffled)
    few_diffs_shuffled = json.dumps(shuffled).encode()
    noise = json.loads(jit_body)
    noise[77]["stats"]["goals"] += 5  # noise at the same generic path as the value change
    noise_body = json.dumps(noise).encode()

    print(
        f"body: {len(jit_body) / 1e6:.2f} MB, {len(players)} players; parser: "
        f"{'orjson ' + _orjson.__version__ if _orjson is not None else 'json (no orjson)'}; "
        f"median of {args.runs} runs"
    )

    def parse_both() -> None:
        json.loads(jit_body)
        json.loads(same_value)

    def parse_both_gc_paused() -> None:
        gc.disable()
        try:
            parse_both()
        finally:
            gc.enable()

    rules = CompareRules()
    unordered = CompareRules(ignore_order=True)
    parse = median_seconds(parse_both, args.runs)
    parse_paused = median_seconds(parse_both_gc_paused, args.runs)
    figures = {
        "equal, byte-identical": median_seconds(
            lambda: compare(exchange(jit_body, same_bytes), rules), args.runs
        ),
        "equal, re-serialised": median_seconds(
            lambda: compare(exchange(jit_body, same_value), rules), args.runs
        ),
        "5 differences": median_seconds(
            lambda: compare(exchange(jit_body, few_diffs), rules), args.runs
        ),
        "5 differences + noise answer": median_seconds(
            lambda: compare(exchange(jit_body, few_diffs, noise_body), rules), args.runs
        ),
        "5 differences, shuffled, ignore_order": median_seconds(
            lambda: compare(exchange(jit_body, few_diffs_shuffled), unordered), args.runs
        ),
    }
    check = compare(exchange(jit_body, few_diffs), rules)
    found = sorted((d.path, d.kind.value) for d in check.differences)
    check_noise = compare(exchange(jit_body, few_diffs, noise_body), rules)
    check_unordered = compare(exchange(jit_body, few_diffs_shuffled), unordered)

    print(f"(a) parse both bodies with json.loads: {parse * 1000:8.1f} ms")
    print(
        f"    (for reference: {parse_paused * 1000:.1f} ms with the garbage collector paused, "
        "as compare pauses it)"
    )
    for name, seconds in figures.items():
        print(f"    compare, {name:<38} {seconds * 1000:8.1f} ms  = {seconds / parse:5.2f}x parse")
    print(f"    differences found: {found}")
    print(
        f"    with the noise answer: {len(check_noise.differences)} reported, "
        f"{len(check_noise.cancelled)} cancelled"
    )
    print(
        f"    shuffled with ignore_order: "
        f"{sorted((d.path, d.kind.value) for d in check_unordered.differences)}"
    )

    worst_equal = max(figures["equal, byte-identical"], figures["equal, re-serialised"])
    ratio = worst_equal / parse
    verdict = "OK" if ratio <= 2 else "TOO SLOW"
    print(f"requirement: compare of equal bodies <= 2x parse time: {ratio:.2f}x  {verdict}")
    return 0 if ratio <= 2 else 1


if __name__ == "__main__":
    sys.exit(main())
