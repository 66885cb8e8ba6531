"""Offline Dutch geography: postcode geocoding, regions, great-circle distances, neighbourhoods.

Public API (import from the submodules):

* :mod:`geodata.postcodes` — ``normalise_postcode``, ``PostcodeRecord``, ``PostcodeIndex``,
  ``load_postcode_index``
* :mod:`geodata.geocode` — ``Location``, ``geocode``, ``locate``
* :mod:`geodata.distance` — ``haversine_km``, ``geodesic_km``, ``distance_matrix_m``
* :mod:`geodata.neighbours` — ``Neighbourhoods``, ``build_neighbourhoods``
* :mod:`geodata.shapes` — ``diameter_km``, ``centroid``, ``hull_geojson``
* :mod:`geodata.boundaries` — ``boundaries_geojson``, ``province_names``, ``normalise_province``
* :mod:`geodata.errors` — ``GeodataError`` and its subclasses
"""
