"""The cost model that chooses the default WebP method (issue 27, point 1): for each libwebp
method 0-6, the production thumbnail path (`thumbs` with WEBP_METHOD) on one core, priced in
dollars per million uploads as compute (Lambda GB-s at process-upload's memory) plus serving
(CloudFront egress of the three thumbnails x SERVES), beside the 1024 px output goal against
sharp (bytes <= sharp's, SSIM >= sharp's - 0.002).

Run by bench/run.py (its section "The default WebP method"); `price` alone is checked by
`python3 bench/cost.py --self-check`; `python3 bench/cost.py <fixtures>` prints the table."""
import os, statistics, sys, tempfile

# us-east-1 list prices: Lambda arm64 per GB-s; CloudFront's first 10 TB tier per GB out.
LAMBDA_GB_S = 0.0000133334
EGRESS_PER_GB = 0.085
# process-upload's MemorySize in template.yaml, and how often a thumbnail is served.
MEMORY_GB = 1024 / 1024
SERVES = int(os.environ.get("BENCH_SERVES", "100"))

def price(encode_ms, thumb_bytes, serves=SERVES, memory_gb=MEMORY_GB):
    """Dollars per million uploads: (compute, serving) for one upload's thumbnails."""
    compute = encode_ms / 1000 * memory_gb * LAMBDA_GB_S * 1e6
    serving = thumb_bytes * serves / 1e9 * EGRESS_PER_GB * 1e6
    return compute, serving

def measure(fixtures, methods=range(7), quality=80, runs=5):
    """Per method and class: median ms, total bytes, 1024 px bytes and SSIM, and sharp's."""
    from run import REL, PINNED, ONE_CORE_ENV, BENCH, run_child, scorer
    rows = {}
    for name in sorted(os.listdir(fixtures)):
        path = os.path.join(fixtures, name)
        score = scorer(path, 1024)
        with tempfile.TemporaryDirectory() as out:
            data, _ = run_child(PINNED + ["node", os.path.join(BENCH, "sharp.mjs"), path, "1", "0", out], ONE_CORE_ENV)
            sharp = {"bytes_1024": os.path.getsize(os.path.join(out, "1024.webp")), "ssim": score(os.path.join(out, "1024.webp"))}
        for m in methods:
            with tempfile.TemporaryDirectory() as out:
                data, _ = run_child(PINNED + [os.path.join(REL, "thumbs"), path, str(runs), "1", out], dict(ONE_CORE_ENV, WEBP_METHOD=str(m), WEBP_QUALITY=str(quality)))
                rows.setdefault(m, {})[name] = {
                    "ms": statistics.median(data["times_ms"]),
                    "bytes": sum(o["bytes"] for o in data["outputs"]),
                    "bytes_1024": os.path.getsize(os.path.join(out, "1024.webp")),
                    "ssim": score(os.path.join(out, "1024.webp")), "sharp": sharp}
    return rows

def render(rows):
    """The table, and the method whose mean total over the classes is least."""
    lines = [f"| method | ms (mean) | thumbnail bytes (mean) | compute $/1M | serving $/1M ({SERVES} serves) | total $/1M | 1024 px bytes/sharp (worst) | ΔSSIM (worst) | goal holds |",
             "|---|---|---|---|---|---|---|---|---|"]
    best = None
    for m, per in sorted(rows.items()):
        ms = statistics.mean(r["ms"] for r in per.values())
        b = statistics.mean(r["bytes"] for r in per.values())
        compute, serving = price(ms, b)
        ratio = max(r["bytes_1024"] / r["sharp"]["bytes_1024"] for r in per.values())
        dssim = min(r["ssim"] - r["sharp"]["ssim"] for r in per.values())
        ok = ratio <= 1.0 and dssim >= -0.002
        lines.append(f"| {m} | {ms:.0f} | {b:.0f} | {compute:.2f} | {serving:.2f} | {compute + serving:.2f} | {ratio:.3f} | {dssim:+.4f} | {'yes' if ok else 'no'} |")
        if best is None or compute + serving < best[1]:
            best = (m, compute + serving)
    return lines, best[0]

def worst_dssim(per):
    return min(r["ssim"] - r["sharp"]["ssim"] for r in per.values())

def tune(fixtures, method, rows80, top=90):
    """The lowest quality from 80 at which `method` keeps every class's 1024 px SSIM within
    0.002 of sharp's, and that setting's rows (one timed run after a warm-up: bytes and SSIM are
    deterministic, and compute is a small part of the total). (None, None) when none up to `top`."""
    if worst_dssim(rows80) >= -0.002:
        return 80, rows80
    for q in range(81, top + 1):
        rows = measure(fixtures, [method], quality=q, runs=1)[method]
        if worst_dssim(rows) >= -0.002:
            return q, rows
    return None, None

def decide(fixtures):
    """Every method at q80, then every method at the lowest quality that matches sharp's SSIM,
    priced there: a method that buys bytes with SSIM is compared at equal quality, not credited
    for it. Returns (lines, method, quality) of the least total at equal quality."""
    rows = measure(fixtures)
    lines, _ = render(rows)
    tuned, quality = {}, {}
    for m in sorted(rows):
        q, r = tune(fixtures, m, rows[m])
        if r is not None:
            tuned[m], quality[m] = r, q
    more, best = render(tuned)
    more = [more[0].replace("| method |", "| method, quality |"), more[1]] + [
        l.replace(f"| {m} |", f"| {m}, q{quality[m]} |", 1) for l, m in zip(more[2:], sorted(tuned))]
    return lines + ["", "At the lowest quality (from 80) whose worst class is within SSIM 0.002 of sharp's:", ""] + more, best, quality.get(best)

if __name__ == "__main__":
    if sys.argv[1:] == ["--self-check"]:
        # 200 KB of thumbnails served 100 times: 20 TB per million uploads at $0.085/GB.
        assert abs(price(0, 200_000)[1] - 1700.0) < 1e-6
        # One second at 1 GB is 1e6 GB-s per million uploads.
        assert abs(price(1000, 0)[0] - 13.3334) < 1e-6
        print("ok")
    else:
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        lines, best, q = decide(sys.argv[1])
        print("\n".join(lines + ["", f"least total at equal quality: method {best}, q{q}"]))
