"""The entry points and the composition root: what reads settings and files at start-up
and wires the ledger, the projections and the API together (nothing below imports it)."""
