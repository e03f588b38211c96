"""Local Airflow (`make airflow`): its setup, and the whole of it driven through the REST API and the UI."""

from __future__ import annotations

import json

from newsetl.airflow_local import ADMIN_USER, PASSWORDS_FILE, admin_password


def test_admin_password_is_generated_once_and_kept(tmp_path):
    first = admin_password(tmp_path / "home")
    again = admin_password(tmp_path / "home")
    stored = json.loads((tmp_path / "home" / PASSWORDS_FILE).read_text())
    assert len(first) >= 16 and again == first and stored == {ADMIN_USER: first}
    assert admin_password(tmp_path / "other") != first  # random, not a fixed default
