"""Runtime settings: every ``NEWSETL_*`` environment variable is parsed here, and only here.

Read from the environment at each ``load_settings()`` call, so tests and Airflow can override them.

| variable | default | meaning |
|---|---|---|
| NEWSETL_DATA_DIR | ~/.local/share/newsetl | staged runs, their WARC archive, logs, the default SQLite warehouse |
| | | or a URL (``s3://bucket/prefix``): the runs are kept there, the rest in NEWSETL_WORK_DIR |
| NEWSETL_WORK_DIR | ~/.local/share/newsetl | with a URL data dir: logs, crawls until uploaded, SQLite warehouse |
| NEWSETL_WAREHOUSE_URL | sqlite:///<data dir>/warehouse.db | SQLAlchemy URL of the warehouse |
| NEWSETL_REPLAY_URL | unset | send every outlet request to this server (fixture replay) |
| NEWSETL_CONTACT_URL | the project's home page | contact given in the crawler's User-Agent |
| NEWSETL_POLITENESS | on | off: no robots.txt, no AutoThrottle, 32 parallel requests (own sites, benchmarks) |
| NEWSETL_OUTLETS_DIR | unset | a further folder of outlet declarations |
| NEWSETL_DOWNLOAD_TIMEOUT | 30 | seconds a request may take before it counts as a timeout |
| NEWSETL_MAX_ERROR_RATE | 0.2 | an Airflow crawl task fails when more than this share of its requests failed |
| NEWSETL_TASK_RETRIES | 2 | Airflow: retries of each task (read when the DAGs are parsed) |
| NEWSETL_RUN_DEADLINE_HOURS | 6 | Airflow: hours after its day a scheduled run must have finished; off: none |
| NEWSETL_ALERT_TARGET | unset | Airflow: where alerts go when the Variable news_alert_target is unset |
| NEWSETL_TASK_RETRY_DELAY | 120 | Airflow: seconds before a failed task's first retry (then doubling) |
| NEWSETL_WORKER_NAME | the host name | Airflow: the name a worker records on each task it runs (XCom ``worker``) |
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from kernel import __version__

DEFAULT_CONTACT_URL = "https://github.com/news-etl/news-etl"


@dataclass(frozen=True)
class Settings:
    data_dir: Path  # local: logs, crawls in progress, the default SQLite warehouse
    run_store: str  # where runs are kept (kernel.storage): NEWSETL_DATA_DIR's path or URL
    warehouse_url: str
    replay_url: str | None
    user_agent: str
    polite: bool = True
    download_timeout: float = 30.0
    max_error_rate: float = 0.2
    task_retries: int = 2
    task_retry_delay: float = 120.0
    run_deadline_hours: float | None = 6.0  # None: no deadline

    @property
    def runs_dir(self):
        """The runs' root in run storage (a ``UPath``; a ``pathlib.Path`` when local)."""
        from kernel.storage import location_path

        return location_path(self.run_store) / "runs"


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "newsetl"


def load_settings(warehouse_url: str | None = None) -> Settings:
    """The settings from the environment; ``warehouse_url`` wins over NEWSETL_WAREHOUSE_URL.
    A malformed value raises a ValueError that names the variable and what it takes."""
    from kernel.storage import check_location, is_url

    location = check_location(_text("NEWSETL_DATA_DIR") or str(default_data_dir()))
    if is_url(location):
        run_store = location
        data_dir = Path(_text("NEWSETL_WORK_DIR") or default_data_dir()).expanduser().resolve()
    else:
        data_dir = Path(location).expanduser().resolve()
        run_store = str(data_dir)
    url = warehouse_url or _text("NEWSETL_WAREHOUSE_URL") or f"sqlite:///{data_dir / 'warehouse.db'}"
    contact = _text("NEWSETL_CONTACT_URL") or DEFAULT_CONTACT_URL
    return Settings(
        data_dir=data_dir,
        run_store=run_store,
        warehouse_url=url,
        replay_url=_text("NEWSETL_REPLAY_URL"),
        user_agent=f"news-etl/{__version__} (+{contact})",
        polite=_flag("NEWSETL_POLITENESS", default=True),
        download_timeout=_seconds("NEWSETL_DOWNLOAD_TIMEOUT", default=30.0),
        max_error_rate=_share("NEWSETL_MAX_ERROR_RATE", default=0.2),
        task_retries=_count("NEWSETL_TASK_RETRIES", default=2),
        task_retry_delay=_seconds("NEWSETL_TASK_RETRY_DELAY", default=120.0),
        run_deadline_hours=_hours_or_off("NEWSETL_RUN_DEADLINE_HOURS", default=6.0),
    )


def masked_url(url: str) -> str:
    """``url`` with its password as ``***``: the form a URL is logged, printed or stored in."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):  # not a URL SQLAlchemy reads: mask anything between "//user:" and "@"
        return re.sub(r"(//[^/:@]*:)[^@/]*@", r"\1***@", url)


def extra_outlets_dir() -> Path | None:
    """NEWSETL_OUTLETS_DIR: a further folder of outlet declarations (benchmarks, private outlets),
    read on its own by the registry."""
    value = _text("NEWSETL_OUTLETS_DIR")
    return Path(value) if value else None


def worker_name() -> str:
    """NEWSETL_WORKER_NAME, or the host name: which worker ran a task (several may share a host)."""
    import socket

    return _text("NEWSETL_WORKER_NAME") or socket.gethostname()


def alert_target() -> str | None:
    """NEWSETL_ALERT_TARGET, read on its own: an alert must not fail on another variable's bad value."""
    return _text("NEWSETL_ALERT_TARGET")


def _text(name: str) -> str | None:
    return os.environ.get(name, "").strip() or None


def _share(name: str, default: float) -> float:
    value = os.environ.get(name, "").strip()
    try:
        share = float(value) if value else default
    except ValueError:
        share = -1.0
    if not 0 <= share <= 1:
        raise ValueError(f"{name}={value!r}: use a share between 0 and 1, e.g. 0.2")
    return share


def _count(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    if not value.isdigit():
        raise ValueError(f"{name}={value!r}: use a whole number, e.g. {default}")
    return int(value)


def _seconds(name: str, default: float) -> float:
    value = os.environ.get(name, "").strip()
    try:
        seconds = float(value) if value else default
    except ValueError:
        seconds = 0.0
    if not seconds > 0:
        raise ValueError(f"{name}={value!r}: use a number of seconds above 0, e.g. {default:g}")
    return seconds


def _hours_or_off(name: str, default: float) -> float | None:
    value = os.environ.get(name, "").strip().lower()
    if value == "off":
        return None
    try:
        return float(value) if value else default
    except ValueError:
        raise ValueError(f"{name}={value!r}: use a number of hours or off") from None


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default
    if value in ("1", "on", "true", "yes"):
        return True
    if value in ("0", "off", "false", "no"):
        return False
    raise ValueError(f"{name}={value!r}: use on or off")
