"""SBI 2008 (Standaard Bedrijfsindeling) codes: validation, sections and divisions.

The bundled list (``matching/sme/data/sbi2008.csv``, Bron: CBS; see ``matching/sme/data/NOTICE``)
holds 2-, 3-, 4- and 5-digit codes.  A firm's SBI code is accepted when it is in the list,
after removing dots and spaces (``"41.20"`` -> ``"4120"``).  The *division* is the first two
digits, the *class* the first four, and the *section* (letter A-U) follows from the division.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from matching.core.errors import MatchingError


class UnknownSbiCodeError(MatchingError, ValueError):
    """An SBI code that is malformed or not in the SBI 2008 list.

    Parameters
    ----------
    code
        The offending code, as given.
    """

    field = "sbi_code"

    def __init__(self, code: str) -> None:
        self.code = code
        super().__init__(f"unknown SBI 2008 code {code!r}")


@dataclass(frozen=True, slots=True)
class SbiSection:
    """One SBI section: a letter, a Dutch name and an inclusive range of divisions."""

    letter: str
    name: str
    first_division: str
    last_division: str


@dataclass(frozen=True, slots=True)
class SbiIndex:
    """The SBI 2008 list: code -> Dutch description, plus the sections."""

    descriptions: dict[str, str]
    sections: tuple[SbiSection, ...]

    def section_of(self, division: str) -> SbiSection:
        """Return the section whose division range contains ``division`` (two digits)."""
        for section in self.sections:
            if section.first_division <= division <= section.last_division:
                return section
        raise UnknownSbiCodeError(division)


def _read(name: str) -> list[dict[str, str]]:
    text = resources.files("matching.sme").joinpath("data", name).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


@lru_cache(maxsize=1)
def load_sbi() -> SbiIndex:
    """Load the bundled SBI 2008 list (cached after the first call).

    Returns
    -------
    SbiIndex
        All 1,427 codes with descriptions and the 21 sections.
    """
    descriptions = {row["code"]: row["description"] for row in _read("sbi2008.csv")}
    sections = tuple(
        SbiSection(r["section"], r["name"], r["first_division"], r["last_division"])
        for r in _read("sbi2008_sections.csv")
    )
    return SbiIndex(descriptions, sections)


def normalise_sbi(code: str) -> str:
    """Normalise and validate an SBI code.

    Parameters
    ----------
    code
        A code such as ``"4120"``, ``"41.20"`` or ``" 62010 "``.

    Returns
    -------
    str
        The digits-only code, which is in the SBI 2008 list.

    Raises
    ------
    UnknownSbiCodeError
        When the code is malformed or not in the list.
    """
    digits = code.replace(".", "").replace(" ", "").strip()
    if not (digits.isascii() and digits.isdigit() and 2 <= len(digits) <= 5):
        raise UnknownSbiCodeError(code)
    if digits not in load_sbi().descriptions:
        raise UnknownSbiCodeError(code)
    return digits


def is_sbi_code(code: str) -> bool:
    """Tell whether ``code`` is a known SBI 2008 code (after normalisation).

    Parameters
    ----------
    code
        Candidate code.

    Returns
    -------
    bool
        True when :func:`normalise_sbi` would accept it.
    """
    try:
        normalise_sbi(code)
    except UnknownSbiCodeError:
        return False
    return True


def sbi_division(code: str) -> str:
    """Return the two-digit division of an SBI code (``"4120"`` -> ``"41"``).

    Parameters
    ----------
    code
        A valid SBI code.

    Returns
    -------
    str
        The division.

    Raises
    ------
    UnknownSbiCodeError
        When the code is not a valid SBI code.
    """
    return normalise_sbi(code)[:2]


def sbi_class(code: str) -> str:
    """Return the 4-digit class of an SBI code, or the code itself when shorter.

    Parameters
    ----------
    code
        A valid SBI code.

    Returns
    -------
    str
        ``"43221"`` -> ``"4322"``; ``"41"`` -> ``"41"``.

    Raises
    ------
    UnknownSbiCodeError
        When the code is not a valid SBI code.
    """
    return normalise_sbi(code)[:4]


def sbi_section(code: str) -> str:
    """Return the section letter (A-U) of an SBI code.

    Parameters
    ----------
    code
        A valid SBI code.

    Returns
    -------
    str
        ``"4120"`` -> ``"F"`` (Bouwnijverheid).

    Raises
    ------
    UnknownSbiCodeError
        When the code is not a valid SBI code.
    """
    return load_sbi().section_of(sbi_division(code)).letter


def sbi_description(code: str) -> str:
    """Return the Dutch description of an SBI code.

    Parameters
    ----------
    code
        A valid SBI code.

    Returns
    -------
    str
        e.g. ``"Algemene burgerlijke en utiliteitsbouw"`` for ``"4120"``.

    Raises
    ------
    UnknownSbiCodeError
        When the code is not a valid SBI code.
    """
    return load_sbi().descriptions[normalise_sbi(code)]


def section_name(letter: str) -> str:
    """Return the Dutch name of an SBI section letter.

    Parameters
    ----------
    letter
        ``"A"`` ... ``"U"``.

    Returns
    -------
    str
        e.g. ``"Bouwnijverheid"`` for ``"F"``.

    Raises
    ------
    UnknownSbiCodeError
        When the letter is not a section.
    """
    for section in load_sbi().sections:
        if section.letter == letter:
            return section.name
    raise UnknownSbiCodeError(letter)
