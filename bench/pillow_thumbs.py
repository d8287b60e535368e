"""Pillow's best pipeline for the same job: draft mode (DCT-scaled JPEG decode), EXIF
transpose, then a LANCZOS cascade, WebP q80 method 4."""
import io, json, sys, time
import os
from PIL import Image, ImageOps
if os.environ.get("PILLOW_HEIF"):
    # HEIC input: pillow-heif (libheif + libde265), the opener a Python user would install.
    import pillow_heif
    pillow_heif.register_heif_opener()

input_path, runs, warmup = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
outdir = sys.argv[4] if len(sys.argv) > 4 else None
data = open(input_path, "rb").read()
Image.MAX_IMAGE_PIXELS = None
sizes = [1024, 512, 128]
times, cpu, last = [], [], []
for i in range(runs + warmup):
    t, c = time.perf_counter(), time.process_time()
    im = Image.open(io.BytesIO(data))
    long = max(im.size)
    wanted = [s for s in sizes if s < long]
    if im.format == "JPEG":
        im.draft("RGB", (max(1, im.size[0] * wanted[0] // long), max(1, im.size[1] * wanted[0] // long)))
    im = ImageOps.exif_transpose(im)
    out, prev = [], im
    for s in wanted:
        prev = prev.copy()
        prev.thumbnail((s, s), Image.LANCZOS)
        b = io.BytesIO()
        prev.save(b, "WEBP", quality=80, method=4)
        out.append((s, prev.size, b.getvalue()))
    if i >= warmup:
        times.append((time.perf_counter() - t) * 1000)
        cpu.append((time.process_time() - c) * 1000)
    last = out
if outdir:
    for s, _, b in last:
        open(f"{outdir}/{s}.webp", "wb").write(b)
hwm = int(next(l.split()[1] for l in open("/proc/self/status") if l.startswith("VmHWM:")))
print(json.dumps({"peak_rss_kb": hwm, "times_ms": times, "cpu_ms": cpu, "outputs": [{"size": s, "width": w, "height": h, "bytes": len(b)} for s, (w, h), b in last]}))
