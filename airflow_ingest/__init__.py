"""airflow-ingest."""
