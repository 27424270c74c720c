"""Kept so DAGs importing ``airflow_ingest.operators.darwin`` go on working: the operator is in the platform's
package now."""

from __future__ import annotations

from airflow_ingest.platforms.darwin.operator import DarwinDatasetLink, DarwinRegisterOperator

__all__ = ["DarwinDatasetLink", "DarwinRegisterOperator"]
