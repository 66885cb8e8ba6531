"""kring's optimisation core: forms groups (kringen) of firms under hard constraints."""
