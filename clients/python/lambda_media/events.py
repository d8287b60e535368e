"""Webhook deliveries: `x-media-signature: sha256=<hex HMAC-SHA256 of the raw body>` with the
EVENTS_WEBHOOK_SECRET (docs/EVENTS.md). Check the raw bytes, before parsing them."""
from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any, Dict, Optional, Union

from .errors import MediaError


def verify_event(raw_body: Union[bytes, str], signature_header: Optional[str], secret: str) -> bool:
    """True when the signature header is the body's HMAC under `secret` (constant-time)."""
    if not signature_header or not secret:
        return False
    body = raw_body.encode() if isinstance(raw_body, str) else raw_body
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature_header.strip())


def parse_event(raw_body: Union[bytes, str], signature_header: Optional[str], secret: str) -> Dict[str, Any]:
    """The event, once its signature holds; `MediaError("bad_signature")` otherwise."""
    if not verify_event(raw_body, signature_header, secret):
        raise MediaError("bad_signature", "the signature does not match the body", 401)
    event = json.loads(raw_body)
    if event.get("schema") != "lambda-media.media-event":
        raise MediaError("invalid_request", "not a lambda-media event", 400)
    return event
