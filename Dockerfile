# The news-etl image: the official Airflow image with the project installed. Every Airflow service
# of docker-compose.yml runs it.
ARG AIRFLOW_VERSION=3.3.2
FROM apache/airflow:${AIRFLOW_VERSION}-python3.11
ARG AIRFLOW_VERSION

COPY --chown=airflow:root pyproject.toml README.md /opt/newsetl/
COPY --chown=airflow:root kernel /opt/newsetl/kernel
COPY --chown=airflow:root scrapers /opt/newsetl/scrapers
COPY --chown=airflow:root transforms /opt/newsetl/transforms
COPY --chown=airflow:root models /opt/newsetl/models
COPY --chown=airflow:root newsetl /opt/newsetl/newsetl
# Airflow stays at the image's version; the project's own pins (celery <5.7 …) come with it.
RUN pip install --no-cache-dir "apache-airflow==${AIRFLOW_VERSION}" /opt/newsetl
COPY --chown=airflow:root dags /opt/newsetl/dags
