"""What a platform is to the rest of airflow-ingest: one small declaration, found through the registry.

The task group, the plan, the CLI and the ``ingest_manual`` form know a platform only through its
:class:`Platform`: how to validate its target, build its documents, which limits hold, which hook and operator
register a batch, and which CLI flags and form fields it adds. Everything else about the platform stays inside
its package (``airflow_ingest/platforms/<name>/``). This module imports no Airflow: declaring a platform is cheap
at DAG parse time; its hook and operator are named by import path and loaded only when used.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from airflow_ingest.core.batching import Limits
from airflow_ingest.core.errors import ConfigError, validation_message
from airflow_ingest.core.plan import ManifestBuilder, Plan
from airflow_ingest.core.probed import Facts
from airflow_ingest.core.thumbnails import DerivedKeys
from airflow_ingest.pipeline.planning import MediaRequest
from airflow_ingest.pipeline.registering import SendContext, Sender

__all__ = ["CliOption", "FormField", "Platform", "SendContext", "Sender", "load"]

if TYPE_CHECKING:
    from airflow_ingest.hooks.base import PlatformHook
    from airflow_ingest.pipeline.ledger_destination import Naming


@dataclass(frozen=True)
class CliOption:
    """One ``airflow-ingest sync`` flag a platform adds; ``dest`` is the register keyword it fills.

    ``kind`` is ``str``, ``int``, ``float`` or ``bool`` (a ``--flag/--no-flag`` pair).
    """

    flag: str
    dest: str
    help: str
    default: Any = None
    kind: type = str


@dataclass(frozen=True)
class FormField:
    """One ``ingest_manual`` form field (an Airflow ``Param``) a platform adds, in its platform's form section.

    ``name`` is the target key (``in_target``) or the register keyword it fills; the Param is named ``param``,
    by default ``{platform}_{name}``. ``schema`` holds the Param's other keywords (``type``, ``enum``,
    ``pattern``...); without a ``type`` it is an optional string.
    """

    name: str
    title: str
    description: str
    default: Any = None
    in_target: bool = False
    schema: Mapping[str, Any] = field(default_factory=dict)
    param: str | None = None
    blank: bool = False
    """Render an empty field as ``''`` (``{{ params.x or '' }}``) rather than ``None``."""

    def param_name(self, platform: str) -> str:
        return self.param or f"{platform}_{self.name}"

    def template(self, platform: str) -> str:
        """The Jinja template that hands the field's value to the task group."""
        return f"{{{{ params.{self.param_name(platform)}{' or ' + repr('') if self.blank else ''} }}}}"

    def param_kwargs(self) -> dict[str, Any]:
        """The ``Param`` keywords besides its default and section."""
        return {"type": ["null", "string"], "title": self.title, "description": self.description, **self.schema}


def load(path: str) -> Any:
    """``"package.module:Name"`` imported now (hooks and operators are named by path so declaring is cheap)."""
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


@dataclass(frozen=True)
class Platform:
    """One annotation platform, declared once in its package's ``__init__.py`` as ``PLATFORM``.

    :param name: the registry key and the ``platform`` argument everywhere (``darwin``).
    :param label: what people read (``V7 Darwin``).
    :param conn_type: the Airflow connection type of its hook.
    :param conn_arg: the register operator's connection argument (``darwin_conn_id``).
    :param hook: the hook class as ``module:Class``, imported only when a batch is sent.
    :param operator: the register operator as ``module:Class``, imported only when a DAG uses it.
    :param target_model: the pydantic model of the target (the document options the plan takes).
    :param limits: the default batch limits; ``hard_max_entries`` the most entries any override may ask.
    :param target_keys: target or register keys that name the target (the Asset name, the ledger destination).
    :param destination_keys: register keywords that are part of the ledger's destination.
    :param destination: ``(target, register kwargs, conn_id, extra) -> (account, where, storage)``: how the
        ledger's destination is named (``extra()`` reads the connection's extra); without it, the connection id
        and the first of ``destination_keys`` / ``target_keys`` given (see :meth:`name_destination`).
    :param build: ``(target, facts) -> ManifestBuilder``; facts are the probed media facts, or None.
    :param sender: ``module:function``, ``(hook, target, register kwargs) -> Sender``: a batch's registration
        with a ready hook, imported only when a batch is sent.
    :param thumbnail_keys: ``target -> DerivedKeys``: where the media stage writes thumbnails and frame sets for
        this platform's target (raises :class:`ConfigError` where they cannot be used); None: it takes none.
    :param builds_urls: ``target -> bool``: whether the documents for this target carry URLs built from the
        storage (then the plan completes the target with the S3 region or the Azure account it left out); by
        default no (the platform registers storage keys).
    :param retry: ``module:function``, ``(ctx, item ids) -> manifest | None``: the batch's manifest cut down to
        those items, in the platform's own format (a retry manifest), or None when it cannot be cut; without it
        the report lists the retryable items and writes no retry manifests.
    :param cli_options: the flags it adds to ``airflow-ingest sync`` (register keywords).
    :param form_fields: the fields it adds to the ``ingest_manual`` form (register keywords).
    :param doc_url: the platform's documentation (provider info).
    :param connection_form: the connection form: ``ui-field-behaviour`` and ``conn-fields`` (provider info).
    :param links: the operator's extra link classes (``module.Class``); ``triggers`` its trigger modules.
    """

    name: str
    label: str
    conn_type: str
    conn_arg: str
    hook: str
    operator: str
    target_model: type[BaseModel]
    limits: Limits
    build: Callable[[Any, Facts | None], ManifestBuilder]
    sender: str
    hard_max_entries: int | None = None
    target_keys: tuple[str, ...] = ()
    destination_keys: tuple[str, ...] = ()
    destination: Naming | None = None
    thumbnail_keys: Callable[[Any], DerivedKeys] | None = None
    builds_urls: Callable[[Mapping[str, Any]], bool] = field(default=lambda target: False)
    retry: str | None = None
    cli_options: tuple[CliOption, ...] = ()
    form_fields: tuple[FormField, ...] = field(default=())
    doc_url: str = ""
    connection_form: Mapping[str, Any] = field(default_factory=dict)
    links: tuple[str, ...] = ()
    triggers: tuple[str, ...] = ()

    @property
    def default_conn_id(self) -> str:
        return f"{self.conn_type}_default"

    def parse_target(self, target: Mapping[str, Any] | BaseModel) -> BaseModel:
        """The validated target, or a :class:`ConfigError` naming the bad field."""
        if isinstance(target, self.target_model):
            return target
        try:
            return self.target_model.model_validate(dict(target))  # type: ignore[arg-type]
        except ValidationError as error:
            raise ConfigError("target", dict(target), validation_message("target", error)) from None  # type: ignore[arg-type]

    def manifest_builder(self, target: Mapping[str, Any] | BaseModel, facts: Facts | None = None) -> ManifestBuilder:
        return self.build(self.parse_target(target), facts)

    def media_request(
        self,
        target: Mapping[str, Any] | BaseModel,
        conn_id: str | None = None,
        *,
        thumbnails: bool = False,
        cache_folder: str | None = None,
        workers: int = 4,
        max_frames: int = 1000,
    ) -> MediaRequest:
        """What the plan's media stage needs of this platform: its builder over the probed facts, and with
        ``thumbnails`` where they go. Raises :class:`ConfigError` for a target that cannot take thumbnails."""
        parsed = self.parse_target(target)
        keys = None
        if thumbnails:
            if self.thumbnail_keys is None:
                raise ConfigError("thumbnails", True, "thumbnails are for V7 Darwin read-only registration (readonly)")
            keys = self.thumbnail_keys(parsed)
        return MediaRequest(
            lambda facts: self.build(parsed, facts),
            conn_id,
            keys,
            cache_folder=cache_folder,
            workers=workers,
            max_frames=max_frames,
        )

    def limits_for(self, max_entries: int | None = None, max_bytes: int | None = None) -> Limits:
        """The default limits with any override applied, never past the documented hard limit."""
        limits = Limits(
            max_entries=self.limits.max_entries if max_entries is None else max_entries,
            max_bytes=self.limits.max_bytes if max_bytes is None else max_bytes,
            max_document_bytes=self.limits.max_document_bytes,
        )
        hard = self.hard_max_entries
        if hard is not None and limits.max_entries > hard:
            raise ConfigError("max_entries", max_entries, f"{self.name} accepts at most {hard:,} entries per batch")
        return limits

    def provider_info(self) -> dict[str, Any]:
        """This platform's share of ``get_provider_info()``: no import of its hook, operator or SDK."""
        module, _, hook = self.hook.partition(":")
        return {
            "integration": {"integration-name": self.label, "external-doc-url": self.doc_url, "tags": ["software"]},
            "hook": {"integration-name": self.label, "python-modules": [module]},
            "operator": {"integration-name": self.label, "python-modules": [self.operator.partition(":")[0]]},
            "trigger": {"integration-name": self.label, "python-modules": list(self.triggers)},
            "connection-type": {
                "connection-type": self.conn_type,
                "hook-class-name": f"{module}.{hook}",
                "hook-name": self.label,
                **self.connection_form,
            },
        }

    def hook_class(self) -> type[PlatformHook]:
        return load(self.hook)  # type: ignore[no-any-return]

    def operator_class(self) -> type[Any]:
        return load(self.operator)  # type: ignore[no-any-return]

    def sender_for(
        self, conn_id: str, target: Mapping[str, Any] | BaseModel, register_kwargs: Mapping[str, Any] | None = None
    ) -> Sender:
        """A sender over a new hook on ``conn_id``. The arguments are checked first, then the connection is read:
        either mistake fails here, before anything is listed or sent (a sender reads no connection when made)."""
        hook = self.hook_class()(conn_id)
        send = self.make_sender(hook, target, register_kwargs)
        hook.read_connection()
        return send

    def make_sender(
        self, hook: Any, target: Mapping[str, Any] | BaseModel, register_kwargs: Mapping[str, Any] | None = None
    ) -> Sender:
        """The platform's sender over a ready ``hook`` (the operators make their hook themselves)."""
        return load(self.sender)(hook, self.parse_target(target), dict(register_kwargs or {}))  # type: ignore[no-any-return]

    def retry_cut(self, run: Any, plan: Plan) -> Callable[[int, set[str]], str | None]:
        """``(batch number, item ids) -> retry manifest`` over a planned run, for the report."""
        if self.retry is None:  # the platform cannot cut its documents: the report lists the items
            return lambda number, items: None
        cut = load(self.retry)
        return lambda number, items: cut(SendContext(run, plan, number), items)  # type: ignore[no-any-return]

    def destination_of(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The ledger destination's share of ``values`` (register keywords)."""
        return {key: value for key, value in values.items() if key in self.destination_keys}

    def name_destination(
        self,
        target: Mapping[str, Any],
        register: Mapping[str, Any],
        conn_id: str,
        extra: Callable[[], Mapping[str, Any]],
    ) -> tuple[str, str, str]:
        """The ledger destination's (account, where, storage), the platform's own :data:`Naming` (``store_for``'s
        ``naming``). Without one: the connection, the first destination or target key given, no storage."""
        if self.destination is not None:
            return self.destination(target, register, conn_id, extra)
        keys = (*self.destination_keys, *self.target_keys)
        where = next((str(v) for key in keys for v in (register.get(key), target.get(key)) if v), "")
        return conn_id, where, ""
