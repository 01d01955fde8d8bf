"""Fast JSON responses: the projections' dicts rendered once, with orjson.

FastAPI's own ``ORJSONResponse`` is deprecated in the FastAPI we use (it prefers
validating through the response model); the read paths here return what the
projections built, so they render it directly and skip a second validation.
The models in :mod:`api.models` still document the shapes.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

__all__ = ["JSONBytes"]


class JSONBytes(Response):
    """``application/json`` rendered by orjson (non-string keys allowed)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        if isinstance(content, bytes):
            return content
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)
