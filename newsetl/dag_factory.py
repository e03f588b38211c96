"""Build one Airflow DAG per registry outlet: plan → crawl → extract → load → quality over the data interval.

Tasks import the pipeline lazily, so parsing the DAG folder stays cheap; XCom carries the run
plan (paths and ids) and stage summaries, never article data. A failing task and a run that misses
its deadline are reported through ``RunAlertNotifier``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import Asset, AsyncCallback, DeadlineAlert, dag, get_current_context, task
from airflow.timetables.interval import CronDataIntervalTimetable

from kernel.registry import Outlet, load_registry
from kernel.settings import load_settings
from newsetl.airflow_plugin import ScheduledRunLogicalDate
from newsetl.alerts import RunAlertNotifier

DAILY_AT_MIDNIGHT = "0 0 * * *"
# Updated by every successful load; the warehouse maintenance DAG is scheduled on it.
WAREHOUSE_ARTICLES = Asset(name="news_warehouse_articles", uri="newsetl://warehouse/articles")
WAREHOUSE_CONN_ID = "news_warehouse"  # the Airflow connection that holds the warehouse URL
CRAWL_POOL = "news_crawl"  # the pool every crawl task takes a slot of


def default_args() -> dict:
    """The task defaults of every news DAG; retries from NEWSETL_TASK_RETRIES (tests set 0 to fail fast)."""
    settings = load_settings()
    return {"retries": settings.task_retries, "retry_delay": timedelta(seconds=settings.task_retry_delay),
            "retry_exponential_backoff": True, "execution_timeout": timedelta(hours=2)}


def run_deadline() -> DeadlineAlert | None:
    """A scheduled daily run must finish NEWSETL_RUN_DEADLINE_HOURS (default 6; "off": no deadline) after
    its data interval ends, i.e. a day and that many hours after its logical date (the interval's start).
    Manual and backfill runs have no deadline."""
    hours = load_settings().run_deadline_hours
    if hours is None:
        return None
    return DeadlineAlert(reference=ScheduledRunLogicalDate(), interval=timedelta(days=1, hours=hours),
                         callback=AsyncCallback(RunAlertNotifier, kwargs={"event": "deadline_missed"}),
                         name="daily run finished")


def warehouse_url_from_connection(conn_id: str = WAREHOUSE_CONN_ID) -> str | None:
    """The warehouse URL from the Airflow connection, or None when it is not defined.

    Either ``extra.sqlalchemy_url`` is set, or the connection is a postgres one whose parts are used.
    """
    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        conn = Connection.get(conn_id)
    except AirflowNotFoundException:
        return None
    return connection_url(conn)


def connection_url(conn) -> str:
    """The SQLAlchemy URL of an Airflow connection: its ``extra.sqlalchemy_url``, or a postgres
    connection's parts, escaped (a password may hold ``@``, ``/`` or ``:``)."""
    from sqlalchemy.engine import URL

    url = conn.extra_dejson.get("sqlalchemy_url")
    if url:
        return url
    if conn.conn_type in ("postgres", "postgresql"):
        return URL.create("postgresql+psycopg", username=conn.login or None, password=conn.password or None,
                          host=conn.host or None, port=conn.port or 5432,
                          database=conn.schema or None).render_as_string(hide_password=False)
    raise ValueError(f"connection {conn.conn_id!r} of type {conn.conn_type!r}: set extra.sqlalchemy_url")


def _warehouse_url() -> str:
    return load_settings(warehouse_url_from_connection()).warehouse_url


def _plan_to_xcom(plan) -> dict:
    """The plan as XCom stores it (in Airflow's database, shown in its UI): the password masked."""
    from kernel.settings import masked_url

    return {**plan.to_dict(), "warehouse_url": masked_url(plan.warehouse_url)}


def _plan_from_xcom(plan: dict):
    """The plan with the warehouse URL read again from the connection, password included."""
    from kernel.records import RunPlan

    return RunPlan(**{**plan, "warehouse_url": _warehouse_url()})


def _mark_worker() -> None:
    """Record which worker runs this task (XCom ``worker``): on one host several workers share a
    host name, and the stages must not depend on running where the one before ran."""
    from kernel.settings import worker_name

    get_current_context()["ti"].xcom_push(key="worker", value=worker_name())


def _failing_run(plan: dict):
    """Run a stage; on error mark the warehouse run failed before Airflow sees the error."""
    from contextlib import contextmanager

    from newsetl.pipeline import fail_run

    @contextmanager
    def guard():
        _mark_worker()
        try:
            yield
        except BaseException as exc:
            fail_run(_plan_from_xcom(plan), exc)
            raise

    return guard()


def build_outlet_dag(outlet: Outlet):
    @dag(
        dag_id=f"news_{outlet.id}",
        description=f"Daily crawl of {outlet.name} ({outlet.home}) into the news warehouse",
        schedule=CronDataIntervalTimetable(DAILY_AT_MIDNIGHT, timezone=outlet.timezone),
        start_date=datetime(2026, 11, 1, tzinfo=outlet.tz),
        catchup=False,
        max_active_runs=1,
        tags=["news", outlet.id, outlet.cms, *outlet.languages],
        default_args={**default_args(), "on_failure_callback": RunAlertNotifier()},
        deadline=run_deadline(),
        doc_md=f"Crawl → extract → load → quality checks for **{outlet.name}**, one data interval (a day in "
               f"{outlet.timezone}) per run. Warehouse: Airflow connection `{WAREHOUSE_CONN_ID}`; crawls "
               f"share the pool `{CRAWL_POOL}` and go to the queue `{outlet.queue}`.",
    )
    def outlet_pipeline():
        @task
        def plan() -> dict:
            from kernel.settings import load_settings
            from kernel.window import Window
            from newsetl.pipeline import plan_run

            _mark_worker()
            context = get_current_context()
            settings = load_settings(warehouse_url_from_connection())
            window = Window(context["data_interval_start"], context["data_interval_end"])
            run_id = f"{outlet.id}__{context['dag_run'].run_id}"
            return _plan_to_xcom(plan_run(outlet.id, window, settings, run_id))

        @task(pool=CRAWL_POOL, queue=outlet.queue)
        def crawl(plan: dict) -> dict:
            from kernel.settings import load_settings
            from newsetl.pipeline import check_crawl, crawl_stage

            settings = load_settings(_warehouse_url())
            with _failing_run(plan):
                return check_crawl(crawl_stage(_plan_from_xcom(plan), settings), settings.max_error_rate)

        @task
        def extract(plan: dict, crawled: dict) -> dict:
            from newsetl.pipeline import transform_stage

            with _failing_run(plan):
                return transform_stage(_plan_from_xcom(plan))

        @task(outlets=[WAREHOUSE_ARTICLES])
        def load(plan: dict, extracted: dict) -> dict:
            from newsetl.pipeline import load_stage

            with _failing_run(plan):
                return load_stage(_plan_from_xcom(plan)).to_dict()

        @task
        def quality(plan: dict, loaded: dict) -> dict:
            from newsetl.quality import enforce, run_quality_checks

            _mark_worker()
            return enforce(run_quality_checks(_warehouse_url(), plan["run_id"]))

        planned = plan()
        quality(planned, load(planned, extract(planned, crawl(planned))))

    return outlet_pipeline()


def build_all() -> dict:
    return {f"news_{outlet.id}": build_outlet_dag(outlet) for outlet in load_registry().values()}
