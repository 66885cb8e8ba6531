"""Firm registry endpoints."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Query, Response, UploadFile, status

from app.deps import DbDep, LangDep, MemberDep, SettingsDep
from app.errors import problem_responses
from app.i18n import ignored_notice
from app.schemas import (
    FirmCreate,
    FirmImportResult,
    FirmList,
    FirmRead,
    FirmUpdate,
    FirmWriteResult,
    ReadAsRead,
)
from app.services import firms as service
from app.services import imports

router = APIRouter(
    prefix="/firms", tags=["firms"], responses=problem_responses(401, 403, 404, 413, 422, 500)
)
Limit = Annotated[int, Query(ge=1, le=1000, description="Page size")]
Offset = Annotated[int, Query(ge=0, description="Rows to skip")]


@router.post("", operation_id="firms-upsert", response_model=FirmWriteResult)
def upsert_firms(
    body: list[FirmCreate], caller: MemberDep, db: DbDep, settings: SettingsDep
) -> FirmWriteResult:
    """Create or update firms by external_id; any invalid record rejects the whole list."""
    records = [f.model_dump() for f in body]
    created, updated, ids = imports.upsert_firms(
        db=db, caller=caller, records=records, settings=settings
    )
    return FirmWriteResult(created=created, updated=updated, external_ids=ids)


@router.post("/import", operation_id="firms-import", response_model=FirmImportResult)
def import_firms(
    file: Annotated[
        UploadFile,
        File(description="CSV (`,` or `;`, UTF-8 or cp1252) or .xlsx; see the template"),
    ],
    caller: MemberDep,
    db: DbDep,
    settings: SettingsDep,
    lang: LangDep,
    sheet: Annotated[str | None, Query(description="xlsx: sheet to read (default: first)")] = None,
) -> FirmImportResult:
    """Import a CSV or xlsx file of firms; any bad row rejects the file, every one is listed."""
    data, name = file.file.read(), file.filename or "upload.csv"
    created, updated, ids, read_as, ignored = imports.import_firms_file(
        db=db, caller=caller, data=data, filename=name, settings=settings, sheet=sheet, lang=lang
    )
    how = ReadAsRead.model_validate(read_as)
    notice = ignored_notice(ignored, lang)
    return FirmImportResult(created=created, updated=updated, external_ids=ids, read_as=how,
                            ignored_columns=ignored, notice=notice)  # fmt: skip


@router.get("", operation_id="firms-list", response_model=FirmList)
def list_firms(
    caller: MemberDep,
    db: DbDep,
    limit: Limit = 100,
    offset: Offset = 0,
    province: str | None = None,
    gemeente: Annotated[str | None, Query(description="CBS code or name")] = None,
    need: Annotated[str | None, Query(description="A need code")] = None,
    sbi: Annotated[str | None, Query(description="SBI code prefix")] = None,
    q: Annotated[str | None, Query(description="Text in name or external_id")] = None,
) -> FirmList:
    """List your firms, filtered and paginated."""
    filters = {"province": province, "gemeente": gemeente, "need": need, "sbi": sbi, "q": q}
    rows, total = service.list_firms(db=db, filters=filters, limit=limit, offset=offset)
    items = [FirmRead.model_validate(r) for r in rows]
    return FirmList(items=items, total=total, limit=limit, offset=offset)


@router.get("/{external_id:path}", operation_id="firms-get", response_model=FirmRead)
def get_firm(external_id: str, caller: MemberDep, db: DbDep) -> FirmRead:
    """One firm."""
    return FirmRead.model_validate(service.get_firm(db=db, external_id=external_id))


@router.patch("/{external_id:path}", operation_id="firms-update", response_model=FirmRead)
def patch_firm(external_id: str, body: FirmUpdate, caller: MemberDep, db: DbDep) -> FirmRead:
    """Change some fields of one firm (re-validated and re-geocoded)."""
    changes = body.model_dump(exclude_unset=True)
    return FirmRead.model_validate(
        service.update_firm(db=db, external_id=external_id, changes=changes)
    )


@router.delete(
    "/{external_id:path}", operation_id="firms-erase", status_code=status.HTTP_204_NO_CONTENT
)
def delete_firm(external_id: str, caller: MemberDep, db: DbDep) -> Response:
    """Erase a firm and its links (GDPR); past runs show it as an erased member."""
    service.erase_firm(db=db, external_id=external_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
