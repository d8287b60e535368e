"""Typed views of the API's JSON (docs/API.md, openapi.yaml). Each keeps the whole answer in
`raw`, so a field the server adds later is never lost to an older client."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional


@dataclass(frozen=True)
class Variant:
    url: str
    width: int
    height: int
    size_bytes: int

    @classmethod
    def from_json(cls, d: Optional[dict]) -> Optional["Variant"]:
        if not d:
            return None
        return cls(url=d["url"], width=d["width"], height=d["height"], size_bytes=d["size_bytes"])


@dataclass(frozen=True)
class Rejection:
    code: str
    message: str


@dataclass(frozen=True)
class Placeholder:
    thumbhash: str
    blurhash: str
    dominant_color: str
    has_alpha: bool


@dataclass(frozen=True)
class Media:
    id: str
    kind: str
    owner: str
    status: str  # pending | ready | rejected
    filename: str
    content_type: Optional[str]
    scope: Optional[str]
    size_bytes: Optional[int]
    width: Optional[int]
    height: Optional[int]
    duration_ms: Optional[int]
    url: Optional[str]
    variants: Dict[str, Variant]
    placeholder: Optional[Placeholder]
    rejection: Optional[Rejection]
    attached_to: Optional[str]
    poster: Optional[Variant]
    created_at: str
    raw: Dict[str, Any] = field(repr=False, compare=False)

    @property
    def ready(self) -> bool:
        return self.status == "ready"

    @classmethod
    def from_json(cls, d: dict) -> "Media":
        p = d.get("placeholder")
        r = d.get("rejection")
        return cls(
            id=d["id"], kind=d["kind"], owner=d["owner"], status=d["status"], filename=d.get("filename", ""),
            content_type=d.get("content_type"), scope=d.get("scope"), size_bytes=d.get("size_bytes"),
            width=d.get("width"), height=d.get("height"), duration_ms=d.get("duration_ms"), url=d.get("url"),
            variants={k: Variant.from_json(v) for k, v in (d.get("variants") or {}).items() if v},
            placeholder=Placeholder(p["thumbhash"], p["blurhash"], p["dominant_color"], p["has_alpha"]) if p else None,
            rejection=Rejection(r["code"], r["message"]) if r else None,
            attached_to=d.get("attached_to"), poster=Variant.from_json(d.get("poster")),
            created_at=d.get("created_at", ""), raw=d,
        )


@dataclass(frozen=True)
class Slot:
    """One upload slot from POST /v1/uploads: a presigned POST form, a PUT, or a multipart plan."""
    media_id: str
    method: str  # POST | PUT | MULTIPART
    url: str
    fields: Dict[str, str]
    headers: Dict[str, str]
    expires_at: str
    part_size: Optional[int]
    part_count: Optional[int]
    raw: Dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, d: dict) -> "Slot":
        return cls(media_id=d["media_id"], method=d["method"], url=d["url"], fields=d.get("fields") or {},
                   headers=d.get("headers") or {}, expires_at=d.get("expires_at", ""), part_size=d.get("part_size"),
                   part_count=d.get("part_count"), raw=d)


@dataclass(frozen=True)
class Kind:
    content_types: List[str]
    max_bytes: int
    thumbnail_sizes: List[int]
    visibility: str
    max_parts: int


@dataclass(frozen=True)
class Page:
    items: List[Media]
    next_cursor: Optional[str]


@dataclass(frozen=True)
class SignedUrl:
    url: str
    expires_in: Optional[int]
    expires_at: Optional[str]
