//! Generates the benchmark inputs (no downloads): one file per input class users send, with
//! real-photo statistics (`devtools::corpus::bench_fixture`). Existing files are kept.

fn main() -> std::io::Result<()> {
    let dir = std::path::PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "bench/fixtures".into()));
    std::fs::create_dir_all(&dir)?;
    // Inputs of earlier versions of the bench would be measured too: remove them.
    for entry in std::fs::read_dir(&dir)? {
        let entry = entry?;
        if !devtools::corpus::BENCH_CLASSES.iter().any(|c| entry.file_name() == **c) {
            std::fs::remove_file(entry.path())?;
        }
    }
    for name in devtools::corpus::BENCH_CLASSES {
        let path = dir.join(name);
        if !path.exists() {
            if let Some(bytes) = devtools::corpus::bench_fixture(name) {
                std::fs::write(path, bytes)?;
            }
        }
    }
    println!("{}", dir.display());
    Ok(())
}
