"""The sandbox: what runs news-etl on this machine without the internet — fixture look-alikes of
the outlets (``fixture_sites``), the demo over them (``demo``) and a local Airflow (``airflow_local``).

For development and tests only: it is its own distribution (``sandbox/pyproject.toml``), not part of
the news-etl wheel, and adds the ``demo``, ``serve-fixtures`` and ``airflow`` commands to ``newsetl``
through the ``newsetl.commands`` entry points.
"""
