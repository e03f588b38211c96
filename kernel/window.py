"""The date window a run covers: ``[since, until)``, either end open when None."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from kernel.rules import in_zone


@dataclass(frozen=True)
class Window:
    since: datetime | None = None
    until: datetime | None = None

    def __post_init__(self) -> None:
        for value in (self.since, self.until):
            if value is not None and value.tzinfo is None:
                raise ValueError(f"window bounds must be time-zone aware, got {value.isoformat()}")
        if self.since and self.until and self.since >= self.until:
            raise ValueError(f"empty window: since {self.since.isoformat()} is not before until {self.until.isoformat()}")

    def contains(self, moment: datetime) -> bool:
        return (self.since is None or moment >= self.since) and (self.until is None or moment < self.until)

    def is_before(self, moment: datetime) -> bool:
        """True when ``moment`` is older than the window (paging back further finds nothing new)."""
        return self.since is not None and moment < self.since

    def describe(self) -> str:
        since = self.since.isoformat() if self.since else "the beginning"
        until = self.until.isoformat() if self.until else "now"
        return f"[{since}, {until})"


def parse_bound(text: str | None, tz=UTC) -> datetime | None:
    """A window bound from the command line: a date (midnight in ``tz``) or an ISO 8601 time."""
    if not text:
        return None
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(0), tzinfo=tz)
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"not a date or ISO 8601 time: {text!r}") from exc
    return in_zone(moment, tz)
