"""The rules' words: every registered rule has its name, reasons and relaxations in nl and en."""

from __future__ import annotations

import texts
from matching.core import registry


def test_every_rule_has_its_words_in_both_languages() -> None:
    """reason.<code>.label/.explanation and relaxation words exist for every rule that needs them
    (a numeric setting without words of its own is relaxed in the generic words)."""
    missing = []
    for r in registry.rules():
        keys = []
        if r.reason:
            keys += [f"reason.{r.reason}.label", f"reason.{r.reason}.explanation"]
        for key in keys:
            for lang in texts.LANGS:
                if not texts.catalogue(lang).get(key):
                    missing.append((lang, key))
        numeric = {f.name for f in r.fields if f.type in ("int", "float")}
        for setting in r.relaxes:
            if not texts.has(f"relax.change.{setting}") and setting not in numeric:
                missing.append(("nl", f"relax.change.{setting}"))
    assert missing == []


def test_a_rule_without_own_words_is_relaxed_in_generic_words() -> None:
    """relax.change.raise names the setting: 'Verhoog max_per_gemeente van 3 naar 4: ...'."""
    where = texts.t("relax.where.group", "nl", group=12, size=11)
    text = texts.t("relax.change.raise", "nl", setting="max_per_gemeente", current="3",
                   needed="4", where=where)  # fmt: skip
    assert text == "Verhoog max_per_gemeente van 3 naar 4: past dan in groep 12 (11 bedrijven)"
    english = texts.t("relax.change.raise", "en", setting="max_per_gemeente", current="3",
                      needed="4", where="x")  # fmt: skip
    assert english == "Raise max_per_gemeente from 3 to 4: x"
