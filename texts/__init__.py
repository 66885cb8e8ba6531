"""Every text a person reads, in Dutch and English, from one message catalogue.

The catalogue is gettext files, ``texts/locale/{nl,en}/LC_MESSAGES/*.po`` (``kring.po``,
and ``import.po`` for reading firm files), read with Babel.  A msgid is a stable dotted key
(``group.explanation.all_need``), its msgstr the text with ``{named}`` placeholders.  Codes
stay in the JSON beside the words; only the words come from here.  This package imports
nothing of ``app``, ``matching`` or ``geodata`` (import-linter enforces it), so every layer
may use it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from babel.messages.pofile import read_po

LANGS = ("nl", "en")
DEFAULT = "nl"
LOCALE_DIR = Path(__file__).parent / "locale"
_LOCALES = {"nl": "nl_NL", "en": "en_GB"}


def po_path(lang: str) -> Path:
    """The ``.po`` file of one language."""
    return LOCALE_DIR / lang / "LC_MESSAGES" / "kring.po"


@cache
def catalogue(lang: str) -> dict[str, str]:
    """Every key and its text in ``lang`` ("nl" or "en"), as read from the ``.po`` file.

    Parameters
    ----------
    lang
        ``"nl"`` or ``"en"``; anything else gives the Dutch catalogue.

    Returns
    -------
    dict
        msgid -> msgstr (empty strings are kept: a test fails on them).
    """
    lang = lang if lang in LANGS else DEFAULT
    found: dict[str, str] = {}
    for path in sorted(po_path(lang).parent.glob("*.po")):  # kring.po, import.po, ...
        with path.open("rb") as fh:
            cat = read_po(fh, locale=_LOCALES[lang], domain=path.stem)
        found.update({str(m.id): str(m.string) for m in cat if m.id and isinstance(m.id, str)})
    return found


def t(key: str, lang: str = DEFAULT, /, **params: object) -> str:
    """The text of ``key`` in ``lang`` with ``{named}`` placeholders filled in.

    Parameters
    ----------
    key
        A msgid of the catalogue, e.g. ``"reason.left_over.label"``.
    lang
        ``"nl"`` (default) or ``"en"``.
    **params
        Values for the placeholders.  With ``count=1`` the entry ``key + ".one"`` (the
        singular: "1 ongeldige waarde") is used when the catalogue has it.

    Returns
    -------
    str
        The formatted text.

    Raises
    ------
    KeyError
        For a key that is not in the catalogue (or a placeholder without a value).
    """
    texts = catalogue(lang)
    params = {k: v.render(lang) if isinstance(v, Msg) else v for k, v in params.items()}
    if params.get("count") == 1 and f"{key}.one" in texts:
        key = f"{key}.one"  # the singular form, where the catalogue has one
    return texts[key].format(**params)


@dataclass(frozen=True, slots=True)
class Msg:
    """A text to say later, in the reader's language: a catalogue key and its values.

    Libraries that must not know the reader (``matching``, ``geodata``) keep a ``Msg``
    beside their English message; the caller renders it.  A value may be a ``Msg`` itself
    (rendered in the same language), e.g. a postcode error's reason.
    """

    key: str
    params: tuple[tuple[str, object], ...] = ()

    @classmethod
    def of(cls, key: str, /, **params: object) -> Msg:
        """``Msg.of("import.cell.nul")``, ``Msg.of("import.cell.too_long", length=..)``."""
        return cls(key, tuple(params.items()))

    def render(self, lang: str = DEFAULT) -> str:
        """The text in ``lang`` (see :func:`t`)."""
        return t(self.key, lang, **dict(self.params))


def has(key: str) -> bool:
    """Whether ``key`` is in the catalogue."""
    return key in catalogue(DEFAULT)


def number(value: float, lang: str = DEFAULT, digits: int = 0) -> str:
    """A rounded number as people write it: ``"0,9"`` in Dutch, ``"0.9"`` in English.

    Parameters
    ----------
    value
        The number.
    lang
        ``"nl"`` or ``"en"``.
    digits
        Decimals to keep at most (trailing zeros dropped).

    Returns
    -------
    str
        E.g. ``number(41.3, "nl")`` -> ``"41"``; ``number(0.92, "nl", 2)`` -> ``"0,92"``.
    """
    if not math.isfinite(value):
        return str(value)
    text = f"{round(value, digits):.{digits}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text == "-0":
        text = "0"
    return text.replace(".", ",") if lang == "nl" else text


def negotiate(accept_language: str | None, default: str = DEFAULT) -> str:
    """The language to answer in, from an ``Accept-Language`` header.

    Parameters
    ----------
    accept_language
        The header value, e.g. ``"en-GB,en;q=0.9,nl;q=0.8"``; ``None`` or empty: ``default``.
    default
        Used when the header names neither Dutch nor English (or ``*`` only).

    Returns
    -------
    str
        ``"nl"`` or ``"en"``: the supported language with the highest quality (the first
        listed on a tie).
    """
    best, best_q = default, 0.0
    for part in (accept_language or "").split(","):
        tag, *params = part.strip().split(";")
        primary = tag.strip().lower().split("-")[0]
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if primary in LANGS and q > best_q:
            best, best_q = primary, q
    return best


__all__ = ["DEFAULT", "LANGS", "Msg", "catalogue", "has", "negotiate", "number", "po_path", "t"]
