"""``python -m bench [name ...]``: run the benchmarks, one line per figure; exit 1 when a
figure misses its target."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from bench import (
    bulk_upsert,
    full_sync,
    graphql_list,
    subscriptions,
    webhook_ack,
    webhook_loss,
)
from bench.report import Figure
from resolvers.log_config import configure_logging

BENCHES: dict[str, Callable[[], Coroutine[Any, Any, list[Figure]]]] = {
    "webhook_ack": webhook_ack.run,
    "full_sync": full_sync.run,
    "graphql_list": graphql_list.run,
    "bulk_upsert": bulk_upsert.run,
    "subscriptions": subscriptions.run,
    "webhook_loss": webhook_loss.run,
}


def main(names: list[str]) -> int:
    configure_logging("WARNING")
    missed = 0
    for name in names or list(BENCHES):
        for figure in asyncio.run(BENCHES[name]()):
            print(figure.line(), flush=True)
            missed += not figure.met
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
