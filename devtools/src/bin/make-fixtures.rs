//! Writes test images into a folder and prints the folder.
//!   make-fixtures [DIR]               the browser test's images: a JPEG photo, a PNG with alpha,
//!                                     a WebP, an HTML file named .jpg (which must be rejected),
//!                                     a 2 s WebM and a 28 MiB MP4
//!   make-fixtures --fuzz-seeds DIR    small seeds for `scripts/fuzz` (small inputs mutate fast):
//!                                     JPEG, JPEG with EXIF orientation 6 and GPS, PNG with alpha,
//!                                     WebP, a truncated JPEG, and every corpus class at tiny size
//!   make-fixtures --corpus DIR        the real-world-shaped corpus at test size (devtools::corpus)
//!   make-fixtures --video-seeds DIR   the video clips (devtools::videos), for the container and
//!                                     poster fuzzers
//!   make-fixtures --heif-seeds DIR    the HEIC/AVIF fixtures (devtools::heif), for the HEIF fuzzer

use devtools::images;

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let seeds = args.first().map(String::as_str) == Some("--fuzz-seeds");
    let corpus = args.first().map(String::as_str) == Some("--corpus");
    let video = args.first().map(String::as_str) == Some("--video-seeds");
    let heif = args.first().map(String::as_str) == Some("--heif-seeds");
    let dir_arg = if seeds || corpus || video || heif { args.get(1) } else { args.first() };
    let dir = std::path::PathBuf::from(dir_arg.cloned().unwrap_or_else(|| ".local/fixtures".into()));
    std::fs::create_dir_all(&dir)?;
    if heif {
        for name in devtools::heif::ALL {
            std::fs::write(dir.join(name), devtools::heif::fixture(name))?;
        }
    } else if video {
        for name in ["faststart.mp4", "clip.mov", "clip.webm", "hevc.mp4", "av1.mp4", "iphone.mov"] {
            std::fs::write(dir.join(name), devtools::videos::fixture(name))?;
        }
    } else if corpus {
        for f in devtools::corpus::corpus() {
            std::fs::write(dir.join(f.name), &f.bytes)?;
        }
    } else if seeds {
        let jpeg = images::jpeg(48, 32);
        std::fs::write(dir.join("seed.jpg"), &jpeg)?;
        std::fs::write(dir.join("seed-exif6.jpg"), images::with_exif(&jpeg, &images::exif_tiff(6, true)))?;
        std::fs::write(dir.join("seed.png"), images::png_rgba(40, 30))?;
        std::fs::write(dir.join("seed.webp"), images::webp(64, 40))?;
        std::fs::write(dir.join("seed-truncated.jpg"), &jpeg[..jpeg.len() / 2])?;
        for f in devtools::corpus::fuzz_seeds() {
            std::fs::write(dir.join(format!("corpus-{}", f.name)), &f.bytes)?;
        }
    } else {
        std::fs::write(dir.join("photo.jpg"), images::jpeg(1600, 1200))?;
        std::fs::write(dir.join("alpha.png"), images::png_rgba(800, 600))?;
        std::fs::write(dir.join("wide.webp"), images::webp(1200, 500))?;
        std::fs::write(dir.join("portrait.jpg"), images::jpeg(900, 1600))?;
        std::fs::write(dir.join("fake.jpg"), b"<!doctype html><html><body><h1>not an image</h1></body></html>")?;
        // Videos for the multipart and playback tests: a 2 s WebM, and a 28 MiB MP4 (4 parts).
        std::fs::write(dir.join("clip.webm"), devtools::videos::fixture("clip.webm"))?;
        let clip = devtools::videos::fixture("clip.mp4");
        std::fs::write(dir.join("trip.mp4"), devtools::videos::with_large_mdat(28 * 1024 * 1024 - clip.len()))?;
        // The Node client's multipart and resume test: 40 MB (5 parts).
        std::fs::write(dir.join("dataset.mp4"), devtools::videos::with_large_mdat(40_000_000 - clip.len()))?;
        // Phone media for the browser's poster and HEIC test.
        std::fs::write(dir.join("clip.mp4"), clip)?;
        std::fs::write(dir.join("IMG_0001.HEIC"), devtools::heif::fixture("photo.heic"))?;
        std::fs::write(dir.join("hevc.mp4"), devtools::videos::fixture("hevc.mp4"))?;
        std::fs::write(dir.join("iphone.mov"), devtools::videos::fixture("iphone.mov"))?;
    }
    println!("{}", dir.display());
    Ok(())
}
