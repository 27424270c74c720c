"""The Ingest view: an Airflow UI plugin showing what an ingest run did (see :mod:`.ingest_view`)."""
