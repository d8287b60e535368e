//! Scan pruning for scaled decodes of progressive JPEGs: the stream handed to libjpeg-turbo
//! without the scans a thumbnail cannot show.
//!
//! A progressive file sends each coefficient's bits most significant first; the last AC
//! refinement scan of a component (`Ah = 1, Al = 0`) carries only the lowest bit of every AC
//! coefficient, and in a real file it is one of the largest and slowest scans (progressive
//! Huffman decoding has no SIMD). That bit is worth one quantiser step. In a high-quality file
//! (small steps, which is exactly where the files are large) it does not survive the
//! downscale and the lossy WebP encode a thumbnail goes through; in a lower-quality one it
//! does, so the rule looks at the quantiser first. Nothing else is dropped: every earlier scan
//! is needed by a later one (a refinement reads the history its first pass left), and
//! libjpeg-turbo's reduced-size inverse DCTs read high-frequency coefficients too, so no band
//! can go whole. The quality cost is measured, not assumed: tests/progressive.rs pins it
//! against a decode of every scan, and bench/RESULTS.md reports it per class.
//!
//! Only for scaled decodes (thumbnails and transforms that shrink); a full-size decode reads
//! every scan.

use super::container::walk_jpeg;

/// A component's lowest AC bit is dropped only when its quantiser steps average at most this
/// (libjpeg's tables at quality 94 and above).
const MEAN_STEP_MAX: u32 = 7;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Scan {
    /// The component id when the scan has exactly one (AC scans always do).
    component: Option<u8>,
    spectral_start: u8,
    spectral_end: u8,
    high_bit: u8,
    low_bit: u8,
}

impl Scan {
    fn parse(payload: &[u8]) -> Option<Self> {
        let n = *payload.first()? as usize;
        let component = if n == 1 { Some(*payload.get(1)?) } else { None };
        let at = 1 + 2 * n;
        let approx = *payload.get(at + 2)?;
        Some(Self { component, spectral_start: *payload.get(at)?, spectral_end: *payload.get(at + 1)?, high_bit: approx >> 4, low_bit: approx & 0x0F })
    }

    /// Whether the two scans' bands share an AC coefficient.
    fn overlaps(&self, other: &Scan) -> bool {
        other.spectral_start >= 1 && self.spectral_start <= other.spectral_end && other.spectral_start <= self.spectral_end
    }

    fn is_last_ac_bit(&self) -> bool {
        self.spectral_start >= 1 && self.high_bit == 1 && self.low_bit == 0
    }
}

/// The stream without the scans its decode at a reduced scale can do without, or `None` when
/// nothing would be dropped (baseline, a quantiser too coarse, a structure not followed).
pub fn prune(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut segments: Vec<(u8, &[u8])> = Vec::new();
    walk_jpeg(bytes, |s| segments.push((s.marker, s.bytes)))?;
    if !segments.iter().any(|(m, _)| *m == 0xC2) {
        return None;
    }
    let first_scan = segments.iter().position(|(m, _)| *m == 0xDA)?;
    // A table redefined between scans would make "the component's quantiser" two things.
    if segments[first_scan..].iter().any(|(m, _)| *m == 0xDB) {
        return None;
    }
    let mut step_sums = [None::<u32>; 4];
    for (_, seg) in segments[..first_scan].iter().filter(|(m, _)| *m == 0xDB) {
        read_tables(seg.get(4..)?, &mut step_sums)?;
    }
    let (_, frame) = segments.iter().find(|(m, _)| *m == 0xC2)?;
    let fine = |component: u8| -> bool {
        table_of(frame.get(4..).unwrap_or(&[]), component)
            .and_then(|t| step_sums.get(t as usize).copied().flatten())
            .is_some_and(|sum| sum <= MEAN_STEP_MAX * 64)
    };
    let scans: Vec<Option<Scan>> = segments.iter().map(|(m, s)| if *m == 0xDA { Scan::parse(s.get(4..)?) } else { None }).collect();
    // From the end: a scan goes when every later scan that reads its coefficients (an AC scan of
    // the same component whose band overlaps) has gone too, so nothing kept reads a history
    // that a dropped scan wrote.
    let mut drop = vec![false; scans.len()];
    for i in (0..scans.len()).rev() {
        let Some(scan) = scans[i] else { continue };
        let Some(c) = scan.component else { continue };
        let read_later = (i + 1..scans.len()).any(|j| !drop[j] && scans[j].is_some_and(|s| s.component == Some(c) && scan.overlaps(&s)));
        drop[i] = scan.is_last_ac_bit() && !read_later && fine(c);
    }
    if !drop.contains(&true) {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(&[0xFF, 0xD8]);
    for ((_, seg), dropped) in segments.iter().zip(drop) {
        if !dropped {
            out.extend_from_slice(seg);
        }
    }
    Some(out)
}

/// Adds each table in a DQT payload to `sums` (the sum of its 64 steps), by table id.
fn read_tables(mut p: &[u8], sums: &mut [Option<u32>; 4]) -> Option<()> {
    while let Some(&head) = p.first() {
        let (wide, id) = (head >> 4, (head & 0x0F) as usize);
        let len = if wide == 0 { 64 } else { 128 };
        let body = p.get(1..1 + len)?;
        let sum = match wide {
            0 => body.iter().map(|&v| v as u32).sum(),
            _ => body.chunks_exact(2).map(|v| u16::from_be_bytes([v[0], v[1]]) as u32).sum(),
        };
        *sums.get_mut(id)? = Some(sum);
        p = &p[1 + len..];
    }
    Some(())
}

/// The quantiser table id a frame header gives `component`.
fn table_of(frame: &[u8], component: u8) -> Option<u8> {
    let n = *frame.get(5)? as usize;
    (0..n).find_map(|k| {
        let c = frame.get(6 + 3 * k..9 + 3 * k)?;
        (c[0] == component).then_some(c[2])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(marker: u8, payload: &[u8]) -> Vec<u8> {
        let mut s = vec![0xFF, marker];
        s.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
        s.extend_from_slice(payload);
        s
    }

    /// A structurally complete progressive stream: one quantiser of `step` everywhere, three
    /// components, and the scans given as (components, Ss, Se, Ah, Al), each with a byte of data.
    fn stream(step: u8, scans: &[(&[u8], u8, u8, u8, u8)]) -> Vec<u8> {
        let mut b = vec![0xFF, 0xD8];
        let mut dqt = vec![0u8];
        dqt.extend([step; 64]);
        b.extend(seg(0xDB, &dqt));
        b.extend(seg(0xC2, &[8, 0, 16, 0, 16, 3, 1, 0x22, 0, 2, 0x11, 0, 3, 0x11, 0]));
        for (comps, ss, se, ah, al) in scans {
            let mut p = vec![comps.len() as u8];
            for c in *comps {
                p.extend([*c, 0]);
            }
            p.extend([*ss, *se, ah << 4 | al]);
            b.extend(seg(0xDA, &p));
            b.push(0x2A);
        }
        b.extend([0xFF, 0xD9]);
        b
    }

    const STANDARD: &[(&[u8], u8, u8, u8, u8)] = &[
        (&[1, 2, 3], 0, 0, 0, 1),
        (&[1], 1, 5, 0, 2),
        (&[3], 1, 63, 0, 1),
        (&[2], 1, 63, 0, 1),
        (&[1], 6, 63, 0, 2),
        (&[1], 1, 63, 2, 1),
        (&[1, 2, 3], 0, 0, 1, 0),
        (&[3], 1, 63, 1, 0),
        (&[2], 1, 63, 1, 0),
        (&[1], 1, 63, 1, 0),
    ];

    fn scans_of(b: &[u8]) -> Vec<Scan> {
        let mut out = Vec::new();
        walk_jpeg(b, |s| {
            if s.marker == 0xDA {
                out.push(Scan::parse(s.payload()).unwrap());
            }
        })
        .unwrap();
        out
    }

    #[test]
    fn drops_each_components_last_ac_bit_and_nothing_else_when_the_steps_are_fine() {
        let whole = stream(5, STANDARD);
        let pruned = prune(&whole).expect("fine steps: the last bits go");
        let (before, after) = (scans_of(&whole), scans_of(&pruned));
        assert_eq!(after.len(), 7);
        assert_eq!(after, before.iter().copied().filter(|s| !s.is_last_ac_bit()).collect::<Vec<_>>());
        // The DC refinement stays: it is not an AC bit.
        assert!(after.iter().any(|s| s.spectral_start == 0 && s.high_bit == 1));
        assert_eq!(&pruned[pruned.len() - 2..], &[0xFF, 0xD9]);
    }

    #[test]
    fn keeps_every_scan_when_the_steps_are_coarse_or_the_file_is_not_progressive() {
        assert_eq!(prune(&stream(8, STANDARD)), None, "a step of 8 averages above the bound");
        let mut baseline = stream(5, STANDARD);
        let at = baseline.windows(2).position(|w| w == [0xFF, 0xC2]).unwrap();
        baseline[at + 1] = 0xC0;
        assert_eq!(prune(&baseline), None);
    }

    #[test]
    fn never_drops_a_scan_a_later_one_reads() {
        // A hostile order: a luma AC scan after its "last bit". Dropping the bit would desync
        // the later scan's history, so the bit stays.
        let mut odd = STANDARD.to_vec();
        odd.push((&[1], 1, 63, 0, 0));
        let pruned = prune(&stream(5, &odd)).unwrap();
        let after = scans_of(&pruned);
        assert!(after.iter().any(|s| s.component == Some(1) && s.is_last_ac_bit()));
        assert!(!after.iter().any(|s| s.component == Some(2) && s.is_last_ac_bit()));
    }

    #[test]
    fn split_bands_go_together_and_a_repeated_last_bit_goes_with_its_repeat() {
        let split: &[(&[u8], u8, u8, u8, u8)] = &[(&[1, 2, 3], 0, 0, 0, 0), (&[1], 1, 63, 0, 1), (&[1], 1, 5, 1, 0), (&[1], 6, 63, 1, 0)];
        let pruned = prune(&stream(5, split)).unwrap();
        assert_eq!(scans_of(&pruned).len(), 2, "both bands' last bits go in one pass");
        let repeated: &[(&[u8], u8, u8, u8, u8)] = &[(&[1, 2, 3], 0, 0, 0, 0), (&[1], 1, 63, 0, 1), (&[1], 1, 63, 1, 0), (&[1], 1, 63, 1, 0)];
        let pruned = prune(&stream(5, repeated)).unwrap();
        assert_eq!(scans_of(&pruned).len(), 2);
        assert_eq!(prune(&pruned), None, "one pass drops all it ever will");
    }

    #[test]
    fn a_table_redefined_between_scans_or_a_broken_structure_prunes_nothing() {
        let whole = stream(5, STANDARD);
        let at = whole.windows(2).rposition(|w| w == [0xFF, 0xDA]).unwrap();
        let mut dqt = vec![0u8];
        dqt.extend([5u8; 64]);
        let redefined = [&whole[..at], &seg(0xDB, &dqt), &whole[at..]].concat();
        assert_eq!(prune(&redefined), None);
        for cut in [0, 2, 10, whole.len() / 2, whole.len() - 1] {
            assert_eq!(prune(&whole[..cut]), None, "cut at {cut}");
        }
    }
}
