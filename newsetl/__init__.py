"""news-etl's orchestration: the pipeline that chains crawl → extract/transform → load, the
``newsetl`` command, the Airflow DAG factory, quality gates, maintenance and alerts."""
