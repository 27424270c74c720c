"""What a Label Studio plan writes: optionally, the labeling config's data key to fill.

The project is no part of the target: the tasks are the same for any project, so the project id is a register
argument (``project_id``, else the connection's ``extra.project_id``), as RedBrick's is.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

_DATA_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")


class LabelStudioTarget(BaseModel):
    """How the tasks are written.

    ``data_key`` names the task field the object's URL goes in (the ``$name`` of the labeling config's ``Image``,
    ``Video``, ``Audio``, ``Text`` ... tag, without the ``$``). Left out, the manifest uses the kind's usual name
    (``image``, ``video`` ...; ``images`` for a folder's list) and registration takes the key from the project's
    labeling config, which it reads before sending anything.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    data_key: str | None = Field(default=None, description="The labeling config's $name for the files' URLs.")

    @field_validator("data_key")
    @classmethod
    def _data_key(cls, value: str | None) -> str | None:
        if value is None:
            return None
        key = value.strip().removeprefix("$")
        if not key:
            return None
        if not _DATA_KEY.match(key) or key == "airflow_ingest":
            raise ValueError("use the name after '$' in the labeling config's value (e.g. image for value=\"$image\")")
        return key


def ledger_destination(
    target: Mapping[str, Any], register: Mapping[str, Any], conn_id: str, extra: Callable[[], Mapping[str, Any]]
) -> tuple[str, str, str]:
    """The ledger's (account, where, storage): the connection, and the project (the register argument, else the
    connection's ``extra.project_id``: a connection pointed at another project gets another ledger)."""
    project = register.get("project_id") or extra().get("project_id") or ""
    return conn_id, str(project), ""
