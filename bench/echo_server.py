"""The baseline: an endpoint that reads the body and answers like metasync's receiver, on
the same stack (Starlette on uvicorn) and the same kind of process."""

from __future__ import annotations

import sys

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route


async def echo(request: Request) -> Response:
    await request.body()
    return PlainTextResponse("EVENT_RECEIVED")


app = Starlette(routes=[Route("/echo", echo, methods=["POST"])])

if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
