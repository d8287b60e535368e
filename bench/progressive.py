"""Progressive JPEG fixtures with real encoders' scan scripts (issue 27, point 4), and the two
statistics every JPEG row should carry: bits per pixel and scan count.

Made with Debian's libjpeg-turbo-progs (`cjpeg`, `jpegtran`), from a photo-like source:
- `cjpeg -progressive` at q92: libjpeg's standard script (jcparam.c `jpeg_simple_progression`,
  10 scans for YCbCr, with successive approximation), as cameras' and editors' exports use;
- `jpegtran -progressive` of a baseline file: the same script over the same coefficients;
- `jpegtran -scans` with mozjpeg's JCP_MAX_COMPRESSION script (luma 9-63 before the luma
  refinements: an order libjpeg's own script never uses).

Not yet wired into bench/run.py: `python3 bench/progressive.py <source.png|ppm> <outdir>` writes
the three files and prints their statistics."""
import os, subprocess, sys

# mozjpeg jcparam.c, JCP_MAX_COMPRESSION, three components: DC first, then low then high
# frequencies, with luma refined by successive approximation in between.
MOZJPEG_SCANS = """0,1,2: 0 0 0 0;
0: 1 8 0 2;
1: 1 8 0 0;
2: 1 8 0 0;
0: 9 63 0 2;
0: 1 63 2 1;
0: 1 63 1 0;
1: 9 63 0 0;
2: 9 63 0 0;
"""

def jpeg_stats(path):
    """(bits per pixel, scans, width, height) of a JPEG, read from its markers."""
    data = open(path, "rb").read()
    i, scans, size = 2, 0, None
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            raise ValueError(f"{path}: no marker at {i}")
        marker = data[i + 1]
        if marker == 0xFF:
            i += 1
            continue
        if marker == 0xD9:
            break
        length = int.from_bytes(data[i + 2:i + 4], "big")
        if marker in (0xC0, 0xC1, 0xC2):
            h = int.from_bytes(data[i + 5:i + 7], "big")
            w = int.from_bytes(data[i + 7:i + 9], "big")
            size = (w, h)
        i += 2 + length
        if marker == 0xDA:
            scans += 1
            # Entropy-coded data runs to the next marker that is not a stuffed byte or a restart.
            while i + 1 < len(data) and not (data[i] == 0xFF and data[i + 1] not in (0x00, *range(0xD0, 0xD8))):
                i += 1
    if not size:
        raise ValueError(f"{path}: no frame header")
    return len(data) * 8 / (size[0] * size[1]), scans, size[0], size[1]

def make(source, outdir, quality=92):
    """Writes the three progressive fixtures from `source` (PPM or PNG, made PPM first)."""
    os.makedirs(outdir, exist_ok=True)
    ppm = source
    if not source.endswith((".ppm", ".pnm")):
        from PIL import Image
        ppm = os.path.join(outdir, "source.ppm")
        Image.open(source).convert("RGB").save(ppm)
    out = {}
    std = os.path.join(outdir, f"jpeg-progressive-libjpeg-q{quality}.jpg")
    subprocess.run(["cjpeg", "-quality", str(quality), "-progressive", "-optimize", "-outfile", std, ppm], check=True)
    out[std] = jpeg_stats(std)
    base = os.path.join(outdir, "baseline.tmp.jpg")
    subprocess.run(["cjpeg", "-quality", str(quality), "-optimize", "-outfile", base, ppm], check=True)
    scans = os.path.join(outdir, "mozjpeg.scans")
    open(scans, "w").write(MOZJPEG_SCANS)
    moz = os.path.join(outdir, f"jpeg-progressive-mozjpeg-script-q{quality}.jpg")
    subprocess.run(["jpegtran", "-scans", scans, "-optimize", "-outfile", moz, base], check=True)
    out[moz] = jpeg_stats(moz)
    tran = os.path.join(outdir, f"jpeg-progressive-jpegtran-q{quality}.jpg")
    subprocess.run(["jpegtran", "-progressive", "-optimize", "-outfile", tran, base], check=True)
    out[tran] = jpeg_stats(tran)
    for p in (base, scans) + ((ppm,) if ppm != source else ()):
        os.remove(p)
    return out

if __name__ == "__main__":
    for path, (bpp, n, w, h) in make(sys.argv[1], sys.argv[2]).items():
        print(f"{os.path.basename(path)}: {w}x{h}, {bpp:.2f} bits/pixel, {n} scans")
