"""The witness's HTTP endpoints and its Kafka publisher (the witness itself:
:mod:`federation.witness`; its command line: ``ledger witness``, entrypoints/cli/witness.py).

:class:`WitnessServer` serves, in a thread:

* ``GET /v1/witness/cosignatures?origin=O[&size=N]``: the witness's cosignatures of origin
  ``O`` (of tree size ``N`` only, if given), newest first, with its name and public key
  (``{"witness", "public_key", "origin", "cosignatures": […]}``; 404 for an origin it does
  not follow). What ``ledger.audit.cosignatures.fetch_cosignatures`` asks.
* ``GET /v1/witness``: its name, public key and origins; ``GET /metrics`` (Prometheus:
  :class:`~federation.witness.WitnessMetrics`); ``GET /healthz``.

The witness serves its cosignatures itself rather than through ``ledger serve``: it runs
apart from any ledger (usually at another party), and its metrics live in its process.

:func:`kafka_publisher` sends each new cosignature to a topic (key: the origin).
"""

from __future__ import annotations

import http.server
import threading
import urllib.parse
from collections.abc import Callable
from typing import Any

import orjson
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

from federation.witness import Witness, WitnessMetrics

__all__ = ["DEFAULT_TOPIC", "WitnessServer", "kafka_publisher"]

DEFAULT_TOPIC = "credit.cosignatures"


def kafka_publisher(bootstrap: str | None, topic: str) -> Callable[[dict[str, Any]], None] | None:
    """Send each cosignature to ``topic`` (key: origin) and wait for the acknowledgement;
    None without a broker."""
    if not bootstrap:
        return None
    producer: list[Any] = []

    def publish(cosignature: dict[str, Any]) -> None:
        if not producer:
            from ledger.producers import feed_producer

            producer.append(feed_producer(bootstrap, client_id="credit-ledger-witness"))
        value = orjson.dumps(cosignature, option=orjson.OPT_SORT_KEYS)
        producer[0].send(topic, key=str(cosignature["origin"]).encode(), value=value).get(
            timeout=10
        )

    return publish


class WitnessServer:
    """The witness's HTTP endpoints (module docstring) on ``host:port`` (0: a free port),
    in a thread."""

    def __init__(self, witness: Witness, host: str, port: int) -> None:
        self.witness = witness
        handler = _handler(witness)
        self.httpd = http.server.ThreadingHTTPServer((host, port), handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _handler(witness: Witness) -> type[http.server.BaseHTTPRequestHandler]:
    state = witness.state
    metrics: WitnessMetrics = witness.metrics

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # quiet: metrics count
            return

        def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _json(self, status: int, obj: Any) -> None:
            self._send(status, orjson.dumps(obj))

        def do_GET(self) -> None:
            url = urllib.parse.urlsplit(self.path)
            query = urllib.parse.parse_qs(url.query)
            if url.path == "/v1/witness/cosignatures":
                self._cosignatures(query)
            elif url.path == "/v1/witness":
                self._json(
                    200,
                    {
                        "witness": witness.name,
                        "public_key": witness.public_key,
                        "origins": state.origins(),
                    },
                )
            elif url.path == "/metrics":
                self._send(200, generate_latest(metrics.registry), CONTENT_TYPE_LATEST)
            elif url.path == "/healthz":
                self._json(200, {"status": "ok"})
            else:
                self._json(404, {"title": "not found", "detail": f"no {url.path}"})

        def _cosignatures(self, query: dict[str, list[str]]) -> None:
            origin = query.get("origin", [""])[0]
            if not origin:
                self._json(400, {"title": "bad request", "detail": "origin= is required"})
                return
            size: int | None = None
            if "size" in query:
                try:
                    size = int(query["size"][0])
                except ValueError:
                    self._json(400, {"title": "bad request", "detail": "size: not an integer"})
                    return
            if state.load(origin) is None:
                self._json(404, {"title": "not found", "detail": f"origin {origin!r} not followed"})
                return
            self._json(
                200,
                {
                    "witness": witness.name,
                    "public_key": witness.public_key,
                    "origin": origin,
                    "cosignatures": state.cosignatures(origin, size),
                },
            )

    return Handler
