"""``python -m bench``: the benchmark commands (``kring bench ...`` forwards here)."""

from bench.cli import main

main()
