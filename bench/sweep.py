"""The encoder sweep (issue 14): for each photo class, our 1024 px WebP at method 2-4 x quality
x SNS strength against sharp's own 1024 px output (q80, effort 4), by bytes and SSIM against
the same full-decode LANCZOS reference run.py uses. Pinned to one core. Prints a Markdown table.
Run: bench/sweep (builds, then runs this)."""
import json, os, subprocess, sys, tempfile
from PIL import Image
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import BENCH, REL, PINNED, ONE_CORE_ENV, ssim, luma, reference  # noqa: E402

fixtures = os.path.join(BENCH, "fixtures")
classes = [n for n in sorted(os.listdir(fixtures)) if "50mp" not in n]
rows = {}
for name in classes:
    path = os.path.join(fixtures, name)
    ref = luma(reference(path, 1024))
    def score(f):
        got = Image.open(f)
        if got.size != ref.shape[::-1]:
            got = got.resize(ref.shape[::-1], Image.LANCZOS)
        return ssim(luma(got), ref)
    with tempfile.TemporaryDirectory() as out:
        env = dict(os.environ, **ONE_CORE_ENV)
        subprocess.run(PINNED + ["node", os.path.join(BENCH, "sharp.mjs"), path, "1", "0", out], check=True, capture_output=True, env=env)
        sharp = {"bytes": os.path.getsize(os.path.join(out, "1024.webp")), "ssim": score(os.path.join(out, "1024.webp"))}
        p = subprocess.run(PINNED + [os.path.join(REL, "encoder-sweep"), path, out], check=True, capture_output=True, env=env)
        for line in p.stdout.decode().splitlines():
            r = json.loads(line)
            r["ssim"] = score(os.path.join(out, r["file"]))
            rows.setdefault((r["method"], r["quality"], r["sns"]), {})[name] = (r, sharp)
    print(name, "sharp", sharp, file=sys.stderr)

short = [n.split(".")[0] for n in classes]
print("| method | quality | SNS | encode ms (mean) | " + " | ".join(f"{c}: bytes, ΔSSIM" for c in short) + " | bytes / sharp (worst) | SSIM - sharp (worst) | within +5% and -0.002 |")
print("|---" * (7 + len(classes)) + "|")
for (m, q, s), per in sorted(rows.items()):
    ms = sum(r["encode_ms"] for r, _ in per.values()) / len(per)
    byte_ratio = max(r["bytes"] / sh["bytes"] for r, sh in per.values())
    dssim = min(r["ssim"] - sh["ssim"] for r, sh in per.values())
    ok = "yes" if byte_ratio <= 1.05 and dssim >= -0.002 else "no"
    cells = " | ".join(f"{per[n][0]['bytes'] / per[n][1]['bytes']:.2f}, {per[n][0]['ssim'] - per[n][1]['ssim']:+.4f}" for n in classes)
    print(f"| {m} | {q:g} | {s} | {ms:.1f} | {cells} | {byte_ratio:.3f} | {dssim:+.4f} | {ok} |")
