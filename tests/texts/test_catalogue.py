"""The message catalogue: complete in Dutch and English, and every key the code uses exists."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest

import texts
from app.errors import PROBLEM_TYPES
from matching.rules.unassigned import REASONS
from matching.sme.relax_answer import Change

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("app", "matching", "geodata", "texts")


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def _keys_in_code() -> set[tuple[str, str]]:
    """(file, key) for every ``t("literal", ...)`` / ``texts.t("literal", ...)`` call."""
    found = set()
    for package in SCANNED:
        for path in (ROOT / package).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call) or not node.args:
                    continue
                func = node.func
                name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
                first = node.args[0]
                if name == "t" and isinstance(first, ast.Constant) and isinstance(first.value, str):
                    found.add((str(path.relative_to(ROOT)), first.value))
    return found


def test_every_key_has_dutch_and_english_text() -> None:
    """Each msgid has a non-empty msgstr in nl and in en, and the same keys in both files."""
    nl, en = texts.catalogue("nl"), texts.catalogue("en")
    assert set(nl) == set(en), sorted(set(nl) ^ set(en))
    empty = [(lang, k) for lang, cat in (("nl", nl), ("en", en)) for k, v in cat.items() if not v]
    assert not empty
    assert len(nl) > 50


def test_placeholders_agree_between_languages() -> None:
    """A key's Dutch and English texts take the same ``{named}`` placeholders."""
    nl, en = texts.catalogue("nl"), texts.catalogue("en")
    differ = [k for k in nl if _placeholders(nl[k]) != _placeholders(en[k])]
    assert not differ


def test_every_key_used_in_code_exists() -> None:
    """An AST scan of app/, matching/, geodata/ finds only ``t()`` keys the catalogue has."""
    used = _keys_in_code()
    assert used, "the scan found no t() call"
    missing = sorted((f, k) for f, k in used if not texts.has(k))
    assert not missing


def test_t_formats_and_refuses_unknown_keys() -> None:
    """t() fills placeholders in the language asked, Dutch by default; unknown keys raise."""
    need = "Vakopleiding (mbo)"
    assert texts.t("group.explanation.all_need", n=12, need=need) == (
        "12 bedrijven, allemaal met de vraag Vakopleiding (mbo)"
    )
    assert texts.t("group.explanation.all_need", "en", n=12, need=need).startswith("12 firms")
    with pytest.raises(KeyError):
        texts.t("no.such.key")


@pytest.mark.parametrize(
    ("header", "lang"),
    [
        (None, "nl"),
        ("", "nl"),
        ("en", "en"),
        ("en-GB,en;q=0.9", "en"),
        ("nl-NL,nl;q=0.9,en;q=0.8", "nl"),
        ("de-DE,en;q=0.5", "en"),
        ("fr, de", "nl"),
        ("*", "nl"),
        ("en;q=0.3, nl;q=0.7", "nl"),
        ("en;q=0", "nl"),
    ],
)
def test_negotiate(header: str | None, lang: str) -> None:
    """negotiate() picks nl or en by quality from Accept-Language; Dutch otherwise."""
    assert texts.negotiate(header) == lang


def test_number_rounds_and_uses_the_decimal_comma_in_dutch() -> None:
    """number() rounds and writes 0,92 in Dutch and 0.92 in English."""
    assert texts.number(41.3, "nl") == "41"
    assert texts.number(0.92, "nl", 2) == "0,92"
    assert texts.number(0.92, "en", 2) == "0.92"
    assert texts.number(51.0, "nl", 1) == "51"


def test_keys_built_from_codes_exist() -> None:
    """Keys made from codes (reasons, relaxation settings, rules, problem slugs) all exist."""
    keys = [f"reason.{r}.{part}" for r in REASONS for part in ("label", "explanation")]
    settings = ("max_pair_km", "min_size", "max_size", "min_theme_share", "min_weight",
                "max_weight", "max_same_division", "competitor_link")  # fmt: skip
    keys += [f"relax.change.{s}" for s in settings]
    assert "setting" in Change.__dataclass_fields__
    rules = ("eligible_provinces", "eligible_max_employees", "scheme.firm_size.max_employees",
             "scheme.regions", "scheme.sbi.excluded_sections", "scheme.sbi.sections",
             "scheme.funded_needs")  # fmt: skip
    keys += [f"rule.{r}" for r in rules]
    slugs = ("unauthorized", "forbidden", "not-found", "conflict", "payload-too-large",
             "invalid-input", "invalid-location", "method-not-allowed", "internal")  # fmt: skip
    keys += [f"problem.{s}.title" for s in slugs]
    keys += [f"problem.{s}.{part}" for s in PROBLEM_TYPES for part in ("title", "about")]
    keys += [f"cli.demo.{k}" for k in ("map", "docs", "run", "geojson")]
    checks = ("missing", "extra_forbidden", "greater_than_equal", "less_than_equal",
              "literal_error", "string_too_long")  # fmt: skip
    keys += [f"validation.{k}" for k in checks]
    assert [k for k in keys if not texts.has(k)] == []


def test_every_key_the_map_page_uses_exists() -> None:
    """Every T("...") in map.js and every data-t key in index.html is in the catalogue."""
    folder = ROOT / "app" / "static" / "map"
    script = (folder / "map.js").read_text(encoding="utf-8")
    page = (folder / "index.html").read_text(encoding="utf-8")
    used = {k for k in re.findall(r'\bT\("([a-z0-9_.\-]+)"', script) if not k.endswith(".")}
    used |= set(re.findall(r'data-t(?:-title|-aria-label)?="([^"]+)"', page))
    assert len(used) > 40
    assert sorted(k for k in used if not texts.has(k)) == []
    built = [f"map.status.{s}" for s in ("proposed", "accepted", "rejected")]
    built += [f"map.purpose.{p}" for p in ("training", "subsidy", "peer")]
    built += [f"map.run_status.{s}" for s in ("queued", "running", "succeeded", "failed",
                                              "cancelled", "cancelling")]  # fmt: skip
    assert [k for k in built if not texts.has(k)] == []


def test_one_takes_the_singular_where_the_catalogue_has_it() -> None:
    """count=1 picks ``key.one`` ("1 ongeldige waarde"), other counts the plural form."""
    assert texts.t("problem.invalid-input.request", "nl", count=1) == (
        "1 ongeldige waarde in het verzoek"
    )
    assert texts.t("problem.invalid-input.request", "nl", count=3) == (
        "3 ongeldige waarden in het verzoek"
    )
    assert texts.t("problem.invalid-input.request", "en", count=1) == (
        "1 invalid value in the request"
    )
    english = texts.catalogue("en")
    plural = [k for k in english if re.search(r"[a-z]\(s\)", english[k])]  # "value(s)"
    assert not plural, "write a '.one' entry instead of '(s)'"


_SERVICE_ERRORS = {"ServiceError", "UnauthorizedError", "ForbiddenError", "ConflictError",
                   "PayloadTooLargeError", "InvalidInputError"}  # fmt: skip


def _raised_calls(tree: ast.AST) -> list[ast.Call]:
    """The calls a ``raise`` statement raises directly (not through with_text/said/invalid)."""
    raises = [n for n in ast.walk(tree) if isinstance(n, ast.Raise)]
    return [n.exc for n in raises if isinstance(n.exc, ast.Call)]


def test_no_service_error_is_raised_with_bare_english() -> None:
    """app/ raises no ServiceError with a literal text: each goes through the catalogue
    (app.errors.said / invalid / i18n.with_text), and every NotFoundError resource is a word."""
    bare, resources = [], set()
    for path in (ROOT / "app").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for call in _raised_calls(tree):
            name = getattr(call.func, "id", getattr(call.func, "attr", ""))
            if name in _SERVICE_ERRORS:
                bare.append(f"{path.relative_to(ROOT)}:{call.lineno}")
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "NotFoundError":
                first = node.args[0] if node.args else None
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    resources.add(first.value)
    assert bare == []
    assert len(resources) > 8
    assert sorted(r for r in resources if not texts.has(f"resource.{r}")) == []


_KEY_PREFIXES = ("import.", "settings.", "problem.", "geodata.", "validation.", "cli.")


def test_every_msg_key_in_the_libraries_exists() -> None:
    """Keys given to RowError.of, SettingsError.of, Msg.of, said(), invalid() all exist."""
    builders = {"of", "said", "invalid", "with_text", "_fail", "fail"}
    found = []
    for package in SCANNED:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                name = getattr(getattr(node, "func", None), "id", None)
                name = name or getattr(getattr(node, "func", None), "attr", "")
                if not isinstance(node, ast.Call) or name not in builders:
                    continue
                values = [a.value for a in node.args if isinstance(a, ast.Constant)]
                keys = [v for v in values if isinstance(v, str) and v.startswith(_KEY_PREFIXES)]
                found += [(str(path.relative_to(ROOT)), k) for k in keys]
    assert len(found) > 60
    assert sorted((f, k) for f, k in found if not texts.has(k)) == []
