"""A clustering: disjoint groups of firm indices, the rest unassigned."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Solution:
    """Groups of firms (by dense index) and, when themes are required, each group's theme.

    A ``Solution`` is plain data and checks nothing beyond its shape: duplicates, sizes and
    every other rule are the verifier's job (:func:`matching.core.verify`).

    Parameters
    ----------
    n_firms
        Number of firms of the instance the solution belongs to.
    groups
        One tuple of firm indices per group, each sorted; groups sorted by first member.
    themes
        One need index (or ``None``) per group; all ``None`` when themes are not required.
    """

    n_firms: int
    groups: tuple[tuple[int, ...], ...]
    themes: tuple[int | None, ...] = field(default=())

    def __post_init__(self) -> None:
        if not self.themes:
            object.__setattr__(self, "themes", (None,) * len(self.groups))
        if len(self.themes) != len(self.groups):
            raise ValueError("themes must have one entry per group")

    @classmethod
    def from_groups(
        cls,
        n_firms: int,
        groups: list[list[int]] | tuple[tuple[int, ...], ...],
        themes: list[int | None] | None = None,
    ) -> Solution:
        """Build a solution in canonical order (members sorted, groups by first member).

        Parameters
        ----------
        n_firms
            Number of firms of the instance.
        groups
            Firm indices per group; empty groups are dropped.
        themes
            Optional theme per group (same order as ``groups``).

        Returns
        -------
        Solution
            The canonical solution.
        """
        th = list(themes) if themes is not None else [None] * len(groups)
        pairs = sorted(
            ((tuple(sorted(int(i) for i in g)), t) for g, t in zip(groups, th, strict=True) if g),
            key=lambda p: p[0],
        )
        return cls(n_firms, tuple(p[0] for p in pairs), tuple(p[1] for p in pairs))

    @property
    def placed(self) -> int:
        """Number of group memberships (equals the number of placed firms when valid)."""
        return sum(len(g) for g in self.groups)

    @property
    def unassigned(self) -> tuple[int, ...]:
        """Firms in no group, ascending."""
        seen = {i for g in self.groups for i in g}
        return tuple(i for i in range(self.n_firms) if i not in seen)

    def group_of(self) -> dict[int, int]:
        """Map each placed firm to the index of its (first) group."""
        out: dict[int, int] = {}
        for k, g in enumerate(self.groups):
            for i in g:
                out.setdefault(i, k)
        return out
