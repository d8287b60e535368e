"""`Client` (blocking) and `AsyncClient` (asyncio): both run the operations in `flows` over httpx.
Idempotent calls and S3 requests are retried on transient failures with backoff and jitter."""
from __future__ import annotations

import asyncio
import random
import re
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, AsyncIterator, Awaitable, Callable, Dict, Iterator, List, Optional, Union

import httpx

from . import flows
from .errors import MediaError
from .flows import Api, Flow, Parallel, Storage
from .models import Kind, Media, Page, SignedUrl, Slot

RETRIES = 4
TokenSource = Union[str, Callable[[], str]]


def _delay(attempt: int) -> float:
    return min(8.0, 0.4 * 2 ** attempt) * (0.5 + random.random() / 2)


def _read(path: str, start: int, end: int) -> bytes:
    try:
        with open(path, "rb") as f:
            f.seek(start)
            data = f.read(end - start)
    except OSError as e:
        raise MediaError("unreadable_file", f"{path}: {e.strerror}") from None
    if len(data) != end - start:
        raise MediaError("unreadable_file", f"{path} is shorter than when the upload began")
    return data


def _api_error(res: httpx.Response) -> MediaError:
    try:
        err = res.json()["error"]
        return MediaError(err["code"], err.get("message", ""), res.status_code)
    except Exception:
        return MediaError(f"http_{res.status_code}", res.text[:200], res.status_code)


def _storage_error(res: httpx.Response) -> MediaError:
    code = re.search(r"<Code>([^<]*)</Code>", res.text)
    message = re.search(r"<Message>([^<]*)</Message>", res.text)
    return MediaError(code.group(1) if code else f"http_{res.status_code}", message.group(1) if message else "", res.status_code)


def _storage_request(call: Storage, body: bytes) -> Dict[str, Any]:
    if call.method == "POST":
        # Every policy field first, in order; httpx writes the file after them.
        return {"data": call.fields, "files": {"file": ("upload", body)}}
    # Content-Length is the body's own; the signed value is the same number.
    return {"headers": {k: v for k, v in call.headers.items() if k.lower() != "content-length"}, "content": body}


def _drive(flow: Flow, do: Callable[[Any], Any]) -> Any:
    """Runs a flow: each request it yields is done and the answer (or the error) sent back."""
    try:
        call = next(flow)
        while True:
            try:
                result = do(call)
            except MediaError as e:
                call = flow.throw(e)
            else:
                call = flow.send(result)
    except StopIteration as stop:
        return stop.value


async def _drive_async(flow: Flow, do: Callable[[Any], Awaitable[Any]]) -> Any:
    """`_drive` with `await`: the one loop that must exist in both colours."""
    try:
        call = next(flow)
        while True:
            try:
                result = await do(call)
            except MediaError as e:
                call = flow.throw(e)
            else:
                call = flow.send(result)
    except StopIteration as stop:
        return stop.value


def _retryable(call: Any, e: MediaError, attempt: int) -> bool:
    return e.transient and (isinstance(call, Storage) or call.idempotent) and attempt < RETRIES


def _answer(call: Any, res: httpx.Response) -> Any:
    if isinstance(call, Storage):
        if not res.is_success:
            raise _storage_error(res)
        return res.headers.get("etag")
    if not res.is_success:
        raise _api_error(res)
    return res.json() if res.content else None


def _network(e: Exception) -> MediaError:
    return MediaError("network_error", str(e) or type(e).__name__)


class _Operations:
    """The API, one method per operation. In `Client` each returns the answer; in `AsyncClient`
    each returns an awaitable of it (`_run` is a coroutine there)."""

    concurrency = 4
    _base = ""
    _token: Optional[TokenSource] = None

    def _run(self, flow: Flow) -> Any:
        raise NotImplementedError

    def _attempts(self, call: Any) -> Flow:
        """One API or S3 request with its retries, as a flow of effects: ("read", call) for the
        bytes, ("send", request) for the answer, ("sleep", seconds) between tries."""
        attempt = 0
        while True:
            try:
                body = (yield ("read", call)) if isinstance(call, Storage) else None
                token = None if isinstance(call, Storage) else (self._token() if callable(self._token) else self._token)
                res = yield ("send", self._request(call, token, body))
                return _answer(call, res)
            except MediaError as e:
                if not _retryable(call, e, attempt):
                    raise
            yield ("sleep", _delay(attempt))
            attempt += 1

    def _request(self, call: Any, token: Optional[str], body: Optional[bytes]) -> Dict[str, Any]:
        if isinstance(call, Storage):
            return {"method": call.method, "url": call.url, **_storage_request(call, body or b"")}
        headers = {"authorization": f"Bearer {token}"} if call.auth and token else {}
        return {"method": call.method, "url": self._base + call.path, "params": call.params, "json": call.json, "headers": headers}

    def kinds(self) -> Dict[str, Kind]:
        return self._run(flows.kinds())

    def create_uploads(self, kind: str, files: List[Dict[str, Any]], method: str = "put", scope: Optional[str] = None) -> List[Slot]:
        return self._run(flows.create_uploads(kind, files, method, scope))

    def upload_file(self, path: str, kind: str, **options: Any) -> Media:
        """See `flows.upload_file`: scope, method ("put"/"post"), content_type, filename, resume,
        multipart_threshold."""
        options.setdefault("concurrency", self.concurrency)
        return self._run(flows.upload_file(path, kind, **options))

    def complete(self, media_id: str) -> Media:
        return self._run(flows.complete(media_id))

    def complete_batch(self, media_ids: List[str]) -> List[Dict[str, Any]]:
        return self._run(flows.complete_batch(media_ids))

    def get(self, media_id: str) -> Media:
        return self._run(flows.get(media_id))

    def list(self, *, scope: Optional[str] = None, kind: Optional[str] = None, status: Optional[str] = None, limit: int = 50, cursor: Optional[str] = None) -> Page:
        return self._run(flows.page(scope, kind, status, limit, cursor))

    def iter_media(self, *, scope: Optional[str] = None, kind: Optional[str] = None, status: Optional[str] = None, limit: int = 50) -> Iterator[Media]:
        """Every media of the listing, page after page."""
        cursor = None
        while True:
            page = self.list(scope=scope, kind=kind, status=status, limit=limit, cursor=cursor)
            yield from page.items
            if not page.next_cursor:
                return
            cursor = page.next_cursor

    def url(self, media_id: str, **params: Any) -> SignedUrl:
        """variant, expires_in, download; or transform parameters (w, h, fit, format, q, preset)."""
        return self._run(flows.url(media_id, params))

    def patch(self, media_id: str, **fields: Any) -> Media:
        return self._run(flows.patch(media_id, fields))

    def attach(self, media_id: str, ref: str, expect_kind: Optional[str] = None) -> Media:
        return self._run(flows.attach(media_id, ref, expect_kind))

    def detach(self, media_id: str) -> Media:
        return self._run(flows.detach(media_id))

    def delete(self, media_id: str) -> None:
        return self._run(flows.delete(media_id))

    def abort_upload(self, media_id: str) -> None:
        return self._run(flows.abort_upload(media_id))

    def list_parts(self, media_id: str) -> List[Dict[str, Any]]:
        return self._run(flows.list_parts(media_id))

    def sign_parts(self, media_id: str, numbers: List[int]) -> List[Dict[str, Any]]:
        return self._run(flows.sign_parts(media_id, numbers))


class Client(_Operations):
    """Blocking client. `token` is a JWT or a function returning one (called for each request)."""

    def __init__(self, base_url: str, token: Optional[TokenSource] = None, *, timeout: float = 60.0, http: Optional[httpx.Client] = None, concurrency: int = 4):
        self._base = base_url.rstrip("/")
        self._token = token
        self._http = http or httpx.Client(timeout=timeout)
        self._pool = ThreadPoolExecutor(max_workers=max(1, concurrency))
        self.concurrency = concurrency

    def close(self) -> None:
        self._http.close()
        self._pool.shutdown()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _run(self, flow: Flow) -> Any:
        return _drive(flow, self._do)

    def _do(self, call: Any) -> Any:
        if isinstance(call, Parallel):
            return list(self._pool.map(self._do, call.calls))
        return _drive(self._attempts(call), self._effect)

    def _effect(self, op: Any) -> Any:
        what, arg = op
        if what == "read":
            return _read(arg.path, arg.start, arg.end)
        if what == "sleep":
            return time.sleep(arg)
        try:
            return self._http.request(**arg)
        except httpx.TransportError as e:
            raise _network(e) from None


class AsyncClient(_Operations):
    """The same operations for asyncio: every method is awaited; `iter_media` is `async for`."""

    def __init__(self, base_url: str, token: Optional[TokenSource] = None, *, timeout: float = 60.0, http: Optional[httpx.AsyncClient] = None, concurrency: int = 4):
        self._base = base_url.rstrip("/")
        self._token = token
        self._http = http or httpx.AsyncClient(timeout=timeout)
        self.concurrency = concurrency

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()

    def _run(self, flow: Flow) -> Awaitable[Any]:
        return _drive_async(flow, self._do)

    async def _do(self, call: Any) -> Any:
        if isinstance(call, Parallel):
            return list(await asyncio.gather(*(self._do(c) for c in call.calls)))
        return await _drive_async(self._attempts(call), self._effect)

    async def _effect(self, op: Any) -> Any:
        what, arg = op
        if what == "read":
            return await asyncio.to_thread(_read, arg.path, arg.start, arg.end)
        if what == "sleep":
            return await asyncio.sleep(arg)
        try:
            return await self._http.request(**arg)
        except httpx.TransportError as e:
            raise _network(e) from None

    async def iter_media(self, *, scope: Optional[str] = None, kind: Optional[str] = None, status: Optional[str] = None, limit: int = 50) -> AsyncIterator[Media]:  # type: ignore[override]
        cursor = None
        while True:
            page = await self.list(scope=scope, kind=kind, status=status, limit=limit, cursor=cursor)
            for m in page.items:
                yield m
            if not page.next_cursor:
                return
            cursor = page.next_cursor
