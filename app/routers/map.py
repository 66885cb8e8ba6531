"""The built-in map page (``GET /map``), its static assets, and the CBS boundary layers.

The page is plain HTML/JS/CSS in ``app/static/map``; Leaflet comes from the npm package
installed by ``npm ci`` into ``node_modules/leaflet/dist`` at the repository root (no CDN,
no tile server).  Boundaries are public CBS data and need no API key; everything about
firms and runs is fetched by the page with the caller's key.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, RedirectResponse

from app.deps import LangDep
from app.errors import NotFoundError, problem_responses
from app.schemas import PageTexts
from geodata.boundaries import boundaries_geojson
from texts import catalogue

GEOJSON = "application/geo+json"
STATIC_DIR = Path(__file__).resolve().parent.parent / "static" / "map"
LEAFLET_DIR = Path(__file__).resolve().parents[2] / "node_modules" / "leaflet" / "dist"
Layer = Literal["province", "gemeente", "labour_market_region"]
LAYERS: dict[str, Layer] = {name: name for name in ("province", "gemeente", "labour_market_region")}
_CACHE = {"Cache-Control": "public, max-age=3600"}

router = APIRouter(tags=["map"])


@router.get("/", include_in_schema=False)
def root() -> RedirectResponse:
    """Send a person who opens the service's address to the map."""
    return RedirectResponse("/map", status_code=307)


def _file_in(folder: Path, name: str, what: str) -> FileResponse:
    path = (folder / name).resolve()
    if not path.is_relative_to(folder.resolve()) or not path.is_file():
        raise NotFoundError(what, name)
    return FileResponse(path, headers=_CACHE)


@router.get("/map", include_in_schema=False)
def map_page() -> FileResponse:
    """The map page: groups of a run on CBS boundaries, offline."""
    return FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})


@router.get("/map/assets/{name}", include_in_schema=False)
def map_asset(name: str) -> FileResponse:
    """A script or style sheet of the map page."""
    return _file_in(STATIC_DIR, name, "map asset")


@router.get("/map/vendor/leaflet/{name:path}", include_in_schema=False)
def leaflet_asset(name: str) -> FileResponse:
    """A file of the Leaflet distribution installed by npm."""
    return _file_in(LEAFLET_DIR, name, "Leaflet file (run `npm ci`)")


@router.get(
    "/api/v1/boundaries/{layer}",
    operation_id="map-boundaries",
    response_class=Response,
    responses={
        200: {"content": {GEOJSON: {}}, "description": "An RFC 7946 FeatureCollection"},
        **problem_responses(404, 422),
    },
)
def read_boundaries(
    layer: Annotated[str, PathParam(description="province, gemeente or labour_market_region")],
) -> Response:
    """CBS 2025 boundaries of one layer as GeoJSON (public data, no key needed)."""
    if layer not in LAYERS:
        raise NotFoundError("boundary layer", layer)
    return Response(_boundaries_json(LAYERS[layer]), media_type=GEOJSON, headers=_CACHE)


@functools.cache
def _boundaries_json(layer: Layer) -> bytes:
    """The layer serialised once per process (the files are static)."""
    return json.dumps(boundaries_geojson(layer), separators=(",", ":")).encode()


@router.get(
    "/api/v1/texts",
    operation_id="map-texts",
    response_model=PageTexts,
    responses=problem_responses(422),
)
def read_texts(
    response: Response,
    lang_header: LangDep,
    lang: Annotated[
        Literal["nl", "en"] | None,
        Query(description="nl or en; without it the Accept-Language header decides (nl)"),
    ] = None,
) -> PageTexts:
    """The map page's labels and messages from the message catalogue (public, no key)."""
    chosen = lang or lang_header
    response.headers["Content-Language"] = chosen
    response.headers["Cache-Control"] = "no-cache"
    words = {k: v for k, v in catalogue(chosen).items() if k.startswith("map.")}
    return PageTexts(lang=chosen, texts=words)
