"""The generator's need variants (needs_range, sector_bias) used by the bench matrix."""

import hashlib
from collections import Counter

import numpy as np
import pytest

from matching.sme.generate import (
    N_NEEDS_P,
    SECTORS,
    Cohort,
    GenerateError,
    generate_cohort,
    needs_count_p,
)

# sha256 of repr([f.needs for f in generate_cohort(500, ("Zeeland",), seed=3).firms]),
# computed with the generator before needs_range and sector_bias existed.
DEFAULT_NEEDS_SHA256 = "f861a83a1ccd094251beb6be2b27c82fbce2fd5ce3bc7a3fbb84f60ffb001c07"


def _sector_typical_share(cohort: Cohort) -> float:
    """Share of all drawn needs that are extra-popular in the firm's own sector."""
    extra = {s.key: set(s.needs) for s in SECTORS}
    pairs = [(c, s) for f, s in zip(cohort.firms, cohort.sectors, strict=True) for c in f.needs]
    return sum(c in extra[s] for c, s in pairs) / len(pairs)


def test_defaults_reproduce_the_cohorts_from_before() -> None:
    """The defaults draw exactly the needs of the generator before the variants existed."""
    cohort = generate_cohort(500, ("Zeeland",), seed=3)
    digest = hashlib.sha256(repr([f.needs for f in cohort.firms]).encode()).hexdigest()
    assert digest == DEFAULT_NEEDS_SHA256
    assert cohort.firms[2].needs == ("dig.privacy",)
    explicit = generate_cohort(500, ("Zeeland",), seed=3, needs_range=(1, 4), sector_bias=1.0)
    assert explicit == cohort


def test_two_to_six_needs_gives_every_firm_two_to_six() -> None:
    """needs_range (2, 6): every firm has 2-6 distinct needs, every count occurs, mean ~3.76."""
    cohort = generate_cohort(3000, seed=1, needs_range=(2, 6))
    counts = Counter(len(f.needs) for f in cohort.firms)
    assert set(counts) == {2, 3, 4, 5, 6}
    assert all(len(set(f.needs)) == len(f.needs) for f in cohort.firms)
    mean = sum(k * v for k, v in counts.items()) / 3000
    assert abs(mean - 3.76) < 0.1


def test_need_variants_change_only_the_needs() -> None:
    """Places, sectors, sizes, names and declared pairs stay those of the default cohort."""
    base = generate_cohort(800, seed=4)
    other = generate_cohort(800, seed=4, needs_range=(2, 6), sector_bias=2.0)
    assert base.sectors == other.sectors
    assert base.competitors == other.competitors and base.partners == other.partners
    assert [(f.name, f.postcode, f.employees) for f in base.firms] == [
        (f.name, f.postcode, f.employees) for f in other.firms
    ]
    assert [f.needs for f in base.firms] != [f.needs for f in other.firms]


def test_sector_bias_strengthens_and_weakens_sector_typical_needs() -> None:
    """Bias 2 raises the share of sector-typical needs, 0.5 lowers it, 0 leaves the base mix."""
    shares = {
        bias: _sector_typical_share(generate_cohort(3000, seed=2, sector_bias=bias))
        for bias in (0.0, 0.5, 1.0, 2.0)
    }
    steps = [shares[b] - shares[a] for a, b in ((0.0, 0.5), (0.5, 1.0), (1.0, 2.0))]
    assert min(steps) > 0.05  # measured: .265, .454, .563, .680


def test_needs_count_p_keeps_the_mix_for_four_counts() -> None:
    """Four counts use N_NEEDS_P exactly; other widths sum to one with the documented 2-6 mix."""
    assert needs_count_p(4) is N_NEEDS_P
    assert np.allclose(needs_count_p(5), [0.20, 0.26, 0.24, 0.18, 0.12])
    for width in (1, 2, 3, 6, 10):
        assert needs_count_p(width).sum() == pytest.approx(1.0)
    counts = Counter(len(f.needs) for f in generate_cohort(2000, seed=3, needs_range=(2, 5)).firms)
    assert set(counts) == {2, 3, 4, 5} and counts[3] > counts[2] > counts[5]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"needs_range": (0, 3)}, "needs_range"),
        ({"needs_range": (4, 2)}, "needs_range"),
        ({"needs_range": (1, 99)}, "needs_range"),
        ({"sector_bias": -0.5}, "sector_bias"),
        ({"sector_bias": float("nan")}, "sector_bias"),
    ],
)
def test_bad_need_variants_raise(kwargs: dict[str, object], field: str) -> None:
    """Impossible need ranges and negative biases raise GenerateError naming the field."""
    with pytest.raises(GenerateError) as info:
        generate_cohort(10, seed=1, **kwargs)  # type: ignore[arg-type]
    assert info.value.field == field
