"""The one exception the client raises: the API's error object, S3's refusal, or the network."""
from __future__ import annotations

from typing import Optional


class MediaError(Exception):
    """`code` is the API's snake_case code (`too_large`, `not_found`, …), S3's code
    (`AccessDenied`, `EntityTooLarge`), `network_error`, or one of the client's own checks made
    before any request (`unsupported_content_type`, `too_large`, `invalid_request`).
    `status` is the HTTP status, or None when no answer came."""

    def __init__(self, code: str, message: str = "", status: Optional[int] = None):
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code
        self.message = message or code
        self.status = status

    @property
    def transient(self) -> bool:
        """Worth another try: the network, throttling, a server error."""
        return self.status is None and self.code == "network_error" or self.status in (408, 429) or (self.status or 0) >= 500
