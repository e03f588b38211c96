"""Runtime settings, read from the environment once per call so tests and Airflow can override them.

| variable | default | meaning |
|---|---|---|
| NEWSETL_DATA_DIR | ~/.local/share/newsetl | staged runs, logs and the default SQLite warehouse |
| NEWSETL_WAREHOUSE_URL | sqlite:///<data dir>/warehouse.db | SQLAlchemy URL of the warehouse |
| NEWSETL_REPLAY_URL | unset | send every outlet request to this server (fixture replay) |
| NEWSETL_CONTACT_URL | the project's home page | contact given in the crawler's User-Agent |
| NEWSETL_POLITENESS | on | off: no robots.txt, no AutoThrottle, 32 parallel requests (own sites, benchmarks) |
| NEWSETL_MAX_ERROR_RATE | 0.2 | an Airflow crawl task fails when more than this share of its requests failed |
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from newsetl import __version__


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    warehouse_url: str
    replay_url: str | None
    user_agent: str
    polite: bool = True
    max_error_rate: float = 0.2

    @property
    def runs_dir(self) -> Path:
        return self.data_dir / "runs"


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "newsetl"


def load_settings(warehouse_url: str | None = None) -> Settings:
    data_dir = Path(os.environ.get("NEWSETL_DATA_DIR") or default_data_dir()).expanduser().resolve()
    url = warehouse_url or os.environ.get("NEWSETL_WAREHOUSE_URL") or f"sqlite:///{data_dir / 'warehouse.db'}"
    contact = os.environ.get("NEWSETL_CONTACT_URL", "https://github.com/news-etl/news-etl")
    return Settings(
        data_dir=data_dir,
        warehouse_url=url,
        replay_url=os.environ.get("NEWSETL_REPLAY_URL") or None,
        user_agent=f"news-etl/{__version__} (+{contact})",
        polite=_flag("NEWSETL_POLITENESS", default=True),
        max_error_rate=_share("NEWSETL_MAX_ERROR_RATE", default=0.2),
    )


def _share(name: str, default: float) -> float:
    value = os.environ.get(name, "").strip()
    try:
        share = float(value) if value else default
    except ValueError:
        share = -1.0
    if not 0 <= share <= 1:
        raise ValueError(f"{name}={value!r}: use a share between 0 and 1, e.g. 0.2")
    return share


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default
    if value in ("1", "on", "true", "yes"):
        return True
    if value in ("0", "off", "false", "no"):
        return False
    raise ValueError(f"{name}={value!r}: use on or off")
