//! Writes the browser test's images into a folder: a JPEG photo, a PNG with alpha, a WebP, and
//! an HTML file named .jpg (which must be rejected).

fn main() -> std::io::Result<()> {
    let dir = std::path::PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| ".local/fixtures".into()));
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join("photo.jpg"), devtools::images::jpeg(1600, 1200))?;
    std::fs::write(dir.join("alpha.png"), devtools::images::png_rgba(800, 600))?;
    std::fs::write(dir.join("wide.webp"), devtools::images::webp(1200, 500))?;
    std::fs::write(dir.join("fake.jpg"), b"<!doctype html><html><body><h1>not an image</h1></body></html>")?;
    println!("{}", dir.display());
    Ok(())
}
