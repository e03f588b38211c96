"""Run alerts: where RunAlertNotifier sends a failed task or a missed deadline, per configuration.

A real failing Airflow run calling the notifier is in test_dags.py; here the targets one by one,
with the contexts Airflow passes (a task's, and the triggerer's for a deadline).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from newsetl.alerts import RunAlertNotifier
from scrapers.crawl import CrawlFailed
from tests.support import Webhook

RECEIVED: list[dict] = []


class RecordingNotifier:
    """A notifier named by a dotted class path: built with no arguments, called with the context."""

    def __call__(self, context):
        RECEIVED.append(context["news_alert"])


def task_context() -> dict:
    run = SimpleNamespace(dag_id="news_metamk", run_id="scheduled__2026-11-20T23:00:00+00:00", run_type="scheduled",
                          data_interval_start=datetime(2026, 11, 20, 23, tzinfo=UTC),
                          data_interval_end=datetime(2026, 11, 21, 23, tzinfo=UTC))
    ti = SimpleNamespace(task_id="crawl", try_number=3, log_url="http://127.0.0.1:8080/log")
    return {"dag_run": run, "ti": ti, "exception": CrawlFailed("crawl of metamk got no successful response")}


def deadline_context() -> dict:
    """What the scheduler hands the triggerer for a missed deadline: the run as the REST API shows it."""
    return {"dag_run": {"dag_id": "news_metamk", "dag_run_id": "scheduled__2026-11-20T23:00:00+00:00",
                        "run_type": "scheduled",
                        "data_interval_start": "2026-11-20T23:00:00Z", "data_interval_end": "2026-11-21T23:00:00Z"},
            "deadline": {"id": "0199", "deadline_time": datetime(2026, 11, 22, 5, tzinfo=UTC)}}


@pytest.fixture(autouse=True)
def no_target(monkeypatch):
    monkeypatch.delenv("NEWSETL_ALERT_TARGET", raising=False)


def test_by_default_a_failed_task_is_logged(caplog):
    with caplog.at_level(logging.ERROR, logger="newsetl.alerts"):
        RunAlertNotifier().notify(task_context())
    assert caplog.messages == ["news alert: news_metamk scheduled__2026-11-20T23:00:00+00:00: task crawl failed "
                               "(CrawlFailed: crawl of metamk got no successful response)"]


def test_a_webhook_target_gets_the_alert_as_json(monkeypatch):
    webhook = Webhook()
    monkeypatch.setenv("NEWSETL_ALERT_TARGET", webhook.url)
    try:
        RunAlertNotifier().notify(task_context())
    finally:
        webhook.stop()
    assert webhook.received == [{
        "event": "task_failed", "dag_id": "news_metamk", "run_id": "scheduled__2026-11-20T23:00:00+00:00",
        "run_type": "scheduled",
        "data_interval_start": "2026-11-20T23:00:00+00:00", "data_interval_end": "2026-11-21T23:00:00+00:00",
        "task_id": "crawl", "try_number": 3, "log_url": "http://127.0.0.1:8080/log",
        "error": "CrawlFailed: crawl of metamk got no successful response",
        "summary": "news_metamk scheduled__2026-11-20T23:00:00+00:00: task crawl failed "
                   "(CrawlFailed: crawl of metamk got no successful response)"}]


def test_a_dotted_class_path_target_is_built_and_called(monkeypatch):
    RECEIVED.clear()
    monkeypatch.setenv("NEWSETL_ALERT_TARGET", f"{__name__}.RecordingNotifier")
    RunAlertNotifier().notify(task_context())
    assert [alert["summary"] for alert in RECEIVED] == [
        "news_metamk scheduled__2026-11-20T23:00:00+00:00: task crawl failed "
        "(CrawlFailed: crawl of metamk got no successful response)"]


def test_a_missed_deadline_is_sent_the_way_the_triggerer_awaits_it(monkeypatch):
    webhook = Webhook()
    monkeypatch.setenv("NEWSETL_ALERT_TARGET", webhook.url)

    async def as_the_triggerer_does(context):  # callback(**kwargs, context=context), then awaited
        await RunAlertNotifier(event="deadline_missed", context=context)

    try:
        asyncio.run(as_the_triggerer_does(deadline_context()))
    finally:
        webhook.stop()
    [alert] = webhook.received
    assert alert["event"] == "deadline_missed" and alert["deadline"] == "2026-11-22T05:00:00+00:00"
    assert alert["summary"] == "news_metamk scheduled__2026-11-20T23:00:00+00:00: run missed its deadline"
    assert alert["data_interval_end"] == "2026-11-21T23:00:00Z" and alert["task_id"] is None


def test_a_target_that_is_neither_url_nor_class_path_fails_clearly(monkeypatch):
    monkeypatch.setenv("NEWSETL_ALERT_TARGET", "ops-channel")
    with pytest.raises(ValueError, match="'ops-channel': not a URL nor a dotted class path"):
        RunAlertNotifier().notify(task_context())
