"""``python -m bench [name ...]``: run the benchmarks, one line per figure; exit 1 when a
figure misses its target."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from bench import full_sync, webhook_ack
from bench.report import Figure
from resolvers.log_config import configure_logging

BENCHES: dict[str, Callable[[], Coroutine[Any, Any, list[Figure]]]] = {
    "webhook_ack": webhook_ack.run,
    "full_sync": full_sync.run,
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
