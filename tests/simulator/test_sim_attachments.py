"""Attachment files: presigned upload to the simulator's storage route, redirect and presigned downloads."""

from __future__ import annotations

from typing import Any

import aiohttp

from tests.simulator.conftest import Api, MakeApi


async def _upload(api: Api, url: str, fields: dict[str, str], content: bytes, name: str = "a.pdf") -> int:
    form = aiohttp.FormData()
    for key, value in fields.items():
        form.add_field(key, value)
    form.add_field("file", content, filename=name, content_type="application/pdf")
    async with api.session.post(url, data=form) as resp:
        return resp.status


async def test_upload_flow_creates_a_downloadable_attachment(api: Api) -> None:
    """Upload request -> multipart POST with every field + file -> the attachment lists and downloads."""
    before = (await api.get("/patient/3/patient_attachment")).json["total_entries"]
    presigned = await api.post("/patient/3/patient_attachment", {"file_name": "report.pdf"})
    assert presigned.status == 200
    url, fields = presigned.json["url"], presigned.json["fields"]
    assert url.endswith("/_upload/")
    assert set(fields) >= {
        "key",
        "Policy",
        "x-amz-signature",
        "x-amz-credential",
    }
    content = b"%PDF-1.4 hello" * 1000
    assert await _upload(api, url, fields, content) == 204
    listed = await api.get("/patient/3/patient_attachment", params={"sort_by": "-attachment_client_id"})
    assert listed.json["total_entries"] == before + 1
    newest = listed.json["patient_attachments"][0]
    assert newest["description"] == "report.pdf"
    assert newest["file_size"] == len(content)
    assert newest["file_type"] == "application/pdf"
    redirect = await api.get(f"/patient_attachment/{newest['attachment_client_id']}/content")
    assert redirect.status == 307
    async with api.session.get(redirect.headers["Location"]) as resp:  # no API keys: storage needs none
        assert resp.status == 200
        assert await resp.read() == content
    presign = await api.get(f"/patient_attachment/{newest['attachment_client_id']}/presign_url")
    assert presign.json["file_name"] == "report.pdf"
    assert presign.json["expires"].endswith("Z")
    async with api.session.get(presign.json["url"]) as resp:
        assert await resp.read() == content
    assert await _upload(api, url, fields, content) == 403  # a presigned POST is single-use


async def test_tampered_or_incomplete_uploads_are_rejected(api: Api) -> None:
    """A changed key, a missing field or a missing file is refused, like S3 would."""
    presigned = (await api.post("/patient/4/patient_attachment", {"file_name": "x.pdf"})).json
    url, fields = presigned["url"], presigned["fields"]
    assert await _upload(api, url, {**fields, "key": fields["key"] + "2"}, b"x") == 403
    assert await _upload(api, url, {k: v for k, v in fields.items() if k != "Policy"}, b"x") == 403
    form = aiohttp.FormData(fields)
    async with api.session.post(url, data=form) as resp:
        assert resp.status == 400
    async with api.session.post(url, data=b"not multipart") as resp:
        assert resp.status == 400


async def test_upload_request_validation(api: Api) -> None:
    """file_name is required and the patient must exist."""
    assert (await api.post("/patient/4/patient_attachment", {})).status == 422
    assert (await api.post("/patient/4/patient_attachment", {"file_name": "a/b.pdf"})).status == 422
    assert (await api.post("/patient/999999/patient_attachment", {"file_name": "a.pdf"})).status == 404


async def test_generated_attachment_serves_its_size(api: Api) -> None:
    """Generated attachments download as deterministic bytes of their recorded file_size."""
    att: dict[str, Any] = (await api.get("/patient_attachment/1")).json
    redirect = await api.get("/patient_attachment/1/content")
    async with api.session.get(redirect.headers["Location"]) as resp:
        body = await resp.read()
        assert resp.headers["Content-Type"] == att["file_type"]
    assert len(body) == att["file_size"]
    assert (await api.get("/patient_attachment/999999/content")).status == 404


async def test_download_urls_expire_and_are_signed(make_api: MakeApi) -> None:
    """A download URL stops working after 15 minutes of wall-clock time, and a forged one never works."""
    wall = [1_767_571_200.0]
    api = await make_api(wall_clock=lambda: wall[0])
    location = (await api.get("/patient_attachment/2/content")).headers["Location"]
    async with api.session.get(location.replace("signature=", "signature=0")) as resp:
        assert resp.status == 403
    wall[0] += 901
    async with api.session.get(location) as resp:
        assert resp.status == 403
