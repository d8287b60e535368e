//! Real HEIC/HEIF and AVIF files for the tests, generated on first use by
//! `devtools/fixtures/heif.py` with the pinned encoders (pillow-heif's libheif + x265 for HEIC,
//! the static ffmpeg's libaom for AVIF; scripts/install-tools installs both). Cached under
//! target/heif-fixtures/. Hostile variants are derived from them here, box by box, so each one
//! differs from a valid file in exactly one known way.


/// The fixtures' names.
pub const ALL: [&str; 8] = ["photo.heic", "grid.heic", "rotated.heic", "alpha.heic", "photo10.heic", "multi.heic", "photo.avif", "photo10.avif"];

/// One fixture's bytes (all are made together, once per checkout).
pub fn fixture(name: &str) -> Vec<u8> {
    crate::made::fixture("heif-fixtures", "heif.py", &[], name)
}

/// Where box `kind` starts (its size field), searching from `from`.
pub fn find_box(b: &[u8], kind: &[u8; 4]) -> Option<usize> {
    b.windows(4).position(|w| w == kind).map(|p| p - 4)
}

/// `name` with the `ispe` of every item claiming `width`×`height`.
pub fn with_ispe(name: &str, width: u32, height: u32) -> Vec<u8> {
    let mut b = fixture(name);
    let mut at = 0;
    while let Some(p) = b[at..].windows(4).position(|w| w == b"ispe") {
        let body = at + p + 4 + 4;
        b[body..body + 4].copy_from_slice(&width.to_be_bytes());
        b[body + 4..body + 8].copy_from_slice(&height.to_be_bytes());
        at = body + 8;
    }
    b
}

/// `grid.heic` whose grid descriptor claims `rows`×`columns` tiles and a `width`×`height` canvas.
pub fn with_grid(rows: u8, columns: u8, width: u32, height: u32) -> Vec<u8> {
    let mut b = fixture("grid.heic");
    // libheif stores the descriptor in idat: version, flags, rows-1, columns-1, sizes.
    let idat = find_box(&b, b"idat").expect("grid descriptor in idat");
    let d = idat + 8;
    b[d + 1] = 1; // 32-bit sizes follow
    b[d + 2] = rows - 1;
    b[d + 3] = columns - 1;
    let mut desc = vec![b[d], 1, rows - 1, columns - 1];
    desc.extend_from_slice(&width.to_be_bytes());
    desc.extend_from_slice(&height.to_be_bytes());
    // Rebuild idat with the longer descriptor; its item's iloc length is patched by size.
    let old_len = u32::from_be_bytes(b[idat..idat + 4].try_into().unwrap_or_default()) as usize;
    let old_desc = b[d..idat + old_len].to_vec();
    let mut out = b[..idat].to_vec();
    out.extend_from_slice(&((desc.len() + 8) as u32).to_be_bytes());
    out.extend_from_slice(b"idat");
    out.extend_from_slice(&desc);
    out.extend_from_slice(&b[idat + old_len..]);
    let grown = desc.len() as i64 - old_desc.len() as i64;
    fix_sizes(&mut out, idat, grown);
    b = out;
    b
}

/// After growing a box at `at` by `by` bytes, grows its ancestors (meta) and moves every
/// file-offset iloc extent that lies after it. Only for the fixtures' own layout (libheif's:
/// 4-byte offsets and lengths, iloc version 1).
fn fix_sizes(b: &mut [u8], at: usize, by: i64) {
    let meta = find_box(b, b"meta").expect("meta");
    let grow = |b: &mut [u8], p: usize| {
        let v = u32::from_be_bytes(b[p..p + 4].try_into().unwrap_or_default()) as i64 + by;
        b[p..p + 4].copy_from_slice(&(v as u32).to_be_bytes());
    };
    grow(b, meta);
    let _ = at;
    let iloc = find_box(b, b"iloc").expect("iloc");
    let version = b[iloc + 8];
    let sizes = u16::from_be_bytes([b[iloc + 12], b[iloc + 13]]);
    let (offset, length, base) = ((sizes >> 12) as usize, ((sizes >> 8) & 15) as usize, ((sizes >> 4) & 15) as usize);
    let index = if version >= 1 { (sizes & 15) as usize } else { 0 };
    assert!(offset == 4 && length == 4 && matches!(base, 0 | 4) && index == 0 && version < 2, "libheif's iloc layout");
    let add = |b: &mut [u8], p: usize, by: i64| {
        let v = u32::from_be_bytes(b[p..p + 4].try_into().unwrap_or_default()) as i64 + by;
        b[p..p + 4].copy_from_slice(&(v as u32).to_be_bytes());
    };
    let mut p = iloc + 14;
    let count = u16::from_be_bytes([b[p], b[p + 1]]) as usize;
    p += 2;
    for _ in 0..count {
        p += 2; // item id
        let method = if version >= 1 { let m = b[p + 1] & 15; p += 2; m } else { 0 };
        p += 2; // data reference
        let base_at = p;
        p += base;
        let extents = u16::from_be_bytes([b[p], b[p + 1]]) as usize;
        p += 2;
        if method == 0 && base == 4 {
            add(b, base_at, by);
        }
        for _ in 0..extents {
            if method == 0 && base == 0 {
                add(b, p, by);
            } else if method == 1 {
                // The grid descriptor's own extent (in idat) is its whole length.
                add(b, p + 4, by);
            }
            p += 8;
        }
    }
}

/// `name` whose first iloc extent points past the end of the file.
pub fn with_extent_past_end(name: &str) -> Vec<u8> {
    let mut b = fixture(name);
    let iloc = find_box(&b, b"iloc").expect("iloc");
    let version = b[iloc + 8];
    let sizes = u16::from_be_bytes([b[iloc + 12], b[iloc + 13]]);
    assert_eq!(sizes >> 12, 4, "4-byte offsets");
    let base = ((sizes >> 4) & 15) as usize;
    // The first item's base offset, or its first extent's offset when there is none.
    let first_extent = iloc + 14 + 2 + 2 + if version >= 1 { 2 } else { 0 } + 2 + if base == 0 { 2 } else { 0 };
    let past = b.len() as u32 + 1000;
    b[first_extent..first_extent + 4].copy_from_slice(&past.to_be_bytes());
    b
}

/// `name` whose iinf claims `count` items (the boxes that follow are the real ones).
pub fn with_item_count(name: &str, count: u32) -> Vec<u8> {
    let mut b = fixture(name);
    let iinf = find_box(&b, b"iinf").expect("iinf");
    match b[iinf + 8] {
        0 => b[iinf + 12..iinf + 14].copy_from_slice(&(count.min(u16::MAX as u32) as u16).to_be_bytes()),
        _ => b[iinf + 12..iinf + 16].copy_from_slice(&count.to_be_bytes()),
    }
    b
}
