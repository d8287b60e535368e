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

/// The (offset, size) of every box on the path to the first box `target` inside the moov,
/// outermost first, the target last.
fn path_to(mp4: &[u8], target: &[u8; 4]) -> Vec<(usize, usize)> {
    fn walk(b: &[u8], from: usize, to: usize, target: &[u8; 4], path: &mut Vec<(usize, usize)>) -> bool {
        let mut at = from;
        while at + 8 <= to {
            let size = u32::from_be_bytes(b[at..at + 4].try_into().unwrap_or_default()) as usize;
            let kind: [u8; 4] = b[at + 4..at + 8].try_into().unwrap_or_default();
            if size < 8 || at + size > to {
                return false;
            }
            path.push((at, size));
            if &kind == target {
                return true;
            }
            let skip = match &kind {
                b"moov" | b"trak" | b"mdia" | b"minf" | b"stbl" => Some(8),
                b"stsd" => Some(16),
                b"avc1" | b"hvc1" | b"hev1" | b"av01" => Some(8 + 78),
                _ => None,
            };
            if let Some(skip) = skip {
                if walk(b, at + skip, at + size, target, path) {
                    return true;
                }
            }
            path.pop();
            at += size;
        }
        false
    }
    let mut path = Vec::new();
    assert!(walk(mp4, 0, mp4.len(), target, &mut path), "no {} box", String::from_utf8_lossy(target));
    path
}

/// Replaces the body of the box at the end of `path` and grows every box on the path to
/// match. Only for files whose moov follows their mdat (no chunk offset moves).
fn replace_body(mp4: &[u8], path: &[(usize, usize)], body: &[u8]) -> Vec<u8> {
    let &(at, size) = path.last().expect("a path");
    let delta = body.len() as i64 - (size as i64 - 8);
    let mut out = mp4[..at + 8].to_vec();
    out.extend_from_slice(body);
    out.extend_from_slice(&mp4[at + size..]);
    for &(p, s) in path {
        out[p..p + 4].copy_from_slice(&((s as i64 + delta) as u32).to_be_bytes());
    }
    out
}

/// `hevc.mp4` whose sequence parameter set claims a `width`×`height` picture (rewritten bit by
/// bit; the sample entry still says 320x240).
pub fn with_hevc_sps_size(width: u32, height: u32) -> Vec<u8> {
    let mp4 = fixture("hevc.mp4");
    let path = path_to(&mp4, b"hvcC");
    let &(at, size) = path.last().unwrap_or(&(0, 0));
    let mut hvcc = mp4[at + 8..at + size].to_vec();
    let arrays = hvcc[22] as usize;
    let mut p = 23;
    for _ in 0..arrays {
        let nal_type = hvcc[p] & 0x3F;
        let n = u16::from_be_bytes([hvcc[p + 1], hvcc[p + 2]]) as usize;
        p += 3;
        for _ in 0..n {
            let len = u16::from_be_bytes([hvcc[p], hvcc[p + 1]]) as usize;
            if nal_type == 33 {
                let sps = rewrite_sps(&hvcc[p + 2..p + 2 + len], width, height);
                let mut rebuilt = hvcc[..p].to_vec();
                rebuilt.extend_from_slice(&(sps.len() as u16).to_be_bytes());
                rebuilt.extend_from_slice(&sps);
                rebuilt.extend_from_slice(&hvcc[p + 2 + len..]);
                hvcc = rebuilt;
                return replace_body(&mp4, &path, &hvcc);
            }
            p += 2 + len;
        }
    }
    panic!("no SPS in hvcC")
}

fn rewrite_sps(nal: &[u8], width: u32, height: u32) -> Vec<u8> {
    // RBSP bits (emulation prevention removed).
    let mut rbsp = Vec::new();
    let mut zeros = 0;
    for &b in &nal[2..] {
        if zeros >= 2 && b == 3 {
            zeros = 0;
            continue;
        }
        zeros = if b == 0 { zeros + 1 } else { 0 };
        rbsp.push(b);
    }
    let bits: Vec<u8> = rbsp.iter().flat_map(|b| (0..8).rev().map(move |i| (b >> i) & 1)).collect();
    let mut at = 0;
    let ue = |at: &mut usize| {
        let mut z = 0;
        while bits[*at] == 0 {
            z += 1;
            *at += 1;
        }
        *at += 1;
        let mut v = 0u32;
        for _ in 0..z {
            v = (v << 1) | bits[*at] as u32;
            *at += 1;
        }
        (1u32 << z) - 1 + v
    };
    let max_sub_layers = (bits[4] << 2 | bits[5] << 1 | bits[6]) as usize;
    assert_eq!(max_sub_layers, 0, "x265's single-layer SPS");
    at += 8 + 96;
    ue(&mut at); // sps_seq_parameter_set_id
    let chroma = ue(&mut at);
    if chroma == 3 {
        at += 1;
    }
    let start = at;
    ue(&mut at);
    ue(&mut at);
    let put_ue = |v: u32, out: &mut Vec<u8>| {
        let v = v + 1;
        let n = 32 - v.leading_zeros();
        out.extend(std::iter::repeat_n(0, n as usize - 1));
        out.extend((0..n).rev().map(|i| ((v >> i) & 1) as u8));
    };
    let mut out_bits = bits[..start].to_vec();
    put_ue(width, &mut out_bits);
    put_ue(height, &mut out_bits);
    // The rest up to the stop bit, then a new stop bit and byte alignment.
    let stop = bits.iter().rposition(|&b| b == 1).unwrap_or(bits.len());
    out_bits.extend_from_slice(&bits[at..stop]);
    out_bits.push(1);
    while out_bits.len() % 8 != 0 {
        out_bits.push(0);
    }
    let bytes: Vec<u8> = out_bits.chunks(8).map(|c| c.iter().fold(0, |v, &b| (v << 1) | b)).collect();
    // Emulation prevention back in.
    let mut out = nal[..2].to_vec();
    let mut zeros = 0;
    for b in bytes {
        if zeros >= 2 && b <= 3 {
            out.push(3);
            zeros = 0;
        }
        zeros = if b == 0 { zeros + 1 } else { 0 };
        out.push(b);
    }
    out
}

/// `name` (moov after mdat) whose every sample-size entry claims `size` bytes: the keyframe's
/// included. stsz with one size for all samples is rewritten the same way.
pub fn with_sample_sizes(name: &str, size: u32) -> Vec<u8> {
    let mut mp4 = fixture(name);
    let path = path_to(&mp4, b"stsz");
    let &(at, len) = path.last().unwrap_or(&(0, 0));
    let body = at + 8;
    let fixed = u32::from_be_bytes(mp4[body + 4..body + 8].try_into().unwrap_or_default());
    if fixed != 0 {
        mp4[body + 4..body + 8].copy_from_slice(&size.to_be_bytes());
        return mp4;
    }
    let mut p = body + 12;
    while p + 4 <= at + len {
        mp4[p..p + 4].copy_from_slice(&size.to_be_bytes());
        p += 4;
    }
    mp4
}
