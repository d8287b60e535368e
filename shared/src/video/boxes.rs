//! ISO BMFF box headers (MP4, QuickTime), shared by verification (`mp4`) and the poster's
//! reading of the sample tables (`poster`).

use super::VideoError;

/// A box header: its type, where its content starts and where the box ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub kind: [u8; 4],
    pub start: u64,
    pub end: u64,
}

/// Parses the header of the box at `offset` from the bytes read there. `Err` names what is
/// wrong; `Ok(None)` means more bytes are needed than were given.
pub fn header(bytes: &[u8], offset: u64, total: u64) -> Result<Option<Header>, VideoError> {
    let Some(head) = bytes.get(..8) else { return Ok(None) };
    let size32 = u32::from_be_bytes([head[0], head[1], head[2], head[3]]);
    let kind = [head[4], head[5], head[6], head[7]];
    let (size, header_len) = match size32 {
        // Extends to the end of the file.
        0 => (total - offset, 8),
        1 => {
            let Some(large) = bytes.get(8..16) else { return Ok(None) };
            (u64::from_be_bytes([large[0], large[1], large[2], large[3], large[4], large[5], large[6], large[7]]), 16)
        }
        n => (u64::from(n), 8),
    };
    if size < header_len {
        return Err(VideoError::Corrupt(format!("box {} at {offset} is {size} bytes, shorter than its header", fourcc(kind))));
    }
    let end = offset.checked_add(size).ok_or_else(|| VideoError::Corrupt(format!("box {} at {offset} overflows", fourcc(kind))))?;
    if end > total {
        return Err(VideoError::Truncated(format!("box {} at {offset} needs {end} bytes, the file has {total}", fourcc(kind))));
    }
    Ok(Some(Header { kind, start: offset + header_len, end }))
}

pub fn fourcc(kind: [u8; 4]) -> String {
    kind.iter().map(|&b| if b.is_ascii_graphic() || b == b' ' { b as char } else { '?' }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn box_headers_are_checked_against_the_file() {
        let h = header(b"\0\0\0\x10moovxxxxxxxx", 0, 100).unwrap().unwrap();
        assert_eq!((h.kind, h.start, h.end), (*b"moov", 8, 16));
        assert_eq!(header(b"\0\0\0\0mdat", 10, 100).unwrap().unwrap().end, 100, "size 0 runs to the end");
        let large = [&[0, 0, 0, 1][..], b"mdat", &40u64.to_be_bytes()].concat();
        assert_eq!(header(&large, 0, 100).unwrap().unwrap(), Header { kind: *b"mdat", start: 16, end: 40 });
        assert!(header(&large[..12], 0, 100).unwrap().is_none(), "a cut large size needs more bytes");
        assert!(matches!(header(b"\0\0\0\x04free", 0, 100), Err(VideoError::Corrupt(_))));
        assert!(matches!(header(b"\0\0\x01\0mdat", 0, 100), Err(VideoError::Truncated(_))));
        let huge = [&[0, 0, 0, 1][..], b"mdat", &u64::MAX.to_be_bytes()].concat();
        assert!(header(&huge, 8, u64::MAX).is_err(), "offset + size overflows");
    }
}
