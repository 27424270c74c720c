"""Kept so DAGs importing ``airflow_ingest.operators.encord`` go on working: the operator is in the platform's
package now."""

from __future__ import annotations

from airflow_ingest.platforms.encord.operator import EncordDestinationLink, EncordRegisterOperator

__all__ = ["EncordDestinationLink", "EncordRegisterOperator"]
