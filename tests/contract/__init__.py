"""Contract tests: clients generated from openapi/openapi.json against a live server."""
