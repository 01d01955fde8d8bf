"""Who exists to record what: agency kinds, credit platforms and the region
hierarchy, as data (DOMAIN.md "Who may record what" and its Clarifications).

The shipped configuration is ``commands/agencies.json`` (the national level, every
region the seeds name and every region the demo uses); a deployment adds or
replaces kinds, regions and hierarchy exceptions with one more file in the same
format (``LEDGER_AGENCIES_FILE``), read once at start-up into the rule services.
Both are parsed by :mod:`commands.parsing` models; a malformed file is a
``ValueError`` naming it. The files are read by ``entrypoints.rule_files``.

What the configuration decides:

* ``kinds``: the agency kinds a ``source`` may name (``samr`` 市场监管, ``tax`` 税务 …),
  with their Chinese names, whether they record findings on their own authority
  (``finding``; a platform only if configured so) and whether they are a
  registration authority (they may link responsible persons);
* ``platform_kind``: the kind of the credit platforms (``credit-platform``);
* ``regions``: names of GB/T 2260 region codes, for messages;
* the hierarchy: national ``000000`` over provinces (``XX0000``) over prefectures
  (``XXYY00``) over counties, except where ``parents`` names another parent for
  every code with a prefix (provincially administered cities, municipal districts);
  the longest matching prefix wins;
* ``evaluation_schemes``: which agency kinds publish a scheme's grades.

A ``source`` is classified by :meth:`Agencies.party`: an agency ``KIND/REGION``
(configured kind, six-digit region), a platform ``credit-platform/REGION``, a subject
``subject/USCC``, the ledger's system source, or ``unknown``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from commands.parsing import Strict, parse

__all__ = ["NATIONAL", "SYSTEM_SOURCE", "Agencies", "AgencyKind", "Party"]

SYSTEM_SOURCE = "credit-ledger/system"
"""The ``source`` of the events the ledger issues itself (its jobs)."""
NATIONAL = "000000"
"""The national level of the region hierarchy."""

_REGION = re.compile(r"[0-9]{6}\Z")
_KIND = r"^[a-z][a-z0-9-]{0,39}$"
_SUBJECT_PREFIX = "subject/"


class AgencyKind(Strict):
    """One kind of agency: its Chinese name and what it may record on its own authority."""

    name: str = Field(min_length=1, max_length=40)
    name_en: str | None = Field(None, min_length=1, max_length=80)
    """The English name (English pages and texts); the code when absent."""
    finding: bool = True
    """It records findings (violations, penalties, list proposals, measures, bans …)."""
    registration: bool = False
    """It is a registration authority (it may link responsible persons)."""


class ParentRule(Strict):
    """Every region code starting with ``prefix`` has ``parent`` as its parent."""

    prefix: str = Field(pattern=r"^[0-9]{2,6}$")
    parent: str = Field(pattern=r"^[0-9]{6}$")
    note: str = ""


class AgenciesFile(Strict):
    """The file format (``commands/agencies.json``); an extra file may give any part."""

    kind: Literal["agencies"]
    version: Literal[1] = 1
    source: str = ""
    platform_kind: str | None = Field(None, pattern=_KIND)
    kinds: dict[str, AgencyKind] = Field(default_factory=dict)
    regions: dict[str, str] = Field(default_factory=dict)
    regions_en: dict[str, str] = Field(default_factory=dict)
    """English names of region codes (English pages and texts)."""
    parents: list[ParentRule] = Field(default_factory=list)
    evaluation_schemes: dict[str, list[str]] = Field(default_factory=dict)

    @field_validator("kinds")
    @classmethod
    def _kind_names(cls, kinds: dict[str, AgencyKind]) -> dict[str, AgencyKind]:
        for key in kinds:
            if not re.match(_KIND, key) or key == "subject":
                raise ValueError(f"agency kind {key!r} must be lower-case a-z, 0-9, '-'")
        return kinds

    @field_validator("regions")
    @classmethod
    def _region_codes(cls, regions: dict[str, str]) -> dict[str, str]:
        for code, name in regions.items():
            if not _REGION.match(code):
                raise ValueError(f"region {code!r} is not a six-digit GB/T 2260 code")
            if not name.strip():
                raise ValueError(f"region {code} has an empty name")
        return regions


class _Merged(AgenciesFile):
    """The merged configuration: complete and consistent."""

    @model_validator(mode="after")
    def _consistent(self) -> _Merged:
        if not self.platform_kind or self.platform_kind not in self.kinds:
            raise ValueError(f"platform_kind {self.platform_kind!r} is not one of the kinds")
        for scheme, kinds in self.evaluation_schemes.items():
            unknown = sorted(set(kinds) - self.kinds.keys())
            if unknown:
                raise ValueError(f"evaluation scheme {scheme!r} names unknown kinds {unknown}")
        for rule in self.parents:
            if rule.parent.startswith(rule.prefix):
                raise ValueError(f"parents: {rule.prefix} cannot lie under its own prefix")
        return self


@dataclass(frozen=True, slots=True)
class Party:
    """Who a ``source`` is: ``role`` is ``agency``, ``platform``, ``subject``,
    ``system`` or ``unknown``; ``kind`` and ``region`` for agencies and platforms,
    ``subject`` (the USCC) for a subject."""

    source: str
    role: str
    kind: str | None = None
    region: str | None = None
    subject: str | None = None


class Agencies:
    """The loaded configuration and the questions the authority rules ask of it."""

    def __init__(self, config: AgenciesFile) -> None:
        merged = parse(_Merged, config.model_dump(), "agencies configuration")
        self.kinds: dict[str, AgencyKind] = dict(merged.kinds)
        assert merged.platform_kind is not None
        self.platform_kind: str = merged.platform_kind
        self.regions: dict[str, str] = dict(merged.regions)
        self.regions_en: dict[str, str] = dict(merged.regions_en)
        self.evaluation_schemes = {k: frozenset(v) for k, v in merged.evaluation_schemes.items()}
        self._parents = sorted(merged.parents, key=lambda r: -len(r.prefix))
        self._parties: dict[str, Party] = {}
        """Agency and platform sources seen (a few thousand at most; subjects are not kept)."""

    # -- loading -------------------------------------------------------------------

    @classmethod
    def from_files(cls, files: Iterable[tuple[str, Mapping[str, Any]]]) -> Agencies:
        """The configuration files (name, decoded object), the packaged
        ``commands/agencies.json`` first, each later one merged over the ones before
        (kinds, regions and schemes by key; parent rules added, a later rule for the same
        prefix replacing the earlier). ``ValueError`` names a malformed file."""
        base: AgenciesFile | None = None
        for name, obj in files:
            overlay = parse(AgenciesFile, obj, name)
            base = overlay if base is None else _merge(base, overlay)
        if base is None:
            raise ValueError("no agencies file found (commands/agencies.json)")
        return cls(base)

    # -- who is it -----------------------------------------------------------------

    def party(self, source: str) -> Party:
        """Classify a ``source`` (see the module docstring)."""
        known = self._parties.get(source)
        if known is not None:
            return known
        if source == SYSTEM_SOURCE:
            return Party(source, "system")
        if source.startswith(_SUBJECT_PREFIX):
            return Party(source, "subject", subject=source[len(_SUBJECT_PREFIX) :])
        kind, slash, region = source.partition("/")
        if not slash or kind not in self.kinds or not _REGION.match(region):
            return Party(source, "unknown")
        role = "platform" if kind == self.platform_kind else "agency"
        party = Party(source, role, kind, region)
        if len(self._parties) < 100_000:
            self._parties[source] = party
        return party

    def known_source(self, source: str) -> bool:
        """Whether ``source`` is one the configuration names: the system source, or an
        agency or platform of a configured kind at a configured region. The set is
        bounded by the configuration (kinds × regions), whatever is submitted, so it
        may label metrics (:class:`ledger.metrics.LedgerMetrics`)."""
        party = self.party(source)
        if party.role == "system":
            return True
        return party.role in ("agency", "platform") and party.region in self.regions

    def records_findings(self, party: Party) -> bool:
        """Whether the party records findings on its own authority."""
        return party.kind is not None and self.kinds[party.kind].finding

    def registration_authority(self, party: Party) -> bool:
        return (
            party.role == "agency"
            and party.kind is not None
            and self.kinds[party.kind].registration
        )

    def scheme_kinds(self, scheme: str) -> frozenset[str] | None:
        """The agency kinds that publish ``scheme`` (a configured name, or a name
        followed by ``-…``), or None when the scheme is not configured."""
        best: str | None = None
        for name in self.evaluation_schemes:
            if (scheme == name or scheme.startswith(name + "-")) and (
                best is None or len(name) > len(best)
            ):
                best = name
        return None if best is None else self.evaluation_schemes[best]

    # -- the region hierarchy ------------------------------------------------------

    def parent(self, region: str) -> str | None:
        """The region directly above ``region`` (None for the national level)."""
        if region == NATIONAL:
            return None
        for rule in self._parents:
            if region.startswith(rule.prefix) and region != rule.parent:
                return rule.parent
        if region.endswith("0000"):
            return NATIONAL
        if region.endswith("00"):
            return region[:2] + "0000"
        return region[:4] + "00"

    def contains(self, upper: str, region: str) -> bool:
        """Whether ``upper`` is ``region`` or a region above it."""
        current: str | None = region
        for _ in range(8):  # national, province, prefecture, county: never deeper
            if current is None:
                return False
            if current == upper:
                return True
            current = self.parent(current)
        return False

    # -- names ---------------------------------------------------------------------

    def name(self, source: str) -> str:
        """``samr/440300（深圳市市场监管）``: the source with its Chinese name."""
        title = self.title(source)
        return source if title == source else f"{source}（{title}）"

    def title(self, source: str, lang: str = "zh") -> str:
        """``深圳市市场监管``: the name of a source alone in ``lang`` (``zh``, or ``en``:
        ``Market Regulation, Shenzhen``); the source itself when the registry cannot
        name it (in English: a kind without ``name_en``)."""
        party = self.party(source)
        english = lang == "en"
        if party.role == "system":
            return "the ledger system" if english else "系统"
        if party.role == "subject":
            return "the subject itself" if english else "市场主体本身"
        if party.kind is None or party.region is None:
            return source
        kind = self.kinds[party.kind]
        if english:
            if kind.name_en is None:
                return source
            place = self.regions_en.get(party.region, party.region)
            if party.region == NATIONAL:
                place = "national"
            return f"{kind.name_en}, {place}"
        place = self.regions.get(party.region, "")
        if party.region == NATIONAL:
            place = "国家"
        return f"{place}{kind.name}"


def _merge(base: AgenciesFile, overlay: AgenciesFile) -> AgenciesFile:
    parents = {r.prefix: r for r in base.parents}
    parents.update({r.prefix: r for r in overlay.parents})
    return AgenciesFile(
        kind="agencies",
        source="; ".join(s for s in (base.source, overlay.source) if s),
        platform_kind=overlay.platform_kind or base.platform_kind,
        kinds={**base.kinds, **overlay.kinds},
        regions={**base.regions, **overlay.regions},
        regions_en={**base.regions_en, **overlay.regions_en},
        parents=list(parents.values()),
        evaluation_schemes={**base.evaluation_schemes, **overlay.evaluation_schemes},
    )
