"""The Python client against the local stack (scripts/local up): every route through `Client`,
the async client, multipart resume from the API's part list, webhook signatures of real
deliveries, and README's quick start run as written."""
import asyncio
import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import httpx
import pytest

from lambda_media import AsyncClient, Client, MediaError, parse_event, part_plan, verify_event

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "scripts"))
from devtoken import local_env, mint  # noqa: E402

ENV = local_env(str(ROOT / ".local/env"))
API = ENV["API_URL"]


def fixtures() -> Path:
    out = subprocess.run(["cargo", "run", "-q", "-p", "devtools", "--bin", "make-fixtures"], cwd=ROOT, check=True, capture_output=True, text=True)
    return ROOT / out.stdout.strip()


FIX = fixtures()


def token(user: str, *scopes: str) -> str:
    return mint(f"py-{user}-{time.time_ns()}", scopes, env=ENV)


def test_put_post_get_list_url_patch_attach_delete():
    scope = f"org:py{time.time_ns()}"
    with Client(API, token("routes", scope)) as c:
        assert "image/heic" in c.kinds()["post_image"].content_types
        put = c.upload_file(str(FIX / "photo.jpg"), "post_image", scope=scope)
        assert (put.status, put.width, put.height, put.content_type) == ("ready", 1600, 1200, "image/jpeg")
        assert put.variants["512"].width == 512 and put.placeholder.thumbhash
        post = c.upload_file(str(FIX / "alpha.png"), "post_image", method="post", scope=scope)
        assert post.ready and post.placeholder.has_alpha
        assert c.get(put.id).id == put.id
        ids = [m.id for m in c.iter_media(scope=scope, limit=1)]
        assert ids == [post.id, put.id], "newest first, across pages of one"
        signed = c.url(put.id, variant="512", download=True)
        assert httpx.get(signed.url).content[8:12] == b"WEBP"
        transform = c.url(put.id, w=320)
        res = httpx.get(transform.url, headers={"accept": "image/webp"})
        assert res.status_code == 302 and res.headers["x-transform-type"] == "image/webp"
        assert c.patch(put.id, title="Sunset", tags=["beach"]).raw["title"] == "Sunset"
        assert c.attach(put.id, "post:42", expect_kind="post_image").attached_to == "post:42"
        assert c.detach(put.id).attached_to is None
        batch = c.complete_batch([put.id, post.id])
        assert [r["status"] for r in batch] == ["ready", "ready"]
        for m in (put, post):
            c.delete(m.id)
        with pytest.raises(MediaError) as e:
            c.get(put.id)
        assert (e.value.status, e.value.code) == (404, "not_found")


def test_errors_carry_code_status_and_message_and_nothing_is_asked_for_a_file_that_cannot_fit():
    seen = []
    http = httpx.Client(event_hooks={"request": [lambda r: seen.append(f"{r.method} {r.url.path}")]})
    with Client(API, token("errors"), http=http) as c:
        with pytest.raises(MediaError) as e:
            c.upload_file(str(FIX / "photo.jpg"), "video")
        assert e.value.code == "unsupported_content_type" and "video/mp4" in e.value.message
        assert not any(s.startswith("POST /v1/uploads") for s in seen), seen
        with pytest.raises(MediaError) as e:
            c.upload_file(str(FIX / "nope.jpg"), "post_image")
        assert e.value.code == "unreadable_file"
        with pytest.raises(MediaError) as e:
            c.create_uploads("no_such_kind", [{"filename": "a.jpg", "content_type": "image/jpeg", "size_bytes": 10}])
        assert (e.value.status, e.value.code) == (400, "unknown_kind")
        rejected = c.upload_file(str(FIX / "fake.jpg"), "post_image")
        assert (rejected.status, rejected.rejection.code) == ("rejected", "not_an_image")


def test_a_refused_upload_gives_its_slot_back():
    def refuse(request: httpx.Request) -> httpx.Response:
        if request.url.host == "127.0.0.1" and str(request.url).startswith(API):
            return httpx.Client().send(request)
        return httpx.Response(403, text="<Error><Code>AccessDenied</Code><Message>Policy check failed</Message></Error>")

    issued = []
    with Client(API, token("refused"), http=httpx.Client(transport=httpx.MockTransport(refuse), event_hooks={"response": [lambda r: issued.append(r)]})) as c:
        with pytest.raises(MediaError) as e:
            c.upload_file(str(FIX / "photo.jpg"), "post_image")
        assert (e.value.status, e.value.code) == (403, "AccessDenied")
        created = next(r for r in issued if r.request.method == "POST" and r.request.url.path == "/v1/uploads")
        media_id = json.loads(created.read())["uploads"][0]["media_id"]
        with pytest.raises(MediaError) as gone:
            c.get(media_id)
        assert gone.value.status == 404, "the slot was released, not left pending"


def test_multipart_resumes_from_the_apis_part_list_sending_only_missing_parts():
    path = FIX / "trip.mp4"
    size = path.stat().st_size
    part_size, count = part_plan(size, 1000)
    assert count == 4
    parts_sent = []
    http = httpx.Client(event_hooks={"request": [lambda r: r.method == "PUT" and "partNumber=" in str(r.url) and parts_sent.append(int(r.url.params["partNumber"]))]})
    with Client(API, token("resume"), http=http) as c:
        [slot] = c.create_uploads("video", [{"filename": "trip.mp4", "content_type": "video/mp4", "size_bytes": size}], method="multipart")
        assert (slot.method, slot.part_count, slot.part_size) == ("MULTIPART", count, part_size)
        # An earlier run sent parts 1 and 2, then died.
        with open(path, "rb") as f:
            for p in c.sign_parts(slot.media_id, [1, 2]):
                f.seek((p["part_number"] - 1) * part_size)
                assert httpx.put(p["url"], content=f.read(part_size)).status_code == 200
        assert [p["part_number"] for p in c.list_parts(slot.media_id)] == [1, 2]
        media = c.upload_file(str(path), "video", resume=slot.media_id)
        assert (media.id, media.status, media.size_bytes) == (slot.media_id, "ready", size)
        assert sorted(parts_sent) == [3, 4], "only the parts S3 did not hold"
        c.delete(media.id)


def test_the_async_client_uploads_in_parts_and_lists():
    async def run():
        scope = f"org:pyasync{time.time_ns()}"
        async with AsyncClient(API, token("async", scope)) as c:
            video, photo = await asyncio.gather(
                c.upload_file(str(FIX / "trip.mp4"), "video", scope=scope),
                c.upload_file(str(FIX / "photo.jpg"), "post_image", scope=scope),
            )
            assert (video.status, photo.status) == ("ready", "ready")
            assert video.poster is not None and video.duration_ms > 0
            seen = [m.id async for m in c.iter_media(scope=scope, limit=1)]
            assert sorted(seen) == sorted([video.id, photo.id])
            for m in (video, photo):
                await c.delete(m.id)

    asyncio.run(run())


def test_verify_event_accepts_real_deliveries_and_nothing_else():
    with Client(API, token("events")) as c:
        m = c.upload_file(str(FIX / "photo.jpg"), "post_image")
    secret = ENV["EVENTS_WEBHOOK_SECRET"]
    deadline = time.monotonic() + 30
    delivery = None
    while delivery is None and time.monotonic() < deadline:
        deliveries = json.load(urllib.request.urlopen(f"{ENV['WEB_URL']}/_events/raw", timeout=5))["deliveries"]
        delivery = next((d for d in deliveries if json.loads(d["body"]).get("media_id") == m.id), None)
        if delivery is None:
            time.sleep(0.2)
    assert delivery, "the ready event was delivered"
    body, sig = delivery["body"].encode(), delivery["signature"]
    assert verify_event(body, sig, secret)
    assert parse_event(body, sig, secret)["type"] == "media.ready"
    assert not verify_event(body.replace(b"ready", b"rejected", 1), sig, secret), "a changed body"
    assert not verify_event(body, sig, secret + "x"), "another secret"
    assert not verify_event(body, None, secret) and not verify_event(body, "sha256=", secret)
    with pytest.raises(MediaError) as e:
        parse_event(body, "sha256=" + "0" * 64, secret)
    assert e.value.code == "bad_signature"


def test_the_readmes_quick_start_runs_as_written():
    readme = (ROOT / "clients/python/README.md").read_text()
    block = re.search(r"<!-- quickstart -->\n```python\n(.*?)\n```", readme, re.S).group(1)
    env = {**os.environ, "API_URL": API, "TOKEN": token("quickstart"), "FILE": str(FIX / "photo.jpg")}
    out = subprocess.run([sys.executable, "-c", block], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    status, media_id = out.stdout.split()
    assert status == "ready"
    with Client(API, env["TOKEN"]) as c:
        c.delete(media_id)
