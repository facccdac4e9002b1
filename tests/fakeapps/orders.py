"""A fake orders app whose aot flavour diverges only where no boundary case looks.

Run it as ``python tests/fakeapps/orders.py --flavour jit|aot --port PORT``.

``POST /orders`` takes ``{"item": str (1 to 40 characters), "quantity": int (0 to 1000),
"note": str | null (optional)}`` and answers 201 with the order as stored. The aot flavour
stores ``quantity + 1`` for every quantity but the edges (2 to 998): a converter that is
right only where someone looked. The schema's boundary cases (0, 1, 999, 1000, and the
invalid -1 and 1001) never show it; almost any valid random quantity does. The smallest
request that shows it has ``quantity`` 2.

``GET /health`` answers 200 when the app is up.
"""

from __future__ import annotations

import argparse
from typing import Annotated, Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field


class OrderIn(BaseModel):
    item: Annotated[str, Field(min_length=1, max_length=40)]
    quantity: Annotated[int, Field(ge=0, le=1000)]
    note: str | None = None


def build_app(flavour: str) -> FastAPI:
    aot = flavour == "aot"
    app = FastAPI(title="Orders (fake)", version="1.0")

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "Healthy"}

    @app.post("/orders", status_code=201)
    def create(body: OrderIn) -> JSONResponse:
        quantity = body.quantity
        if aot and 2 <= quantity <= 998:
            quantity += 1
        stored: dict[str, Any] = {"item": body.item, "quantity": quantity, "note": body.note}
        return JSONResponse(stored, status_code=201)

    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flavour", choices=["jit", "aot"], default="jit")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args(argv)
    print(f"info: fake orders app ({args.flavour}) starting on {args.host}:{args.port}", flush=True)

    import uvicorn

    uvicorn.run(build_app(args.flavour), host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
