"""lambda-media's Python client: `Client` (blocking) and `AsyncClient` (asyncio) over httpx."""
from .client import AsyncClient, Client
from .errors import MediaError
from .events import parse_event, verify_event
from .flows import MULTIPART_THRESHOLD, part_plan
from .models import Kind, Media, Page, Placeholder, Rejection, SignedUrl, Slot, Variant

__all__ = ["AsyncClient", "Client", "MediaError", "parse_event", "verify_event", "MULTIPART_THRESHOLD", "part_plan",
           "Kind", "Media", "Page", "Placeholder", "Rejection", "SignedUrl", "Slot", "Variant"]
