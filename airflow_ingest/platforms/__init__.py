"""The platform registry: every annotation platform airflow-ingest registers into, by name.

Adding a platform is one package under ``airflow_ingest/platforms/`` that defines ``PLATFORM`` (a
:class:`~airflow_ingest.platforms.base.Platform`) and one line in :data:`PLATFORM_MODULES`. The task group, the
plan operator, the ``ingest_manual`` form, the CLI and the provider info all ask here; none of them names a
platform. Packages are imported on first use, so a DAG file that uses one platform loads only that one.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from airflow_ingest.core.batching import Limits
from airflow_ingest.core.errors import ConfigError
from airflow_ingest.core.plan import ManifestBuilder
from airflow_ingest.core.probed import Facts
from airflow_ingest.platforms.base import CliOption, FormField, Platform, SendContext, Sender

__all__ = [
    "PLATFORM_MODULES",
    "CliOption",
    "FormField",
    "Platform",
    "SendContext",
    "Sender",
    "add_cli_options",
    "cli_values",
    "get_platform",
    "limits_for",
    "manifest_builder",
    "parse_target",
    "platform_names",
    "platforms",
]

PLATFORM_MODULES: dict[str, str] = {
    "darwin": "airflow_ingest.platforms.darwin",
    "encord": "airflow_ingest.platforms.encord",
    "redbrick": "airflow_ingest.platforms.redbrick",
    "labelstudio": "airflow_ingest.platforms.labelstudio",
}
"""Each platform's package; the package's ``PLATFORM`` is its declaration."""


def platform_names() -> tuple[str, ...]:
    return tuple(PLATFORM_MODULES)


def get_platform(name: str) -> Platform:
    """The declared platform, or a :class:`ConfigError` listing the known names."""
    module = PLATFORM_MODULES.get(name) if isinstance(name, str) else None
    if module is None:
        raise ConfigError("platform", name, f"use one of {', '.join(PLATFORM_MODULES)}")
    platform = importlib.import_module(module).PLATFORM
    if not isinstance(platform, Platform) or platform.name != name:
        raise TypeError(f"{module}.PLATFORM must be a Platform named {name!r}")
    return platform


def platforms() -> tuple[Platform, ...]:
    return tuple(get_platform(name) for name in PLATFORM_MODULES)


def parse_target(name: str, target: Mapping[str, Any]) -> BaseModel:
    """The platform's validated target, or an error naming the bad field."""
    return get_platform(name).parse_target(target)


def manifest_builder(name: str, target: Mapping[str, Any], facts: Facts | None = None) -> ManifestBuilder:
    """The platform's document builder for ``target``; ``facts`` are probed media facts, where it reads them."""
    return get_platform(name).manifest_builder(target, facts)


def limits_for(name: str, max_entries: int | None = None, max_bytes: int | None = None) -> Limits:
    """The platform's default limits with any override applied, never past a documented hard limit."""
    return get_platform(name).limits_for(max_entries, max_bytes)


def add_cli_options(parser: argparse.ArgumentParser | Any) -> None:
    """Add every platform's register flags to ``parser``, one group per platform."""
    added: set[str] = set()
    for platform in platforms():
        group = None
        for option in platform.cli_options:
            if option.flag in added:
                continue
            added.add(option.flag)
            group = group or parser.add_argument_group(f"{platform.label} registration")
            if option.kind is bool:
                group.add_argument(
                    option.flag,
                    dest=option.dest,
                    action=argparse.BooleanOptionalAction,
                    default=option.default,
                    help=option.help,
                )
            else:
                group.add_argument(
                    option.flag, dest=option.dest, type=option.kind, default=option.default, help=option.help
                )


def cli_values(name: str, args: argparse.Namespace) -> dict[str, Any]:
    """The register keywords ``name``'s flags filled (flags of other platforms are left out)."""
    return {option.dest: getattr(args, option.dest, option.default) for option in get_platform(name).cli_options}
