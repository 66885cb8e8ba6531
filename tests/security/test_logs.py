"""The real server's log (`kring serve`): one structured access line per request with the route
template, no query strings or keys, and no SQL parameters or row values in tracebacks."""

from __future__ import annotations

import logging
import os
import sqlite3
from pathlib import Path

import httpx
import pytest
import structlog
from pydantic import SecretStr
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from app.config import Settings
from app.db import dispose_engine, get_engine
from app.logs import SafeFormatter, configure_logging
from app.migrate import upgrade
from app.models import Role
from bench.loadtest import Server, free_port
from tests.app.conftest import auth, issue_key
from tests.pg import database_for

PEPPER = "log-test-pepper"
FAKE_KEY = "kr_" + "q" * 43
SECRET_QUERY = "GeheimeZoekterm"
SECRET_NAME = "Geheime Bakkerij Vossebelt"
SECRET_LAT, SECRET_LON = 53.287654, 6.543219
SECRET_POSTCODE = "9711 XZ"
# makes every INSERT into firm fail inside the driver (OperationalError: no such table), so
# the statement and its parameters (name, postcode, coordinates) reach the error handler
FAULT = "CREATE TRIGGER kring_test_fault BEFORE INSERT ON firm BEGIN INSERT INTO no_such_table VALUES (NEW.name); END"  # noqa: E501


@pytest.mark.slow
def test_serve_logs_routes_once_without_queries_keys_or_sql_parameters(tmp_path: Path) -> None:
    """`kring serve`: no uvicorn access lines; kring's line has the route template; a 500's
    traceback names the error but no query string, key, name, postcode or coordinate."""
    db = tmp_path / "kring.db"
    settings = Settings(database_url=f"sqlite:///{db}", api_key_pepper=SecretStr(PEPPER))
    upgrade(settings)
    key = issue_key(settings, "north", Role.member)
    dispose_engine(settings.database_url)
    with sqlite3.connect(db) as conn:
        conn.execute(FAULT)
    env = {**os.environ, "KRING_DATABASE_URL": settings.database_url,
           "KRING_API_KEY_PEPPER": PEPPER, "KRING_EXECUTOR": "thread"}  # fmt: skip
    record = {"external_id": "s1", "name": SECRET_NAME, "postcode": SECRET_POSTCODE,
              "lat": SECRET_LAT, "lon": SECRET_LON, "sbi_code": "1071", "employees": 3,
              "digital_level": 2, "needs": ["dig.basics"]}  # fmt: skip
    server = Server(env, free_port(), tmp_path / "server.log")
    try:
        server.wait_ready()
        with httpx.Client(base_url=server.base, timeout=30) as client:
            me = client.get("/api/v1/me", params={"api_key": FAKE_KEY})
            listed = client.get("/api/v1/firms", params={"q": SECRET_QUERY}, headers=auth(key))
            missing = client.get("/api/v1/firms/ghost-77", headers=auth(key))
            try:
                failed: int | None = client.post("/api/v1/firms", json=[record],
                                                 headers=auth(key)).status_code  # fmt: skip
            except httpx.TransportError:  # uvicorn may reset the connection after a 500
                failed = None
    finally:
        server.stop()
    log = (tmp_path / "server.log").read_text()
    assert me.status_code in (400, 401, 422) and listed.status_code == 200
    assert failed in (500, None) and missing.status_code == 404
    assert "unhandled_error" in log and "status=500" in log
    assert "OperationalError" in log and "no such table" in log  # the traceback is there
    for secret in (FAKE_KEY, "api_key", SECRET_QUERY, "q=", SECRET_NAME, "Vossebelt",
                   str(SECRET_LAT), str(SECRET_LON), SECRET_POSTCODE, "ghost-77", key):  # fmt: skip
        assert secret not in log, secret
    assert "HTTP/1.1" not in log  # uvicorn's own access log is off
    access = [line for line in log.splitlines() if " request " in line and "route=" in line]
    routes = [line.split("route=")[1].split()[0] for line in access]
    for route in ("/api/v1/me", "/api/v1/firms", "/api/v1/firms/{external_id}"):
        assert route in routes, (route, routes)
    assert routes.count("/api/v1/firms") == 2  # one line per request: the GET and the POST
    assert all("method=" in line and "status=" in line and "duration_ms=" in line
               for line in access)  # fmt: skip


def test_database_error_tracebacks_name_the_constraint_not_the_values(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A unique violation (SQLite, or PostgreSQL whose DETAIL repeats the key) is logged by
    structlog and the stdlib formatter with its constraint but without the row's values."""
    url = database_for(tmp_path / "probe.db")
    engine = get_engine(url)
    create = "CREATE TABLE kring_log_probe (name VARCHAR(80) PRIMARY KEY, postcode VARCHAR(8))"
    insert = text("INSERT INTO kring_log_probe VALUES (:name, :postcode)")
    row = {"name": SECRET_NAME, "postcode": SECRET_POSTCODE}
    with engine.begin() as conn:
        conn.execute(text(create))
        conn.execute(insert, row)
    with pytest.raises(IntegrityError) as caught, engine.begin() as conn:
        conn.execute(insert, row)
    dispose_engine(url)
    if url.startswith("postgresql"):
        assert SECRET_NAME in str(caught.value)  # the driver's DETAIL line holds the key
    configure_logging(Settings(database_url=url, api_key_pepper=SecretStr(PEPPER)))
    capsys.readouterr()
    structlog.get_logger("kring.test").error("unhandled_error", exc_info=caught.value)
    info = (IntegrityError, caught.value, caught.value.__traceback__)
    record = logging.LogRecord("uvicorn.error", logging.ERROR, __file__, 1,
                               "Exception in ASGI application", None, info)  # fmt: skip
    logged = capsys.readouterr().err + SafeFormatter("%(message)s").format(record)
    assert logged.count("IntegrityError") >= 2 and "kring_log_probe" in logged
    assert SECRET_NAME not in logged and "Vossebelt" not in logged
    assert SECRET_POSTCODE not in logged
