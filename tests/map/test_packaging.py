"""The map page ships inside the package: vendored Leaflet, and a wheel that serves it all.

A wheel is built from a copy of the sources, installed into a fresh venv (no network: the
dependencies come from this venv's site-packages through a ``.pth`` file), started with
``kring serve`` outside the checkout, and every asset the page references is fetched.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import venv
from pathlib import Path
from urllib.parse import urljoin

import httpx
import pytest

from tests.map.conftest import _free_port

ROOT = Path(__file__).resolve().parents[2]
VENDOR = ROOT / "app" / "static" / "vendor"
SOURCES = ("app", "matching", "geodata", "texts", "pyproject.toml", "README.md")
MODULE_IMPORT = re.compile(r'^import .*? from "(\./[\w.-]+\.js)";', re.MULTILINE)
HTML_ASSET = re.compile(r'(?:href|src)="(map/[^"]+)"')
CSS_URL = re.compile(r"url\((images/[^)]+)\)")


def test_vendored_leaflet_is_the_pinned_version() -> None:
    """app/static/vendor/leaflet is Leaflet as pinned in package-lock.json (and node_modules)."""
    lock = json.loads((ROOT / "package-lock.json").read_text(encoding="utf-8"))
    version = lock["packages"]["node_modules/leaflet"]["version"]
    script = (VENDOR / "leaflet" / "leaflet.js").read_text(encoding="utf-8")
    assert f"Leaflet {version}," in script.splitlines()[1]
    assert "BSD 2-Clause" in (VENDOR / "leaflet" / "LICENSE").read_text(encoding="utf-8")
    assert f"Leaflet {version}" in (VENDOR / "NOTICE").read_text(encoding="utf-8")
    dist = ROOT / "node_modules" / "leaflet" / "dist"
    if dist.is_dir():  # after `npm ci`: the copies are byte-identical
        for name in ("leaflet.js", "leaflet.css", "images/layers.png", "images/marker-icon.png"):
            assert (VENDOR / "leaflet" / name).read_bytes() == (dist / name).read_bytes(), name


def test_map_router_reads_nothing_from_the_checkout() -> None:
    """app/routers/map.py serves from the package's own folders, never node_modules/."""
    source = (ROOT / "app" / "routers" / "map.py").read_text(encoding="utf-8")
    assert "node_modules" not in source.split('"""', 2)[2]  # the docstring may name it


def _site_packages() -> Path:
    found = [Path(p) for p in sys.path if p.endswith("site-packages") and Path(p).is_dir()]
    return found[0]


def _build_wheel(tmp: Path) -> Path:
    src = tmp / "src"
    src.mkdir()
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "node_modules")
            shutil.copytree(path, src / name, ignore=ignore)
        else:
            shutil.copy2(path, src / name)
    wheels = tmp / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--no-index", "-q", "-w", str(wheels), str(src)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    (wheel,) = wheels.glob("kring-*.whl")
    return wheel


def _install(tmp: Path, wheel: Path) -> Path:
    env_dir = tmp / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    # the dependencies, from this venv (no network); kring itself only from the wheel
    (Path(purelib) / "kring_test_deps.pth").write_text(f"{_site_packages()}\n")
    subprocess.run(
        [str(python), "-m", "pip", "install", "--no-deps", "--no-index", "-q", str(wheel)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    return env_dir


def _assets(base: str, client: httpx.Client) -> list[str]:
    """Every URL the page loads: its links and scripts, their module imports, CSS url()s."""
    page = client.get(base + "/map").text
    todo = [urljoin(base + "/map", ref) for ref in HTML_ASSET.findall(page)]
    seen: list[str] = []
    while todo:
        url = todo.pop()
        if url in seen:
            continue
        seen.append(url)
        if url.endswith(".js") and "/map/assets/" in url:
            todo += [urljoin(url, ref) for ref in MODULE_IMPORT.findall(client.get(url).text)]
        if url.endswith(".css"):
            todo += [urljoin(url, ref) for ref in CSS_URL.findall(client.get(url).text)]
    return seen


@pytest.mark.slow
def test_installed_wheel_serves_every_asset_of_the_page(tmp_path: Path) -> None:
    """pip install of the wheel, then kring serve elsewhere: every page asset answers 200."""
    env_dir = _install(tmp_path, _build_wheel(tmp_path))
    check = "import app; print(app.__file__)"
    where = subprocess.run([str(env_dir / "bin" / "python"), "-c", check], cwd=tmp_path,
                           check=True, capture_output=True, text=True).stdout  # fmt: skip
    assert where.startswith(str(env_dir)), where  # the installed copy, not the checkout
    env = {**os.environ, "KRING_DATABASE_URL": f"sqlite:///{tmp_path / 'kring.db'}",
           "KRING_DEV_MODE": "true", "KRING_LOG_LEVEL": "WARNING"}  # fmt: skip
    kring = str(env_dir / "bin" / "kring")
    subprocess.run([kring, "db", "upgrade"], env=env, cwd=tmp_path, check=True,
                   capture_output=True, timeout=120)  # fmt: skip
    port = _free_port()
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen(
        [kring, "serve", "--host", "127.0.0.1", "--port", str(port)], env=env, cwd=tmp_path,
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(timeout=30) as client:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and server.poll() is None:
                try:
                    if client.get(base + "/health").is_success:
                        break
                except httpx.HTTPError:
                    time.sleep(0.3)
            assert server.poll() is None, (tmp_path / "server.log").read_text()[-2000:]
            assets = _assets(base, client)
            assert any(a.endswith("/leaflet/leaflet.js") for a in assets)
            assert any(a.endswith("/images/layers.png") for a in assets)
            assert sum("/map/assets/" in a for a in assets) >= 10  # the page's own modules
            extra = ["/map/places.json", "/api/v1/texts", "/api/v1/boundaries/gemeente"]
            for url in assets + [base + path for path in extra]:
                answer = client.get(url)
                assert answer.status_code == 200 and answer.content, url
    finally:
        server.terminate()
        server.wait(timeout=15)
        log.close()
