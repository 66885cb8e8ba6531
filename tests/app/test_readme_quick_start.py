"""The README's quick start, line by line, as a Dutch Excel user runs it: real shell, curl,
`kring serve`; the Excel step is done with openpyxl."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import openpyxl
import pytest

ROOT = Path(__file__).resolve().parents[2]
HEADING = "## Quick start: from an Excel member list to groups in Excel"
POSTCODES = ("9711", "9712", "9713", "9714", "9715", "9716", "9717", "9718", "9721", "9722",
             "9723", "9724")  # fmt: skip
SBI = (
    "4120",
    "4321",
    "4322",
    "4332",
    "4391",
    "4399",
    "1071",
    "2511",
    "3312",
    "4673",
    "4941",
    "5610",
)  # fmt: skip  (distinct classes: no inferred competitors)


def quick_start_lines() -> list[str]:
    """The lines of the ```sh block under the quick-start heading of README.md."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split(HEADING, 1)[1].split("```sh\n", 1)[1].split("\n```", 1)[0]
    return [line for line in block.splitlines() if line.strip()]


def fill_in_excel(path: Path) -> int:
    """What the user does in Excel: the example row replaced by members, a plaats column."""
    book = openpyxl.load_workbook(path)
    sheet = book["Bedrijven"]
    header = [c.value for c in sheet[1] if c.value]
    sheet.cell(row=1, column=len(header) + 1, value="plaats")
    for k, (postcode, sbi) in enumerate(zip(POSTCODES, SBI, strict=True)):
        values = {
            "id": f"lid-{k + 1:03}",
            "naam": f"Leerbedrijf {k + 1}",
            "postcode": postcode,
            "sbi": sbi,
            "medewerkers": 5 + k,
            "digitaal_niveau": 2,
            "behoeften": "Vakopleiding (mbo, sectorleerroutes);Werving en vacatures",
        }
        for column, name in enumerate(header, start=1):
            sheet.cell(row=2 + k, column=column, value=values.get(name))
        sheet.cell(row=2 + k, column=len(header) + 1, value="Groningen")
    book.save(path)
    return len(POSTCODES)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _shell(line: str, env: dict[str, str], cwd: Path) -> tuple[str, dict[str, str]]:
    """Run one README line in bash; return its output and the environment after it."""
    script = f"set -ea\n{line}\nenv -0 > .env-after"
    done = subprocess.run(["bash", "-c", script], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, (line, done.stdout, done.stderr)
    after = (cwd / ".env-after").read_text().split("\0")
    return done.stdout, dict(v.split("=", 1) for v in after if "=" in v)


@pytest.mark.slow
def test_the_readme_quick_start_works_as_written(tmp_path: Path) -> None:
    """template.xlsx -> fill -> import -> run -> groups.xlsx in Dutch, each README line run."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KRING_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.update(KRING_EXECUTOR="thread", KRING_DEFAULT_TIME_LIMIT_S="3", KRING_LOG_LEVEL="WARNING")
    server, outputs, imported = None, [], None
    try:
        for line in quick_start_lines():
            line = line.replace("8000", str(port))
            if line.startswith("#"):
                assert "bedrijven.xlsx" in line  # the one step done by hand, in Excel
                members = fill_in_excel(tmp_path / "bedrijven.xlsx")
                continue
            if line.startswith("RUN="):  # the id the user reads off the answer above
                env["RUN"] = str(json.loads(outputs[-1])["id"])
                continue
            if line.rstrip().endswith("&"):
                server = _serve(line.rstrip().removesuffix("&"), env, tmp_path, port)
                continue
            if "again until" in line:  # repeated until the run has finished
                _until_finished(line.split("#", 1)[0], env, tmp_path)
            output, env = _shell(line, env, tmp_path)
            outputs.append(output)
            if "/firms/import" in line:
                imported = json.loads(output)
        assert imported is not None and imported["created"] == members
        assert imported["ignored_columns"] == ["plaats"]
        assert imported["notice"] == "1 kolom overgeslagen die kring niet gebruikt: plaats"
        assert imported["read_as"]["format"] == "xlsx"
        assert json.loads(outputs[-2])["status"] == "succeeded"
        book = openpyxl.load_workbook(tmp_path / "groepen.xlsx")
        assert book.sheetnames[0] == "Overzicht" and "Groep 1" in book.sheetnames
        assert {"Niet ingedeeld", "Instellingen"} <= set(book.sheetnames)
        group = [c.value for c in book["Groep 1"][1]]
        assert "Naam" in group and "Behoeften" in group
        rows = book["Groep 1"].iter_rows(min_row=2, values_only=True)
        assert any("Vakopleiding" in str(r[group.index("Behoeften")]) for r in rows)
        assert re.fullmatch(r"kr_\S+", env["K"])
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)


def _serve(command: str, env: dict[str, str], cwd: Path, port: int) -> subprocess.Popen[bytes]:
    """``kring serve ... &``: started in the background; back once /health answers."""
    server = subprocess.Popen(["bash", "-c", f"exec {command}"], env=env, cwd=cwd,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    _wait(lambda: httpx.get(f"http://127.0.0.1:{port}/health").is_success, 60)
    return server


def _until_finished(command: str, env: dict[str, str], cwd: Path) -> None:
    """Repeat the run's status line until the run has finished."""
    _wait(lambda: json.loads(_shell(command, env, cwd)[0])["status"] in ("succeeded", "failed"),
          120)  # fmt: skip


def _wait(ready, seconds: float) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if ready():
                return
        except (httpx.HTTPError, ValueError, KeyError):
            pass
        time.sleep(0.5)
    raise AssertionError("timed out")
