"""Init plus the first S3 call over TLS: SeaweedFS (the local emulator) started with its HTTPS
port and a throwaway self-signed certificate, and `target/release/first-call` (a function's init,
then HeadBucket twice) run N times against it, over https and, for comparison, plain http.
The https runs trust the certificate through SSL_CERT_FILE (an https endpoint override makes
the functions use the system store, bench/RESULTS.md) with SSL_CERT_DIR empty, so no time goes
to reading a system store that production does not read."""
import json, os, shutil, socket, statistics, subprocess, sys, tempfile, time, urllib.request, ssl

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WEED = os.path.join(ROOT, ".local/venv/bin/weed")
FIRST_CALL = os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release", "first-call")
KEY_ID, SECRET = "benchaccesskey", "benchsecretkey0123456789abcdef"

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

def wait(url, ctx=None, deadline_s=60):
    end = time.monotonic() + deadline_s
    while True:
        try:
            urllib.request.urlopen(url, timeout=2, context=ctx)
            return
        except urllib.error.HTTPError:
            return  # any HTTP answer: the server is up
        except OSError:
            if time.monotonic() > end:
                raise RuntimeError(f"SeaweedFS did not answer on {url}")
            time.sleep(0.2)

def seaweed_tls(tmp):
    cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-addext", "basicConstraints=critical,CA:FALSE",
                    "-addext", "extendedKeyUsage=serverAuth", "-keyout", key, "-out", cert],
                   check=True, capture_output=True)
    ids = os.path.join(tmp, "identities.json")
    json.dump({"identities": [{"name": "bench", "credentials": [{"accessKey": KEY_ID, "secretKey": SECRET}], "actions": ["Admin", "Read", "Write", "List"]}]}, open(ids, "w"))
    ports = {name: free_port() for name in ["s3", "https", "master", "volume", "filer", "s3g", "mg", "vg", "fg"]}
    data = os.path.join(tmp, "data")
    os.makedirs(data)
    proc = subprocess.Popen([WEED, "mini", f"-dir={data}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
                             f"-s3.port={ports['s3']}", f"-s3.port.https={ports['https']}", f"-s3.cert.file={cert}", f"-s3.key.file={key}",
                             f"-s3.config={ids}", f"-s3.port.grpc={ports['s3g']}",
                             f"-master.port={ports['master']}", f"-master.port.grpc={ports['mg']}",
                             f"-volume.port={ports['volume']}", f"-volume.port.grpc={ports['vg']}",
                             f"-filer.port={ports['filer']}", f"-filer.port.grpc={ports['fg']}",
                             "-master.telemetry=false", "-webdav=false", "-admin.ui=false", "-s3.port.iceberg=0", "-s3.port.lance=0"],
                            cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ctx = ssl.create_default_context(cafile=cert)
    wait(f"http://127.0.0.1:{ports['s3']}")
    wait(f"https://127.0.0.1:{ports['https']}", ctx)
    return proc, cert, ports

def run(endpoint, cert, empty_dir, runs):
    env = dict(os.environ, S3_BUCKET="bench", TABLE_NAME="bench", AUTH_MODE="hs256", JWT_HS256_SECRET="x" * 40,
               JWT_ISSUER="iss", JWT_AUDIENCE="aud", CURSOR_SECRET="y" * 40, TRANSFORM_SECRET="z" * 40,
               TRANSFORM_BASE_URL="https://cdn.invalid", S3_ENDPOINT=endpoint, DYNAMODB_ENDPOINT="http://127.0.0.1:9",
               AWS_REGION="us-east-1", AWS_ACCESS_KEY_ID=KEY_ID, AWS_SECRET_ACCESS_KEY=SECRET, RUST_LOG="error",
               SSL_CERT_FILE=cert, SSL_CERT_DIR=empty_dir)
    rows = []
    for _ in range(runs):
        t = time.perf_counter()
        out = subprocess.run([FIRST_CALL], env=env, capture_output=True, text=True, check=True).stdout
        wall = (time.perf_counter() - t) * 1000
        r = json.loads(out)
        r["process_ms"] = wall
        rows.append(r)
    answers = sorted({a for r in rows for a in r["answers"]})
    med = lambda k: statistics.median(r[k] for r in rows)
    return {"init_ms": med("init_ms"), "first_call_ms": med("first_call_ms"), "second_call_ms": med("second_call_ms"),
            "process_ms": med("process_ms"), "answers": answers}

def measure(runs=20):
    tmp = tempfile.mkdtemp(prefix="firstcall-")
    proc = None
    try:
        proc, cert, ports = seaweed_tls(tmp)
        empty_dir = os.path.join(tmp, "no-certs")
        os.makedirs(empty_dir)
        return {"https": run(f"https://127.0.0.1:{ports['https']}", cert, empty_dir, runs),
                "http": run(f"http://127.0.0.1:{ports['s3']}", cert, empty_dir, runs)}
    finally:
        if proc:
            proc.terminate()
            proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)

def section(m):
    lines = ["### Init plus the first S3 call (SeaweedFS over TLS on loopback)", "",
             "`bench/firstcall.py` (also run by `bench/run`): SeaweedFS `weed mini` with its HTTPS port and a throwaway",
             "P-256 certificate; `first-call` builds a function's configuration and SDK clients, then sends HeadBucket",
             "twice. Median of the runs; the https runs trust only that certificate (SSL_CERT_FILE, SSL_CERT_DIR empty).", "",
             "| endpoint | init ms | first call ms (connect, TLS handshake, signing, answer) | second call ms (same connection) | process start to exit ms | answers |",
             "|---|---|---|---|---|---|"]
    for k in ["https", "http"]:
        r = m[k]
        lines.append(f"| {k} | {r['init_ms']:.1f} | {r['first_call_ms']:.1f} | {r['second_call_ms']:.1f} | {r['process_ms']:.1f} | {', '.join(r['answers'])} |")
    return lines

if __name__ == "__main__":
    m = measure(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
    print(json.dumps(m, indent=1))
    print("\n".join(section(m)))
