"""Splitting long IN lists."""

from __future__ import annotations


def chunks(values: list, size: int = 500):
    """Keep IN lists under SQLite's bound-parameter limit."""
    for start in range(0, len(values), size):
        yield values[start:start + size]
