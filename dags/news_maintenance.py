"""Airflow DAGs that maintain the warehouse: news_warehouse_refresh after loads, news_reprocess by hand.

The work is in newsetl.maintenance, imported inside the tasks so parsing this file stays cheap;
each task returns a small dict of counts.
"""

from datetime import UTC, datetime

from airflow.sdk import Param, dag, get_current_context, task

from kernel.registry import load_registry
from newsetl.dag_factory import WAREHOUSE_ARTICLES, default_args, warehouse_url_from_connection


def _settings():
    from kernel.settings import load_settings

    return load_settings(warehouse_url_from_connection())


@dag(
    dag_id="news_warehouse_refresh",
    description="After loads: clean newly learned boilerplate from older bodies, refresh syndication clusters",
    schedule=[WAREHOUSE_ARTICLES],
    start_date=datetime(2026, 11, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    tags=["news", "maintenance"],
    default_args=default_args(),
    doc_md="Runs whenever a load has updated the warehouse's articles (the Asset `news_warehouse_articles`). "
           "Articles loaded before a learned boilerplate segment became active are extracted again from the raw "
           "archive so it leaves their bodies; then the syndication clusters of what changed are refreshed.",
)
def news_warehouse_refresh():
    @task
    def reclean_boilerplate() -> dict:
        from newsetl.maintenance import reclean_boilerplate

        return reclean_boilerplate(_settings())

    @task
    def refresh_syndication() -> dict:
        from newsetl.maintenance import refresh_syndication

        return refresh_syndication(_settings())

    reclean_boilerplate() >> refresh_syndication()  # clusters compare bodies: clean them first


@dag(
    dag_id="news_reprocess",
    description="Extract one outlet's articles of a date range again from the raw archive, without network",
    schedule=None,
    start_date=datetime(2026, 11, 1, tzinfo=UTC),
    catchup=False,
    tags=["news", "maintenance"],
    default_args=default_args(),
    params={
        "outlet": Param(type="string", enum=sorted(load_registry()), title="Outlet",
                        description="Outlet id from the registry"),
        "since": Param(type="string", format="date", title="Since",
                       description="First publication day, YYYY-MM-DD (midnight at the outlet)"),
        "until": Param(type="string", format="date", title="Until",
                       description="Day after the last one, YYYY-MM-DD (exclusive)"),
    },
    doc_md="Extracts the outlet's stored articles published in `[since, until)` again from the raw archive with "
           "the current extractor and cleaning rules; a version is added only where the output changed.",
)
def news_reprocess():
    @task
    def reprocess() -> dict:
        from newsetl.maintenance import reprocess

        params = get_current_context()["params"]
        return reprocess(params["outlet"], params["since"], params["until"], _settings())

    reprocess()


news_warehouse_refresh()
news_reprocess()
