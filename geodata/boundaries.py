"""CBS 2025 boundaries as GeoJSON, and province names (CBS Dutch names plus aliases)."""

from __future__ import annotations

import functools
import unicodedata
from typing import Any, Literal

from geodata._sources import areas, layer_json
from geodata.errors import GeodataError

# English (GeoNames), Frisian/Dutch variants and old spellings → CBS name.
_ALIASES = {
    "friesland": "Fryslân",
    "frisia": "Fryslân",
    "guelders": "Gelderland",
    "northholland": "Noord-Holland",
    "southholland": "Zuid-Holland",
    "northbrabant": "Noord-Brabant",
    "brabant": "Noord-Brabant",
}
_PREFIXES = ("provincie", "provinceof", "province")


def _key(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    return "".join(c for c in decomposed if c.isalnum() and not unicodedata.combining(c))


def boundaries_geojson(
    layer: Literal["province", "gemeente", "labour_market_region"],
) -> dict[str, Any]:
    """The CBS 2025 boundaries of one layer as a GeoJSON FeatureCollection.

    Parameters
    ----------
    layer
        ``"province"``, ``"gemeente"`` or ``"labour_market_region"``.

    Returns
    -------
    dict
        A fresh FeatureCollection (safe to mutate); each feature has ``id`` = CBS code and
        properties ``code`` and ``name``.  Coordinates are ``[lon, lat]``, simplified by CBS
        and rounded to 3 decimals (~100 m): fit for maps, not for exact border tests.

    Raises
    ------
    GeodataError
        If the layer is unknown.
    """
    try:
        source = layer_json(layer)
    except ValueError as error:
        raise GeodataError(str(error)) from None
    features = [
        {
            "type": "Feature",
            "id": feature["properties"]["statcode"],
            "properties": {
                "code": feature["properties"]["statcode"],
                "name": feature["properties"]["statnaam"],
            },
            "geometry": feature["geometry"],
        }
        for feature in source["features"]
    ]
    return {"type": "FeatureCollection", "features": features}


def province_names() -> list[str]:
    """The twelve provinces by their CBS Dutch names, in CBS code order (PV20 … PV31).

    Returns
    -------
    list[str]
        E.g. ``["Groningen", "Fryslân", "Drenthe", ...]``.
    """
    return list(areas("province").names)


@functools.cache
def _province_lookup() -> dict[str, str]:
    provinces = areas("province")
    lookup = {_key(alias): name for alias, name in _ALIASES.items()}
    for code, name in zip(provinces.codes, provinces.names, strict=True):
        lookup[_key(name)] = name
        lookup[_key(code)] = name
    return lookup


def normalise_province(name: str) -> str:
    """The CBS name of a province given in any common spelling.

    Parameters
    ----------
    name
        A CBS name (``"Fryslân"``), an ASCII or English variant (``"Fryslan"``,
        ``"Friesland"``, ``"North Brabant"``, ``"Guelders"``), with or without a
        ``"Provincie"`` prefix, any case; or a CBS code (``"PV21"``).

    Returns
    -------
    str
        The CBS Dutch name, e.g. ``"Fryslân"``.

    Raises
    ------
    GeodataError
        If the name matches no province.
    """
    key = _key(name)
    for prefix in _PREFIXES:
        if key.startswith(prefix) and key[len(prefix) :] in _province_lookup():
            key = key[len(prefix) :]
            break
    try:
        return _province_lookup()[key]
    except KeyError:
        raise GeodataError(
            f"unknown province {name!r}; expected one of {', '.join(province_names())}"
        ) from None
