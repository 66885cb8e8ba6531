"""Subsidy schemes as data: the catalogue, its loader, and per-firm eligibility.

Every scheme is one JSON file in ``matching/sme/data/schemes/`` (``<id>.json``), validated
against :class:`Scheme` when loaded; a malformed file raises :class:`SchemeFileError`
naming the file and the field.  The catalogue ships the JTF schemes of Provincie Groningen,
SLIM and MIT R&D-samenwerking; each entry says where its facts come from (``source``) and
that it must be checked against the current regulation (``verify``).  Values that could not
be sourced are left empty and explained in ``notes``.

A run with ``purpose="subsidy"`` and a ``scheme_id`` (see :mod:`matching.sme.settings`):

* places only firms that pass :func:`check_firm` (the instance's ``eligible`` mask,
  :mod:`matching.sme.eligibility`);
* uses the scheme's funded needs as the allowed group themes;
* intersects the group size bounds with the scheme's partner bounds
  (:func:`matching.sme.settings.effective_settings`).

This module knows schemes and firms, not run settings (no import of
:mod:`matching.sme.settings`: that module imports this one).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from geodata.errors import GeodataError
from geodata.geocode import geocode
from matching.core.errors import MatchingError
from matching.sme.firms import Firm
from matching.sme.needs import is_need_code
from matching.sme.sbi import load_sbi

SCHEME_DIR = Path(__file__).resolve().parent / "data" / "schemes"
LeadKind = Literal["member", "branch_organisation", "training_fund"]


class SchemeFileError(MatchingError, ValueError):
    """A scheme file that cannot be read or fails the schema.

    Parameters
    ----------
    path
        The file.
    field
        The offending field (dotted path), or ``"file"`` for unreadable JSON.
    reason
        What is wrong.
    """

    def __init__(self, path: Path, field: str, reason: str) -> None:
        self.path = path
        self.field = field
        self.reason = reason
        super().__init__(f"{path.name}: field {field!r}: {reason}")


class UnknownSchemeError(MatchingError, ValueError):
    """A scheme id that is not in the catalogue.

    Parameters
    ----------
    scheme_id
        The id as given.
    """

    field = "scheme_id"

    def __init__(self, scheme_id: str) -> None:
        self.scheme_id = scheme_id
        super().__init__(f"unknown scheme {scheme_id!r}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FirmSize(_Strict):
    """Eligible firm size; ``None`` bounds are not checked (turnover/balance in M EUR)."""

    max_employees: int | None = Field(None, ge=0)
    max_turnover_meur: float | None = Field(None, gt=0)
    max_balance_meur: float | None = Field(None, gt=0)


class Regions(_Strict):
    """Eligible areas: a firm qualifies when it lies in any listed area (all empty: anywhere)."""

    provinces: tuple[str, ...] = ()
    gemeenten: tuple[str, ...] = Field((), description="CBS codes, e.g. GM0114")
    labour_market_regions: tuple[str, ...] = ()

    @field_validator("gemeenten")
    @classmethod
    def _gemeente_codes(cls, codes: tuple[str, ...]) -> tuple[str, ...]:
        for code in codes:
            if not (len(code) == 6 and code.startswith("GM") and code[2:].isdigit()):
                raise ValueError(f"{code!r} is not a CBS gemeente code like GM0114")
        return codes

    @property
    def restricted(self) -> bool:
        """Whether the scheme is limited to some areas."""
        return bool(self.provinces or self.gemeenten or self.labour_market_regions)


class SbiRule(_Strict):
    """Eligible SBI sections (``None``: all) and excluded sections (letters A-U)."""

    sections: tuple[str, ...] | None = None
    excluded_sections: tuple[str, ...] = ()

    @field_validator("sections", "excluded_sections")
    @classmethod
    def _letters(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        for letter in value or ():
            if not (len(letter) == 1 and "A" <= letter <= "U"):
                raise ValueError(f"{letter!r} is not an SBI section letter A-U")
        return value


class PartnerBounds(_Strict):
    """Firms per application."""

    min: int = Field(1, ge=1)
    max: int | None = Field(None, ge=1)


class LeadApplicant(_Strict):
    """Who may submit the joint application."""

    may_be: tuple[LeadKind, ...] = Field(min_length=1)
    rule: str = Field(min_length=1)


class Scheme(_Strict):
    """One subsidy scheme (see the module docstring)."""

    schema_version: Literal[1]
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str = Field(min_length=1)
    funder: str = Field(min_length=1)
    url: str | None = None
    source: str = Field(min_length=1, description="Where these facts come from")
    verify: str = Field(min_length=1, description="The 'verify against the regulation' note")
    firm_size: FirmSize
    regions: Regions
    sbi: SbiRule
    funded_needs: tuple[str, ...] = Field(min_length=1)
    partners: PartnerBounds
    lead_applicant: LeadApplicant
    max_cost_share: float | None = Field(None, gt=0, le=1)
    valid_from_date: date | None = None
    valid_to_date: date | None = None
    notes: tuple[str, ...] = ()

    @field_validator("funded_needs")
    @classmethod
    def _need_codes(cls, codes: tuple[str, ...]) -> tuple[str, ...]:
        for code in codes:
            if not is_need_code(code):
                raise ValueError(f"unknown need code {code!r}")
        return codes

    def to_dict(self) -> dict[str, Any]:
        """Return the scheme as JSON-ready data (dates as ISO strings)."""
        return self.model_dump(mode="json")


@dataclass(frozen=True, slots=True)
class FailedRule:
    """The first eligibility rule a firm fails: ``rule`` (a code) and a readable ``detail``.

    ``params`` holds the values a person reads (place names, counts, limits) for the
    catalogue text ``rule.<rule>`` (:func:`matching.sme.explanation.rule_text`).
    """

    rule: str
    detail: str
    params: tuple[tuple[str, Any], ...] = ()

    def __str__(self) -> str:
        return f"{self.rule}: {self.detail}"


def _field_of(error: ValidationError) -> tuple[str, str]:
    first = error.errors()[0]
    loc = ".".join(str(p) for p in first.get("loc", ())) or "scheme"
    return loc, str(first.get("msg", "invalid"))


def load_scheme_file(path: Path) -> Scheme:
    """Read and validate one scheme file.

    Parameters
    ----------
    path
        A ``<id>.json`` file.

    Returns
    -------
    Scheme
        The validated scheme.

    Raises
    ------
    SchemeFileError
        For unreadable JSON, a schema violation (naming the field) or an ``id`` that
        differs from the file name.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SchemeFileError(path, "file", str(exc)) from None
    try:
        scheme = Scheme.model_validate(data)
    except ValidationError as exc:
        field, reason = _field_of(exc)
        raise SchemeFileError(path, field, reason) from None
    if scheme.id != path.stem:
        raise SchemeFileError(path, "id", f"{scheme.id!r} must equal the file name {path.stem!r}")
    return scheme


def load_schemes(directory: Path | None = None) -> tuple[Scheme, ...]:
    """Load every ``*.json`` scheme file of a directory, sorted by id.

    Parameters
    ----------
    directory
        Where the files are; the bundled catalogue when ``None``.

    Returns
    -------
    tuple of Scheme
        The catalogue.

    Raises
    ------
    SchemeFileError
        For the first malformed file.
    """
    folder = SCHEME_DIR if directory is None else directory
    return tuple(sorted((load_scheme_file(p) for p in sorted(folder.glob("*.json"))),
                        key=lambda s: s.id))  # fmt: skip


@cache
def catalogue() -> tuple[Scheme, ...]:
    """The bundled catalogue, loaded once (see :func:`load_schemes`)."""
    return load_schemes()


def scheme_by_id(scheme_id: str) -> Scheme:
    """Look a bundled scheme up by id.

    Parameters
    ----------
    scheme_id
        E.g. ``"slim"``.

    Returns
    -------
    Scheme
        The scheme.

    Raises
    ------
    UnknownSchemeError
        When no bundled scheme has that id.
    """
    for scheme in catalogue():
        if scheme.id == scheme_id:
            return scheme
    raise UnknownSchemeError(scheme_id)


def _region_text(scheme: Scheme) -> str:
    parts = list(scheme.regions.provinces) + [f"gemeente {g}" for g in scheme.regions.gemeenten]
    parts += [f"region {r}" for r in scheme.regions.labour_market_regions]
    return ", ".join(parts)


def _region_of(firm: Firm) -> str | None:
    try:
        return geocode(firm.postcode).labour_market_region
    except GeodataError:
        return None


def check_firm(scheme: Scheme, firm: Firm, *, region: str | None = None) -> FailedRule | None:
    """The first scheme rule a firm fails, or ``None`` when it is eligible.

    Rules, in order: ``firm_size.max_employees``, ``regions`` (province, gemeente or
    labour-market region), ``sbi.excluded_sections``, ``sbi.sections``, ``funded_needs``
    (the firm has none of the funded needs).

    Parameters
    ----------
    scheme
        The scheme.
    firm
        The firm.
    region
        The firm's labour-market region; looked up from its postcode when the scheme lists
        regions and none is given.

    Returns
    -------
    FailedRule or None
        The failed rule with a readable detail.
    """
    limit = scheme.firm_size.max_employees
    if limit is not None and firm.employees > limit:
        return FailedRule("firm_size.max_employees", f"{firm.employees} employees > {limit}",
                          (("employees", firm.employees), ("limit", limit)))  # fmt: skip
    areas = scheme.regions
    if region is None and areas.labour_market_regions:
        region = _region_of(firm)
    if areas.restricted and not (
        firm.province in areas.provinces
        or firm.gemeente_code in areas.gemeenten
        or (region is not None and region in areas.labour_market_regions)
    ):
        where = firm.gemeente_name or firm.province or "unknown area"
        named = (
            ("place", firm.gemeente_name or firm.province),
            ("provinces", areas.provinces),
            ("gemeenten", areas.gemeenten),
            ("regions", areas.labour_market_regions),
        )
        return FailedRule("regions", f"{where} is outside {_region_text(scheme)}", named)
    section = load_sbi().section_of(firm.division).letter
    if section in scheme.sbi.excluded_sections:
        return FailedRule("sbi.excluded_sections", f"SBI section {section} is excluded",
                          (("section", section),))  # fmt: skip
    if scheme.sbi.sections is not None and section not in scheme.sbi.sections:
        allowed = ", ".join(scheme.sbi.sections)
        return FailedRule("sbi.sections", f"SBI section {section} not in {allowed}",
                          (("section", section), ("allowed", scheme.sbi.sections)))  # fmt: skip
    if not set(firm.needs) & set(scheme.funded_needs):
        return FailedRule("funded_needs", "none of the firm's needs is funded by the scheme")
    return None
