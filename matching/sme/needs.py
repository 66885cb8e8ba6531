"""The fixed needs taxonomy: what firms want help with, in Dutch and English.

Every need has a stable code (``theme.name``), a theme, Dutch and English labels, two
flags saying whether the need suits a *joint training purchase* (a group buys one course
together) and a *joint subsidy application* (a group applies as a cooperation, e.g. the
JTF schemes *MKB Personeel en Scholing* and *MKB Digitalisering en Robotisering*), and a
sensitivity: ``"generic"`` topics (GDPR, basic security, online marketing) work fine in
same-sector groups, ``"core"`` business topics are better discussed cross-sector, because
competitors and near-competitors lose openness on them.

The taxonomy is plain data (``NEEDS`` is a tuple of frozen dataclasses with ``to_dict``),
so the service can expose it unchanged at ``GET /needs``.

Lookup convention: :func:`need_by_code` raises :class:`UnknownNeedError` (a
``ValueError``) for unknown codes; use :func:`is_need_code` to test without raising.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, cast

from matching.core.errors import MatchingError

Sensitivity = Literal["generic", "core"]
Theme = Literal["hr", "train", "dig", "auto", "biz"]

THEMES: dict[str, tuple[str, str]] = {
    "hr": ("Personeel en werkgeverschap", "Workforce and employership"),
    "train": ("Opleiden en leven lang ontwikkelen", "Training and lifelong learning"),
    "dig": ("Digitalisering", "Digitalisation"),
    "auto": ("Automatisering en robotisering", "Automation and robotics"),
    "biz": ("Bedrijfsvoering en strategie", "Business and strategy"),
}
"""Theme code -> (Dutch label, English label)."""


class UnknownNeedError(MatchingError, ValueError):
    """A need code that is not in the taxonomy.

    Parameters
    ----------
    code
        The offending code, as given.
    """

    field = "needs"

    def __init__(self, code: str) -> None:
        self.code = code
        super().__init__(f"unknown need code {code!r}")


@dataclass(frozen=True, slots=True)
class Need:
    """One need in the taxonomy.

    Attributes
    ----------
    code
        Stable identifier ``theme.name``, e.g. ``"train.vocational"``.
    theme
        The theme prefix: ``hr``, ``train``, ``dig``, ``auto`` or ``biz``.
    label_nl, label_en
        Human labels in Dutch and English.
    joint_training
        True when a group can sensibly buy one training together on this need.
    joint_subsidy
        True when the need fits a joint (cooperation) subsidy application.
    sensitivity
        ``"generic"`` or ``"core"`` (core-business topics are better handled cross-sector).
    """

    code: str
    theme: Theme
    label_nl: str
    label_en: str
    joint_training: bool
    joint_subsidy: bool
    sensitivity: Sensitivity

    def to_dict(self) -> dict[str, str | bool]:
        """Return the need as a JSON-ready dictionary.

        Returns
        -------
        dict
            Keys ``code, theme, label_nl, label_en, joint_training, joint_subsidy,
            sensitivity``.
        """
        return {
            "code": self.code,
            "theme": self.theme,
            "label_nl": self.label_nl,
            "label_en": self.label_en,
            "joint_training": self.joint_training,
            "joint_subsidy": self.joint_subsidy,
            "sensitivity": self.sensitivity,
        }


def _n(code: str, nl: str, en: str, t: bool, s: bool, sens: Sensitivity) -> Need:
    theme = code.split(".", 1)[0]
    assert theme in THEMES, code
    return Need(code, cast(Theme, theme), nl, en, t, s, sens)


NEEDS: tuple[Need, ...] = (
    # HR: werving, personeelsplanning, werkgeverschap, inzetbaarheid, onbenut talent.
    _n(
        "hr.recruitment",
        "Werving en vacatures",
        "Recruitment and vacancies",
        False,
        True,
        "generic",
    ),
    _n(
        "hr.strategic_planning",
        "Strategische personeelsplanning",
        "Strategic workforce planning",
        True,
        True,
        "core",
    ),
    _n(
        "hr.employer_branding",
        "Goed werkgeverschap",
        "Employer branding and good employership",
        True,
        True,
        "generic",
    ),
    _n(
        "hr.sustainable_employability",
        "Duurzame inzetbaarheid en verzuim",
        "Sustainable employability and absenteeism",
        True,
        True,
        "generic",
    ),
    _n(
        "hr.untapped_talent",
        "Onbenut talent (statushouders, jonge gepensioneerden, afstand tot de arbeidsmarkt)",
        "Untapped talent (refugees with status, young retirees, people far from the labour market)",
        False,
        True,
        "generic",
    ),
    _n(
        "hr.internships",
        "Stages en samenwerking met het onderwijs",
        "Internships and links with schools",
        False,
        True,
        "generic",
    ),
    _n(
        "hr.international_talent",
        "Internationaal talent",
        "International talent",
        True,
        True,
        "generic",
    ),
    # Opleiden / leven lang ontwikkelen (LLO).
    _n(
        "train.upskilling",
        "Bij- en omscholing (leven lang ontwikkelen)",
        "Upskilling and retraining (lifelong learning)",
        True,
        True,
        "generic",
    ),
    _n(
        "train.vocational",
        "Vakopleiding (mbo, sectorleerroutes)",
        "Vocational training (mbo, sector development paths)",
        True,
        True,
        "generic",
    ),
    _n(
        "train.digital_skills",
        "Digitale basisvaardigheden en laaggeletterdheid",
        "Basic digital skills and low literacy",
        True,
        True,
        "generic",
    ),
    _n("train.ai_skills", "AI-vaardigheden", "AI skills", True, True, "generic"),
    _n("train.leadership", "Leiderschap en leidinggeven", "Leadership", True, True, "generic"),
    # Digitalisering.
    _n(
        "dig.basics",
        "Digitale basis en administratie",
        "Digital basics and administration",
        True,
        True,
        "generic",
    ),
    _n(
        "dig.online_sales",
        "Online verkoop en e-commerce",
        "Online sales and e-commerce",
        True,
        True,
        "generic",
    ),
    _n("dig.data", "Datagedreven werken", "Data-driven working", True, True, "core"),
    _n("dig.ai", "AI-toepassingen", "AI applications", True, True, "core"),
    _n(
        "dig.cybersecurity",
        "Cyberveiligheid en digitale weerbaarheid",
        "Cybersecurity and digital resilience",
        True,
        True,
        "generic",
    ),
    _n("dig.privacy", "Privacy en AVG", "Privacy and GDPR", True, True, "generic"),
    # Automatisering en robotisering.
    _n("auto.process", "Procesautomatisering", "Process automation", False, True, "core"),
    _n("auto.robotics", "Robotisering", "Robotics", False, True, "core"),
    _n(
        "auto.smart_industry",
        "Smart industry, 3D-printen en IoT",
        "Smart industry, 3D printing and IoT",
        True,
        True,
        "core",
    ),
    # Bedrijfsvoering.
    _n(
        "biz.strategy",
        "Strategie en verdienmodel",
        "Strategy and business model",
        True,
        False,
        "core",
    ),
    _n("biz.financing", "Financiering", "Financing", True, False, "core"),
    _n("biz.succession", "Bedrijfsopvolging", "Business succession", True, False, "core"),
    _n(
        "biz.sustainability",
        "Verduurzaming, energie en circulaire economie",
        "Sustainability, energy and circular economy",
        True,
        True,
        "generic",
    ),
)
"""The taxonomy, in a fixed order (grouped by theme)."""

NEED_CODES: tuple[str, ...] = tuple(n.code for n in NEEDS)
"""All need codes, in taxonomy order."""

_BY_CODE: dict[str, Need] = {n.code: n for n in NEEDS}


def is_need_code(code: str) -> bool:
    """Tell whether ``code`` is a need code of the taxonomy.

    Parameters
    ----------
    code
        Candidate code, e.g. ``"dig.privacy"``.

    Returns
    -------
    bool
        True for a known code (exact, case-sensitive match).
    """
    return code in _BY_CODE


def need_by_code(code: str) -> Need:
    """Look a need up by its code.

    Parameters
    ----------
    code
        A need code, e.g. ``"train.vocational"``.

    Returns
    -------
    Need
        The taxonomy entry.

    Raises
    ------
    UnknownNeedError
        When ``code`` is not in the taxonomy.
    """
    try:
        return _BY_CODE[code]
    except KeyError:
        raise UnknownNeedError(code) from None


def needs_to_dict() -> dict[str, object]:
    """Return the whole taxonomy as JSON-ready data (what ``GET /needs`` serves).

    Returns
    -------
    dict
        ``{"themes": [{"code", "label_nl", "label_en"}], "needs": [Need.to_dict(), ...]}``.
    """
    return {
        "themes": [{"code": c, "label_nl": nl, "label_en": en} for c, (nl, en) in THEMES.items()],
        "needs": [n.to_dict() for n in NEEDS],
    }
