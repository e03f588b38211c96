"""Airflow DAGs: one daily news DAG per outlet in the registry (kernel/outlets/*.toml), news_<outlet id>."""

from newsetl.dag_factory import build_all

globals().update(build_all())
