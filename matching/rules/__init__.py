"""The hard rules, one module each; importing this package registers all of them.

Every module in this folder that defines a rule calls
:func:`matching.core.registry.register` at import.  Adding a rule is adding a file here:
the loop below finds it, so no list elsewhere has to name it (see docs/adding-a-rule.md).
"""

from __future__ import annotations

import importlib
import pkgutil

for _module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    importlib.import_module(f"{__name__}.{_module.name}")
