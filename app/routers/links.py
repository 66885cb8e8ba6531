"""Competitor and partner pairs: one router factory for both."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from app.config import Settings
from app.deps import DbDep, MemberDep, SettingsDep
from app.errors import problem_responses
from app.models import CompetitorLink, PartnerLink
from app.routers.uploads import Body, csv_or_json_body, json_or_csv, receive_body
from app.schemas import LinkCreate, LinkList, LinkRead, LinkWriteResult
from app.services import links as service
from app.services.links import LinkModel
from app.services.organisations import Caller


def links_router(path: str, model: LinkModel, what: str) -> APIRouter:
    """Return the POST/GET/DELETE routes for one kind of pair at ``/{path}``."""
    router = APIRouter(
        prefix=f"/{path}", tags=[path], responses=problem_responses(401, 403, 404, 413, 422, 500)
    )

    @router.post(
        "",
        operation_id=f"{path}-add",
        response_model=LinkWriteResult,
        openapi_extra=csv_or_json_body(LinkCreate),
        summary=f"Add {what} pairs",
    )
    async def add(
        request: Request, caller: MemberDep, db: DbDep, settings: SettingsDep
    ) -> LinkWriteResult:
        """Add pairs as JSON `[{"sme_a", "sme_b"}]` or a CSV upload (field `file`)."""
        body = await receive_body(request)
        return await run_in_threadpool(store, body, caller, db, settings)

    def store(body: Body, caller: Caller, db: Session, settings: Settings) -> LinkWriteResult:
        records, text, filename = json_or_csv(body, LinkCreate)
        if records is not None:
            created, existing = service.add_links_json(
                db=db, caller=caller, model=model, pairs=records, settings=settings
            )
        else:
            assert text is not None
            created, existing = service.add_links_csv(
                db=db, caller=caller, model=model, text=text, filename=filename, settings=settings
            )
        return LinkWriteResult(created=created, existing=existing)

    @router.get(
        "", operation_id=f"{path}-list", response_model=LinkList, summary=f"List {what} pairs"
    )
    def list_(
        caller: MemberDep,
        db: DbDep,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> LinkList:
        """List your pairs by external id."""
        rows, total = service.list_links(db=db, model=model, limit=limit, offset=offset)
        items = [LinkRead(sme_a=a, sme_b=b, source=str(s), created_at=t) for a, b, s, t in rows]
        return LinkList(items=items, total=total, limit=limit, offset=offset)

    @router.delete(
        "",
        operation_id=f"{path}-remove",
        status_code=status.HTTP_204_NO_CONTENT,
        summary=f"Remove a {what} pair",
    )
    def remove(sme_a: str, sme_b: str, caller: MemberDep, db: DbDep) -> Response:
        """Remove one pair (either order)."""
        service.remove_link(db=db, model=model, sme_a=sme_a, sme_b=sme_b)
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    return router


competitors = links_router("competitors", CompetitorLink, "competitor")
partners = links_router("partners", PartnerLink, "partner")
