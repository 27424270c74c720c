"""The pipeline that the operators and the CLI share: plan a run, register a range of batches, report, commit.

A run is a folder (``file://``, ``s3://``, ...) holding ``listing.json`` and ``objects.jsonl.gz`` (the listing),
``plan.json`` with the manifests and item indexes (the plan), ``outcomes/`` (what registration answered) and the
report. :mod:`~airflow_ingest.pipeline.runs` reads them, :mod:`~airflow_ingest.pipeline.planning` writes the
plan, :mod:`~airflow_ingest.pipeline.registering` sends batches through a platform's Sender,
:mod:`~airflow_ingest.pipeline.reporting` writes the report and commits the ledger
(:mod:`~airflow_ingest.pipeline.ledger_store`, :mod:`~airflow_ingest.pipeline.ledger_destination`).

Operators turn these functions' :class:`~airflow_ingest.core.errors.IngestError` into Airflow's failures; the CLI
turns them into exit codes. Nothing here imports an operator or a platform package: platforms build on this.
"""
