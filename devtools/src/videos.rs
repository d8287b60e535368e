//! Real videos for the tests, generated on first use by the ffmpeg that the pinned PyPI package
//! `imageio-ffmpeg` ships (scripts/install-tools installs it): H.264/AAC MP4 and QuickTime,
//! VP9/Opus WebM. Cached under target/video-fixtures/. Hostile variants are derived from them
//! byte by byte here, so each one differs from a valid file in exactly one known way.

use std::path::PathBuf;
use std::process::Command;

fn ffmpeg() -> PathBuf {
    let python = crate::env::repo_root().join(".local/venv/bin/python");
    let out = Command::new(&python)
        .args(["-c", "import imageio_ffmpeg; print(imageio_ffmpeg.get_ffmpeg_exe())"])
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}; run scripts/install-tools", python.display()));
    assert!(out.status.success(), "imageio-ffmpeg is missing: run scripts/install-tools ({})", String::from_utf8_lossy(&out.stderr));
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

/// The ffmpeg arguments (between the inputs and the output) of each fixture.
fn recipe(name: &str) -> &'static [&'static str] {
    match name {
        // moov after mdat: ffmpeg's default, and what a phone that is still recording writes.
        "clip.mp4" => &["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "64k"],
        "faststart.mp4" => &["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "64k", "-movflags", "+faststart"],
        "clip.mov" => &["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "64k", "-f", "mov"],
        "clip.webm" => &["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "300k", "-c:a", "libopus", "-b:a", "48k"],
        // HEVC as iPhones tag it (hvc1), and an iPhone-shaped portrait clip: HEVC in QuickTime
        // with a 90° display matrix (the rotation is set on the input, see `before_input`).
        "hevc.mp4" => &["-c:v", "libx265", "-preset", "ultrafast", "-tag:v", "hvc1", "-pix_fmt", "yuv420p", "-x265-params", "log-level=error", "-c:a", "aac", "-b:a", "64k"],
        "iphone.mov" => &["-c:v", "libx265", "-preset", "ultrafast", "-tag:v", "hvc1", "-pix_fmt", "yuv420p", "-x265-params", "log-level=error", "-c:a", "aac", "-b:a", "64k", "-f", "mov"],
        "portrait.mp4" => &["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "64k"],
        "av1.mp4" => &["-c:v", "libaom-av1", "-cpu-used", "8", "-crf", "40", "-pix_fmt", "yuv420p", "-an"],
        // Black for the first half second, then the picture; a keyframe every 12 frames (0.48 s),
        // so the keyframe nearest 1 s is well past the fade.
        "fadein.mp4" => &["-vf", "fade=t=in:st=0.5:d=0.2", "-g", "12", "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-an"],
        other => panic!("no recipe for {other}"),
    }
}

/// Input options for the picture source: a display rotation for the portrait clips.
fn before_input(name: &str) -> &'static [&'static str] {
    match name {
        "iphone.mov" | "portrait.mp4" => &["-display_rotation", "90"],
        _ => &[],
    }
}

/// A 2-second 320x240 clip with a tone, in the container `name` names.
pub fn fixture(name: &str) -> Vec<u8> {
    let dir = crate::env::repo_root().join("target/video-fixtures");
    let path = dir.join(name);
    if let Ok(bytes) = std::fs::read(&path) {
        return bytes;
    }
    std::fs::create_dir_all(&dir).expect("fixture dir");
    // Written under a per-process name and renamed, so parallel tests never read a partial file.
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = dir.join(format!(".{}-{n}.{name}", std::process::id()));
    let status = Command::new(ffmpeg())
        .args(["-hide_banner", "-loglevel", "error", "-y"])
        .args(before_input(name))
        .args(["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=2"])
        .args(["-f", "lavfi", "-i", "sine=frequency=440:duration=2"])
        .args(recipe(name))
        .arg(&tmp)
        .status()
        .expect("run ffmpeg");
    assert!(status.success(), "ffmpeg failed for {name}");
    std::fs::rename(&tmp, &path).expect("fixture in place");
    std::fs::read(&path).expect("fixture")
}

/// The offset and size of each top-level box of an MP4.
pub fn top_boxes(mp4: &[u8]) -> Vec<([u8; 4], usize, usize)> {
    let mut out = Vec::new();
    let mut at = 0;
    while at + 8 <= mp4.len() {
        let size = u32::from_be_bytes(mp4[at..at + 4].try_into().unwrap_or_default()) as usize;
        let kind: [u8; 4] = mp4[at + 4..at + 8].try_into().unwrap_or_default();
        if size < 8 {
            break;
        }
        out.push((kind, at, size));
        at += size;
    }
    out
}

/// `clip.mp4` with `extra` bytes appended inside its mdat (its size field grown to match): a
/// valid file whose media data is as large as you like, and whose moov sits after it.
pub fn with_large_mdat(extra: usize) -> Vec<u8> {
    let clip = fixture("clip.mp4");
    let (_, at, size) = top_boxes(&clip).into_iter().find(|(k, _, _)| k == b"mdat").expect("mdat");
    let grown = u32::try_from(size + extra).expect("mdat under 4 GiB");
    let mut out = Vec::with_capacity(clip.len() + extra);
    out.extend_from_slice(&clip[..at]);
    out.extend_from_slice(&grown.to_be_bytes());
    out.extend_from_slice(&clip[at + 4..at + size]);
    out.resize(out.len() + extra, 0);
    out.extend_from_slice(&clip[at + size..]);
    out
}

/// `clip.mp4` with the first box inside its moov (the movie header) claiming a size past the
/// moov's end.
pub fn with_broken_moov() -> Vec<u8> {
    let mut clip = fixture("clip.mp4");
    let (_, at, _) = top_boxes(&clip).into_iter().find(|(k, _, _)| k == b"moov").expect("moov");
    clip[at + 8..at + 12].copy_from_slice(&0x7FFF_FFF0u32.to_be_bytes());
    clip
}
