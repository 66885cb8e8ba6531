"""Run endpoints: start, follow, cancel, and read the groups (JSON, GeoJSON, CSV, XLSX)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response, status
from fastapi.responses import JSONResponse

from app.deps import DbDep, ExecutorDep, LangDep, MemberDep, SettingsDep, ViewerDep, get_lang
from app.errors import problem_responses
from app.models import Run, RunStatus
from app.schemas import ApplicationPack, RunCreate, RunGroups, RunList, RunRead
from app.services import exports, rendered, results
from app.services import runs as service
from app.services.spreadsheet import Dialect

PREFIX = "/api/v1"
router = APIRouter(
    prefix="/runs", tags=["runs"], responses=problem_responses(401, 403, 404, 409, 422, 500)
)


def _status(run: Run) -> str:
    """The run's status as people read it: a running run asked to stop is `cancelling`."""
    if run.status == RunStatus.running and run.cancel_requested:
        return "cancelling"
    return run.status.value


def _read(run: Run, positions: dict[int, int] | None = None) -> RunRead:
    return RunRead(
        id=run.id,
        purpose=run.purpose,
        status=_status(run),
        progress=run.progress,
        phase=(run.progress_phase or "loading") if run.status == RunStatus.running else None,
        placed=run.progress_placed,
        placed_bound=run.progress_placed_bound,
        mean_affinity=run.progress_mean_affinity,
        profile_id=run.profile_id,
        profile_version=run.profile_version,
        mode=run.mode,
        keep_accepted_from=run.keep_accepted_from,
        params=run.params,
        filters=run.filters,
        stats=run.stats,
        error=run.error,
        created_at=run.created_at,
        started_at=run.started_at,
        finished_at=run.finished_at,
        queue_position=(positions or {}).get(run.id),
        attempts=run.attempts or 0,
    )


@router.post(
    "", operation_id="runs-create", status_code=status.HTTP_202_ACCEPTED, response_model=RunRead
)
def create_run(
    body: RunCreate,
    caller: MemberDep,
    db: DbDep,
    settings: SettingsDep,
    executor: ExecutorDep,
    response: Response,
) -> RunRead:
    """Queue a matching run; follow it at the `Location` URL."""
    run = service.create_run(db=db, caller=caller, body=body, settings=settings)
    db.refresh(run)
    # queued: a background executor may claim it at once
    accepted = _read(run, service.queue_positions(db=db))
    executor.submit(run.id)
    response.headers["Location"] = f"{PREFIX}/runs/{run.id}"
    if settings.executor == "inline":  # solved inside submit: answer with the outcome
        db.refresh(run)
        return _read(run)
    return accepted


@router.get("", operation_id="runs-list", response_model=RunList)
def list_runs(
    caller: ViewerDep,
    db: DbDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> RunList:
    """Your runs, newest first."""
    runs, total = service.list_runs(db=db, limit=limit, offset=offset)
    positions = service.queue_positions(db=db) if any(r.status == "queued" for r in runs) else {}
    items = [_read(r, positions) for r in runs]
    return RunList(items=items, total=total, limit=limit, offset=offset)


@router.get("/{run_id}", operation_id="runs-get", response_model=RunRead)
def get_run(run_id: int, caller: ViewerDep, db: DbDep) -> RunRead:
    """A run's status, progress (share of the budget, phase, firms placed, their bound, mean
    affinity), queue position and statistics."""
    run = service.get_run(db=db, run_id=run_id)
    return _read(run, service.queue_positions(db=db) if run.status == "queued" else None)


@router.post(
    "/{run_id}/cancel",
    operation_id="runs-cancel",
    response_model=RunRead,
    responses={
        202: {"model": RunRead, "description": "A running run was asked to stop: `cancelling`"}
    },
)
def cancel_run(run_id: int, caller: MemberDep, db: DbDep, response: Response) -> RunRead:
    """Cancel a queued run at once (200, `cancelled`), or ask a running one to stop (202,
    `cancelling`; it ends `cancelled` when the search next checks, about once a second)."""
    read = _read(service.cancel_run(db=db, run_id=run_id, caller=caller))
    if read.status == "cancelling":
        response.status_code = status.HTTP_202_ACCEPTED
    return read


DialectQuery = Annotated[
    Dialect,
    Query(
        description="`rfc4180` (default: `,`, no BOM) or `excel-nl` (`;`, UTF-8 BOM, every "
        "text field quoted, decimal commas: opens in Dutch Excel)"
    ),
]
GroupNumber = Annotated[int, Path(description="The group's number in its run (as shown)")]

NOT_MODIFIED = {304: {"description": "Not modified: `If-None-Match` matches the `ETag`"}}


@router.get(
    "/{run_id}/groups", operation_id="runs-groups", response_model=RunGroups, responses=NOT_MODIFIED
)
def get_groups(run_id: int, caller: ViewerDep, db: DbDep, request: Request) -> Response:
    """The run's groups with explanations, the unassigned firms with reasons, and stats."""
    body = rendered.groups_json(db=db, run_id=run_id, lang=get_lang(request))
    return rendered.respond(rendered=body, headers=request.headers, media_type="application/json")


@router.get(
    "/{run_id}/groups.geojson",
    operation_id="runs-groups-geojson",
    response_class=JSONResponse,
    responses={
        200: {"content": {"application/geo+json": {}}, "description": "RFC 7946"},
        **NOT_MODIFIED,
    },
)
def get_geojson(
    run_id: int,
    caller: ViewerDep,
    db: DbDep,
    request: Request,
    unassigned: Annotated[
        bool, Query(description="Also a Point per unassigned firm (group_number null, reason)")
    ] = False,
) -> Response:
    """The groups as RFC 7946 GeoJSON: a Polygon hull per group, a Point per firm."""
    body = rendered.groups_geojson(
        db=db, run_id=run_id, unassigned=unassigned, lang=get_lang(request)
    )
    return rendered.respond(
        rendered=body, headers=request.headers, media_type="application/geo+json"
    )


@router.get(
    "/{run_id}/groups.csv",
    operation_id="runs-groups-csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "One line per member"}},
)
def get_csv(
    run_id: int, caller: ViewerDep, db: DbDep, lang: LangDep, dialect: DialectQuery = "rfc4180"
) -> Response:
    """The groups as CSV, one line per member (header in the request's language)."""
    headers = {"Content-Disposition": f'attachment; filename="run-{run_id}-groups.csv"'}
    body = results.run_csv(db=db, run_id=run_id, lang=lang, dialect=dialect)
    return Response(body, media_type="text/csv; charset=utf-8", headers=headers)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get(
    "/{run_id}/groups.xlsx",
    operation_id="runs-groups-xlsx",
    response_class=Response,
    responses={200: {"content": {XLSX: {}}, "description": "Overview sheet + one per group"}},
)
def get_xlsx(run_id: int, caller: ViewerDep, db: DbDep, lang: LangDep) -> Response:
    """The groups as an Excel workbook: overview, a sheet per group, unassigned, settings."""
    headers = {"Content-Disposition": f'attachment; filename="run-{run_id}-groups.xlsx"'}
    return Response(
        exports.groups_xlsx(db=db, run_id=run_id, lang=lang), media_type=XLSX, headers=headers
    )


@router.get(
    "/{run_id}/groups/{group_number}/application",
    operation_id="runs-group-application",
    response_model=ApplicationPack,
)
def get_application(
    run_id: int, group_number: GroupNumber, caller: ViewerDep, db: DbDep, lang: LangDep
) -> dict[str, Any]:
    """The joint-application pack: scheme, lead applicant, members with eligibility checks."""
    return exports.application_pack(db=db, run_id=run_id, number=group_number, lang=lang)


@router.get(
    "/{run_id}/groups/{group_number}/application.csv",
    operation_id="runs-group-application-csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "One line per member"}},
)
def get_application_csv(
    run_id: int,
    group_number: GroupNumber,
    caller: ViewerDep,
    db: DbDep,
    lang: LangDep,
    dialect: DialectQuery = "rfc4180",
) -> Response:
    """The joint-application pack as CSV, one line per member."""
    pack = exports.application_pack(db=db, run_id=run_id, number=group_number, lang=lang)
    name = f"run-{run_id}-group-{group_number}-application.csv"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    body = exports.application_csv(pack=pack, lang=lang, dialect=dialect)
    return Response(body, media_type="text/csv; charset=utf-8", headers=headers)
