"""``/cases/{id}/timeline``: every ledger entry of the case, newest first, 200 a page (``docs/console.md``).

Each row: the entry's index (linking to its inclusion proof at ``/ledger/entries/{index}/proof``), type,
actor, time and a summary of its data in the words of the bundle report's timeline, so the console and
the exported report say the same thing. "Older entries" continues below the last index shown, so each
page is one indexed query however long the case's history is.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response
from fastapi.responses import HTMLResponse
from sqlmodel import Session

from api.console.case_header import CaseHeader, case_header
from api.console.page import PageDep
from vault.bundle.report_timeline import summary
from vault.cases.progress import TimelineEvent, timeline_page

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 200
MAX_INDEX = 2**63 - 1


@router.api_route("/cases/{case_id}/timeline", methods=["GET", "HEAD"], response_class=HTMLResponse)
def timeline(case_id: str, page: PageDep, before: Annotated[int | None, Query(ge=0, le=MAX_INDEX)] = None) -> Response:
    def read(session: Session) -> tuple[CaseHeader, list[TimelineEvent]]:
        header = case_header(session, page.principal, case_id)
        org = page.principal.organization_id
        return header, timeline_page(session, org, case_id, before=before, limit=PAGE_SIZE + 1)

    header, events = page.services.read(read)
    shown = events[:PAGE_SIZE]
    rows = [
        {
            "index": e.index,
            "type": e.type,
            "actor": e.actor,
            "time": datetime.fromisoformat(e.time),
            "summary": summary({"type": e.type, "data": e.data}) or "",
        }
        for e in shown
    ]
    older = shown[-1].index if len(events) > PAGE_SIZE else None
    return page.render("case_timeline", case=header, tab="timeline", rows=rows, older=older, first=before is None)
