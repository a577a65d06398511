"""metasync's GraphQL schema. ``schema.graphql`` beside this file is its committed SDL."""

from __future__ import annotations

from pathlib import Path

import strawberry

from schema.errors import ERROR_TYPES
from schema.extensions import extensions
from schema.mutation import Mutation
from schema.query import Query
from schema.subscription import Subscription

SDL_PATH = Path(__file__).resolve().parent / "schema.graphql"


def build_schema(*, production: bool = False) -> strawberry.Schema:
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=list(ERROR_TYPES),
        extensions=extensions(production=production),
    )


def printed_schema() -> str:
    return build_schema().as_str() + "\n"
