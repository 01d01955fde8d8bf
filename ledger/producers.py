"""Kafka producers of the ledger's own topics (the disclosure change feed, the checkpoint
topic): each key's messages stay in order and every replica acknowledges."""

from __future__ import annotations

from typing import Any

from kafka import KafkaProducer

__all__ = ["feed_producer"]


def feed_producer(
    bootstrap_servers: str, client_id: str = "credit-ledger-disclosure-feed", **options: Any
) -> Any:
    """A producer that keeps each key's order (one request in flight) and waits for
    all replicas; ``options`` are further ``KafkaProducer`` settings."""
    return KafkaProducer(
        bootstrap_servers=bootstrap_servers.split(","),
        client_id=client_id,
        acks="all",
        linger_ms=5,
        enable_idempotence=False,
        max_in_flight_requests_per_connection=1,
        **options,
    )
