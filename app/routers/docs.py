"""API documentation pages, offline: Swagger UI on ``/docs`` and ReDoc on ``/redoc``.

Their scripts and styles come from the PyPI package ``fastapi-offline`` (the
``swagger-ui-dist`` 5 and ``redoc`` 2 builds, installed with kring into site-packages), so
the pages render without internet and without npm.  The pages hold no inline script:
Swagger UI starts from ``app/static/docs/swagger-init.js`` and ReDoc from its
``<redoc spec-url>`` element, so both work under ``script-src 'self'``.
"""

from __future__ import annotations

from html import escape
from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse

from app.errors import NotFoundError

VENDOR_DIR = Path(str(files("fastapi_offline") / "static"))
OWN_DIR = Path(__file__).resolve().parent.parent / "static" / "docs"
ASSETS = {
    "swagger-ui-bundle.js": VENDOR_DIR / "swagger-ui-bundle.js",
    "swagger-ui.css": VENDOR_DIR / "swagger-ui.css",
    "redoc.standalone.js": VENDOR_DIR / "redoc.standalone.js",
    "favicon.png": VENDOR_DIR / "favicon.png",
    "swagger-init.js": OWN_DIR / "swagger-init.js",
}
ASSET_PATH = "/docs/assets"
_PAGE_HEADERS = {"Cache-Control": "no-cache"}

router = APIRouter(include_in_schema=False)


def _urls(request: Request) -> tuple[str, str]:
    """The spec URL and the assets' base URL, behind a proxy's root path too."""
    root = request.scope.get("root_path", "").rstrip("/")
    return escape(root + (request.app.openapi_url or "/openapi.json")), escape(root + ASSET_PATH)


@router.get("/docs")
def swagger_page(request: Request) -> HTMLResponse:
    """Swagger UI: try every operation with your key (Authorize, then Try it out)."""
    spec, assets = _urls(request)
    html = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>kring API - Swagger UI</title>
<link rel="icon" type="image/png" href="{assets}/favicon.png">
<link rel="stylesheet" href="{assets}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui" data-openapi-url="{spec}"></div>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script src="{assets}/swagger-init.js"></script>
</body>
</html>
"""
    return HTMLResponse(html, headers=_PAGE_HEADERS)


@router.get("/redoc")
def redoc_page(request: Request) -> HTMLResponse:
    """ReDoc: the API reference on one page."""
    spec, assets = _urls(request)
    html = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>kring API - ReDoc</title>
<link rel="icon" type="image/png" href="{assets}/favicon.png">
</head>
<body>
<redoc spec-url="{spec}"></redoc>
<script src="{assets}/redoc.standalone.js"></script>
</body>
</html>
"""
    return HTMLResponse(html, headers=_PAGE_HEADERS)


@router.get(ASSET_PATH + "/{name}")
def docs_asset(name: str) -> FileResponse:
    """A script, style sheet or icon of the documentation pages."""
    path = ASSETS.get(name)
    if path is None or not path.is_file():
        raise NotFoundError("documentation asset", name)
    return FileResponse(path, headers={"Cache-Control": "public, max-age=86400"})
