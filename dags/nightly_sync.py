"""Every night, register what is new under a bucket prefix; the ledger makes each night send only that.

Configure it per deployment with environment variables read when the file is parsed (cheap, no I/O):

- ``AIRFLOW_INGEST_NIGHTLY_SOURCE``: ``s3://bucket/prefix/`` (or ``gs://``, ``az://``); default ``s3://demo-bucket/``
- ``AIRFLOW_INGEST_NIGHTLY_PLATFORM``: ``darwin`` (default), ``encord``, ``redbrick`` or ``labelstudio``
- ``AIRFLOW_INGEST_NIGHTLY_TARGET``: the platform target as JSON; default the demo V7 dataset
- ``AIRFLOW_INGEST_NIGHTLY_REGISTER``: more register-operator arguments as JSON (Encord folder, RedBrick or
  Label Studio project)
- ``AIRFLOW_INGEST_NIGHTLY_STATE``: where the ledger lives; default ``$AIRFLOW_HOME/ingest-state``
- ``AIRFLOW_INGEST_NIGHTLY_SCHEDULE``: a cron expression or preset; default ``@daily``
- ``AIRFLOW_INGEST_NIGHTLY_POOL``: the pool for register tasks (one per platform account), default
  ``ingest_{platform}`` from ``dags/pools.json``

Runs never overlap (``max_active_runs=1``), missed nights are not replayed (``catchup=False``: the ledger,
not the data interval, decides what is new), the report records the run's data interval, and the platform
target's Asset gets an event whenever a night registered something.
"""

from __future__ import annotations

import json
import os

import pendulum
from airflow.sdk import DAG

from airflow_ingest.task_groups import ingest_task_group, platform_asset

SOURCE = os.environ.get("AIRFLOW_INGEST_NIGHTLY_SOURCE", "s3://demo-bucket/")
PLATFORM = os.environ.get("AIRFLOW_INGEST_NIGHTLY_PLATFORM", "darwin")
TARGET = json.loads(
    os.environ.get("AIRFLOW_INGEST_NIGHTLY_TARGET", '{"dataset_slug": "demo-dataset", "storage_slug": "demo-storage"}')
)
REGISTER = json.loads(os.environ.get("AIRFLOW_INGEST_NIGHTLY_REGISTER", "{}"))
HOME = os.environ.get("AIRFLOW_HOME") or os.path.expanduser("~/airflow")
STATE = os.environ.get("AIRFLOW_INGEST_NIGHTLY_STATE") or f"file://{os.path.abspath(HOME)}/ingest-state"

with DAG(
    dag_id="nightly_sync",
    description=f"Nightly: register what is new under {SOURCE} into {PLATFORM}",
    schedule=os.environ.get("AIRFLOW_INGEST_NIGHTLY_SCHEDULE", "@daily"),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["airflow-ingest", "nightly"],
):
    ingest_task_group(
        "sync",
        source=SOURCE,
        platform=PLATFORM,
        target=TARGET,
        platform_conn_id=f"{PLATFORM}_default",
        register_kwargs=REGISTER,
        state=STATE,
        pool=os.environ.get("AIRFLOW_INGEST_NIGHTLY_POOL") or f"ingest_{PLATFORM}",
        outlets=[platform_asset(PLATFORM, TARGET, REGISTER)],
    )
