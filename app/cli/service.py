"""``kring`` sub-commands for the service: database, administration, serve, demo.

The service modules (SQLAlchemy, the solver, uvicorn) are imported inside the commands, so
``kring --help`` and the other commands do not pay for them.
"""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer

from texts import LANGS, t

ROLES = ("viewer", "member", "manager", "admin")


def _lang(lang: str) -> str:
    if lang not in LANGS:
        raise typer.BadParameter("nl | en")
    return lang


Lang = Annotated[
    str, typer.Option("--lang", callback=_lang, help="Language of the messages: nl or en.")
]


def _fail(message: str, lang: str, code: int = 1) -> typer.Exit:
    """Print ``fout: ...`` / ``error: ...`` on stderr; the exit to raise."""
    typer.echo(t("cli.error", lang, message=message), err=True)
    return typer.Exit(code)


def _said(exc: Exception, lang: str) -> str:
    """A service error's detail in ``lang`` (as the HTTP API would say it)."""
    from app.errors import NotFoundError
    from app.i18n import not_found_detail, service_detail

    if isinstance(exc, NotFoundError) and "resource" in exc.members:
        return not_found_detail(exc.members["resource"], exc.key, lang)
    return service_detail(exc, lang)


def _upgrade() -> None:
    from app.config import get_settings
    from app.logs import configure_logging
    from app.migrate import upgrade

    configure_logging(get_settings())
    upgrade(get_settings())


def db_upgrade(lang: Lang = "nl") -> None:
    """Migrate the configured database (KRING_DATABASE_URL) to the newest schema."""
    _upgrade()
    typer.echo(t("cli.db_upgraded", lang))


def _role(role: str) -> str:
    if role not in ROLES:
        raise typer.BadParameter(" | ".join(ROLES))
    return role


def _holder(holder: str) -> str:
    holder = holder.strip()
    if not holder or len(holder) > 200 or any(ord(c) < 32 or ord(c) == 127 for c in holder):
        raise typer.BadParameter("1-200")
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
    lang: Lang = "nl",
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
                db=db,
                name=name,
                role=Role(role),
                settings=settings,
                holder=holder,
                platform=platform,
            )
        except ConflictError as exc:
            raise _fail(_said(exc, lang), lang) from None
    key = "cli.platform_org_created" if platform else "cli.org_created"
    typer.echo(t(key, lang, id=issued.organisation_id, name=repr(name), role=role,
                 holder=repr(holder)))  # fmt: skip
    typer.echo(issued.key)


def create_key(
    organisation: str = typer.Argument(..., help="Organisation name"),
    role: str = typer.Option("member", callback=_role, help="Role of the key"),
    holder: str = typer.Option("operator", callback=_holder, help=HOLDER_HELP),
    label: str = typer.Option("", help="A note on what the key is for"),
    expires_in_days: float | None = typer.Option(
        None, min=0.0, help="The key stops working after this many days (default: never)"
    ),
    lang: Lang = "nl",
) -> None:
    """Create another API key for an existing organisation (the key is the last line)."""
    from app.config import get_settings
    from app.db import open_session
    from app.models import Role, utcnow
    from app.services.organisations import create_key as issue
    from app.services.organisations import find_organisation

    settings = get_settings()
    with open_session(settings) as db:
        org = find_organisation(db=db, name=organisation)
        if org is None:
            raise _fail(t("cli.no_organisation", lang, name=repr(organisation)), lang)
        expires = None if expires_in_days is None else utcnow() + timedelta(days=expires_in_days)
        issued = issue(
            db=db,
            organisation=org,
            role=Role(role),
            settings=settings,
            holder=holder,
            label=label,
            expires_at=expires,
        )
        db.commit()
    until = "-" if expires is None else expires.isoformat(timespec="seconds")
    typer.echo(t("cli.key_created", lang, id=issued.key_id, name=repr(organisation), role=role,
                 holder=repr(holder), until=until))  # fmt: skip
    typer.echo(issued.key)


def revoke_key(
    key_id: int = typer.Argument(..., help="Key id (see list-keys)"), lang: Lang = "nl"
) -> None:
    """Revoke an API key at once; requests with it answer 401 from now on."""
    from app.config import get_settings
    from app.db import open_session
    from app.errors import NotFoundError
    from app.services.organisations import revoke_key as revoke

    with open_session(get_settings()) as db:
        try:
            row = revoke(db=db, key_id=key_id)
        except NotFoundError as exc:
            raise _fail(_said(exc, lang), lang) from None
        typer.echo(t("cli.key_revoked", lang, id=row.id, prefix=row.prefix, at=row.revoked_at))


def list_keys(
    organisation: str = typer.Argument(..., help="Organisation name"), lang: Lang = "nl"
) -> None:
    """List an organisation's keys: id, prefix, role, holder, label, created, expires, revoked."""
    from app.config import get_settings
    from app.db import open_session
    from app.services.organisations import find_organisation
    from app.services.organisations import list_keys as keys_of

    with open_session(get_settings()) as db:
        org = find_organisation(db=db, name=organisation)
        if org is None:
            raise _fail(t("cli.no_organisation", lang, name=repr(organisation)), lang)
        typer.echo("id\tprefix\trole\tholder\tlabel\tcreated_at\texpires_at\trevoked_at")
        for k in keys_of(db=db, organisation=org):
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
    lang: Lang = "nl",
) -> None:
    """Write an organisation's data as JSON to stdout (firms, pairs, profiles, runs, groups)."""
    from app.config import get_settings
    from app.db import open_session
    from app.services.backup import export_organisation
    from app.services.organisations import find_organisation

    with open_session(get_settings()) as db:
        org = find_organisation(db=db, name=organisation)
        if org is None:
            raise _fail(t("cli.no_organisation", lang, name=repr(organisation)), lang)
        typer.echo(
            json.dumps(export_organisation(db=db, organisation=org), ensure_ascii=False, indent=1)
        )


def import_org(
    path: str = typer.Argument(..., help="A file written by `kring admin export`"),
    name: str | None = typer.Option(None, "--as", help="Import under another name"),
    lang: Lang = "nl",
) -> None:
    """Restore an organisation from an export (all or nothing; the name must be free)."""
    from app.config import get_settings
    from app.db import open_session
    from app.errors import ServiceError
    from app.services.backup import import_organisation

    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise _fail(t("cli.cannot_read", lang, path=path, error=exc), lang) from None
    with open_session(get_settings()) as db:
        try:
            org = import_organisation(db=db, data=data, name=name)
        except ServiceError as exc:
            raise _fail(_said(exc, lang), lang) from None
        typer.echo(t("cli.org_imported", lang, id=org.id, name=repr(org.name)))


def _refuse_without_pepper(lang: str = "nl") -> None:
    """Exit 2 with the reason when the server must not start (no KRING_API_KEY_PEPPER)."""
    from app.config import get_settings, pepper_problem

    if pepper_problem(get_settings()):
        raise _fail(t("cli.pepper_missing", lang), lang, 2)


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
    lang: Lang = "nl",
) -> None:
    """Start the API server (uvicorn) with the run executor."""
    import uvicorn

    _refuse_without_pepper(lang)
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
    lang: Lang = "nl",
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
    status = t(f"map.run_status.{info.run_status}", lang)
    typer.echo(t("cli.demo.loaded", lang, name=repr(info.organisation), firms=info.firms,
                 pairs=info.competitors, run=info.run_id, status=status))  # fmt: skip
    for key, url in (("map", f"/map?run={info.run_id}"), ("docs", "/docs"),
                     ("run", f"/api/v1/runs/{info.run_id}"),
                     ("geojson", f"/api/v1/runs/{info.run_id}/groups.geojson")):  # fmt: skip
        typer.echo(f"{t(f'cli.demo.{key}', lang) + ':':<18}{base}{url}")
    curl = f"curl -H 'X-API-Key: {info.key}' {base}/api/v1/runs/{info.run_id}"
    typer.echo(t("cli.demo.try", lang, command=curl))
    typer.echo(t("cli.demo.manager_key", lang))
    typer.echo(info.manager_key)
    typer.echo(t("cli.demo.member_key", lang))
    typer.echo(info.key)
    if not no_serve:
        serve(host=host, port=port, workers=1, lang=lang)


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
