"""The werkbank map page (``GET /map``), its static assets, CBS boundaries and town names.

The page is plain HTML/JS/CSS (ES modules) in ``app/static/map``; Leaflet is vendored in
``app/static/vendor/leaflet`` (copied from the npm package pinned in package-lock.json by
``make map-vendor``; licence in ``app/static/vendor/NOTICE``), so the wheel, the Docker
image and a checkout all serve the same files: nothing is read from ``node_modules``.  No
CDN, no tile server.  Boundaries and town names are public data and need no API key;
everything about firms and runs is fetched by the page with the caller's key.  Static
files and the public layers go out gzip-compressed to clients that accept it.
"""

from __future__ import annotations

import functools
import gzip
import json
import mimetypes
from collections import defaultdict
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, RedirectResponse

from app.deps import LangDep
from app.errors import NotFoundError, problem_responses
from app.schemas import PageTexts
from app.services.rendered import accepts_gzip
from geodata.boundaries import boundaries_geojson
from geodata.postcodes import load_postcode_index
from texts import catalogue

GEOJSON = "application/geo+json"
STATIC = Path(__file__).resolve().parent.parent / "static"
STATIC_DIR = STATIC / "map"
VENDOR_DIR = STATIC / "vendor"
Layer = Literal["province", "gemeente", "labour_market_region"]
LAYERS: dict[str, Layer] = {name: name for name in ("province", "gemeente", "labour_market_region")}
TEXT_PREFIXES = ("map.", "progress.phase.")  # the page's labels and a running run's phases
_CACHE = "public, max-age=3600"
_COMPRESSIBLE = (".js", ".css", ".json", ".html", ".svg")

router = APIRouter(tags=["map"])


@router.get("/", include_in_schema=False)
def root() -> RedirectResponse:
    """Send a person who opens the service's address to the map."""
    return RedirectResponse("/map", status_code=307)


def _send(request: Request, body: bytes, packed: bytes, media_type: str, cache: str) -> Response:
    """``body``, or its gzip form ``packed`` when the client accepts gzip."""
    headers = {"Cache-Control": cache, "Vary": "Accept-Encoding"}
    if accepts_gzip(request.headers.get("accept-encoding", "")):
        headers["Content-Encoding"] = "gzip"
        return Response(packed, media_type=media_type, headers=headers)
    return Response(body, media_type=media_type, headers=headers)


@functools.lru_cache(maxsize=64)
def _packed_file(path: Path, mtime_ns: int) -> tuple[bytes, bytes]:
    """A static file's bytes and their gzip form, read once per version of the file."""
    body = path.read_bytes()
    return body, gzip.compress(body, compresslevel=9, mtime=0)


def _mtime(path: Path) -> int:
    return path.stat().st_mtime_ns


def _file_in(request: Request, folder: Path, name: str, what: str) -> Response:
    path = (folder / name).resolve()
    if not path.is_relative_to(folder.resolve()) or not path.is_file():
        raise NotFoundError(what, name)
    if path.suffix not in _COMPRESSIBLE:
        return FileResponse(path, headers={"Cache-Control": _CACHE})
    media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if path.suffix == ".js":
        media_type = "text/javascript"  # ES modules need a JavaScript type
    body, packed = _packed_file(path, _mtime(path))
    return _send(request, body, packed, media_type, _CACHE)


@router.get("/map", include_in_schema=False)
def map_page(request: Request) -> Response:
    """The werkbank: groups of a run on CBS boundaries, offline."""
    body, packed = _packed_file(STATIC_DIR / "index.html", _mtime(STATIC_DIR / "index.html"))
    return _send(request, body, packed, "text/html; charset=utf-8", "no-cache")


@router.get("/map/assets/{name}", include_in_schema=False)
def map_asset(name: str, request: Request) -> Response:
    """A script module or style sheet of the map page."""
    return _file_in(request, STATIC_DIR, name, "map asset")


@router.get("/map/vendor/{name:path}", include_in_schema=False)
def vendor_asset(name: str, request: Request) -> Response:
    """A file of a vendored front-end library (Leaflet), shipped inside the package."""
    return _file_in(request, VENDOR_DIR, name, "vendored file")


@router.get("/map/places.json", include_in_schema=False)
def read_places(request: Request) -> Response:
    """Town names for the label layer: one entry per place (GeoNames, CC BY 4.0)."""
    body, packed = _places_json()
    return _send(request, body, packed, "application/json", _CACHE)


@functools.cache
def _places_json() -> tuple[bytes, bytes]:
    """Places of the bundled PC4 table: mean centroid, and the PC4 count as its size.

    A place named in several gemeenten is one entry per gemeente; the list is sorted by
    size (most PC4s first), which the page uses to label bigger towns at lower zooms.
    """
    found: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
    where: dict[tuple[str, str], tuple[str, str]] = {}
    for record in load_postcode_index().records():
        key = (record.place, record.gemeente_code)
        found[key].append((record.lat, record.lon))
        where[key] = (record.gemeente_name, record.province)
    rows = []
    for key, points in found.items():
        lat = sum(p[0] for p in points) / len(points)
        lon = sum(p[1] for p in points) / len(points)
        rows.append([key[0], round(lat, 4), round(lon, 4), len(points), *where[key]])
    rows.sort(key=lambda row: (-row[3], row[0]))
    columns = ["name", "lat", "lon", "pc4s", "gemeente", "province"]
    body = {"columns": columns, "rows": rows, "attribution": "GeoNames, geonames.org (CC BY 4.0)"}
    plain = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    return plain, gzip.compress(plain, compresslevel=9, mtime=0)


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
    request: Request,
    layer: Annotated[str, PathParam(description="province, gemeente or labour_market_region")],
) -> Response:
    """CBS 2025 boundaries of one layer as GeoJSON (public data, no key needed)."""
    if layer not in LAYERS:
        raise NotFoundError("boundary layer", layer)
    body, packed = _boundaries_json(LAYERS[layer])
    return _send(request, body, packed, GEOJSON, _CACHE)


@functools.cache
def _boundaries_json(layer: Layer) -> tuple[bytes, bytes]:
    """The layer serialised (and compressed) once per process (the files are static)."""
    plain = json.dumps(boundaries_geojson(layer), separators=(",", ":")).encode()
    return plain, gzip.compress(plain, compresslevel=9, mtime=0)


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
    words = {k: v for k, v in catalogue(chosen).items() if k.startswith(TEXT_PREFIXES)}
    return PageTexts(lang=chosen, texts=words)
