"""kring service: a thin HTTP, database and job adapter around ``matching`` and ``geodata``."""
