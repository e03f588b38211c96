"""The project's Airflow plugin (entry point ``airflow.plugins``): the deadline reference of the daily runs.

Airflow loads it in the scheduler, dag-processor and api-server; the DAGs name the reference, and a
deployment that installs the package has it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from airflow.plugins_manager import AirflowPlugin
from airflow.sdk.definitions.deadline import BaseDeadlineReference


class ScheduledRunLogicalDate(BaseDeadlineReference):
    """A scheduled run's logical date; nothing for a manual, backfill or asset-triggered run.

    Airflow creates no deadline when the reference is None, so a run of a past day started by
    hand is not shown as having missed the daily run's deadline from the moment it starts.
    """

    required_kwargs = {"dag_id", "run_id"}

    def _evaluate_with(self, *, session: Any, dag_id: str, run_id: str, **_: Any) -> datetime | None:
        from airflow.models import DagRun
        from airflow.utils.types import DagRunType
        from sqlalchemy import select

        run = session.execute(select(DagRun.logical_date, DagRun.run_type)
                              .where(DagRun.dag_id == dag_id, DagRun.run_id == run_id)).one_or_none()
        if run is None or run.run_type != DagRunType.SCHEDULED:
            return None
        return run.logical_date


class NewsEtlPlugin(AirflowPlugin):
    name = "newsetl"
    deadline_references = [ScheduledRunLogicalDate]
