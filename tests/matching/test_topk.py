"""The capped pair graph keeps each firm's best partners by affinity, not the nearest."""

import dataclasses

import numpy as np

from matching.core.objective import pair_graph
from matching.sme.build import build_instance
from matching.sme.generate import generate_cohort
from matching.sme.settings import RunSettings


def test_capped_graph_keeps_the_top_k_by_affinity_and_is_symmetric() -> None:
    """With max_neighbours=20 every firm keeps all partners above its 20th-best affinity."""
    cohort = generate_cohort(300, seed=2)
    settings = RunSettings(purpose="peer", max_neighbours=20)
    capped, _ = build_instance(cohort.firms, (), (), settings)
    full = dataclasses.replace(capped, max_neighbours=None)
    pk, pf = pair_graph(capped), pair_graph(full)
    for i in range(capped.n_firms):
        nb, aff = pf.of(i), pf.affinity[pf.indptr[i] : pf.indptr[i + 1]]
        kept = set(pk.of(i).tolist())
        if len(nb) > 20:
            cut = np.sort(aff)[::-1][19]
            assert set(nb[aff > cut + 1e-12].tolist()) <= kept
        else:
            assert kept == set(nb.tolist())
        for j in kept:  # symmetric, and every kept pair is a compatible pair
            assert i in set(pk.of(j).tolist()) and j in set(nb.tolist())
    dense = pf.affinity.mean()
    assert pk.affinity.mean() > dense  # the cap keeps better-than-average pairs
