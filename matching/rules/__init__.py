"""The hard rules, one module each; importing this package registers all of them.

Every module in this folder that defines a rule calls
:func:`matching.core.registry.register` at import.  Adding a rule is adding a file here:
the loop below finds it, so no list elsewhere has to name it (see docs/adding-a-rule.md).
The helpers that loop over the rules (:mod:`~matching.rules.unassigned`) come last, so
that what they read at import (the reason codes) sees every rule.
"""

from __future__ import annotations

import importlib
import pkgutil

_LAST = ("unassigned",)

for _module in sorted(pkgutil.iter_modules(__path__), key=lambda m: (m.name in _LAST, m.name)):
    importlib.import_module(f"{__name__}.{_module.name}")
