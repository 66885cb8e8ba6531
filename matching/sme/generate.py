"""Realistic synthetic SME cohorts for tests, demos and benchmarks (deterministic per seed).

* **Locations**: real PC4 centroids of the chosen provinces, drawn uniformly over PC4s;
  PC4s are denser where people live, so towns get more firms.  Each firm gets a PC6-style
  postcode (its PC4 plus two letters) and sits at the PC4 centroid.
* **Sectors**: construction, manufacturing, care, retail, hospitality, logistics, ICT,
  business services and agriculture, mapped to real SBI 2008 classes.  The mix is regional:
  around dense (urban) PC4s ICT, business services, hospitality and retail are more
  common, in sparse (rural) areas agriculture, construction and logistics.
* **Employees**: log-normal with median ~10 (sector-scaled), clipped to 1-249.
* **Digital ladder**: levels 1-4 at ~20/36/33/11 % overall; firms with fewer than 5
  employees are mostly at levels 1-2, firms with 50+ lean to 3-4.
* **Needs**: 1-4 distinct codes (P = .25/.35/.25/.15), drawn without replacement from a
  popularity that is biased by sector; the order is the draw order (first = most important).
  Benchmarks vary this with ``needs_range`` (any range of 4 counts keeps P, shifted; other
  widths stretch its hump-shaped profile, :func:`needs_count_p`) and ``sector_bias`` (a
  multiplier on each sector's extra popularity: 0.5 weaker, 2.0 stronger sector typing).
* **Competitors**: some firms declare their nearest same-class (4-digit SBI) firms within
  15 km as competitors.  **Partners**: some firms have a supplier/customer within 30 km in
  a related sector.

Everything is vectorised with numpy: 50,000 firms take about a second.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from geodata.boundaries import normalise_province
from geodata.distance import EARTH_RADIUS_KM
from geodata.postcodes import load_postcode_index
from matching.core.errors import MatchingError
from matching.sme.firms import Firm
from matching.sme.needs import NEED_CODES
from matching.sme.sbi import normalise_sbi

LADDER = np.array([0.20, 0.36, 0.33, 0.11])
"""Target overall share of digital ladder levels 1-4 (Innovatiemonitor)."""
_LADDER_SMALL = np.array([0.36, 0.46, 0.15, 0.03])  # < 5 employees: mostly levels 1-2
_LADDER_LARGE = np.array([0.08, 0.28, 0.44, 0.20])  # >= 50 employees
N_NEEDS_P = np.array([0.25, 0.35, 0.25, 0.15])
"""Probability of 1, 2, 3 or 4 needs (the default ``needs_range``)."""


@dataclass(frozen=True)
class Sector:
    """A sector of the generator: SBI classes, name prefixes, size and need bias."""

    def __post_init__(self) -> None:
        assert len(self.sbi) == len(self.prefixes), self.key

    key: str
    share: float  # base share of firms
    urban: float  # > 0: more common where PC4s are dense; < 0: rural
    sbi: tuple[str, ...]
    prefixes: tuple[str, ...]  # name prefix per SBI class (same order)
    size: float  # multiplier of the median employee count
    needs: dict[str, float]  # need code -> extra popularity


SECTORS: tuple[Sector, ...] = (
    Sector("construction", 0.14, -0.3, ("4120", "4321", "4322", "4332", "4334", "4391", "4211"),
           ("Bouwbedrijf", "Elektrotechniek", "Installatiebedrijf", "Timmerbedrijf",
            "Schildersbedrijf", "Dakdekkersbedrijf", "Wegenbouw"), 1.1,
           {"train.vocational": 4, "hr.recruitment": 4, "hr.sustainable_employability": 2,
            "biz.sustainability": 2, "biz.succession": 1}),
    Sector("manufacturing", 0.10, -0.2, ("1071", "2562", "2511", "2822", "1623", "3109", "1812"),
           ("Bakkerij", "Metaalbewerking", "Staalbouw", "Machinefabriek", "Houtindustrie",
            "Meubelmakerij", "Drukkerij"), 1.8,
           {"auto.process": 3, "auto.robotics": 3, "auto.smart_industry": 2,
            "train.vocational": 3, "hr.recruitment": 3}),
    Sector("care", 0.12, 0.1, ("8710", "8810", "8891", "8623", "8622"),
           ("Zorggroep", "Thuiszorg", "Kinderopvang", "Tandartspraktijk",
            "Huisartsenpraktijk"), 1.6,
           {"hr.recruitment": 4, "hr.sustainable_employability": 4, "train.upskilling": 3,
            "dig.privacy": 2, "train.digital_skills": 2}),
    Sector("retail", 0.15, 0.3, ("4711", "4719", "4751", "4771", "4752", "4778", "4511"),
           ("Supermarkt", "Warenhuis", "Computerwinkel", "Modehuis", "Bouwmarkt", "Tuincentrum",
            "Autobedrijf"), 0.7,
           {"dig.online_sales": 4, "dig.basics": 2, "hr.recruitment": 2, "biz.succession": 2,
            "train.digital_skills": 1}),
    Sector("hospitality", 0.08, 0.4, ("5610", "5630", "5510", "5621"),
           ("Restaurant", "Eetcafé", "Hotel", "Catering"), 0.9,
           {"hr.recruitment": 4, "hr.untapped_talent": 3, "hr.international_talent": 2,
            "dig.online_sales": 2, "biz.sustainability": 1}),
    Sector("logistics", 0.07, -0.2, ("4941", "5210", "5229", "4939"),
           ("Transportbedrijf", "Opslag", "Expeditie", "Taxibedrijf"), 1.5,
           {"hr.recruitment": 4, "train.vocational": 2, "auto.process": 2,
            "biz.sustainability": 2, "dig.data": 1}),
    Sector("ict", 0.06, 0.8, ("6201", "6202", "6311", "6312"),
           ("Softwarehuis", "IT-diensten", "Datacenter", "Webbureau"), 0.8,
           {"dig.ai": 3, "train.ai_skills": 3, "dig.cybersecurity": 3,
            "hr.international_talent": 2, "hr.recruitment": 3}),
    Sector("business_services", 0.16, 0.5, ("6920", "7022", "7111", "7311", "8121", "7810"),
           ("Administratiekantoor", "Adviesbureau", "Ingenieursbureau", "Reclamebureau",
            "Schoonmaakbedrijf", "Uitzendbureau"),
           0.9, {"dig.cybersecurity": 2, "dig.privacy": 2, "dig.ai": 2,
                 "train.leadership": 2, "hr.employer_branding": 2}),
    Sector("agriculture", 0.12, -0.8, ("0111", "0113", "0141", "0161", "0130"),
           ("Akkerbouwbedrijf", "Tuinderij", "Melkveebedrijf", "Loonbedrijf", "Kwekerij"), 0.5,
           {"biz.succession": 4, "biz.sustainability": 4, "auto.robotics": 2,
            "biz.financing": 2, "dig.data": 1}),
)  # fmt: skip

_BASE_NEED = {"hr.recruitment": 2.0, "train.upskilling": 1.5, "train.vocational": 1.0,
              "dig.basics": 1.0, "dig.cybersecurity": 1.0, "biz.sustainability": 1.0,
              "hr.sustainable_employability": 1.0}  # fmt: skip
_SURNAMES = (
    "De Vries", "Jansen", "Bakker", "Visser", "Smit", "Meijer", "De Boer", "Mulder",
    "De Groot", "Bos", "Vos", "Dijkstra", "Hoekstra", "Postma", "Kramer", "Wiersma",
    "Bosma", "Veenstra", "Huisman", "Kuipers", "Brouwer", "Van der Meer", "Jonker",
    "Koster", "Prins", "Hofstra", "Zijlstra", "Schuurman", "Nijboer", "Boersma",
    "Kamminga", "Oosterhof", "Scholten", "Drenth", "Tuinstra", "Bouma", "Hiemstra",
    "Sikkema", "Van Dam", "Wolters", "Bruins", "Lenstra", "Ploeg", "Venema", "Dekker",
)  # fmt: skip
_SUFFIXES = ("", "", "", " B.V.", " B.V.", " & Zn.", " V.O.F.")
_LETTERS = "ABCEGHJKLMNPRTVWXZ"  # PC6 letters (SA, SD and SS are never issued)


class GenerateError(MatchingError, ValueError):
    """Impossible generator arguments (``field``: what, ``reason``: why)."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


@dataclass(frozen=True)
class Cohort:
    """A generated cohort: firms plus declared competitor and partner pairs (external ids)."""

    firms: tuple[Firm, ...]
    competitors: tuple[tuple[str, str], ...]
    partners: tuple[tuple[str, str], ...]
    sectors: tuple[str, ...]  # sector key per firm (for tests and demos)


def _radians(lat: NDArray[np.float64], lon: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.radians(np.column_stack([lat, lon]))


def _ball_tree(points: NDArray[np.float64]) -> Any:
    """scikit-learn's haversine ``BallTree`` over (lat, lon) radians, imported only here.

    The cohort digests the tests pin depend on its order among equal distances (firms
    share PC4 centroids), which no other tree reproduces; importing scikit-learn costs
    1.6 s, so only generating a cohort pays it, not every ``import matching``.
    """
    from sklearn.neighbors import BallTree

    return BallTree(points, metric="haversine")


def _urbanity(lat: NDArray[np.float64], lon: NDArray[np.float64]) -> NDArray[np.float64]:
    """Standardised log count of PC4 centroids within 5 km of each PC4."""
    points = _radians(lat, lon)
    counts = _ball_tree(points).query_radius(points, 5.0 / EARTH_RADIUS_KM, count_only=True)
    z = np.log(counts.astype(np.float64))
    return np.asarray((z - z.mean()) / (z.std() or 1.0))


def _ladder(rng: np.random.Generator, employees: NDArray[np.int64]) -> NDArray[np.int64]:
    """Digital levels: small/large firms from fixed mixes, the rest tuned to hit LADDER."""
    small, large = employees < 5, employees >= 50
    mid = ~small & ~large
    share_s, share_l, share_m = small.mean(), large.mean(), max(mid.mean(), 1e-9)
    p_mid = np.clip((LADDER - share_s * _LADDER_SMALL - share_l * _LADDER_LARGE) / share_m, 0, 1)
    p_mid /= p_mid.sum()
    levels = np.empty(len(employees), np.int64)
    for mask, p in ((small, _LADDER_SMALL), (large, _LADDER_LARGE), (mid, p_mid)):
        levels[mask] = rng.choice(4, size=int(mask.sum()), p=p) + 1
    return levels


def needs_count_p(width: int) -> NDArray[np.float64]:
    """Probabilities of the ``width`` need counts of a ``needs_range`` (lowest count first).

    Width 4 gives :data:`N_NEEDS_P` exactly (so 1-4 is today's mix and 2-5 the same mix one
    higher); other widths sample N_NEEDS_P's piecewise-linear profile at ``width`` evenly
    spaced points and normalise (2-6: .20/.26/.24/.18/.12, mean 3.76 needs).

    Parameters
    ----------
    width
        Number of possible counts (>= 1).

    Returns
    -------
    numpy.ndarray
        ``width`` probabilities summing to 1.
    """
    if width == len(N_NEEDS_P):
        return N_NEEDS_P
    nodes = np.linspace(0.0, 1.0, len(N_NEEDS_P))
    p = np.interp(np.linspace(0.0, 1.0, width), nodes, N_NEEDS_P) if width > 1 else np.ones(1)
    return np.asarray(p / p.sum())


def _needs(
    rng: np.random.Generator, sector: NDArray[np.int64], needs_range: tuple[int, int],
    sector_bias: float,
) -> list[tuple[str, ...]]:  # fmt: skip
    """``needs_range`` distinct needs per firm, sector-biased, via Gumbel top-k sampling."""
    index = {c: i for i, c in enumerate(NEED_CODES)}
    pop = np.full((len(SECTORS), len(NEED_CODES)), 0.3)
    for code, w in _BASE_NEED.items():
        pop[:, index[code]] += w
    for s, sec in enumerate(SECTORS):
        for code, w in sec.needs.items():
            pop[s, index[code]] += w * sector_bias
    keys = np.log(pop[sector]) + rng.gumbel(size=(len(sector), len(NEED_CODES)))
    low, high = needs_range
    order = np.argsort(-keys, axis=1)[:, :high]
    width = high - low + 1
    counts = rng.choice(width, size=len(sector), p=needs_count_p(width)) + low
    return [tuple(NEED_CODES[t] for t in row[:k]) for row, k in zip(order, counts, strict=True)]


_RELATED = {
    "construction": ("manufacturing", "logistics"),
    "manufacturing": ("construction", "logistics", "agriculture"),
    "agriculture": ("manufacturing", "logistics", "hospitality"),
    "retail": ("logistics", "manufacturing"),
    "hospitality": ("agriculture", "retail"),
    "logistics": ("retail", "manufacturing"),
    "ict": ("business_services", "retail"),
    "business_services": ("ict", "construction"),
    "care": ("business_services",),
}
COMPETITOR_KM = 15.0
PARTNER_KM = 30.0


def _near_pairs(
    rng: np.random.Generator,
    points: NDArray[np.float64],
    sources: NDArray[np.int64],
    targets: NDArray[np.int64],
    k: int,
    radius_km: float,
) -> list[tuple[int, int]]:
    """For each source, one or two of its ``k`` nearest targets within ``radius_km``."""
    if len(sources) == 0 or len(targets) == 0:
        return []
    tree = _ball_tree(points[targets])
    dist, pos = tree.query(points[sources], k=min(k + 1, len(targets)))
    take = rng.integers(1, 3, size=len(sources))
    shuffle = np.argsort(rng.random(pos.shape), axis=1)
    pairs = []
    for s, row_pos, row_dist, order, m in zip(sources, pos, dist, shuffle, take, strict=True):
        chosen = 0
        for p in order:
            t = int(targets[row_pos[p]])
            if t != s and row_dist[p] * EARTH_RADIUS_KM <= radius_km and chosen < m:
                pairs.append((int(min(s, t)), int(max(s, t))))
                chosen += 1
    return pairs


def _competitors(rng: np.random.Generator, points: NDArray[np.float64],
                 classes: NDArray[np.str_], share: float) -> list[tuple[int, int]]:  # fmt: skip
    pairs: list[tuple[int, int]] = []
    for cls in np.unique(classes):
        members = np.flatnonzero(classes == cls)
        sources = members[rng.random(len(members)) < share]
        pairs += _near_pairs(rng, points, sources, members, 3, COMPETITOR_KM)
    return sorted(set(pairs))


def _partners(rng: np.random.Generator, points: NDArray[np.float64],
              sector: NDArray[np.int64], share: float) -> list[tuple[int, int]]:  # fmt: skip
    keys = [s.key for s in SECTORS]
    pairs: list[tuple[int, int]] = []
    for s, sec in enumerate(SECTORS):
        members = np.flatnonzero(sector == s)
        sources = members[rng.random(len(members)) < share]
        pick = rng.integers(0, len(_RELATED[sec.key]), size=len(sources))
        for r, related in enumerate(_RELATED[sec.key]):
            targets = np.flatnonzero(sector == keys.index(related))
            pairs += _near_pairs(rng, points, sources[pick == r], targets, 5, PARTNER_KM)
    return sorted(set(pairs))


def _sbi_classes(rng: np.random.Generator, sector: NDArray[np.int64]) -> NDArray[np.str_]:
    """One SBI class per firm, uniform among its sector's classes."""
    width = max(len(s.sbi) for s in SECTORS)
    table = np.array([[s.sbi[k % len(s.sbi)] for k in range(width)] for s in SECTORS])
    sizes = np.array([len(s.sbi) for s in SECTORS])
    pick = (rng.random(len(sector)) * sizes[sector]).astype(np.int64)
    return np.asarray(table[sector, pick])


def _names(rng: np.random.Generator, sbi: NDArray[np.str_], places: Sequence[str]) -> list[str]:
    """Dutch-looking names: the SBI class's trade word plus a surname or the place."""
    prefix = {c: p for sec in SECTORS for c, p in zip(sec.sbi, sec.prefixes, strict=True)}
    n = len(sbi)
    surname = rng.integers(0, len(_SURNAMES), n)
    suffix = rng.integers(0, len(_SUFFIXES), n)
    by_place = rng.random(n) < 0.25
    names = []
    for i in range(n):
        tail = places[i] if by_place[i] else _SURNAMES[surname[i]]
        names.append(f"{prefix[str(sbi[i])]} {tail}{_SUFFIXES[suffix[i]]}")
    return names


def generate_cohort(
    n: int,
    provinces: Sequence[str] = ("Groningen", "Fryslân", "Drenthe"),
    *,
    seed: int = 0,
    competitor_share: float = 0.3,
    partner_share: float = 0.1,
    needs_range: tuple[int, int] = (1, 4),
    sector_bias: float = 1.0,
) -> Cohort:
    """Generate a realistic synthetic cohort of ``n`` SMEs.

    Parameters
    ----------
    n
        Number of firms (>= 1).
    provinces
        Provinces to draw PC4 centroids from, in any common spelling.
    seed
        Random seed; the same arguments give the same cohort.
    competitor_share
        Share of firms that declare one or two nearby same-class competitors.
    partner_share
        Share of firms that declare one or two supplier/customer partners.
    needs_range
        Inclusive range of the number of needs per firm; the count is drawn from
        :func:`needs_count_p` (the default 1-4 keeps :data:`N_NEEDS_P`).
    sector_bias
        Multiplier (>= 0) on each sector's extra need popularity (``Sector.needs``): 0
        removes sector typing, 0.5 weakens it, 2.0 strengthens it.

    Returns
    -------
    Cohort
        Firms ``sme00001 ...`` with competitor and partner pairs of external ids.

    Raises
    ------
    GenerateError
        If ``n < 1``, no province is given, shares lie outside [0, 1], ``needs_range`` is
        not ``1 <= low <= high <= len(NEED_CODES)`` or ``sector_bias`` is negative.
    geodata.errors.GeodataError
        If a province name is unknown.
    """
    if n < 1:
        raise GenerateError("n", "must be >= 1")
    if not provinces:
        raise GenerateError("provinces", "give at least one province")
    for name, share in (("competitor_share", competitor_share), ("partner_share", partner_share)):
        if not 0 <= share <= 1:
            raise GenerateError(name, "must lie in [0, 1]")
    low, high = needs_range
    if not 1 <= low <= high <= len(NEED_CODES):
        raise GenerateError("needs_range", f"need 1 <= low <= high <= {len(NEED_CODES)}")
    if not sector_bias >= 0:
        raise GenerateError("sector_bias", "must be >= 0")
    wanted = {normalise_province(p) for p in provinces}
    records = [r for r in load_postcode_index().records() if r.province in wanted]
    rng = np.random.default_rng(seed)
    pc_lat = np.array([r.lat for r in records])
    pc_lon = np.array([r.lon for r in records])
    pc = rng.integers(0, len(records), size=n)
    lat, lon = pc_lat[pc], pc_lon[pc]
    urban = _urbanity(pc_lat, pc_lon)[pc]
    base_share = np.array([s.share for s in SECTORS])
    tilt = np.array([s.urban for s in SECTORS])
    logits = np.log(base_share)[None, :] + urban[:, None] * tilt[None, :]
    sector = np.argmax(logits + rng.gumbel(size=logits.shape), axis=1).astype(np.int64)
    sbi = _sbi_classes(rng, sector)
    scale = np.array([s.size for s in SECTORS])[sector]
    employees = np.clip(np.rint(10 * scale * rng.lognormal(0.0, 1.0, n)), 1, 249).astype(np.int64)
    levels = _ladder(rng, employees)
    needs = _needs(rng, sector, (low, high), sector_bias)
    letters = rng.integers(0, len(_LETTERS), size=(n, 2))
    places = [records[p].place for p in pc]
    names = _names(rng, sbi, places)
    points = _radians(lat, lon)
    ids = [f"sme{i + 1:05d}" for i in range(n)]
    firms = tuple(
        Firm(ids[i], names[i], f"{records[pc[i]].pc4} {_LETTERS[letters[i, 0]]}"
             f"{_LETTERS[letters[i, 1]]}", normalise_sbi(str(sbi[i])), int(employees[i]),
             int(levels[i]), needs[i], float(lat[i]), float(lon[i]), "pc4",
             gemeente_code=records[pc[i]].gemeente_code,
             gemeente_name=records[pc[i]].gemeente_name, province=records[pc[i]].province)
        for i in range(n)
    )  # fmt: skip
    competitors = _competitors(rng, points, sbi, competitor_share)
    declared = set(competitors)
    partners = [p for p in _partners(rng, points, sector, partner_share) if p not in declared]
    return Cohort(
        firms,
        tuple((ids[a], ids[b]) for a, b in competitors),
        tuple((ids[a], ids[b]) for a, b in partners),
        tuple(SECTORS[s].key for s in sector),
    )
