"""Competitor and partner pairs files: ``sme_a,sme_b`` (also ``bedrijf_a,bedrijf_b``).

Read from any file :mod:`matching.sme.tabular` reads, with the firm files' cell rules.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection, Iterable

from matching.sme.columns import PAIR_ALIASES, as_written, cell_problems, read_rows, text_rows
from matching.sme.tabular import InputFileError, RowError

PAIR_COLUMNS = ("sme_a", "sme_b")


def read_pairs_csv(
    text: str, *, source: str, known_ids: Collection[str] | None = None
) -> list[tuple[str, str]]:
    """Parse a competitors or partners CSV text; like :func:`read_pairs_rows`."""
    if not text.strip():
        raise InputFileError(source, [RowError.of(0, "file", "import.file_empty")])
    return read_pairs_rows(text_rows(text, source), source=source, known_ids=known_ids)


def read_pairs_rows(
    rows: list[list[str]], *, source: str, known_ids: Collection[str] | None = None
) -> list[tuple[str, str]]:
    """Validate rows of a competitors or partners table (columns ``sme_a,sme_b``).

    Parameters
    ----------
    rows
        The header row, then the data rows (``[]`` for a blank row).
    source
        File name used in error messages.
    known_ids
        When given, both ids of every pair must be in it (the firms' external ids).

    Returns
    -------
    list of (str, str)
        Unordered pairs in file order; repeats (either orientation) are dropped.

    Raises
    ------
    InputFileError
        Listing every problem: missing columns, empty ids, a firm paired with itself,
        ids not in ``known_ids``.
    """
    table, errors, shown = read_rows(rows, PAIR_ALIASES, PAIR_COLUMNS)
    seen: set[frozenset[str]] = set()
    pairs: list[tuple[str, str]] = []
    for number, values in enumerate(table, start=1):
        if not values:
            continue
        a, b = values["sme_a"], values["sme_b"]
        bad = unreadable = bool(cell_problems(number, values, errors))
        for column, value in (("sme_a", a), ("sme_b", b)):
            if unreadable:
                break
            if not value:
                errors.append(RowError.of(number, column, "import.value.empty"))
                bad = True
            elif known_ids is not None and value not in known_ids:
                error = RowError.of(number, column, "import.value.unknown_firm", value=repr(value))
                errors.append(error)
                bad = True
        if not bad and a and a == b:
            errors.append(RowError.of(number, "sme_b", "import.value.self_pair", value=repr(a)))
            bad = True
        if not bad and frozenset((a, b)) not in seen:
            seen.add(frozenset((a, b)))
            pairs.append((a, b))
    if errors:
        raise InputFileError(source, as_written(errors, shown))
    return pairs


def pairs_to_csv(pairs: Iterable[tuple[str, str]]) -> str:
    """Write pairs as ``sme_a,sme_b`` CSV text.

    Parameters
    ----------
    pairs
        Pairs of external ids.

    Returns
    -------
    str
        CSV text with a header.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(PAIR_COLUMNS)
    writer.writerows(pairs)
    return out.getvalue()
