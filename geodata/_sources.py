"""The bundled source files and the shapely geometries read from them (cached)."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import shapely
from shapely.strtree import STRtree

Layer = Literal["province", "gemeente", "labour_market_region"]

LAYER_FILES: dict[str, str] = {
    "gemeente": "gemeente_2025.geojson",
    "province": "provincie_2025.geojson",
    "labour_market_region": "arbeidsmarktregio_2025.geojson",
}
GEONAMES_FILE = "NL.txt"


def data_path(name: str) -> Path:
    """Path of a file in ``geodata/data/``."""
    return Path(str(resources.files("geodata") / "data" / name))


@functools.cache
def layer_json_text(layer: str) -> str:
    """The raw GeoJSON text of one CBS layer."""
    if layer not in LAYER_FILES:
        raise ValueError(f"unknown layer {layer!r}; expected one of {sorted(LAYER_FILES)}")
    return data_path(LAYER_FILES[layer]).read_text(encoding="utf-8")


def layer_json(layer: str) -> dict[str, Any]:
    """A fresh parse of one CBS layer (callers may mutate it)."""
    parsed: dict[str, Any] = json.loads(layer_json_text(layer))
    return parsed


@dataclass(frozen=True)
class Areas:
    """The polygons of one layer with their CBS codes and names, and an STRtree over them."""

    codes: tuple[str, ...]
    names: tuple[str, ...]
    geometries: tuple[shapely.Geometry, ...]
    tree: STRtree

    def containing(self, lon: float, lat: float) -> int | None:
        """Index of the area whose polygon contains the point, or ``None``."""
        point = shapely.Point(lon, lat)
        hits = self.tree.query(point, predicate="intersects")
        if len(hits) == 0:
            return None
        return int(min(hits))  # borders: the lowest index wins, deterministically

    def nearest(self, lon: float, lat: float) -> tuple[int, float, float]:
        """Index of the nearest area and the (lon, lat) of its closest boundary point."""
        point = shapely.Point(lon, lat)
        index = int(self.tree.query_nearest(point)[0])
        closest = shapely.shortest_line(self.geometries[index], point).coords[0]
        return index, float(closest[0]), float(closest[1])


@functools.cache
def areas(layer: str) -> Areas:
    """Polygons of one CBS layer (``gemeente``, ``province``, ``labour_market_region``)."""
    features = layer_json(layer)["features"]
    geometries = tuple(shapely.geometry.shape(f["geometry"]) for f in features)
    for geometry in geometries:
        shapely.prepare(geometry)
    return Areas(
        codes=tuple(str(f["properties"]["statcode"]) for f in features),
        names=tuple(str(f["properties"]["statnaam"]) for f in features),
        geometries=geometries,
        tree=STRtree(geometries),
    )
