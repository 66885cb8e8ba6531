"""``kring`` sub-commands for the service: database, administration, serve, demo.

The service modules (SQLAlchemy, the solver, uvicorn) are imported inside the commands, so
``kring --help`` and the other commands do not pay for them.
"""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path

import typer

ROLES = ("viewer", "member", "manager", "admin")


def _upgrade() -> None:
    from app.config import get_settings
    from app.logs import configure_logging
    from app.migrate import upgrade

    configure_logging(get_settings())
    upgrade(get_settings())


def db_upgrade() -> None:
    """Migrate the configured database (KRING_DATABASE_URL) to the newest schema."""
    _upgrade()
    typer.echo("database at the newest revision")


def _role(role: str) -> str:
    if role not in ROLES:
        raise typer.BadParameter(f"must be one of {', '.join(ROLES)}")
    return role


def _holder(holder: str) -> str:
    holder = holder.strip()
    if not holder or len(holder) > 200 or any(ord(c) < 32 or ord(c) == 127 for c in holder):
        raise typer.BadParameter("1-200 characters without control characters")
    return holder


HOLDER_HELP = "Who holds the key: a person or a system (shown with decisions and audit entries)"


def create_org(
    name: str = typer.Argument(..., help="Organisation name (unique whatever its case)"),
    role: str = typer.Option("member", callback=_role, help="Role of its first key"),
    holder: str = typer.Option("operator", callback=_holder, help=HOLDER_HELP),
    platform: bool = typer.Option(
        False,
        "--platform",
        help="The platform operator's organisation: its admins create organisations and "
        "issue keys for any organisation over the API",
    ),
) -> None:
    """Create an organisation and its first API key (the key is the last line of output)."""
    from app.config import get_settings
    from app.db import open_session
    from app.errors import ConflictError
    from app.models import Role
    from app.services.organisations import create_organisation

    settings = get_settings()
    with open_session(settings) as db:
        try:
            issued = create_organisation(
                db, name=name, role=Role(role), settings=settings, holder=holder, platform=platform
            )
        except ConflictError as exc:
            typer.echo(f"error: {exc.detail}", err=True)
            raise typer.Exit(1) from None
    kind = "platform organisation" if platform else "organisation"
    typer.echo(f"{kind} {issued.organisation_id} {name!r}, key role {role}, holder {holder!r}:")
    typer.echo(issued.key)


def create_key(
    organisation: str = typer.Argument(..., help="Organisation name"),
    role: str = typer.Option("member", callback=_role, help="Role of the key"),
    holder: str = typer.Option("operator", callback=_holder, help=HOLDER_HELP),
    label: str = typer.Option("", help="A note on what the key is for"),
    expires_in_days: float | None = typer.Option(
        None, min=0.0, help="The key stops working after this many days (default: never)"
    ),
) -> None:
    """Create another API key for an existing organisation (the key is the last line)."""
    from app.config import get_settings
    from app.db import open_session
    from app.models import Role, utcnow
    from app.services.organisations import create_key as issue
    from app.services.organisations import find_organisation

    settings = get_settings()
    with open_session(settings) as db:
        org = find_organisation(db, organisation)
        if org is None:
            typer.echo(f"error: no organisation named {organisation!r}", err=True)
            raise typer.Exit(1)
        expires = None if expires_in_days is None else utcnow() + timedelta(days=expires_in_days)
        issued = issue(
            db,
            organisation=org,
            role=Role(role),
            settings=settings,
            holder=holder,
            label=label,
            expires_at=expires,
        )
        db.commit()
    until = "" if expires is None else f", expires {expires.isoformat(timespec='seconds')}"
    typer.echo(f"key {issued.key_id} for {organisation!r}, role {role}, holder {holder!r}{until}:")
    typer.echo(issued.key)


def revoke_key(key_id: int = typer.Argument(..., help="Key id (see list-keys)")) -> None:
    """Revoke an API key at once; requests with it answer 401 from now on."""
    from app.config import get_settings
    from app.db import open_session
    from app.errors import NotFoundError
    from app.services.organisations import revoke_key as revoke

    with open_session(get_settings()) as db:
        try:
            row = revoke(db, key_id)
        except NotFoundError as exc:
            typer.echo(f"error: {exc.detail}", err=True)
            raise typer.Exit(1) from None
        typer.echo(f"key {row.id} ({row.prefix}...) revoked at {row.revoked_at}")


def list_keys(organisation: str = typer.Argument(..., help="Organisation name")) -> None:
    """List an organisation's keys: id, prefix, role, holder, label, created, expires, revoked."""
    from app.config import get_settings
    from app.db import open_session
    from app.services.organisations import find_organisation
    from app.services.organisations import list_keys as keys_of

    with open_session(get_settings()) as db:
        org = find_organisation(db, organisation)
        if org is None:
            typer.echo(f"error: no organisation named {organisation!r}", err=True)
            raise typer.Exit(1)
        typer.echo("id\tprefix\trole\tholder\tlabel\tcreated_at\texpires_at\trevoked_at")
        for k in keys_of(db, org):
            cells = (
                k.id,
                k.prefix,
                k.role.value,
                k.holder,
                k.label,
                k.created_at,
                k.expires_at,
                k.revoked_at,
            )
            typer.echo("\t".join("" if c is None else str(c) for c in cells))


def export_org(
    organisation: str = typer.Argument(..., help="Organisation name"),
) -> None:
    """Write an organisation's data as JSON to stdout (firms, pairs, profiles, runs, groups)."""
    from app.config import get_settings
    from app.db import open_session
    from app.services.backup import export_organisation
    from app.services.organisations import find_organisation

    with open_session(get_settings()) as db:
        org = find_organisation(db, organisation)
        if org is None:
            typer.echo(f"error: no organisation named {organisation!r}", err=True)
            raise typer.Exit(1)
        typer.echo(json.dumps(export_organisation(db, org), ensure_ascii=False, indent=1))


def import_org(
    path: str = typer.Argument(..., help="A file written by `kring admin export`"),
    name: str | None = typer.Option(None, "--as", help="Import under another name"),
) -> None:
    """Restore an organisation from an export (all or nothing; the name must be free)."""
    from app.config import get_settings
    from app.db import open_session
    from app.errors import ServiceError
    from app.services.backup import import_organisation

    data = json.loads(Path(path).read_text(encoding="utf-8"))
    with open_session(get_settings()) as db:
        try:
            org = import_organisation(db, data, name=name)
        except ServiceError as exc:
            typer.echo(f"error: {exc.detail}", err=True)
            raise typer.Exit(1) from None
        typer.echo(f"organisation {org.id} {org.name!r} imported (create keys with create-key)")


def _refuse_without_pepper() -> None:
    """Exit 2 with the reason when the server must not start (no KRING_API_KEY_PEPPER)."""
    from app.config import get_settings, pepper_problem

    refused = pepper_problem(get_settings())
    if refused:
        typer.echo(f"error: {refused}", err=True)
        raise typer.Exit(2)


def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on"),
    port: int = typer.Option(8000, help="TCP port"),
    workers: int = typer.Option(
        1,
        min=1,
        max=64,
        help="Web processes (uvicorn workers); 1 for the SQLite demo. With more, the run "
        "executor runs once, in this supervising process, and new runs start at its next "
        "poll (KRING_POLL_INTERVAL_S)",
    ),
) -> None:
    """Start the API server (uvicorn) with the run executor."""
    import uvicorn

    _refuse_without_pepper()
    if workers == 1:
        uvicorn.run(
            "app.main:create_app",
            factory=True,
            host=host,
            port=port,
            log_config=None,
            access_log=False,  # the one access log is kring's (app.logs.AccessLogMiddleware)
        )
        return
    from app.config import get_settings
    from app.jobs import RunExecutor
    from app.logs import configure_logging

    settings = get_settings()
    if settings.executor == "inline":
        raise typer.BadParameter("needs KRING_EXECUTOR other than inline", param_hint="--workers")
    configure_logging(settings)
    executor = RunExecutor(settings)  # the only dispatcher: web processes get none
    executor.start()
    try:
        uvicorn.run(
            "app.main:create_web_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_config=None,
            access_log=False,
        )
    finally:
        executor.stop()


def demo(
    firms: int = typer.Option(1500, help="Size of the generated demo cohort"),
    host: str = typer.Option("127.0.0.1", help="Interface to listen on"),
    port: int = typer.Option(8000, help="TCP port"),
    time_limit_s: float = typer.Option(20.0, help="Time limit of the first run"),
    no_serve: bool = typer.Option(False, "--no-serve", help="Load data, do not serve"),
) -> None:
    """Migrate, create the demo organisation and keys, load a cohort, start a run, serve."""
    from app.config import get_settings
    from app.demo import prepare_demo

    # The demo runs on a machine of your own: the built-in pepper is allowed unless one is set.
    os.environ.setdefault("KRING_DEV_MODE", "true")
    get_settings.cache_clear()
    settings = get_settings()
    _upgrade()
    info = prepare_demo(settings, n_firms=firms, time_limit_s=time_limit_s)
    base = f"http://{host}:{port}"
    typer.echo(
        f"demo organisation {info.organisation!r}: {info.firms} firms, "
        f"{info.competitors} competitor pairs, run {info.run_id} ({info.run_status})"
    )
    typer.echo(f"map:           {base}/map?run={info.run_id}")
    typer.echo(f"API docs:      {base}/docs")
    typer.echo(f"run status:    {base}/api/v1/runs/{info.run_id}")
    typer.echo(f"groups (GeoJSON): {base}/api/v1/runs/{info.run_id}/groups.geojson")
    typer.echo(f"try: curl -H 'X-API-Key: {info.key}' {base}/api/v1/runs/{info.run_id}")
    typer.echo(
        "demo API key (manager): a programme manager's key: accept or reject groups, "
        "edit profiles, read the audit log, and everything the member key does:"
    )
    typer.echo(info.manager_key)
    typer.echo(
        "demo API key (member): import firms and pairs, start and cancel runs, "
        "read groups and the map:"
    )
    typer.echo(info.key)
    if not no_serve:
        serve(host=host, port=port, workers=1)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the main app."""
    db = typer.Typer(no_args_is_help=True, help="Database migrations.")
    db.command("upgrade")(db_upgrade)
    admin = typer.Typer(no_args_is_help=True, help="Organisations and API keys.")
    admin.command("create-org")(create_org)
    admin.command("create-key")(create_key)
    admin.command("revoke-key")(revoke_key)
    admin.command("list-keys")(list_keys)
    admin.command("export")(export_org)
    admin.command("import")(import_org)
    app.add_typer(db, name="db")
    app.add_typer(admin, name="admin")
    app.command("serve")(serve)
    app.command("demo")(demo)
