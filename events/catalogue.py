"""The catalogue of event types: one :class:`Declaration` per type.

A declaration is the single place a type is described: its ``data`` model, its
labels in Chinese and English, the references it makes, whether only the agency
of the referenced finding may submit it, what it does to lifecycles (how a
record of it names what it points at, and how that one names it back; whether
its target may be a revoked record) and a sample ``data`` that validates.

Everything else is derived from the catalogue: the vocabulary
(:mod:`events.vocabulary`), the JSON Schemas (:mod:`events.schemas`), the
labels (:mod:`events.labels`, used by the history and the pages) and the
structural decision table (:mod:`commands.decide`). The packaged declarations
are in :mod:`events.declarations`; :func:`declare` adds one (a test fixture
declares a new type this way) and :func:`withdraw` takes it out again. Modules
that derive tables register a listener with :func:`on_change` and rebuild them.

A declaration is checked when it is made: a blank label, a reference field the
model does not have, a lifecycle field that is not a reference, or a type with
references but no relation raises ``ValueError`` at import (never a silent
fallback later).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from pydantic import BaseModel

__all__ = [
    "CATALOGUE",
    "Declaration",
    "Label",
    "Relation",
    "Targets",
    "Upcaster",
    "declare",
    "on_change",
    "withdraw",
]

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]
"""Turns the `data` of schema version v into that of version v + 1 (pure)."""

_TYPE_NAME = re.compile(r"^credit\.[a-z]+\.[a-z]+$")


@dataclass(frozen=True, slots=True)
class Label:
    """What a person reads for a code: Chinese (the default) and English."""

    zh: str
    en: str

    def __post_init__(self) -> None:
        if not self.zh.strip() or not self.en.strip():
            raise ValueError(f"a label needs both Chinese and English text, got {self!r}")

    def text(self, lang: str = "zh") -> str:
        """The label in ``lang`` (``zh`` or ``en``; anything else is ``ValueError``)."""
        if lang == "zh":
            return self.zh
        if lang == "en":
            return self.en
        raise ValueError(f"labels are in zh or en, not {lang!r}")


@dataclass(frozen=True, slots=True)
class Relation:
    """How a record of this type names the record a reference points at
    (``forward``: "corrects" 更正) and how that record names it back
    (``backward``: "corrected by" 被更正). The English text is the stable
    ``relation`` key of the history's links."""

    forward: Label
    backward: Label


@dataclass(frozen=True, slots=True)
class Targets:
    """Which types a reference field may name: ``types``, plus every finding
    when ``findings``, plus every declared type when ``every`` (less those of
    the kinds in ``except_kinds`` and the types in ``except_types``). Resolved
    against the whole catalogue, so a newly declared finding or type is a
    valid target at once."""

    types: frozenset[str] = frozenset()
    findings: bool = False
    every: bool = False
    except_kinds: frozenset[str] = frozenset()
    except_types: frozenset[str] = frozenset()

    def resolve(self, declared: Mapping[str, Declaration]) -> frozenset[str]:
        """The type names this stands for among ``declared``."""
        names = set(self.types)
        for name, declaration in declared.items():
            if (self.every or (self.findings and declaration.finding)) and (
                name not in self.except_types and name.split(".")[1] not in self.except_kinds
            ):
                names.add(name)
        unknown = names - set(declared)
        if unknown:
            raise ValueError(f"a reference names undeclared types {sorted(unknown)}")
        return frozenset(names)


def one(name: str) -> Targets:
    """A reference to exactly one type."""
    return Targets(types=frozenset({name}))


FINDINGS = Targets(findings=True)
"""Any type that establishes dishonest conduct (a declaration with ``finding``)."""
SANCTION_GROUNDS = Targets(types=frozenset({"credit.list.designated"}), findings=True)
"""What a measure, a ban or a repair may rest on: a finding or a list designation."""


@dataclass(frozen=True)
class Declaration:
    """Everything about one event type (module docstring).

    ``agency_bound`` and ``not_after_revocation`` name a reference field:
    only the agency that made the record it names may submit the type
    (谁认定、谁约谈); the record it names must not be revoked. ``finding``
    marks a type that establishes dishonest conduct. ``version`` and
    ``upcasters`` (one for every version below it) lift stored data.
    """

    name: str
    model: type[BaseModel]
    label: Label
    sample: Mapping[str, Any]
    references: Mapping[str, Targets] = field(default_factory=dict)
    relation: Relation | None = None
    finding: bool = False
    agency_bound: str | None = None
    not_after_revocation: str | None = None
    version: int = 1
    upcasters: Mapping[int, Upcaster] = field(default_factory=dict)

    def __post_init__(self) -> None:
        where = f"declaration of {self.name}"
        if not _TYPE_NAME.match(self.name):
            raise ValueError(f"{where}: types are credit.<kind>.<action> in lower case")
        fields = self.model.model_fields
        unknown = [f for f in self.references if f not in fields]
        if unknown:
            raise ValueError(f"{where}: reference fields {unknown} are not in its model")
        for name in (self.agency_bound, self.not_after_revocation):
            if name is not None and name not in self.references:
                raise ValueError(f"{where}: {name!r} is not one of its reference fields")
        if self.references and self.relation is None:
            raise ValueError(f"{where}: a type with references needs a relation (history)")
        if set(self.upcasters) != set(range(1, self.version)):
            raise ValueError(f"{where}: one upcaster for every version below {self.version}")

    @property
    def kind(self) -> str:
        return self.name.split(".")[1]

    @property
    def action(self) -> str:
        return self.name.split(".")[2]


_DECLARED: dict[str, Declaration] = {}
CATALOGUE: Mapping[str, Declaration] = MappingProxyType(_DECLARED)
"""Every declared type, by type string, in declaration order (read-only)."""
_LISTENERS: list[Callable[[], None]] = []


def on_change(listener: Callable[[], None]) -> None:
    """Call ``listener`` now and after every :func:`declare` or :func:`withdraw`."""
    _LISTENERS.append(listener)
    listener()


def _changed() -> None:
    for listener in _LISTENERS:
        listener()


def declare(*declarations: Declaration) -> None:
    """Add ``declarations`` to the catalogue and rebuild what derives from it.

    ``ValueError`` if a type is declared twice or a reference names a type
    that is not declared (then nothing is added).
    """
    added = dict(_DECLARED)
    for declaration in declarations:
        if declaration.name in added:
            raise ValueError(f"{declaration.name} is declared twice")
        added[declaration.name] = declaration
    for declaration in declarations:
        for targets in declaration.references.values():
            targets.resolve(added)
    _DECLARED.update({d.name: d for d in declarations})
    _changed()


def withdraw(type_name: str) -> None:
    """Take ``type_name`` out of the catalogue (a test's own type); ``KeyError`` if absent."""
    del _DECLARED[type_name]
    _changed()
