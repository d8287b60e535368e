"""The encoder sweep (issue 14): for each photo class, our 1024 px WebP at method 2-4 x quality
x SNS strength against sharp's own 1024 px output (q80, effort 4), by bytes and SSIM against
the same full-decode LANCZOS reference run.py uses, pinned to one core. bench/run appends it to
RESULTS.md; `bench/sweep` runs it alone."""
import json, os, subprocess, sys, tempfile
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import BENCH, REL, PINNED, ONE_CORE_ENV, scorer  # noqa: E402

def table():
    fixtures = os.path.join(BENCH, "fixtures")
    classes = [n for n in sorted(os.listdir(fixtures)) if "50mp" not in n]
    return render(classes, sweep(fixtures, classes))

def sweep(fixtures, classes):
    rows = {}
    env = dict(os.environ, **ONE_CORE_ENV)
    for name in classes:
        path = os.path.join(fixtures, name)
        score = scorer(path, 1024)
        with tempfile.TemporaryDirectory() as out:
            subprocess.run(PINNED + ["node", os.path.join(BENCH, "sharp.mjs"), path, "1", "0", out], check=True, capture_output=True, env=env)
            sharp = {"bytes": os.path.getsize(os.path.join(out, "1024.webp")), "ssim": score(os.path.join(out, "1024.webp"))}
            p = subprocess.run(PINNED + [os.path.join(REL, "encoder-sweep"), path, out], check=True, capture_output=True, env=env)
            for line in p.stdout.decode().splitlines():
                r = json.loads(line)
                r["ssim"] = score(os.path.join(out, r["file"]))
                rows.setdefault((r["method"], r["quality"], r["sns"]), {})[name] = (r, sharp)
        print(name, "sharp", sharp, file=sys.stderr)
    return rows

def render(classes, rows):
    short = [n.split(".")[0] for n in classes]
    lines = ["| method | quality | SNS | encode ms (mean) | " + " | ".join(f"{c}: bytes/sharp, ΔSSIM" for c in short)
             + " | bytes/sharp (worst) | ΔSSIM (worst) | JPEG+WebP classes within +5% and -0.002 |",
             "|---" * (7 + len(classes)) + "|"]
    for (m, q, s), per in sorted(rows.items()):
        ms = sum(r["encode_ms"] for r, _ in per.values()) / len(per)
        byte_ratio = max(r["bytes"] / sh["bytes"] for r, sh in per.values())
        dssim = min(r["ssim"] - sh["ssim"] for r, sh in per.values())
        photo = [per[n] for n in classes if not n.endswith(".png")]
        ok = all(r["bytes"] <= 1.05 * sh["bytes"] and r["ssim"] >= sh["ssim"] - 0.002 for r, sh in photo)
        cells = " | ".join(f"{per[n][0]['bytes'] / per[n][1]['bytes']:.2f}, {per[n][0]['ssim'] - per[n][1]['ssim']:+.4f}" for n in classes)
        lines.append(f"| {m} | {q:g} | {s} | {ms:.1f} | {cells} | {byte_ratio:.3f} | {dssim:+.4f} | {'yes' if ok else 'no'} |")
    return lines

if __name__ == "__main__":
    print("\n".join(table()))
