"""Every operation once, as a generator that yields what it needs done (an API call, a request to
S3, several S3 requests at once) and receives the answers. `Client` runs them with blocking
httpx and threads, `AsyncClient` with asyncio: the two cannot drift apart."""
from __future__ import annotations

import math
import mimetypes
import os
from dataclasses import dataclass, field
from typing import Any, Dict, Generator, Iterable, List, Optional, Tuple
from urllib.parse import quote

from .errors import MediaError
from .models import Kind, Media, Page, SignedUrl, Slot

MIB = 1024 * 1024
#: Files above this go in parts (the JS client's default too).
MULTIPART_THRESHOLD = 16 * MIB
#: Part URLs asked for at once: enough for the parts in flight, so none waits long enough to expire.
PARTS_PER_SIGNING = 100


@dataclass
class Api:
    method: str
    path: str
    params: Optional[Dict[str, Any]] = None
    json: Any = None
    auth: bool = True
    #: Safe to repeat (reads, signing, completion, deletion).
    idempotent: bool = False


@dataclass
class Storage:
    """A PUT of bytes `start..end` of `path`, or a form POST of the whole file, to S3. The bytes
    are read only when it is sent, so a list of them holds no file in memory."""
    method: str
    url: str
    path: str
    start: int
    end: int
    headers: Dict[str, str] = field(default_factory=dict)
    fields: Dict[str, str] = field(default_factory=dict)


@dataclass
class Parallel:
    """Several storage requests at once; the answer is their ETags, in order."""
    calls: List[Storage]


Flow = Generator[Any, Any, Any]

_EXTRA_TYPES = {".heic": "image/heic", ".heif": "image/heif", ".avif": "image/avif", ".webp": "image/webp",
                ".mov": "video/quicktime", ".webm": "video/webm", ".mp4": "video/mp4", ".m4v": "video/mp4"}


def guess_type(path: str) -> str:
    ext = os.path.splitext(path)[1].lower()
    return _EXTRA_TYPES.get(ext) or mimetypes.guess_type(path)[0] or "application/octet-stream"


def part_plan(size: int, max_parts: int) -> Tuple[int, int]:
    """The part size and count the API chooses: 8 MiB, grown in whole MiB until the count fits."""
    needed = math.ceil(math.ceil(size / max_parts) / MIB) * MIB
    part_size = max(8 * MIB, needed)
    return part_size, math.ceil(size / part_size)


def _id(media_id: str) -> str:
    return quote(media_id, safe="")


def kinds() -> Flow:
    d = yield Api("GET", "/v1/kinds", auth=False, idempotent=True)
    return {name: Kind(k["content_types"], k["max_bytes"], k["thumbnail_sizes"], k["visibility"], k["max_parts"]) for name, k in d["kinds"].items()}


def create_uploads(kind: str, files: Iterable[Dict[str, Any]], method: str = "put", scope: Optional[str] = None) -> Flow:
    body: Dict[str, Any] = {"kind": kind, "method": method, "files": list(files)}
    if scope:
        body["scope"] = scope
    d = yield Api("POST", "/v1/uploads", json=body)
    return [Slot.from_json(s) for s in d["uploads"]]


def media(method: str, path: str, **kw: Any) -> Flow:
    d = yield Api(method, path, **kw)
    return Media.from_json(d) if d else None


def get(media_id: str) -> Flow:
    return media("GET", f"/v1/media/{_id(media_id)}", idempotent=True)


def complete(media_id: str) -> Flow:
    return media("POST", f"/v1/media/{_id(media_id)}/complete", idempotent=True)


def complete_batch(media_ids: List[str]) -> Flow:
    d = yield Api("POST", "/v1/media/complete", json={"media_ids": list(media_ids)}, idempotent=True)
    return d["results"]


def delete(media_id: str) -> Flow:
    yield Api("DELETE", f"/v1/media/{_id(media_id)}", idempotent=True)


def abort_upload(media_id: str) -> Flow:
    yield Api("DELETE", f"/v1/uploads/{_id(media_id)}", idempotent=True)


def list_parts(media_id: str) -> Flow:
    d = yield Api("GET", f"/v1/uploads/{_id(media_id)}/parts", idempotent=True)
    return d["parts"]


def sign_parts(media_id: str, numbers: List[int]) -> Flow:
    d = yield Api("POST", f"/v1/uploads/{_id(media_id)}/parts", json={"part_numbers": list(numbers)}, idempotent=True)
    return d["parts"]


def page(scope: Optional[str], kind: Optional[str], status: Optional[str], limit: int, cursor: Optional[str]) -> Flow:
    params = {k: v for k, v in {"scope": scope, "kind": kind, "status": status, "limit": limit, "cursor": cursor}.items() if v}
    d = yield Api("GET", "/v1/media", params=params, idempotent=True)
    return Page([Media.from_json(m) for m in d["items"]], d.get("next_cursor"))


def url(media_id: str, params: Dict[str, Any]) -> Flow:
    q = {k: ("true" if v is True else v) for k, v in params.items() if v is not None and v is not False}
    d = yield Api("GET", f"/v1/media/{_id(media_id)}/url", params=q, idempotent=True)
    return SignedUrl(d["url"], d.get("expires_in"), d.get("expires_at"))


def patch(media_id: str, fields: Dict[str, Any]) -> Flow:
    return media("PATCH", f"/v1/media/{_id(media_id)}", json=fields)


def attach(media_id: str, ref: str, expect_kind: Optional[str]) -> Flow:
    body = {"ref": ref, **({"expect_kind": expect_kind} if expect_kind else {})}
    return media("POST", f"/v1/media/{_id(media_id)}/attach", json=body)


def detach(media_id: str) -> Flow:
    return media("DELETE", f"/v1/media/{_id(media_id)}/attach")


def upload_file(path: str, kind: str, *, scope: Optional[str] = None, method: Optional[str] = None,
                content_type: Optional[str] = None, filename: Optional[str] = None, resume: Optional[str] = None,
                multipart_threshold: int = MULTIPART_THRESHOLD, concurrency: int = 4) -> Flow:
    """Uploads a local file through a slot and answers its verdict (the media, ready or rejected).
    The file is checked against its kind first (nothing is asked of the API for a file that
    cannot fit). Above `multipart_threshold` it goes in parts, `concurrency` at a time;
    `resume=<media id>` continues such an upload, sending only the parts S3 does not hold."""
    try:
        size = os.path.getsize(path)
    except OSError as e:
        raise MediaError("unreadable_file", f"{path}: {e.strerror}") from None
    ctype = content_type or guess_type(path)
    name = filename or os.path.basename(path)
    spec = (yield from kinds()).get(kind)
    if spec is None:
        raise MediaError("unknown_kind", f"unknown kind {kind}", 400)
    if ctype not in spec.content_types:
        raise MediaError("unsupported_content_type", f"{name}: {ctype} is not one of {', '.join(spec.content_types)}")
    if size < 1:
        raise MediaError("invalid_request", f"{name} is empty")
    if size > spec.max_bytes:
        raise MediaError("too_large", f"{name} is {size} bytes; this kind allows at most {spec.max_bytes}")
    if resume:
        part_size, count = part_plan(size, spec.max_parts)
        return (yield from _send_parts(resume, path, size, part_size, count, concurrency))
    how = "multipart" if size > multipart_threshold else (method or "put")
    [slot] = yield from create_uploads(kind, [{"filename": name, "content_type": ctype, "size_bytes": size}], how, scope)
    if slot.method == "MULTIPART":
        return (yield from _send_parts(slot.media_id, path, size, slot.part_size or 0, slot.part_count or 0, concurrency))
    try:
        yield Storage(slot.method, slot.url, path, 0, size, headers=slot.headers, fields=slot.fields)
    except MediaError:
        # The bytes never arrived: give the slot back rather than leave it pending.
        try:
            yield from abort_upload(slot.media_id)
        except MediaError:
            pass
        raise
    return (yield from complete(slot.media_id))


def _send_parts(media_id: str, path: str, size: int, part_size: int, count: int, concurrency: int) -> Flow:
    length = lambda n: min(part_size, size - (n - 1) * part_size)  # noqa: E731
    held = {p["part_number"] for p in (yield from list_parts(media_id)) if p["size"] == length(p["part_number"])}
    missing = [n for n in range(1, count + 1) if n not in held]
    step = max(1, min(concurrency, PARTS_PER_SIGNING))
    for i in range(0, len(missing), step):
        batch = missing[i:i + step]
        signed = yield from sign_parts(media_id, batch)
        yield Parallel([Storage("PUT", p["url"], path, (p["part_number"] - 1) * part_size, (p["part_number"] - 1) * part_size + length(p["part_number"]),
                                headers=p.get("headers") or {}) for p in signed])
    d = yield Api("POST", f"/v1/uploads/{_id(media_id)}/complete", idempotent=True)
    return Media.from_json(d)
