"""The capped pair graph keeps each firm's best partners by affinity, not the nearest."""

import dataclasses

import numpy as np

from matching.core.objective import pair_graph
from matching.core.primitives import PairSplit, Primitives
from matching.core.problem import AffinityWeights, Instance
from matching.core.registry import Rule, registered
from matching.engines.heuristics.window import make_window
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


class _Zones(Rule):
    """Test rule: a pair split over ``attributes["zone"]``."""

    name = "test_zones"

    def compile(self, instance: Instance) -> Primitives:
        """One split."""
        return Primitives(splits=(PairSplit(self.name, instance.attributes["zone"]),))


def test_top_k_ranks_partners_after_dropping_split_pairs() -> None:
    """An island firm whose best partners are on the mainland still keeps its island mate."""
    # firms 0, 1 on an island (zone 1); 2, 3 on the mainland, each the best match of one
    lats = np.array([53.40, 53.41, 53.30, 53.31])
    lons = np.array([5.70, 5.71, 5.70, 5.71])
    inst = Instance(
        n_firms=4,
        lats=lats,
        lons=lons,
        max_pair_km=50.0,
        max_neighbours=1,
        employees=np.array([10, 100, 10, 100]),
        affinity_weights=AffinityWeights(need=0, size=1, digital=0, partner=0),
        attributes={"zone": np.array([1, 1, 0, 0])},
    )
    with registered(_Zones()):
        graph = pair_graph(inst)
        window = make_window(inst, np.arange(4), np.zeros(4, bool))
    assert graph.of(0).tolist() == [1] and graph.of(1).tolist() == [0]
    assert window.compat[0, 2] == 0 and window.compat[1, 3] == 0 and window.compat[0, 1] == 1
