"""JSON as Meta writes it: compact, non-ASCII escaped as ``\\uXXXX`` and ``/`` as ``\\/``.

Webhook signatures are computed over these exact bytes, so a receiver that re-serialises the
body before verifying fails here just as it would against Meta.
"""

from __future__ import annotations

import json
from typing import Any


def dumps(obj: Any) -> bytes:
    text = json.dumps(obj, ensure_ascii=True, separators=(",", ":"))
    # "/" only ever occurs inside JSON strings, so a blanket replace is safe.
    return text.replace("/", "\\/").encode("ascii")
