//! Progressive JPEGs made by the real encoders' scan scripts (`devtools/fixtures/progressive.py`:
//! libjpeg-turbo-progs' `cjpeg -progressive` and `jpegtran -scans` with mozjpeg's script;
//! scripts/install-tools installs them), cached under target/progressive-fixtures/, and the SSIM
//! the bench scores thumbnails with, so a test states its quality bound in the bench's terms.

use shared::imaging::pixels::Pixels;

/// The test set's names (`SETS["tests"]` in the script).
pub const ALL: [&str; 3] = ["libjpeg-q95.jpg", "mozjpeg-script-q95.jpg", "libjpeg-q85.jpg"];

/// One fixture's bytes (the set is made together, once per checkout).
pub fn fixture(name: &str) -> Vec<u8> {
    crate::made::fixture("progressive-fixtures", "progressive.py", &["tests"], name)
}

/// BT.601 luma of opaque RGB or RGBA pixels (alpha ignored), as Pillow's "L" conversion.
fn luma(p: &Pixels) -> Vec<f64> {
    let ch = if p.alpha { 4 } else { 3 };
    p.data.chunks_exact(ch).map(|c| (299.0 * c[0] as f64 + 587.0 * c[1] as f64 + 114.0 * c[2] as f64) / 1000.0).collect()
}

/// Mean SSIM on luma with an 8x8 box window (Wang et al. constants): bench/run.py's `ssim`.
pub fn ssim(a: &Pixels, b: &Pixels) -> f64 {
    assert_eq!((a.width, a.height), (b.width, b.height), "SSIM of two sizes");
    let (w, h) = (a.width as usize, a.height as usize);
    let (la, lb) = (luma(a), luma(b));
    // Summed-area tables of x, y, x², y², xy.
    let table = |f: &dyn Fn(usize) -> f64| {
        let mut t = vec![0f64; (w + 1) * (h + 1)];
        for y in 0..h {
            let mut row = 0.0;
            for x in 0..w {
                row += f(y * w + x);
                t[(y + 1) * (w + 1) + x + 1] = t[y * (w + 1) + x + 1] + row;
            }
        }
        t
    };
    let tables = [table(&|i| la[i]), table(&|i| lb[i]), table(&|i| la[i] * la[i]), table(&|i| lb[i] * lb[i]), table(&|i| la[i] * lb[i])];
    let boxed = |t: &[f64], x: usize, y: usize| (t[(y + 8) * (w + 1) + x + 8] - t[y * (w + 1) + x + 8] - t[(y + 8) * (w + 1) + x] + t[y * (w + 1) + x]) / 64.0;
    let (c1, c2) = ((0.01f64 * 255.0).powi(2), (0.03f64 * 255.0).powi(2));
    let mut sum = 0.0;
    let mut n = 0usize;
    for y in 0..=h.saturating_sub(8) {
        for x in 0..=w.saturating_sub(8) {
            let [ma, mb, aa, bb, ab] = tables.each_ref().map(|t| boxed(t, x, y));
            let (va, vb, cov) = (aa - ma * ma, bb - mb * mb, ab - ma * mb);
            sum += ((2.0 * ma * mb + c1) * (2.0 * cov + c2)) / ((ma * ma + mb * mb + c1) * (va + vb + c2));
            n += 1;
        }
    }
    sum / n as f64
}
