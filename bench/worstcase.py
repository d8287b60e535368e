"""The worst-case renders: the largest sizes and formats the transform route lists, on the
inputs that cost most (a 50 MP JPEG, a 10:1 panorama covered at 2560 x 2560, the largest
AVIF the route renders), each pinned to one core, with its share of the render budget
(`VERIFY_BUDGET_MS`, 8 s). The transform function has 1,769 MB: one whole vCPU.

`bench/worstcase` runs this alone and rewrites the "Worst-case renders" section of
bench/RESULTS.md; `bench/run` includes it."""
import datetime, json, os, statistics, sys, tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import replace_section, BENCH, ONE_CORE_ENV, PINNED, REL, run_child  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

BUDGET_MS = 8000
RUNS, WARMUP = 3, 1
PANORAMA = "jpeg-panorama-10to1.jpg"
CASES = [
    ("jpeg-baseline-50mp.jpg", "w=2560&format=webp"),
    ("jpeg-baseline-50mp.jpg", "w=2560&format=jpeg"),
    ("jpeg-baseline-50mp.jpg", "w=2560&h=2560&fit=cover&format=webp"),
    (PANORAMA, "w=2560&h=2560&fit=cover&format=webp"),
    (PANORAMA, "w=2560&h=2560&fit=cover&format=jpeg"),
    ("png-rgba-15mp.png", "w=2560&format=webp"),
    ("webp-lossy-20mp.webp", "w=2560&format=webp"),
    # The largest AVIFs the route renders (AVIF_MAX_PIXELS, 2 MP): 1600 x 1200 and a square cover.
    ("jpeg-baseline-420-12mp.jpg", "w=1600&format=avif"),
    ("webp-lossy-20mp.webp", "w=1600&format=avif"),
    ("jpeg-baseline-420-12mp.jpg", "w=1280&h=1280&fit=cover&format=avif"),
    # Refused by the route since this change (over AVIF_MAX_PIXELS; auto answers WebP): shown
    # for the reason.
    ("jpeg-baseline-420-12mp.jpg", "w=2560&format=avif"),
]


def panorama(path):
    """A 6000 x 600 photo-like JPEG (gradients, texture, edges) at q90, made here."""
    if os.path.exists(path):
        return
    rng = np.random.default_rng(7)
    x = np.linspace(0, 1, 6000)[None, :, None]
    y = np.linspace(0, 1, 600)[:, None, None]
    base = np.concatenate([120 + 100 * np.sin(6 * x + 2 * y), 90 + 80 * y + 0 * x, 150 - 100 * x + 0 * y], axis=2)
    texture = rng.normal(0, 18, (600, 6000, 3))
    ridges = 40 * (np.sin(x * 400) > 0.7)
    img = np.clip(base + texture + ridges, 0, 255).astype(np.uint8)
    Image.fromarray(img).save(path, quality=90)


def measure(path, query):
    with tempfile.TemporaryDirectory() as d:
        data, rss = run_child(PINNED + [os.path.join(REL, "render-variant"), path, query, str(RUNS), str(WARMUP), os.path.join(d, "out")], ONE_CORE_ENV)
    return {"ms": max(data["times_ms"]), "median_ms": statistics.median(data["times_ms"]), "rss_mb": rss, "size": f"{data['width']}x{data['height']}", "bytes": data["bytes"]}


def section(rows):
    lines = ["## Worst-case renders (issue: render cost bounded per request)", "",
             f"Measured {datetime.date.today()} by `bench/worstcase` (`bench/run` includes it): `target/release/render-variant`, the production render path,",
             f"pinned to one core (`taskset -c 0`), slowest of {RUNS} runs after {WARMUP} warm-up. Budget: the {BUDGET_MS} ms every render runs under;",
             "the transform function has 1,769 MB, one whole vCPU.", "",
             "| input | transform | output | slowest ms | median ms | share of budget | peak MB | bytes |", "|---|---|---|---|---|---|---|---|"]
    for name, query, r in rows:
        lines.append(f"| {name} | `{query}` | {r['size']} | {r['ms']:.0f} | {r['median_ms']:.0f} | {r['ms'] / BUDGET_MS:.0%} | {r['rss_mb']:.0f} | {r['bytes']} |")
    served = [r for name, q, r in rows if q != "w=2560&format=avif"]
    lines += ["", f"Every size and format the route renders: at most {max(r['ms'] for r in served):.0f} ms here, {max(r['ms'] for r in served) / BUDGET_MS:.0%} of the budget.",
              "A 2560 px AVIF (last row) is over `AVIF_MAX_PIXELS`: `format=auto` answers WebP for it and `format=avif` is 400 `invalid_transform`.",
              "A cover crop resizes only its source window (the panorama rows), so a 10:1 image covered at 2560 x 2560 never makes the 25600 x 2560 intermediate."]
    return lines


def rows():
    fixtures = os.path.join(BENCH, "fixtures")
    panorama(os.path.join(fixtures, PANORAMA))
    out = []
    for name, query in CASES:
        r = measure(os.path.join(fixtures, name), query)
        out.append((name, query, r))
        print(json.dumps({"input": name, "query": query, **r}), file=sys.stderr)
    return out


def main():
    text = "\n".join(section(rows())) + "\n"
    replace_section("## Worst-case renders", text)
    print(text)


if __name__ == "__main__":
    main()
