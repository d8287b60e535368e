"""Phone media rows of bench/run: a 12 MP HEIC photo to thumbnails (ours, the production path
with its display rendition, against Pillow + pillow-heif, which is libheif + libde265), and a
video poster (ours: the keyframe nearest 1 s located from the moov, decoded and rendered;
against the pinned static ffmpeg `-ss 1 -frames:v 1` followed by the same rendering from its
frame). Both pinned to one core, ratios from the same run. Fixtures are generated here by the
pinned encoders (pillow-heif, the static ffmpeg), never downloaded."""
import json, os, statistics, subprocess, sys, tempfile, time

import imageio_ffmpeg
import pillow_heif
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench")
FIXTURES = os.path.join(BENCH, "phone-fixtures")
PINNED = ["taskset", "-c", "0"]
ONE_CORE_ENV = {"VIPS_CONCURRENCY": "1", "UV_THREADPOOL_SIZE": "1", "OMP_NUM_THREADS": "1"}
FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()


def fixtures(source_jpeg):
    """heic-12mp.heic: a 12 MP photo as an iPhone stores it (a grid of 512 px HEVC tiles);
    1080p 10 s clips with a keyframe every second, H.264 and HEVC."""
    os.makedirs(FIXTURES, exist_ok=True)
    heic = os.path.join(FIXTURES, "heic-12mp.heic")
    if not os.path.exists(heic):
        im = Image.open(source_jpeg).convert("RGB").resize((4032, 3024), Image.LANCZOS)
        pillow_heif.from_pillow(im).save(heic, quality=80, tile_size=512)
    clips = {}
    for name, codec in [("video-1080p-h264.mp4", ["-c:v", "libx264", "-preset", "medium"]),
                        ("video-1080p-hevc.mp4", ["-c:v", "libx265", "-preset", "fast", "-tag:v", "hvc1", "-x265-params", "log-level=error"])]:
        path = os.path.join(FIXTURES, name)
        if not os.path.exists(path):
            subprocess.run([FFMPEG, "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=1920x1080:rate=30:duration=10",
                            *codec, "-g", "30", "-pix_fmt", "yuv420p", "-b:v", "6M", path], check=True)
        clips[name] = path
    return heic, clips


def run_json(cmd, env=None):
    p = subprocess.run(PINNED + cmd, capture_output=True, env=dict(os.environ, **ONE_CORE_ENV, **(env or {})))
    if p.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed: {p.stderr.decode()[-400:]}")
    return json.loads(p.stdout)


def ffmpeg_frame_ms(video, out_png, runs):
    """Wall time of the peer's extraction, one thread, pinned."""
    times = []
    for i in range(runs + 2):
        t = time.perf_counter()
        subprocess.run(PINNED + [FFMPEG, "-hide_banner", "-loglevel", "error", "-y", "-threads", "1", "-ss", "1", "-i", video,
                                 "-frames:v", "1", out_png], check=True, env=dict(os.environ, **ONE_CORE_ENV))
        if i >= 2:
            times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def pillow_heif_decode_ms(heic, runs):
    code = ("import sys, time, pillow_heif\n"
            "pillow_heif.options.DECODE_THREADS = 1\n"
            "d = open(sys.argv[1], 'rb').read(); ts = []\n"
            "for i in range(int(sys.argv[2]) + 2):\n"
            "    t = time.perf_counter(); pillow_heif.open_heif(d).data; ts.append((time.perf_counter() - t) * 1000)\n"
            "ts = sorted(ts[2:]); print(ts[len(ts) // 2])\n")
    out = subprocess.run(PINNED + [sys.executable, "-c", code, heic, str(runs)], capture_output=True, text=True, check=True, env=dict(os.environ, **ONE_CORE_ENV))
    return float(out.stdout.strip())


def table(rel, source_jpeg, runs):
    heic, clips = fixtures(source_jpeg)
    lines = ["## Phone media", "",
             "One core (`taskset -c 0`), medians of %d runs after 2 warm-ups; ratios are ours/peer from this run. "
             "Reproduce: `bench/run` (or `python3 bench/phone.py` after it has built the release binaries)." % runs, "",
             "| input | ours ms | peer | peer ms | ratio | ours peak RSS MB | peer peak RSS MB | ours output |",
             "|---|---|---|---|---|---|---|---|"]
    rows = {}
    with tempfile.TemporaryDirectory() as out:
        ours = run_json([os.path.join(rel, "thumbs"), heic, str(runs), "2", out])
        peer = run_json([sys.executable, os.path.join(BENCH, "pillow_thumbs.py"), heic, str(runs), "2", out], {"PILLOW_HEIF": "1"})
    o, p = statistics.median(ours["times_ms"]), statistics.median(peer["times_ms"])
    rows["heic-12mp"] = o / p
    lines.append(f"| heic-12mp.heic (4032x3024, 512 px grid) → 1024/512/128 WebP (+ full-size JPEG rendition, ours) | {o:.0f} | Pillow + pillow-heif (libheif + libde265) | {p:.0f} | {o / p:.2f} | "
                 f"{ours['peak_rss_kb'] / 1024:.0f} | {peer['peak_rss_kb'] / 1024:.0f} | {', '.join(x['width'].__str__() + 'x' + x['height'].__str__() for x in ours['outputs'])} |")
    for name, path in clips.items():
        ours = run_json([os.path.join(rel, "poster"), path, str(runs), "2"])
        with tempfile.TemporaryDirectory() as out:
            png = os.path.join(out, "frame.png")
            ff = ffmpeg_frame_ms(path, png, runs)
            rest = run_json([os.path.join(rel, "poster"), "--frame", png, str(runs), "2"])
        o, p = statistics.median(ours["times_ms"]), ff + statistics.median(rest["times_ms"])
        rows[name] = o / p
        lines.append(f"| {name} (10 s, keyframe every 1 s) → poster + 512/128 | {o:.0f} | ffmpeg 7.0.2 `-ss 1 -frames:v 1` ({ff:.0f} ms) + the same rendering | {p:.0f} | {o / p:.2f} | "
                     f"{ours['peak_rss_kb'] / 1024:.0f} | {rest['peak_rss_kb'] / 1024:.0f} (rendering) | poster {ours['poster']}, {ours['bytes']} bytes |")
    stages = run_json([os.path.join(rel, "heic-stages"), heic, str(runs)])
    peer_decode = pillow_heif_decode_ms(heic, runs)
    lines += ["", f"Where the HEIC time goes (ours, `heic-stages`, one core): container walk and probe {stages['probe_ms']:.0f} ms, "
              f"HEVC decode to RGB {stages['decode_rgb_ms']:.0f} ms, the display JPEG {stages['display_jpeg_ms']:.0f} ms, the rest "
              f"(thumbnails, placeholder) {stages['whole_ms'] - stages['decode_rgb_ms'] - stages['display_jpeg_ms']:.0f} ms. "
              f"pillow-heif's decode alone (libheif + libde265, one thread) is {peer_decode:.0f} ms: the decode is at the C decoder's "
              "speed, and the display rendition every browser needs is work the peer does not do."]
    lines += ["", "The HEIC row times the whole production path: container walk, HEVC decode of 48 tiles (pure Rust), "
              "the full-size JPEG rendition every browser shows, three WebP thumbnails and the placeholder; Pillow's "
              "does the decode (libde265, C with SIMD) and three WebP thumbnails only. The poster rows read one keyframe; "
              "ffmpeg opens the whole container, seeks and decodes to 1 s.", ""]
    return lines, rows


if __name__ == "__main__":
    # This section alone, fresh, written into bench/RESULTS.md in place of the old one (bench/run
    # must have built the release binaries and the photo fixtures first).
    import datetime
    sys.path.insert(0, BENCH)
    from run import replace_section
    rel = os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release")
    src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(BENCH, "fixtures", "jpeg-baseline-420-12mp.jpg")
    lines, _ = table(rel, src, int(os.environ.get("BENCH_RUNS", "9")))
    lines.insert(2, f"Measured {datetime.date.today()} by `python3 bench/phone.py` on this section alone.")
    lines.insert(3, "")
    text = "\n".join(lines) + "\n"
    replace_section("## Phone media", text)
    print(text)
