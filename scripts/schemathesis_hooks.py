"""Schemathesis hooks for scripts/schema-fuzz.

1. Real ids. Random ids only ever reach the 404 branch, so at load this module uploads a real
   JPEG through the API (a PUT slot, then `complete`) and the id hooks substitute that `ready`
   media's id in about half of the cases of the operations that read or edit it (never DELETE,
   which would leave nothing for the rest of the run).
2. `cargo lambda watch` (the local front door) answers 500 itself, before any function runs, when
   a body sent as application/json is not UTF-8: it cannot put such bytes into the API Gateway
   event. API Gateway delivers them base64-encoded, and the functions answer 400 (shared/src/edge/http.rs
   test `every_bad_body_is_a_client_error`). Only those bodies are skipped; every other invalid
   body is sent.
"""
import json
import os
import urllib.request

import schemathesis

API = os.environ["API_URL"]
TOKEN = os.environ["SCHEMA_FUZZ_TOKEN"]


def _call(method, url, body=None, headers=None):
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    with urllib.request.urlopen(req, timeout=30) as resp:
        raw = resp.read()
        return json.loads(raw) if raw else None


def _ready_media():
    with open(os.environ["SCHEMA_FUZZ_IMAGE"], "rb") as f:
        image = f.read()
    auth = {"authorization": f"Bearer {TOKEN}", "content-type": "application/json"}
    request = {"kind": "post_image", "method": "put",
               "files": [{"filename": "seed.jpg", "content_type": "image/jpeg", "size_bytes": len(image)}]}
    slot = _call("POST", f"{API}/v1/uploads", json.dumps(request).encode(), auth)["uploads"][0]
    _call("PUT", slot["url"], image, slot["headers"])
    media = _call("POST", f"{API}/v1/media/{slot['media_id']}/complete", None, auth)
    assert media["status"] == "ready", media
    return media["id"]


MEDIA_ID = _ready_media()


@schemathesis.hook
def map_path_parameters(ctx, path_parameters):
    op = getattr(ctx, "operation", None)
    method = getattr(op, "method", "").upper()
    if path_parameters and "id" in path_parameters and method != "DELETE":
        if len(str(path_parameters["id"])) % 2 == 0:
            path_parameters["id"] = MEDIA_ID
    return path_parameters


@schemathesis.hook
def filter_body(ctx, body):
    if isinstance(body, (bytes, bytearray)):
        try:
            bytes(body).decode("utf-8")
        except UnicodeDecodeError:
            return False
    return True
