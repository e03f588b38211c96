"""RawPage — the record between crawl and extract, staged per run as JSON lines; bodies live in the
run's WARC archive."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from scrapers.archive import read_warc_html

PAGES_FILE = "pages.jsonl"


@dataclass(frozen=True)
class RawPage:
    url: str  # the outlet's real URL (never the replay server's)
    final_url: str  # after redirects
    status: int
    headers: dict[str, str]
    warc_file: str  # relative to the run directory
    warc_offset: int  # of the response record
    fetched_at: datetime
    outlet: str
    run_id: str
    edition: str  # language of the edition the URL belongs to
    listed_published: datetime | None = None  # date the discovery source gave, if any
    known: bool = False  # already in the warehouse: fetched again because it changed

    def html(self, run_dir: Path) -> str:
        return read_warc_html(run_dir / self.warc_file, self.warc_offset)

    def to_json(self) -> str:
        data = asdict(self)
        data["fetched_at"] = self.fetched_at.isoformat()
        data["listed_published"] = self.listed_published.isoformat() if self.listed_published else None
        return json.dumps(data, ensure_ascii=False)

    @classmethod
    def from_json(cls, line: str) -> RawPage:
        data = json.loads(line)
        data["fetched_at"] = datetime.fromisoformat(data["fetched_at"])
        if data.get("listed_published"):
            data["listed_published"] = datetime.fromisoformat(data["listed_published"])
        return cls(**data)


def read_pages(run_dir: Path) -> list[RawPage]:
    path = run_dir / PAGES_FILE
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as lines:
        return [RawPage.from_json(line) for line in lines if line.strip()]
