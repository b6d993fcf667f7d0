"""The web gallery against hostile requests (issue 17): bodies bounded however they arrive, and malformed HTTP
answered by our own page and headers. Everything over real sockets to a real server on loopback."""
from __future__ import annotations

import asyncio

import pytest
from aiohttp.test_utils import TestServer

from bot.core.app import Core
from bot.web.security import Limit
from bot.web.server import WebLimits, build_web_app
from engine.queue import JobQueue


@pytest.fixture
async def server(gallery_app):
    app, seeded = gallery_app
    core = Core(app=app, queue=JobQueue(app.redis_url, app.settings.redis_prefix), providers={})
    web_app = build_web_app(core, limits=WebLimits(report=Limit(capacity=50, per_second=1),
                                                   trace=Limit(capacity=50, per_second=1)))
    async with TestServer(web_app) as test_server:
        yield test_server, core, seeded


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    body = b""
    if "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    return status, headers, body


async def test_chunked_flood_of_text_fields_is_cut_short_with_413(server):
    """50,000 text fields of 4 KB in a chunked multipart body (203 MB, no Content-Length): the server stops
    reading within its cap and answers 413, instead of reading it all and answering 400 (issue 17, row 2)."""
    test_server, _, _ = server
    reader, writer = await asyncio.open_connection(test_server.host, test_server.port)
    boundary = "flood"
    writer.write((f"POST /trace HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                  f"Content-Type: multipart/form-data; boundary={boundary}\r\n\r\n").encode())
    answer = asyncio.create_task(_read_response(reader))
    sent = 0
    try:
        for i in range(50_000):
            part = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"f{i}\"\r\n\r\n").encode() + b"a" * 4000
            part += b"\r\n"
            writer.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
            sent += len(part)
            await writer.drain()
            if answer.done():
                break
    except (ConnectionResetError, BrokenPipeError):
        pass
    status, headers, body = await asyncio.wait_for(answer, 10)
    writer.close()
    assert status == 413
    assert "too large" in body.decode()
    assert sent < 20 * 1024 * 1024, f"the server read {sent} bytes before answering"


async def test_many_small_parts_are_refused(server):
    test_server, _, _ = server
    reader, writer = await asyncio.open_connection(test_server.host, test_server.port)
    body = b"".join(f"--b\r\nContent-Disposition: form-data; name=\"f{i}\"\r\n\r\nx\r\n".encode()
                    for i in range(1000)) + b"--b--\r\n"
    writer.write((f"POST /trace HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n"
                  "Content-Type: multipart/form-data; boundary=b\r\n\r\n").encode() + body)
    status, _, _ = await asyncio.wait_for(_read_response(reader), 10)
    writer.close()
    assert status == 413


@pytest.fixture
async def running_gallery(gallery_app):
    """The gallery as `mimic web` serves it: GalleryRunner on a TCP port."""
    from aiohttp import web

    from bot.web.server import GalleryRunner

    app, _ = gallery_app
    core = Core(app=app, queue=JobQueue(app.redis_url, app.settings.redis_prefix), providers={})
    runner = GalleryRunner(build_web_app(core))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield runner.addresses[0][1]
    await runner.cleanup()


MALFORMED = {
    "query over 8 KB": b"GET /makers?q=" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    "header of 10 KB": b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 10_000 + b"\r\n\r\n",
    "raw non-ASCII byte in the path": b"GET /makers/\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n",
    "not HTTP at all": b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 hello\r\n\r\n",
}


@pytest.mark.parametrize("what", list(MALFORMED))
async def test_malformed_http_gets_our_page_and_headers(running_gallery, caplog, what):
    """aiohttp's own 400 echoed the request line, sent `Server: Python/3.x aiohttp/3.x` and no security headers,
    and logged a traceback per request (issue 17, row 9)."""
    caplog.set_level("DEBUG")
    reader, writer = await asyncio.open_connection("127.0.0.1", running_gallery)
    writer.write(MALFORMED[what])
    await writer.drain()
    status, headers, body = await asyncio.wait_for(_read_response(reader), 10)
    writer.close()
    assert status == 400
    assert "server" not in headers, headers
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    page = body.decode()
    assert '<html lang="en">' in page and "could not be read" in page and 'href="/static/style.css"' in page
    assert "aaaa" not in page and "bbbb" not in page and "aiohttp" not in page.lower()
    assert not [r for r in caplog.records if r.exc_info], [r.getMessage() for r in caplog.records if r.exc_info]
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]
    assert [r for r in caplog.records if "malformed request" in r.getMessage()]


async def test_the_gallery_still_answers_after_malformed_requests(running_gallery):
    reader, writer = await asyncio.open_connection("127.0.0.1", running_gallery)
    writer.write(b"GET /makers HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    status, headers, _ = await asyncio.wait_for(_read_response(reader), 10)
    writer.close()
    assert status == 200 and "server" not in headers


async def _client_with_token(test_server):
    from aiohttp import ClientSession, CookieJar

    session = ClientSession(base_url=f"http://{test_server.host}:{test_server.port}",
                            cookie_jar=CookieJar(unsafe=True))  # unsafe: keeps cookies of an IP address
    page = await (await session.get("/trace")).text()
    token = __import__("re").search(r'name="csrf" value="([0-9a-f]+)"', page).group(1)
    return session, token


async def test_report_ids_out_of_range_are_a_polite_400(server, caplog):
    """target_id=99999999999999999999999 was a 500 with a traceback (SQLite cannot hold it) (issue 17, row 7)."""
    test_server, core, seeded = server
    session, token = await _client_with_token(test_server)
    async with session:
        for kind in ("generation", "maker"):
            for target in ("99999999999999999999999", str(2**63), "-5", "0"):
                response = await session.post("/report", allow_redirects=False, data={
                    "csrf": token, "target_kind": kind, "target_id": target, "reason": "spam"})
                assert response.status == 400, (kind, target, response.status)
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


async def test_reporting_a_private_maker_answers_as_for_a_missing_one(server):
    """A private maker (and an image made with it) was reportable (303), a missing one was not (400): the answer
    told strangers that the private maker exists. Now both answer alike, and no report is filed."""
    from bot.core.app import Actor
    from bot.core.moderation import open_reports

    test_server, core, seeded = server
    session, token = await _client_with_token(test_server)
    answers = {}
    async with session:
        for name, kind, target in (("private maker", "maker", seeded.makers["ren-hidden"]),
                                   ("missing maker", "maker", 987654),
                                   ("image of a private maker", "generation", seeded.gens["of-private"]),
                                   ("missing image", "generation", 987655)):
            response = await session.post("/report", allow_redirects=False, data={
                "csrf": token, "target_kind": kind, "target_id": str(target), "reason": "spam"})
            answers[name] = (response.status, (await response.text()).replace(str(target), "ID"))
    assert answers["private maker"] == answers["missing maker"]
    assert answers["image of a private maker"] == answers["missing image"]
    assert answers["private maker"][0] == 400
    reports = await open_reports(core, Actor(user_id=1, is_moderator=True), limit=100)
    assert not [r for r in reports if r.source == "web"]


async def test_the_owner_and_moderators_may_still_report_a_private_maker(server):
    from bot.core.app import Actor
    from bot.core.errors import Refusal
    from bot.core.moderation import file_report

    _, core, seeded = server
    private = seeded.makers["ren-hidden"]
    with pytest.raises(Refusal, match="report.target_missing"):
        await file_report(core, Actor(user_id=seeded.users["aoi"]), "maker", private, "stranger")
    await file_report(core, Actor(user_id=seeded.users["ren"]), "maker", private, "my own")
    await file_report(core, Actor(user_id=seeded.users["fan"], is_moderator=True), "maker", private, "moderator")
    with pytest.raises(Refusal, match="report.target_missing"):
        await file_report(core, None, "generation", 10**30, "huge")
