//! The versions of the C codecs linked into this build, as the libraries themselves report
//! them, and the oldest each may be: releases before these have known holes in code that reads
//! upload bytes. A test fails the build's CI if an older one is linked. (The HEIC decoder is
//! pure Rust and pinned in Cargo.toml; libheif and libde265 are not linked at all, which the
//! same test checks from Cargo.lock.)

/// A library, the version it reports, and the oldest allowed (major, minor, patch).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Linked {
    pub name: &'static str,
    pub version: (u32, u32, u32),
    pub minimum: (u32, u32, u32),
    pub why: &'static str,
}

/// Every C codec that parses upload bytes, with its floor.
pub fn linked() -> Vec<Linked> {
    // SAFETY: each call only reads a version constant compiled into the library.
    let webp = unsafe { libwebp_sys::WebPGetDecoderVersion() } as u32;
    let aom = unsafe { libaom_sys::aom_codec_version() } as u32;
    let h264 = unsafe { openh264_sys2::source::APILoader::WelsGetCodecVersion() };
    vec![
        Linked { name: "libwebp", version: (webp >> 16, (webp >> 8) & 0xFF, webp & 0xFF), minimum: (1, 3, 2), why: "CVE-2023-4863 (lossless Huffman tables)" },
        Linked { name: "libaom", version: (aom >> 16, (aom >> 8) & 0xFF, aom & 0xFF), minimum: (3, 9, 1), why: "CVE-2024-5171 (img_alloc_helper overflow)" },
        Linked { name: "openh264", version: (h264.uMajor, h264.uMinor, h264.uRevision), minimum: (2, 6, 0), why: "CVE-2025-27091 (decoder heap overflow)" },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_codec_older_than_its_known_holes_is_linked() {
        for l in linked() {
            assert!(l.version >= l.minimum, "{} {:?} is older than {:?}: {}", l.name, l.version, l.minimum, l.why);
        }
    }

    /// libheif before 1.22.0 (CVE-2026-32741) and libde265 before 1.0.17 (CVE-2026-33165)
    /// must never come in through a dependency: `libde265-sys` builds 1.0.15, and `libheif-sys`
    /// names its libheif version after a `+`.
    #[test]
    fn neither_libheif_nor_an_old_libde265_is_linked() {
        let lock = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.lock")).expect("Cargo.lock");
        let versions = |name: &str| -> Vec<String> {
            lock.split("[[package]]")
                .filter(|p| p.contains(&format!("name = \"{name}\"")))
                .filter_map(|p| p.lines().find_map(|l| l.strip_prefix("version = \"").map(|v| v.trim_end_matches('"').to_string())))
                .collect()
        };
        assert!(versions("libde265-sys").is_empty(), "libde265-sys builds libde265 1.0.15 (CVE-2026-33165)");
        for v in versions("libheif-sys") {
            let bundled = v.split('+').nth(1).unwrap_or("0");
            let parts: Vec<u32> = bundled.split('.').filter_map(|p| p.parse().ok()).collect();
            assert!(parts >= vec![1, 22, 0], "libheif-sys {v} bundles libheif {bundled}, before 1.22.0 (CVE-2026-32741)");
        }
        assert_eq!(versions("heic-decoder"), vec!["0.1.1".to_string()], "the HEIC decoder is the pinned one");
    }
}
