#!/bin/sh
# Runs once, when the PostgreSQL volume is new: the warehouse database and its owner beside
# Airflow's metadata database on the same server.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<SQL
CREATE USER newsetl WITH PASSWORD '${WAREHOUSE_PASSWORD}';
CREATE DATABASE news OWNER newsetl;
SQL
