"""Build the compact tables ``pc4.csv`` and ``gemeente.csv`` from the raw source files.

Run ``python -m geodata.build`` after replacing a source file; a test checks that the
shipped tables equal a fresh build, so they can never drift from the sources.

Rules (all deterministic):

* PC4 → gemeente comes from GeoNames ``admin_code2`` (the CBS municipality code).  The 20
  rows without admin codes (PC4 3221-3238, GM1992 Voorne aan Zee since 2023) get their
  gemeente by point-in-polygon on the CBS 2025 boundaries.
* A PC4 on several rows (one row per place name): the gemeente named on most rows wins;
  a tie goes to the candidate that is most common among the other PC4s with the same
  first three digits, then to the lowest code.  The centroid is the mean of that
  gemeente's rows, and the place is the row named like the gemeente if there is one,
  else the alphabetically first name.
* Gemeente → province and labour-market region: the polygon that contains the
  gemeente's representative point (gemeenten nest in both layers).
"""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import shapely

from geodata._sources import GEONAMES_FILE, areas, data_path

PC4_FILE = "pc4.csv"
GEMEENTE_FILE = "gemeente.csv"
PC4_COLUMNS = ("pc4", "place", "lat", "lon", "gemeente_code")
GEMEENTE_COLUMNS = (
    "gemeente_code",
    "gemeente_name",
    "province_code",
    "province",
    "labour_market_region_code",
    "labour_market_region",
)


@dataclass(frozen=True)
class _Row:
    pc4: str
    place: str
    lat: float
    lon: float
    gemeente_code: str


def _read_geonames(path: Path) -> list[_Row]:
    gemeenten = areas("gemeente")
    rows: list[_Row] = []
    with path.open(encoding="utf-8", newline="") as handle:
        for fields in csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE):
            lat, lon = float(fields[9]), float(fields[10])
            code = f"GM{fields[6]}" if fields[6] else ""
            if not code:
                index = gemeenten.containing(lon, lat)
                if index is None:
                    raise ValueError(f"PC4 {fields[1]} has no gemeente code and no polygon")
                code = gemeenten.codes[index]
            rows.append(_Row(fields[1], fields[2], lat, lon, code))
    return rows


def _choose_gemeente(pc4: str, rows: list[_Row], by_prefix: dict[str, Counter[str]]) -> str:
    votes = Counter(row.gemeente_code for row in rows)
    top = max(votes.values())
    candidates = sorted(code for code, count in votes.items() if count == top)
    if len(candidates) == 1:
        return candidates[0]
    neighbours = by_prefix[pc4[:3]].copy()
    neighbours.subtract(votes)  # only the *other* PC4s in the same 3-digit block
    return max(candidates, key=lambda code: (neighbours[code], [-ord(c) for c in code]))


def _merge(rows: list[_Row]) -> list[_Row]:
    by_pc4: dict[str, list[_Row]] = defaultdict(list)
    for row in rows:
        by_pc4[row.pc4].append(row)
    by_prefix: dict[str, Counter[str]] = defaultdict(Counter)
    for row in rows:
        by_prefix[row.pc4[:3]][row.gemeente_code] += 1
    gemeente_names = dict(zip(areas("gemeente").codes, areas("gemeente").names, strict=True))
    merged = []
    for pc4 in sorted(by_pc4):
        code = _choose_gemeente(pc4, by_pc4[pc4], by_prefix)
        kept = [row for row in by_pc4[pc4] if row.gemeente_code == code]
        names = sorted({row.place for row in kept})
        place = gemeente_names[code] if gemeente_names[code] in names else names[0]
        lat = round(sum(row.lat for row in kept) / len(kept), 5)
        lon = round(sum(row.lon for row in kept) / len(kept), 5)
        merged.append(_Row(pc4, place, lat, lon, code))
    return merged


def _gemeente_rows() -> list[tuple[str, ...]]:
    gemeenten, provinces, regions = (
        areas("gemeente"),
        areas("province"),
        areas("labour_market_region"),
    )
    table = []
    for code, name, geometry in zip(
        gemeenten.codes, gemeenten.names, gemeenten.geometries, strict=True
    ):
        point = shapely.point_on_surface(geometry)
        province = provinces.containing(point.x, point.y)
        region = regions.containing(point.x, point.y)
        if province is None or region is None:
            raise ValueError(f"gemeente {code} {name} lies in no province or no region")
        table.append(
            (
                code,
                name,
                provinces.codes[province],
                provinces.names[province],
                regions.codes[region],
                regions.names[region],
            )
        )
    return sorted(table)


def _csv_text(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def build_tables() -> dict[str, str]:
    """Build the derived tables from the raw source files in ``geodata/data/``.

    Returns
    -------
    dict[str, str]
        File name (``pc4.csv``, ``gemeente.csv``) → CSV text, ready to write.

    Raises
    ------
    ValueError
        If a source row cannot be placed in a gemeente, province or region.
    """
    pc4_rows = _merge(_read_geonames(data_path(GEONAMES_FILE)))
    pc4_text = _csv_text(
        PC4_COLUMNS,
        [(r.pc4, r.place, f"{r.lat:.5f}", f"{r.lon:.5f}", r.gemeente_code) for r in pc4_rows],
    )
    return {PC4_FILE: pc4_text, GEMEENTE_FILE: _csv_text(GEMEENTE_COLUMNS, _gemeente_rows())}


def write_tables(directory: Path | None = None) -> list[Path]:
    """Write the derived tables (default: into ``geodata/data/``).

    Parameters
    ----------
    directory
        Target folder; ``None`` means the package's own data folder.

    Returns
    -------
    list[Path]
        The files written.
    """
    written = []
    for name, text in build_tables().items():
        path = (directory / name) if directory is not None else data_path(name)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for written_path in write_tables():
        print(written_path)
