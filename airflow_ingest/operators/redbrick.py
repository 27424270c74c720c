"""Kept so DAGs importing ``airflow_ingest.operators.redbrick`` go on working: the operator is in the platform's
package now."""

from __future__ import annotations

from airflow_ingest.platforms.redbrick.operator import RedBrickProjectLink, RedBrickRegisterOperator

__all__ = ["RedBrickProjectLink", "RedBrickRegisterOperator"]
