"""Generic read handlers: every list and get-by-id operation is one of these over a view."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web
from multidict import MultiMapping

from pracsuite_async.simulator._data import Record
from pracsuite_async.simulator._disagree import reorder, shaper
from pracsuite_async.simulator._http import bad_params, dumps, json_text, not_found
from pracsuite_async.simulator._query import page_params, parse_filters, parse_sort, render_page, sort_ids
from pracsuite_async.simulator._state import SimState, state
from pracsuite_async.simulator._store import IDS, Scope, Table
from pracsuite_async.simulator._validate import path_int
from pracsuite_async.simulator._views import GetView, LinkFn, ListView

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def page_links(request: web.Request, page: int, size: int, total: int) -> dict[str, str]:
    """``self`` plus ``previous``/``next`` only where such a page exists (omitted at the ends)."""
    url = request.url
    links = {"self": str(url)}
    if page > 1:
        links["previous"] = str(url.update_query(page=page - 1))
    if page * size < total:
        links["next"] = str(url.update_query(page=page + 1))
    return links


def _members(st: SimState, table: Table) -> Callable[[int], str]:
    """``table.members``, rewritten the way the config's record options ask (see ``_disagree``)."""
    config = st.config
    shape = shaper(
        app_time_z=config.app_time_z, omit_optional=config.omit_optional, unknown_fields=config.unknown_fields
    )
    if shape is None:
        return table.members
    return lambda rid: shape(rid, table.members(rid))


def render_list(
    request: web.Request,
    st: SimState,
    table: Table,
    ids: list[int],
    *,
    list_key: str,
    links: LinkFn | None,
) -> web.Response:
    """Serialise one page of ``ids`` (only that page) in the list envelope."""
    page, size = page_params(request.query)
    total = len(ids)
    # ignore_page: every page answers with the first one, as a server without paging would.
    start = 0 if st.config.ignore_page else (page - 1) * size
    rows, members = table.rows, _members(st, table)
    chunk = enumerate(ids[start : start + size], start + 1)
    if links is None:
        items = [f'{{"row_num":{n},"total_rows":{total},{members(rid)}' for n, rid in chunk]
    else:
        bound = links(st.base(request))
        items = [
            f'{{"row_num":{n},"total_rows":{total},"links":{bound(rid, rows[rid])},{members(rid)}'
            for n, rid in chunk
        ]
    return json_text(render_page(list_key, items, total, page_links(request, page, size, total)))


def render_one(
    request: web.Request,
    st: SimState,
    table: Table,
    rid: int,
    links: LinkFn | None,
    *,
    detail: bool = False,
    status: int = 200,
) -> web.Response:
    """One record (with ``links`` first, as in the docs' examples)."""
    rec = table.rows[rid]
    if detail:
        members = dumps({k: v for k, v in rec.items() if k[0] != "_"} | rec.get("_detail", {}))[1:]
    else:
        members = _members(st, table)(rid)
    if links is None:
        return json_text("{" + members, status)
    return json_text('{"links":' + links(st.base(request))(rid, rec) + "," + members, status)


def resolve_scope(st: SimState, view: ListView, match_info: MultiMapping[str] | dict[str, str]) -> Scope:
    """The view's static scope plus one entry per parent path parameter (404 for a missing parent)."""
    scope = list(view.scope)
    for parent in view.parents:
        pid = path_int(match_info, parent.param)
        rec: Record | None = st.store.table(parent.table).rows.get(pid)
        if rec is None or (parent.kind is not None and rec.get("_kind") != parent.kind):
            raise not_found(parent.label, pid)
        if parent.owner is not None:
            param, field = parent.owner
            if rec.get(field) != path_int(match_info, param):
                raise not_found(parent.label, pid)
        if parent.child_field is not None:
            scope.append((parent.child_field, pid))
        if parent.ids_field is not None:
            scope.append((IDS, tuple(rec.get(parent.ids_field) or ())))
    return tuple(scope)


def list_handler(view: ListView) -> Handler:
    """A handler for one list operation."""
    sortable, sort_keys = view.sortable(), view.sort_keys()

    async def handle(request: web.Request) -> web.StreamResponse:
        st = state(request)
        query = request.query
        page_params(query)
        scope = resolve_scope(st, view, request.match_info)
        if view.op == "listCancelledAppointments":
            scope += _deletions_scope(query)
        filters = parse_filters(query, view.filters)
        config = st.config
        json_only = config.sort_wire == "json"
        sort = () if config.ignore_sort else parse_sort(query, sortable, sort_keys, json_only=json_only)
        table = st.store.table(view.table)
        if config.order == "id":
            ids = st.store.query(view.op, table, scope, filters, sort)
        else:
            # The default order differs; a requested sort is stable, so ties keep it too.
            ids = reorder(st.store.query(view.op, table, scope, filters, ()), config.order, config.seed)
            if sort:
                ids = sort_ids(list(ids), table.rows, sort)
        return render_list(request, st, table, ids, list_key=view.list_key, links=view.links)

    return handle


def _deletions_scope(query: MultiMapping[str]) -> Scope:
    # include_deletions=true also returns removals not recorded as cancellations.
    raw = query.get("include_deletions", "false").lower()
    if raw not in ("true", "false", "1", "0"):
        msg = "include_deletions must be true or false"
        raise bad_params(msg)
    return () if raw in ("true", "1") else (("cancellation", True),)


def get_handler(view: GetView) -> Handler:
    """A handler for one get-by-id operation."""

    async def handle(request: web.Request) -> web.StreamResponse:
        st = state(request)
        rid = path_int(request.match_info, view.param)
        table = st.store.table(view.table)
        rec = table.rows.get(rid)
        if rec is None or (view.kind is not None and rec.get("_kind") != view.kind):
            raise not_found(view.label, rid)
        if view.owner is not None:
            param, field = view.owner
            if rec.get(field) != path_int(request.match_info, param):
                raise not_found(view.label, rid)
        return render_one(request, st, table, rid, view.links, detail=view.detail)

    return handle
