#!/usr/bin/env python3
"""Dev-only bridge for the local stack (never deployed).

- Serves the demo page (web/) and /dev/config.json with the local API URL.
- Mints dev HS256 tokens at /dev/token (the secret exists only in .local/env).
- Receives SeaweedFS filer webhook notifications at /_seaweed/notify and relays every object
  created under incoming/ as a real S3 ObjectCreated event (the aws_lambda_events S3Event JSON,
  URL-encoded keys) to `cargo lambda watch`'s invoke endpoint for process-upload, as S3 would
  on AWS. Delivery is asynchronous and retried with backoff like Lambda's async invoke.
- Is the local receiver of media events at /_events (what EventBridge is deployed): checks the
  HMAC signature, appends each event to .local/run/events.jsonl (`scripts/local events`), and
  lists them at GET /_events?media_id=…; POST /_events/fail?count=N refuses the next N
  deliveries (fault injection for the tests).
"""
import argparse, datetime, hashlib, hmac, json, os, queue, sys, threading, time, urllib.parse, urllib.request
from http.server import ThreadingHTTPServer, SimpleHTTPRequestHandler

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from devtoken import mint  # noqa: E402

ARGS = None
EVENTS = queue.Queue()
RECEIVED = []
RECEIVED_LOCK = threading.Lock()
FAILURES = [0]
RAW = []


def log(**fields):
    print(json.dumps(fields), flush=True)


def s3_event(bucket: str, key: str, size: int, etag: str) -> dict:
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    return {"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": os.environ.get("AWS_REGION", "us-east-1"),
        "eventTime": now, "eventName": "ObjectCreated:Post",
        "userIdentity": {"principalId": "local"}, "requestParameters": {"sourceIPAddress": "127.0.0.1"},
        "responseElements": {"x-amz-request-id": "local", "x-amz-id-2": "local"},
        "s3": {"s3SchemaVersion": "1.0", "configurationId": "incoming",
               "bucket": {"name": bucket, "ownerIdentity": {"principalId": "local"}, "arn": f"arn:aws:s3:::{bucket}"},
               # S3 URL-encodes keys in events (spaces become '+').
               "object": {"key": urllib.parse.quote_plus(key, safe="/"), "size": size, "eTag": etag,
                          "sequencer": "%016X" % time.time_ns()}}}]}


def parse_notification(payload: dict):
    """Returns (bucket, key, size) for a created/updated file under /buckets/<bucket>/incoming/."""
    msg = payload.get("message") or payload.get("Message") or payload
    new = msg.get("new_entry") or msg.get("newEntry")
    if not new or new.get("is_directory") or new.get("isDirectory"):
        return None
    directory = msg.get("new_parent_path") or msg.get("newParentPath") or payload.get("key") or ""
    name = new.get("name", "")
    path = directory.rstrip("/") + "/" + name if name and not directory.endswith(name) else directory
    if not path.startswith("/buckets/"):
        path = payload.get("key", path)
    parts = path.split("/", 3)  # '', 'buckets', bucket, key
    if len(parts) < 4 or parts[1] != "buckets":
        return None
    bucket, key = parts[2], parts[3]
    if not key.startswith("incoming/"):
        return None
    attrs = new.get("attributes", {})
    size = int(attrs.get("file_size") or attrs.get("fileSize") or 0)
    return bucket, key, size


def deliver_forever():
    url = ARGS.invoke.rstrip("/") + "/2015-03-31/functions/process-upload/invocations"
    while True:
        event, attempt = EVENTS.get()
        key = event["Records"][0]["s3"]["object"]["key"]
        try:
            req = urllib.request.Request(url, data=json.dumps(event).encode(), method="POST",
                                         headers={"content-type": "application/json"})
            with urllib.request.urlopen(req, timeout=120) as resp:
                body = resp.read()
                failed = resp.headers.get("X-Amz-Function-Error") or resp.status >= 300
            if failed:
                raise RuntimeError(body[:300].decode(errors="replace"))
            log(msg="event delivered", key=key, attempt=attempt)
        except Exception as e:  # noqa: BLE001 - every failure is retried, like Lambda async invoke
            if attempt >= ARGS.max_attempts:
                log(msg="event dropped after retries", key=key, attempt=attempt, error=str(e)[:300])
                continue
            delay = min(2 ** attempt * 0.25, 5.0)
            log(msg="event delivery failed, retrying", key=key, attempt=attempt, delay=delay, error=str(e)[:300])
            threading.Timer(delay, lambda ev=event, a=attempt: EVENTS.put((ev, a + 1))).start()


class Handler(SimpleHTTPRequestHandler):
    def __init__(self, *a, **kw):
        super().__init__(*a, directory=ARGS.web, **kw)

    def log_message(self, fmt, *args):
        pass

    def send_json(self, code, obj):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("content-type", "application/json")
        self.send_header("cache-control", "no-store")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def receive_event(self, raw):
        """The local event receiver: what an app's webhook endpoint does, signature first."""
        secret = os.environ.get("EVENTS_WEBHOOK_SECRET", "").encode()
        expected = "sha256=" + hmac.new(secret, raw, hashlib.sha256).hexdigest()
        if not secret or not hmac.compare_digest(expected, self.headers.get("x-media-signature", "")):
            return self.send_json(401, {"error": {"code": "bad_signature", "message": "signature mismatch"}})
        with RECEIVED_LOCK:
            if FAILURES[0] > 0:
                FAILURES[0] -= 1
                return self.send_json(503, {"error": {"code": "unavailable", "message": "injected failure"}})
            event = json.loads(raw)
            RECEIVED.append(event)
            # The deliveries as sent (body bytes and signature), for the clients' signature tests.
            RAW.append({"body": raw.decode("utf-8", "replace"), "signature": self.headers.get("x-media-signature", "")})
            del RAW[:-200]
            if ARGS.events_log:
                with open(ARGS.events_log, "a") as f:
                    f.write(json.dumps(event, separators=(",", ":")) + "\n")
        log(msg="event received", id=event.get("id"), type=event.get("type"))
        return self.send_json(200, {"ok": True})

    def do_GET(self):
        u = urllib.parse.urlparse(self.path)
        if u.path == "/_events":
            q = urllib.parse.parse_qs(u.query)
            media_id = (q.get("media_id") or [None])[0]
            with RECEIVED_LOCK:
                items = [e for e in RECEIVED if media_id is None or e.get("media_id") == media_id]
            return self.send_json(200, {"events": items})
        if u.path == "/_events/raw":
            with RECEIVED_LOCK:
                return self.send_json(200, {"deliveries": list(RAW)})
        if u.path == "/dev/config.json":
            return self.send_json(200, {"api_url": os.environ.get("API_URL", "")})
        if u.path == "/dev/token":
            q = urllib.parse.parse_qs(u.query)
            sub = (q.get("sub") or ["demo-user"])[0][:128]
            scopes = [s for s in (q.get("scopes") or [""])[0].split(",") if s][:20]
            return self.send_json(200, {"token": mint(sub, scopes)})
        return super().do_GET()

    def do_POST(self):
        u = urllib.parse.urlparse(self.path)
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(min(length, 1 << 20))
        if u.path == "/_events":
            return self.receive_event(raw)
        if u.path == "/_events/fail":
            # Fault injection for the events tests: refuse the next N deliveries with 503.
            count = int((urllib.parse.parse_qs(u.query).get("count") or ["1"])[0])
            with RECEIVED_LOCK:
                FAILURES[0] = max(0, min(count, 100))
            return self.send_json(200, {"failing_next": FAILURES[0]})
        if u.path != "/_seaweed/notify":
            return self.send_json(404, {"error": {"code": "not_found", "message": "no such route"}})
        try:
            payload = json.loads(raw or b"{}")
        except ValueError:
            return self.send_json(400, {"error": {"code": "invalid_request", "message": "bad json"}})
        if ARGS.debug:
            log(msg="notification", payload=payload)
        found = parse_notification(payload)
        if found:
            bucket, key, size = found
            EVENTS.put((s3_event(bucket, key, size, ""), 1))
        return self.send_json(200, {"ok": True})


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=8081)
    p.add_argument("--invoke", required=True)
    p.add_argument("--web", required=True)
    p.add_argument("--max-attempts", type=int, default=8)
    p.add_argument("--events-log", default="")
    p.add_argument("--debug", action="store_true", default=os.environ.get("BRIDGE_DEBUG") == "1")
    ARGS = p.parse_args()
    for _ in range(4):
        threading.Thread(target=deliver_forever, daemon=True).start()
    server = ThreadingHTTPServer(("127.0.0.1", ARGS.port), Handler)
    log(msg="dev bridge listening", port=ARGS.port)
    server.serve_forever()


if __name__ == "__main__":
    main()
