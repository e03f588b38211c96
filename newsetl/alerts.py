"""Run alerts through Airflow's notifier mechanism: failed tasks and missed deadlines.

Where an alert goes is configuration, read when the alert is sent: the Airflow Variable
``news_alert_target`` or else the environment variable NEWSETL_ALERT_TARGET —

- unset: the alert is logged (level ERROR) by the task or the triggerer;
- an ``http(s)://`` URL: the alert is POSTed there as JSON (a webhook);
- a dotted class path (``airflow.providers.slack.notifications.slack_webhook.SlackWebhookNotifier``
  with its settings in Airflow, or a class of one's own): that notifier is built with no arguments
  and called with the Airflow context, the alert itself under ``context["news_alert"]``.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import logging
import urllib.request

from airflow.sdk.bases.notifier import BaseNotifier

from kernel import settings

ALERT_TARGET_VARIABLE = "news_alert_target"
WEBHOOK_TIMEOUT_S = 10
log = logging.getLogger(__name__)


def alert_target() -> str | None:
    """The configured target: the Airflow Variable first, then the environment; None means log only."""
    try:
        from airflow.sdk import Variable

        target = Variable.get(ALERT_TARGET_VARIABLE, default=None)
    except Exception as exc:  # noqa: BLE001 — no Variable access here (e.g. outside a task): use the environment
        log.debug("Variable %s not readable: %s", ALERT_TARGET_VARIABLE, exc)
        target = None
    return (target or "").strip() or settings.alert_target()


def _when(value) -> str | None:
    return value.isoformat() if hasattr(value, "isoformat") else (str(value) if value is not None else None)


def describe(context: dict, event: str) -> dict:
    """A small JSON-safe account of what went wrong, from a task's context or a deadline's."""
    run = context.get("dag_run")
    if isinstance(run, dict):  # a missed deadline: the triggerer passes the run as the REST API shows it
        field = run.get
    else:
        def field(name):
            return getattr(run, name, None)
    ti = context.get("ti") or context.get("task_instance")
    alert = {
        "event": event,
        "dag_id": field("dag_id"),
        "run_id": field("run_id") or field("dag_run_id"),
        "run_type": str(getattr(field("run_type"), "value", field("run_type"))),
        "data_interval_start": _when(field("data_interval_start")),
        "data_interval_end": _when(field("data_interval_end")),
        "task_id": getattr(ti, "task_id", None),
        "try_number": getattr(ti, "try_number", None),
        "log_url": getattr(ti, "log_url", None),
    }
    if (exception := context.get("exception")) is not None:
        alert["error"] = f"{type(exception).__name__}: {exception}"[:2000]
    if deadline := context.get("deadline"):
        alert["deadline"] = _when(deadline.get("deadline_time"))
    what = f"task {alert['task_id']} failed" if event == "task_failed" else "run missed its deadline"
    alert["summary"] = (f"{alert['dag_id']} {alert['run_id']}: {what}"
                        + (f" ({alert['error']})" if "error" in alert else ""))
    return alert


def post_json(url: str, payload: dict) -> int:
    request = urllib.request.Request(url, data=json.dumps(payload).encode("utf-8"), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_S) as response:
        return response.status


def notifier_class(path: str) -> type:
    module, _, name = path.rpartition(".")
    if not module:
        raise ValueError(f"NEWSETL_ALERT_TARGET/{ALERT_TARGET_VARIABLE}={path!r}: not a URL nor a dotted class path")
    return getattr(importlib.import_module(module), name)


class RunAlertNotifier(BaseNotifier):
    """Task failure callback and deadline-alert callback of the outlet DAGs."""

    def __init__(self, event: str = "task_failed", context: dict | None = None):
        super().__init__(context=context)
        self.event = event

    def notify(self, context) -> None:
        alert = describe(context, self.event)
        target = alert_target()
        if target is None:
            log.error("news alert: %s", alert["summary"])
        elif target.startswith(("http://", "https://")):
            status = post_json(target, alert)
            log.info("news alert sent to %s (HTTP %s): %s", target, status, alert["summary"])
        else:
            notifier = notifier_class(target)()
            notifier({**context, "news_alert": alert})
            log.info("news alert passed to %s: %s", target, alert["summary"])

    async def async_notify(self, context) -> None:
        """Deadline alerts run in the triggerer, where callbacks are awaited."""
        await asyncio.to_thread(self.notify, context)
