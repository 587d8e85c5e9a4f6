"""Patient attachment files: presigned upload, redirect download, presigned URL, and the storage routes.

The simulator plays S3 too: the upload request returns a presigned POST whose
``url`` is the simulator's ``/_upload/`` route; a multipart POST there with every
field unchanged plus ``file`` (last, <= 100 MB) creates the attachment at once.
Downloads redirect to ``/_download/{id}?expires=..&signature=..``. The storage
routes, like S3, take no API keys and are not rate limited.
"""

from __future__ import annotations

import base64
import mimetypes
import uuid
from datetime import UTC, datetime

from aiohttp import BodyPartReader, web

from pracsuite_async.simulator._data import Record, fmt_timestamp
from pracsuite_async.simulator._http import json_value
from pracsuite_async.simulator._state import SimState, state
from pracsuite_async.simulator._validate import Checker, find, must, path_int, read_body

MAX_UPLOAD_BYTES = 100 * 1024 * 1024
URL_LIFETIME = 900
UPLOAD_PATH = "/_upload/"
DOWNLOAD_PATH = "/_download/"


def _s3_error(status: int, code: str, message: str) -> web.Response:
    body = f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message>'
    body += "</Error>"
    return web.Response(status=status, text=body, content_type="application/xml")


async def request_upload(request: web.Request) -> web.StreamResponse:
    """POST /patient/{client_id}/patient_attachment (requestPatientAttachmentUpload): a presigned POST."""
    st = state(request)
    cid = path_int(request.match_info, "client_id")
    find(st.dataset.tables["patients"], cid, "patient")
    chk = Checker(await read_body(request))
    name = chk.string("file_name", required=True, max_length=255)
    if name is not None and ("/" in name or "\\" in name):
        chk.add("file_name", "The file_name must not contain path separators.")
    chk.check()
    name = must(name)
    wall = st.config.wall_clock()
    expires = int(wall) + URL_LIFETIME
    key = f"tenant-{st.dataset.tenant_id}/client-{cid}/{uuid.uuid4().hex}/{name}"
    stamp = datetime.fromtimestamp(wall, UTC)
    policy = base64.b64encode(
        f'{{"expiration":"{fmt_timestamp(expires, 0)}","conditions":[{{"key":"{key}"}},'
        f'["content-length-range",0,{MAX_UPLOAD_BYTES}]]}}'.encode()
    ).decode()
    fields = {
        "key": key,
        "Policy": policy,
        "x-amz-algorithm": "AWS4-HMAC-SHA256",
        "x-amz-credential": f"SIMULATOR/{stamp:%Y%m%d}/ap-southeast-2/s3/aws4_request",
        "x-amz-date": f"{stamp:%Y%m%dT%H%M%SZ}",
        "x-amz-signature": st.sign(policy),
        "x-amz-security-token": "simulator-session-token",
    }
    st.uploads[key] = {"client_id": cid, "file_name": name, "fields": fields, "expires": expires}
    # The docs leave the status code open ("2XX"); 200 because nothing is created yet.
    return json_value({"url": f"{st.origin(request)}{UPLOAD_PATH}", "fields": fields})


async def storage_upload(request: web.Request) -> web.StreamResponse:
    """The S3 stand-in: accept the multipart POST, verify the fields, create the attachment (204)."""
    st = state(request)
    try:
        reader = await request.multipart()
    except (AssertionError, ValueError):
        return _s3_error(
            400, "MalformedPOSTRequest", "The body of your POST request is not multipart/form-data."
        )
    fields: dict[str, str] = {}
    content: bytes | None = None
    content_type = ""
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader) or part.name is None:
            continue
        if part.name == "file":
            content = await _read_limited(part)
            if content is None:
                return _s3_error(
                    400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size."
                )
            content_type = part.headers.get("Content-Type", "")
            break  # S3 ignores fields after the file
        fields[part.name] = await part.text()
    pending = st.uploads.get(fields.get("key", ""))
    if pending is None or pending["fields"] != fields or pending["expires"] < st.config.wall_clock():
        return _s3_error(403, "AccessDenied", "Invalid according to Policy: Policy Condition failed.")
    if content is None:
        return _s3_error(400, "InvalidArgument", "POST requires exactly one file upload per request.")
    del st.uploads[fields["key"]]
    _store_upload(st, pending, content, content_type)
    return web.Response(status=204)


async def _read_limited(part: BodyPartReader) -> bytes | None:
    chunks, size = [], 0
    while chunk := await part.read_chunk(256 * 1024):
        size += len(chunk)
        if size > MAX_UPLOAD_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _store_upload(st: SimState, pending: Record, content: bytes, content_type: str) -> None:
    name = pending["file_name"]
    guessed = mimetypes.guess_type(name)[0]
    aid = st.dataset.new_id("attachments")
    st.store.table("attachments").add(
        aid,
        {
            "tenant_id": st.dataset.tenant_id,
            "attachment_client_id": aid,
            "client_id": pending["client_id"],
            "user_id": 1,
            "file_date": st.config.today.isoformat(),
            "description": name,
            "file_type": guessed or content_type or "application/octet-stream",
            "file_size": len(content),
            "_folder_id": None,
            "_file_name": name,
            "_content": None,
        },
    )
    st.contents[aid] = content


def _signed_url(st: SimState, request: web.Request, aid: int) -> tuple[str, int]:
    expires = int(st.config.wall_clock()) + URL_LIFETIME
    signature = st.sign(f"{aid}:{expires}")
    return f"{st.origin(request)}{DOWNLOAD_PATH}{aid}?expires={expires}&signature={signature}", expires


async def download_content(request: web.Request) -> web.StreamResponse:
    """GET /patient_attachment/{id}/content (downloadPatientAttachment): 307 to a short-lived URL."""
    st = state(request)
    aid = path_int(request.match_info, "patient_attachment_id")
    find(st.dataset.tables["attachments"], aid, "patient attachment")
    url, _ = _signed_url(st, request, aid)
    return web.Response(status=307, headers={"Location": url})


async def presign_url(request: web.Request) -> web.StreamResponse:
    """GET /patient_attachment/{id}/presign_url (getPatientAttachmentPresignUrl): url, expires, file_name."""
    st = state(request)
    aid = path_int(request.match_info, "patient_attachment_id")
    rec = find(st.dataset.tables["attachments"], aid, "patient attachment")
    url, expires = _signed_url(st, request, aid)
    return json_value({"url": url, "expires": fmt_timestamp(expires, 0), "file_name": rec["_file_name"]})


def attachment_bytes(st: SimState, aid: int) -> bytes:
    """Uploaded bytes, or deterministic filler of the recorded size for generated attachments."""
    content = st.contents.get(aid)
    if content is not None:
        return content
    rec = st.dataset.tables["attachments"][aid]
    head = b"%PDF-1.4\n" if rec["file_type"] == "application/pdf" else b"\x89PNG\r\n\x1a\n"
    line = f"simulated attachment {aid} for patient {rec['client_id']}\n".encode()
    size: int = rec["file_size"]
    return (head + line * (size // len(line) + 1))[:size]


async def storage_download(request: web.Request) -> web.StreamResponse:
    """The S3 stand-in for downloads: check the signature and expiry, then serve the bytes."""
    st = state(request)
    raw = request.match_info["attachment_id"]
    expires, signature = request.query.get("expires", ""), request.query.get("signature", "")
    if not raw.isdigit() or not expires.isdigit() or signature != st.sign(f"{raw}:{expires}"):
        return _s3_error(403, "AccessDenied", "Request signature does not match.")
    if int(expires) < st.config.wall_clock():
        return _s3_error(403, "AccessDenied", "Request has expired.")
    aid = int(raw)
    rec = st.dataset.tables["attachments"].get(aid)
    if rec is None:
        return _s3_error(404, "NoSuchKey", "The specified key does not exist.")
    return web.Response(
        body=attachment_bytes(st, aid),
        content_type=rec["file_type"],
        headers={"Content-Disposition": f'attachment; filename="{rec["_file_name"]}"'},
    )
