//! Generates the benchmark inputs (no downloads): photographic-ish content with noise and edges.

use devtools::images;

fn main() -> std::io::Result<()> {
    let dir = std::path::PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "bench/fixtures".into()));
    std::fs::create_dir_all(&dir)?;
    let write = |name: &str, bytes: Vec<u8>| -> std::io::Result<()> {
        let path = dir.join(name);
        if !path.exists() {
            std::fs::write(path, bytes)?;
        }
        Ok(())
    };
    write("jpeg-12mp.jpg", images::jpeg(4000, 3000))?;
    write("jpeg-50mp.jpg", images::jpeg(8660, 5773))?;
    write("png-alpha-2000x1500.png", images::png_rgba(2000, 1500))?;
    write("webp-1920x1080.webp", images::webp(1920, 1080))?;
    write("jpeg-12mp-orientation6.jpg", images::with_exif(&images::jpeg(4000, 3000), &images::exif_tiff(6, false)))?;
    println!("{}", dir.display());
    Ok(())
}
