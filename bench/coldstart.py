"""Cold start: time from process start to the first invocation answered, against a minimal
Lambda Runtime API stub on loopback. Median of N starts per binary."""
import http.server, json, os, statistics, subprocess, sys, threading, time, uuid

class Stub(http.server.ThreadingHTTPServer):
    daemon_threads = True
    def handle_error(self, request, client_address):
        pass  # the measured process is killed mid-poll on purpose

def serve(event_bytes, deadline_ms=30000):
    done = threading.Event()
    class H(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a): pass
        def do_GET(self):
            if done.is_set():
                time.sleep(30)  # no second invocation: the process is killed first
                return
            self.send_response(200)
            self.send_header("Lambda-Runtime-Aws-Request-Id", str(uuid.uuid4()))
            self.send_header("Lambda-Runtime-Deadline-Ms", str(int(time.time() * 1000) + deadline_ms))
            self.send_header("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:bench")
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(event_bytes)))
            self.end_headers()
            self.wfile.write(event_bytes)
        def do_POST(self):
            self.rfile.read(int(self.headers.get("content-length") or 0))
            done.set()  # before answering: the runtime polls for the next event at once
            self.send_response(202); self.send_header("Content-Length", "0"); self.end_headers()
    srv = Stub(("127.0.0.1", 0), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, done

def measure(cmd, event, env, runs, deadline_ms=30000):
    times = []
    for _ in range(runs):
        srv, done = serve(json.dumps(event).encode(), deadline_ms)
        e = dict(os.environ, **env, AWS_LAMBDA_RUNTIME_API=f"127.0.0.1:{srv.server_address[1]}",
                 AWS_LAMBDA_FUNCTION_NAME="bench", AWS_LAMBDA_FUNCTION_MEMORY_SIZE="256", AWS_LAMBDA_FUNCTION_VERSION="1",
                 AWS_REGION="us-east-1", AWS_ACCESS_KEY_ID="AKIDEXAMPLE", AWS_SECRET_ACCESS_KEY="secret", RUST_LOG="error")
        t = time.perf_counter()
        p = subprocess.Popen(cmd, env=e, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        ok = done.wait(60)
        times.append((time.perf_counter() - t) * 1000 if ok else float("nan"))
        p.kill(); p.wait(); srv.shutdown(); srv.server_close()
    return statistics.median(times)

if __name__ == "__main__":
    print(json.dumps(measure(sys.argv[1:], {}, {}, 3)))
