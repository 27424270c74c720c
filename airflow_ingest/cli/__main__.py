"""``python -m airflow_ingest.cli``: the same command as the ``airflow-ingest`` script."""

from __future__ import annotations

import sys

from airflow_ingest.cli import main

if __name__ == "__main__":
    sys.exit(main())
