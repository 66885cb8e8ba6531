"""``kring geo``: postcode lookups and distances (``kring bench geo`` lives in bench/geo.py).

Heavy imports happen inside the commands, so ``kring --help`` stays fast.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

BAD_INPUT = 2


def _location_block(location: Any) -> str:
    precision = "PC4 centroid" if location.precision == "pc4" else "given coordinates"
    return "\n".join(
        [
            f"{location.postcode}  {location.place}",
            f"  gemeente      {location.gemeente_name} ({location.gemeente_code})",
            f"  province      {location.province} ({location.province_code})",
            f"  region        {location.labour_market_region}"
            f" ({location.labour_market_region_code})",
            f"  coordinates   {location.lat:.5f}, {location.lon:.5f}  ({precision})",
        ]
    )


def geo(
    postcodes: Annotated[
        list[str], typer.Argument(help="PC4 or PC6 postcodes, e.g. 9711 or '9711 AB'.")
    ],
    distance: Annotated[
        bool, typer.Option("--distance", help="Print the distance between exactly two postcodes.")
    ] = False,
) -> None:
    """Look up Dutch postcodes: place, gemeente, province, labour-market region, coordinates."""
    from geodata.errors import GeodataError
    from geodata.geocode import geocode

    if distance and len(postcodes) != 2:
        typer.echo("error: --distance needs exactly two postcodes", err=True)
        raise typer.Exit(BAD_INPUT)
    locations = []
    for postcode in postcodes:
        try:
            locations.append(geocode(postcode))
        except GeodataError as error:
            typer.echo(f"error: {error}", err=True)
    if distance and len(locations) == 2:
        _print_distance(*locations)
    elif not distance:
        typer.echo("\n\n".join(_location_block(location) for location in locations))
    if len(locations) != len(postcodes):
        raise typer.Exit(BAD_INPUT)


def _print_distance(a: Any, b: Any) -> None:
    from geodata.distance import geodesic_km, haversine_km

    exact = geodesic_km(a.lat, a.lon, b.lat, b.lon)
    sphere = float(haversine_km(a.lat, a.lon, b.lat, b.lon))
    typer.echo(f"{a.postcode} ({a.place}) - {b.postcode} ({b.place}), between PC4 centroids")
    typer.echo(f"  geodesic   {exact:8.3f} km   (WGS84 ellipsoid, what the 50 km rule uses)")
    typer.echo(f"  haversine  {sphere:8.3f} km   (sphere R = 6371.0088 km)")


def register(app: typer.Typer) -> None:
    """Add ``kring geo`` to the main app."""
    app.command("geo")(geo)
