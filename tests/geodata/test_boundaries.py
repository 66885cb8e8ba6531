"""CBS boundaries, province names and the gemeente → province/region derivation."""

from __future__ import annotations

import pytest
import shapely

from geodata._sources import areas, data_path
from geodata.boundaries import boundaries_geojson, normalise_province, province_names
from geodata.errors import GeodataError
from geodata.postcodes import load_postcode_index

_GEONAMES_ENGLISH = {
    "Groningen": "Groningen",
    "Friesland": "Fryslân",
    "Drenthe": "Drenthe",
    "Overijssel": "Overijssel",
    "Flevoland": "Flevoland",
    "Guelders": "Gelderland",
    "Utrecht": "Utrecht",
    "North Holland": "Noord-Holland",
    "South Holland": "Zuid-Holland",
    "Zeeland": "Zeeland",
    "North Brabant": "Noord-Brabant",
    "Limburg": "Limburg",
}


def test_twelve_cbs_province_names() -> None:
    """province_names lists the twelve CBS Dutch names, Groningen first."""
    names = province_names()
    assert len(names) == 12
    assert names[:3] == ["Groningen", "Fryslân", "Drenthe"]
    assert "Noord-Brabant" in names


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Friesland", "Fryslân"),
        ("Fryslan", "Fryslân"),
        ("fryslân", "Fryslân"),
        ("Provincie Fryslân", "Fryslân"),
        ("PV21", "Fryslân"),
        ("North Brabant", "Noord-Brabant"),
        ("noord brabant", "Noord-Brabant"),
        ("Guelders", "Gelderland"),
        ("zuid-holland", "Zuid-Holland"),
        ("Province of Utrecht", "Utrecht"),
    ],
)
def test_normalise_province_aliases(text: str, expected: str) -> None:
    """English, ASCII, prefixed and code spellings map to the CBS name."""
    assert normalise_province(text) == expected


def test_normalise_province_unknown_raises() -> None:
    """An unknown province name raises GeodataError listing the valid names."""
    with pytest.raises(GeodataError, match="Groningen"):
        normalise_province("Holland")


@pytest.mark.parametrize(
    ("layer", "count", "first"),
    [("province", 12, "PV20"), ("gemeente", 342, "GM0014"), ("labour_market_region", 35, "AM01")],
)
def test_boundaries_geojson_layers(layer: str, count: int, first: str) -> None:
    """Each layer is a FeatureCollection with CBS code ids and code/name properties."""
    collection = boundaries_geojson(layer)  # type: ignore[arg-type]
    assert collection["type"] == "FeatureCollection"
    assert len(collection["features"]) == count
    feature = collection["features"][0]
    assert feature["id"] == first == feature["properties"]["code"]
    assert shapely.geometry.shape(feature["geometry"]).is_valid
    collection["features"].clear()
    assert len(boundaries_geojson(layer)["features"]) == count  # type: ignore[arg-type]


def test_unknown_layer_raises() -> None:
    """An unknown layer name raises GeodataError."""
    with pytest.raises(GeodataError):
        boundaries_geojson("country")  # type: ignore[arg-type]


def test_derived_province_matches_geonames_english_province() -> None:
    """For every PC4 with GeoNames admin codes, the derived CBS province equals GeoNames'."""
    index = load_postcode_index()
    checked = 0
    with open(data_path("NL.txt"), encoding="utf-8") as handle:
        for line in handle:
            fields = line.rstrip("\n").split("\t")
            record = index.lookup(fields[1])
            if fields[3] and record.gemeente_code == f"GM{fields[6]}":
                assert record.province == _GEONAMES_ENGLISH[fields[3]], fields[1]
                checked += 1
    assert checked > 4000


def test_gemeenten_lie_mostly_inside_their_province_and_region() -> None:
    """Each gemeente's assigned province and region is the one it overlaps most (> 75 %)."""
    index = load_postcode_index()
    assigned = {r.gemeente_code: r for r in index.records()}
    gemeenten = areas("gemeente")
    for layer, attribute in (
        ("province", "province_code"),
        ("labour_market_region", "labour_market_region_code"),
    ):
        parents = areas(layer)
        for code, geometry in zip(gemeenten.codes, gemeenten.geometries, strict=True):
            overlaps = [geometry.intersection(parent).area for parent in parents.geometries]
            best = max(range(len(overlaps)), key=overlaps.__getitem__)
            assert parents.codes[best] == getattr(assigned[code], attribute), code
            assert overlaps[best] > 0.75 * geometry.area, code
