"""Offline Dutch geography: postcode geocoding, regions, great-circle distances, neighbourhoods."""
