//! The HEIF container (ISO/IEC 23008-12, on ISOBMFF), as HEIC and AVIF files use it: walked
//! and checked here before any decoder sees the bytes, and rebuilt here from its allow-listed
//! items when a public original is stripped. Nothing else in the project parses HEIF boxes;
//! the codecs (`heic`, `avif`) decode only what this walk has already bounded.
//!
//! What the walk bounds (each refusal is a final verdict): the number of boxes, items,
//! extents, references, properties and associations; every `iloc` extent lies within the file
//! (or its `idat`); the primary image's `ispe` and a grid's output size are within the pixel
//! and side limits; a grid's tile count matches its `dimg` references and stays below
//! [`MAX_TILES`], and its tiles' `ispe` area cannot exceed the limit either. So a file that
//! claims a 100,000 × 100,000 grid or a million items is refused before anything is allocated
//! for pixels.

use super::{DecodeLimits, ImageError};

/// Items in one file: an iPhone 48 MP photo has about 200 (tiles, thumbnail, Exif, depth).
pub const MAX_ITEMS: usize = 2048;
/// Tiles of one grid: 48 MP in 512 px tiles is 192.
pub const MAX_TILES: usize = 1024;
/// Extents of one item, references, properties, and boxes at one level.
const MAX_EXTENTS: usize = 64;
const MAX_REFS: usize = 8192;
const MAX_PROPERTIES: usize = 4096;
const MAX_BOXES: usize = 1024;

/// The HEIF brands of an `ftyp`, as the file declares them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// HEVC-coded (`heic`, `heix`, `heim`, `heis`, `hevc`, `hevx`).
    Heic,
    /// The generic HEIF brands only (`mif1`, `msf1`): the codec is the items' own.
    Heif,
    /// AV1-coded (`avif`, `avis`).
    Avif,
}

/// The family an `ftyp` at the start of the file declares, if it declares a HEIF one.
pub fn family(bytes: &[u8]) -> Option<Family> {
    let (kind, body, _) = next_box(bytes, 0)?;
    if &kind != b"ftyp" || body.len() < 8 {
        return None;
    }
    // Major brand, minor version, then compatible brands.
    let brands: Vec<&[u8]> = std::iter::once(&body[..4]).chain(body[8..].chunks_exact(4)).collect();
    let has = |names: &[&[u8; 4]]| brands.iter().any(|b| names.iter().any(|n| *b == &n[..]));
    if has(&[b"avif", b"avis"]) {
        Some(Family::Avif)
    } else if has(&[b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"]) {
        Some(Family::Heic)
    } else if has(&[b"mif1", b"msf1"]) {
        Some(Family::Heif)
    } else {
        None
    }
}

/// The codec of a HEIF picture's coded images.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    Hevc,
    Av1,
}

/// Whether decoding a `width`×`height` HEIF picture fits the memory one decode may claim: the
/// HEVC decoder holds its planes as 32-bit samples (6 bytes a pixel at 4:2:0, 12 at 4:4:4) and
/// the RGBA result beside them, so up to 16 bytes a pixel are held at once.
pub fn fits_in_memory(width: u32, height: u32, limits: DecodeLimits) -> bool {
    const BYTES_PER_PIXEL: u64 = 12;
    (width as u64 * height as u64).saturating_mul(BYTES_PER_PIXEL) <= (limits.max_memory_mb as u64) << 20
}

/// [`layout`] without the size limits: for the metadata strip and the audit, which run on a
/// file already probed (or on any bytes, in tests and fuzzing).
pub fn walk(bytes: &[u8]) -> Result<Layout, ImageError> {
    let unlimited = DecodeLimits { max_pixels: u64::MAX, max_side: u32::MAX, max_jpeg_scans: u32::MAX, max_memory_mb: u32::MAX, time_budget: std::time::Duration::MAX };
    layout(bytes, unlimited)
}

/// One box: its type, its body (after the header), and the offset just past it.
fn next_box(b: &[u8], at: usize) -> Option<([u8; 4], &[u8], usize)> {
    let size = u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?) as u64;
    let kind: [u8; 4] = b.get(at + 4..at + 8)?.try_into().ok()?;
    let (header, total) = match size {
        // To the end of the enclosing space.
        0 => (8u64, (b.len() - at) as u64),
        1 => (16, u64::from_be_bytes(b.get(at + 8..at + 16)?.try_into().ok()?)),
        n => (8, n),
    };
    if total < header {
        return None;
    }
    let end = (at as u64).checked_add(total)?;
    if end > b.len() as u64 {
        return None;
    }
    let end = end as usize;
    Some((kind, &b[at + header as usize..end], end))
}

/// Every box laid end to end in `b`; `None` if one runs past the end or there are too many.
fn children(b: &[u8]) -> Option<Vec<([u8; 4], &[u8], std::ops::Range<usize>)>> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < b.len() {
        let (kind, body, end) = next_box(b, at)?;
        out.push((kind, body, at..end));
        if out.len() > MAX_BOXES {
            return None;
        }
        at = end;
    }
    Some(out)
}

/// A big-endian reader over one box body that never reads past it.
struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn new(b: &'a [u8]) -> Self {
        Self { b, at: 0 }
    }
    fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        let s = self.b.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(s)
    }
    fn uint(&mut self, n: usize) -> Option<u64> {
        Some(self.bytes(n)?.iter().fold(0u64, |v, &x| (v << 8) | x as u64))
    }
    fn u8(&mut self) -> Option<u8> {
        Some(self.bytes(1)?[0])
    }
    fn u16(&mut self) -> Option<u16> {
        Some(self.uint(2)? as u16)
    }
    fn u32(&mut self) -> Option<u32> {
        Some(self.uint(4)? as u32)
    }
    /// A full box's version and flags.
    fn full(&mut self) -> Option<(u8, u32)> {
        let v = self.u32()?;
        Some(((v >> 24) as u8, v & 0x00FF_FFFF))
    }
    fn cstr(&mut self) -> Option<&'a [u8]> {
        let rest = self.b.get(self.at..)?;
        let n = rest.iter().position(|&c| c == 0)?;
        self.at += n + 1;
        Some(&rest[..n])
    }
    fn rest(&self) -> &'a [u8] {
        self.b.get(self.at..).unwrap_or(&[])
    }
}

#[derive(Debug, Clone)]
pub struct Item {
    pub id: u32,
    pub kind: [u8; 4],
    /// `mime` items: their content type (XMP is `application/rdf+xml`).
    pub content_type: Vec<u8>,
    /// The `infe` box, whole, as the file has it.
    infe: Vec<u8>,
}

#[derive(Debug, Clone)]
struct Location {
    item: u32,
    /// 0: file offsets; 1: offsets into `idat`.
    method: u8,
    extents: Vec<(u64, u64)>,
}

#[derive(Debug, Clone)]
pub struct Reference {
    pub kind: [u8; 4],
    pub from: u32,
    pub to: Vec<u32>,
}

/// One `ipma` entry: an item and its (essential, 1-based property index) associations.
#[derive(Debug, Clone)]
struct Association {
    item: u32,
    props: Vec<(bool, u16)>,
}

/// The parts of a HEIF file the service reads, each already bounded.
#[derive(Debug, Clone)]
pub struct Layout {
    pub family: Family,
    ftyp: Vec<u8>,
    pub primary: u32,
    pub items: Vec<Item>,
    locations: Vec<Location>,
    pub references: Vec<Reference>,
    /// `ipco`'s children, whole boxes, in order (property index n is `properties[n - 1]`).
    properties: Vec<Vec<u8>>,
    associations: Vec<Association>,
    ipma_flags: u32,
    ipma_version: u8,
    idat: Vec<u8>,
    /// The primary image as displayed: its `ispe` (or its grid's output), after `irot`.
    pub width: u32,
    pub height: u32,
}

/// Walks and bounds a HEIF file. `Corrupt` for a structure that cannot be followed or breaks a
/// count bound; `DimensionsTooLarge` for a primary image (or grid) beyond the limits.
pub fn layout(bytes: &[u8], limits: DecodeLimits) -> Result<Layout, ImageError> {
    let corrupt = |what: &str| ImageError::Corrupt(format!("HEIF: {what}"));
    let family = family(bytes).ok_or_else(|| corrupt("no HEIF brand in ftyp"))?;
    let top = children(bytes).ok_or_else(|| corrupt("a box runs past the end of the file"))?;
    let ftyp = top.first().map(|(_, _, r)| bytes[r.clone()].to_vec()).unwrap_or_default();
    let metas: Vec<_> = top.iter().filter(|(k, _, _)| k == b"meta").collect();
    let [(_, meta, _)] = metas.as_slice() else { return Err(corrupt("not exactly one meta box")) };
    let mut r = Reader::new(meta);
    r.full().ok_or_else(|| corrupt("short meta"))?;
    let boxes = children(r.rest()).ok_or_else(|| corrupt("a meta child runs past the meta box"))?;
    let find = |k: &[u8; 4]| -> Result<Option<&[u8]>, ImageError> {
        let mut it = boxes.iter().filter(|(kind, _, _)| kind == k);
        let first = it.next().map(|(_, body, _)| *body);
        match it.next() {
            Some(_) => Err(corrupt(&format!("more than one {} box", String::from_utf8_lossy(k)))),
            None => Ok(first),
        }
    };
    let hdlr = find(b"hdlr")?.ok_or_else(|| corrupt("no hdlr"))?;
    if hdlr.get(8..12) != Some(b"pict") {
        return Err(corrupt("the handler is not pict"));
    }
    let primary = {
        let mut r = Reader::new(find(b"pitm")?.ok_or_else(|| corrupt("no primary item"))?);
        match r.full().ok_or_else(|| corrupt("short pitm"))?.0 {
            0 => r.u16().map(u32::from),
            _ => r.u32(),
        }
        .ok_or_else(|| corrupt("short pitm"))?
    };
    let items = parse_iinf(find(b"iinf")?.ok_or_else(|| corrupt("no iinf"))?).ok_or_else(|| corrupt("broken iinf"))?;
    let locations = parse_iloc(find(b"iloc")?.ok_or_else(|| corrupt("no iloc"))?).ok_or_else(|| corrupt("broken iloc"))?;
    let references = match find(b"iref")? {
        Some(b) => parse_iref(b).ok_or_else(|| corrupt("broken iref"))?,
        None => Vec::new(),
    };
    let idat = find(b"idat")?.unwrap_or_default().to_vec();
    let iprp = find(b"iprp")?.ok_or_else(|| corrupt("no iprp"))?;
    let (properties, associations, ipma_version, ipma_flags) = parse_iprp(iprp).ok_or_else(|| corrupt("broken iprp"))?;
    let mut layout = Layout {
        family,
        ftyp,
        primary,
        items,
        locations,
        references,
        properties,
        associations,
        ipma_flags,
        ipma_version,
        idat,
        width: 0,
        height: 0,
    };
    layout.check_extents(bytes.len() as u64)?;
    layout.check_primary(bytes, limits)?;
    Ok(layout)
}

fn parse_iinf(b: &[u8]) -> Option<Vec<Item>> {
    let mut r = Reader::new(b);
    let (version, _) = r.full()?;
    let count = if version == 0 { r.u16()? as usize } else { r.u32()? as usize };
    if count > MAX_ITEMS {
        return None;
    }
    let boxes = children(r.rest())?;
    if boxes.len() != count {
        return None;
    }
    let mut items = Vec::with_capacity(count);
    for (kind, body, _) in boxes {
        if &kind != b"infe" {
            return None;
        }
        let mut r = Reader::new(body);
        let (v, _) = r.full()?;
        let (id, kind) = match v {
            2 => (r.u16()? as u32, { r.u16()?; r.bytes(4)?.try_into().ok()? }),
            3 => (r.u32()?, { r.u16()?; r.bytes(4)?.try_into().ok()? }),
            // Versions 0 and 1 predate item types: nothing this service can show.
            _ => (r.u16()? as u32, *b"    "),
        };
        let content_type = match &kind {
            b"mime" => {
                r.cstr()?;
                r.cstr().unwrap_or_default().to_vec()
            }
            _ => Vec::new(),
        };
        items.push(Item { id, kind, content_type, infe: plain_box(b"infe", body) });
    }
    Some(items)
}

fn parse_iloc(b: &[u8]) -> Option<Vec<Location>> {
    let mut r = Reader::new(b);
    let (version, _) = r.full()?;
    if version > 2 {
        return None;
    }
    let sizes = r.u16()?;
    let (offset_size, length_size, base_size) = ((sizes >> 12) as usize, ((sizes >> 8) & 15) as usize, ((sizes >> 4) & 15) as usize);
    let index_size = if version >= 1 { (sizes & 15) as usize } else { 0 };
    if [offset_size, length_size, base_size, index_size].iter().any(|s| ![0, 4, 8].contains(s)) {
        return None;
    }
    let count = if version < 2 { r.u16()? as usize } else { r.u32()? as usize };
    if count > MAX_ITEMS {
        return None;
    }
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        let item = if version < 2 { r.u16()? as u32 } else { r.u32()? };
        let method = if version >= 1 { (r.u16()? & 15) as u8 } else { 0 };
        let _data_reference = r.u16()?;
        let base = r.uint(base_size)?;
        let extents = r.u16()? as usize;
        if extents == 0 || extents > MAX_EXTENTS {
            return None;
        }
        let mut list = Vec::with_capacity(extents);
        for _ in 0..extents {
            r.uint(index_size)?;
            let offset = base.checked_add(r.uint(offset_size)?)?;
            let length = r.uint(length_size)?;
            list.push((offset, length));
        }
        out.push(Location { item, method, extents: list });
    }
    Some(out)
}

fn parse_iref(b: &[u8]) -> Option<Vec<Reference>> {
    let mut r = Reader::new(b);
    let (version, _) = r.full()?;
    let mut out = Vec::new();
    let mut total = 0usize;
    for (kind, body, _) in children(r.rest())? {
        let mut r = Reader::new(body);
        let id = |r: &mut Reader| if version == 0 { r.u16().map(u32::from) } else { r.u32() };
        let from = id(&mut r)?;
        let n = r.u16()? as usize;
        total += n;
        if total > MAX_REFS {
            return None;
        }
        let to = (0..n).map(|_| id(&mut r)).collect::<Option<Vec<_>>>()?;
        out.push(Reference { kind, from, to });
    }
    Some(out)
}

type Iprp = (Vec<Vec<u8>>, Vec<Association>, u8, u32);

fn parse_iprp(b: &[u8]) -> Option<Iprp> {
    let boxes = children(b)?;
    let (_, ipco, _) = boxes.iter().find(|(k, _, _)| k == b"ipco")?;
    let props = children(ipco)?;
    if props.len() > MAX_PROPERTIES {
        return None;
    }
    let properties = props.iter().map(|(_, _, range)| ipco[range.clone()].to_vec()).collect();
    let mut associations = Vec::new();
    let (mut version, mut flags) = (0, 0);
    for (_, ipma, _) in boxes.iter().filter(|(k, _, _)| k == b"ipma") {
        let mut r = Reader::new(ipma);
        (version, flags) = r.full()?;
        let count = r.u32()? as usize;
        if count > MAX_ITEMS || associations.len() + count > MAX_ITEMS {
            return None;
        }
        for _ in 0..count {
            let item = if version < 1 { r.u16()? as u32 } else { r.u32()? };
            let n = r.u8()? as usize;
            let props = (0..n)
                .map(|_| match flags & 1 {
                    1 => r.u16().map(|v| (v & 0x8000 != 0, v & 0x7FFF)),
                    _ => r.u8().map(|v| (v & 0x80 != 0, (v & 0x7F) as u16)),
                })
                .collect::<Option<Vec<_>>>()?;
            associations.push(Association { item, props });
        }
    }
    Some((properties, associations, version, flags))
}

impl Layout {
    /// The codec of the primary image (a grid's or an `iden`'s by its first source).
    pub fn codec(&self) -> Option<Codec> {
        let primary = self.item(self.primary)?;
        let coded = match &primary.kind {
            b"grid" | b"iden" => self.item(*self.refs_from(b"dimg", primary.id).first()?)?,
            _ => primary,
        };
        match &coded.kind {
            b"hvc1" => Some(Codec::Hevc),
            b"av01" => Some(Codec::Av1),
            _ => None,
        }
    }

    pub fn item(&self, id: u32) -> Option<&Item> {
        self.items.iter().find(|i| i.id == id)
    }

    /// The items `from` refers to by a reference of `kind`, in order.
    pub fn refs_from(&self, kind: &[u8; 4], from: u32) -> Vec<u32> {
        self.references.iter().filter(|r| &r.kind == kind && r.from == from).flat_map(|r| r.to.iter().copied()).collect()
    }

    /// The items that refer to `to` by a reference of `kind`.
    fn refs_to(&self, kind: &[u8; 4], to: u32) -> Vec<u32> {
        self.references.iter().filter(|r| &r.kind == kind && r.to.contains(&to)).map(|r| r.from).collect()
    }

    /// The property boxes associated with `item`, whole.
    fn properties_of(&self, item: u32) -> impl Iterator<Item = &[u8]> {
        self.associations
            .iter()
            .filter(move |a| a.item == item)
            .flat_map(|a| a.props.iter())
            .filter_map(|&(_, index)| self.properties.get((index as usize).checked_sub(1)?).map(Vec::as_slice))
    }

    /// The body of the first property of type `kind` associated with `item`.
    pub fn property(&self, item: u32, kind: &[u8; 4]) -> Option<&[u8]> {
        self.properties_of(item).find(|p| p.get(4..8) == Some(&kind[..])).and_then(|p| p.get(8..))
    }

    /// `ispe`: the item's coded width and height.
    fn ispe(&self, item: u32) -> Option<(u32, u32)> {
        let mut r = Reader::new(self.property(item, b"ispe")?);
        r.full()?;
        Some((r.u32()?, r.u32()?))
    }

    /// Quarter turns anticlockwise (`irot`).
    pub fn rotation(&self, item: u32) -> u8 {
        self.property(item, b"irot").and_then(|b| b.first()).map(|a| a & 3).unwrap_or(0)
    }

    /// Every extent is within the file (or within `idat`), and the item's data is bounded.
    fn check_extents(&self, file_len: u64) -> Result<(), ImageError> {
        for loc in &self.locations {
            let space = match loc.method {
                0 => file_len,
                1 => self.idat.len() as u64,
                _ => return Err(ImageError::Corrupt("HEIF: item data by reference is not supported".into())),
            };
            for &(offset, length) in &loc.extents {
                // Length 0 means "to the end of the space".
                let end = offset.checked_add(length).filter(|&e| e <= space);
                if end.is_none() || (length == 0 && offset > space) {
                    return Err(ImageError::Corrupt(format!("HEIF: item {} points past the end of the file", loc.item)));
                }
            }
        }
        Ok(())
    }

    /// The bytes of one item: its extents, in order.
    pub fn data(&self, bytes: &[u8], item: u32) -> Option<Vec<u8>> {
        let loc = self.locations.iter().find(|l| l.item == item)?;
        let space = match loc.method {
            0 => bytes,
            1 => self.idat.as_slice(),
            _ => return None,
        };
        let mut out = Vec::new();
        for &(offset, length) in &loc.extents {
            let start = usize::try_from(offset).ok()?;
            let end = match length {
                0 => space.len(),
                n => start.checked_add(usize::try_from(n).ok()?)?,
            };
            out.extend_from_slice(space.get(start..end)?);
        }
        Some(out)
    }

    /// The primary image is a known kind, and its size (and a grid's tiles) are within limits.
    fn check_primary(&mut self, bytes: &[u8], limits: DecodeLimits) -> Result<(), ImageError> {
        let corrupt = |what: String| ImageError::Corrupt(format!("HEIF: {what}"));
        let primary = self.item(self.primary).ok_or_else(|| corrupt("the primary item is not listed".into()))?.clone();
        let (width, height) = match &primary.kind {
            b"grid" => {
                let descriptor = self.data(bytes, primary.id).ok_or_else(|| corrupt("the grid has no descriptor".into()))?;
                let mut r = Reader::new(&descriptor);
                let (_version, flags) = (r.u8(), r.u8().unwrap_or(0));
                let rows = r.u8().ok_or_else(|| corrupt("short grid".into()))? as usize + 1;
                let columns = r.u8().ok_or_else(|| corrupt("short grid".into()))? as usize + 1;
                let size = if flags & 1 == 1 { 4 } else { 2 };
                let (w, h) = (r.uint(size), r.uint(size));
                let (Some(w), Some(h)) = (w, h) else { return Err(corrupt("short grid".into())) };
                let (w, h) = (u32::try_from(w).unwrap_or(u32::MAX), u32::try_from(h).unwrap_or(u32::MAX));
                if !limits.allows(w, h) {
                    return Err(ImageError::DimensionsTooLarge { width: w, height: h });
                }
                let tiles = self.refs_from(b"dimg", primary.id);
                if rows * columns > MAX_TILES || tiles.len() != rows * columns {
                    return Err(corrupt(format!("a {rows}x{columns} grid with {} tiles", tiles.len())));
                }
                // Tiles may overhang the canvas, but never by more than one tile per side.
                let mut area = 0u64;
                for t in &tiles {
                    let (tw, th) = self.ispe(*t).ok_or_else(|| corrupt(format!("tile {t} has no size")))?;
                    if !limits.allows(tw, th) {
                        return Err(ImageError::DimensionsTooLarge { width: tw, height: th });
                    }
                    area += tw as u64 * th as u64;
                }
                if area > limits.max_pixels.saturating_mul(2) {
                    return Err(ImageError::DimensionsTooLarge { width: w, height: h });
                }
                (w, h)
            }
            b"hvc1" | b"av01" | b"iden" => {
                let (w, h) = self.ispe(primary.id).ok_or_else(|| corrupt("the primary image has no size".into()))?;
                if !limits.allows(w, h) {
                    return Err(ImageError::DimensionsTooLarge { width: w, height: h });
                }
                (w, h)
            }
            other => return Err(corrupt(format!("a primary image of type {}", String::from_utf8_lossy(other)))),
        };
        if width == 0 || height == 0 {
            return Err(corrupt("zero-sized image".into()));
        }
        (self.width, self.height) = match self.rotation(primary.id) % 2 {
            1 => (height, width),
            _ => (width, height),
        };
        Ok(())
    }

    /// The items a displayed picture needs: the primary image, its tiles (or `iden` source), its
    /// alpha plane and that plane's tiles. Exif, XMP, thumbnails, depth maps and gain maps are
    /// not among them.
    pub fn kept_items(&self) -> Vec<u32> {
        let mut kept = vec![self.primary];
        let with_sources = |id: u32, kept: &mut Vec<u32>| {
            kept.extend(self.refs_from(b"dimg", id));
        };
        with_sources(self.primary, &mut kept);
        for aux in self.refs_to(b"auxl", self.primary) {
            let is_alpha = self
                .property(aux, b"auxC")
                .and_then(|b| b.get(4..))
                .is_some_and(|urn| urn.starts_with(b"urn:mpeg:mpegB:cicp:systems:auxiliary:alpha") || urn.starts_with(b"urn:mpeg:hevc:2015:auxid:1"));
            if is_alpha {
                kept.push(aux);
                with_sources(aux, &mut kept);
            }
        }
        kept.sort_unstable();
        kept.dedup();
        kept
    }

    /// The file rebuilt from [`kept_items`](Self::kept_items) only: `ftyp`, then a `meta` that
    /// lists just those items (their `infe`, references among them, their property
    /// associations, the whole `ipco`), then one `mdat` with just their data. Nothing of a
    /// dropped item (its bytes included) is in the result. `None` when an item's data cannot
    /// be read.
    pub fn rebuild(&self, bytes: &[u8]) -> Option<Vec<u8>> {
        let kept = self.kept_items();
        let data: Vec<(u32, Vec<u8>)> = kept.iter().map(|&id| Some((id, self.data(bytes, id)?))).collect::<Option<_>>()?;

        let mut meta_body = vec![0, 0, 0, 0];
        let hdlr = full_box(b"hdlr", 0, 0, &[&[0; 4][..], b"pict", &[0; 12], b"\0"].concat());
        meta_body.extend_from_slice(&hdlr);
        meta_body.extend_from_slice(&full_box(b"pitm", 1, 0, &self.primary.to_be_bytes()));
        let mut iinf = (kept.len() as u32).to_be_bytes().to_vec();
        for id in &kept {
            iinf.extend_from_slice(&self.item(*id)?.infe);
        }
        meta_body.extend_from_slice(&full_box(b"iinf", 1, 0, &iinf));
        let mut iref = Vec::new();
        for r in &self.references {
            let to: Vec<u32> = r.to.iter().copied().filter(|t| kept.contains(t)).collect();
            if kept.contains(&r.from) && !to.is_empty() && matches!(&r.kind, b"dimg" | b"auxl" | b"prem") {
                let mut body = r.from.to_be_bytes().to_vec();
                body.extend_from_slice(&(to.len() as u16).to_be_bytes());
                to.iter().for_each(|t| body.extend_from_slice(&t.to_be_bytes()));
                iref.extend_from_slice(&plain_box(&r.kind, &body));
            }
        }
        if !iref.is_empty() {
            meta_body.extend_from_slice(&full_box(b"iref", 1, 0, &iref));
        }
        let ipco = plain_box(b"ipco", &self.properties.concat());
        let mut ipma = Vec::new();
        let entries: Vec<&Association> = self.associations.iter().filter(|a| kept.contains(&a.item)).collect();
        ipma.extend_from_slice(&(entries.len() as u32).to_be_bytes());
        for a in entries {
            match self.ipma_version {
                0 => ipma.extend_from_slice(&(a.item as u16).to_be_bytes()),
                _ => ipma.extend_from_slice(&a.item.to_be_bytes()),
            }
            ipma.push(a.props.len() as u8);
            for &(essential, index) in &a.props {
                match self.ipma_flags & 1 {
                    1 => ipma.extend_from_slice(&(index | if essential { 0x8000 } else { 0 }).to_be_bytes()),
                    _ => ipma.push(index as u8 | if essential { 0x80 } else { 0 }),
                }
            }
        }
        let ipma = full_box(b"ipma", self.ipma_version, self.ipma_flags, &ipma);
        meta_body.extend_from_slice(&plain_box(b"iprp", &[ipco, ipma].concat()));
        // iloc version 2 (32-bit item ids), 8-byte offsets and lengths, no base offset: one
        // extent an item, in the new mdat. Its size does not depend on the offsets, so they
        // are filled in afterwards.
        let iloc_len = 12 + 2 + 4 + kept.len() * (4 + 2 + 2 + 2 + 16);
        let meta_len = 8 + meta_body.len() + iloc_len;
        let mdat_payload: usize = data.iter().map(|(_, d)| d.len()).sum();
        let large = mdat_payload as u64 + 16 > u32::MAX as u64;
        let mdat_header = if large { 16 } else { 8 };
        let mut offset = (self.ftyp.len() + meta_len + mdat_header) as u64;
        let mut iloc = vec![0x88, 0x00];
        iloc.extend_from_slice(&(kept.len() as u32).to_be_bytes());
        for (id, d) in &data {
            iloc.extend_from_slice(&id.to_be_bytes());
            iloc.extend_from_slice(&[0, 0, 0, 0, 0, 1]);
            iloc.extend_from_slice(&offset.to_be_bytes());
            iloc.extend_from_slice(&(d.len() as u64).to_be_bytes());
            offset += d.len() as u64;
        }
        meta_body.extend_from_slice(&full_box(b"iloc", 2, 0, &iloc));
        let mut out = self.ftyp.clone();
        out.extend_from_slice(&plain_box(b"meta", &meta_body));
        debug_assert_eq!(out.len(), self.ftyp.len() + meta_len);
        if large {
            out.extend_from_slice(&1u32.to_be_bytes());
            out.extend_from_slice(b"mdat");
            out.extend_from_slice(&(mdat_payload as u64 + 16).to_be_bytes());
        } else {
            out.extend_from_slice(&((mdat_payload + 8) as u32).to_be_bytes());
            out.extend_from_slice(b"mdat");
        }
        data.iter().for_each(|(_, d)| out.extend_from_slice(d));
        Some(out)
    }

    /// What a public original must not hold, listed (empty is the only passing answer): items
    /// other than the picture's own, references to them, boxes beside ftyp/meta/mdat.
    pub fn findings(&self, bytes: &[u8]) -> Vec<String> {
        let mut found = Vec::new();
        let kept = self.kept_items();
        for item in &self.items {
            if !kept.contains(&item.id) {
                let what = match &item.kind {
                    b"Exif" => "an Exif item".to_string(),
                    b"mime" => format!("an XMP/mime item ({})", String::from_utf8_lossy(&item.content_type)),
                    k if !self.refs_from(b"thmb", item.id).is_empty() => format!("a thumbnail item ({})", String::from_utf8_lossy(k)),
                    k => format!("an item of type {} beside the picture", String::from_utf8_lossy(k)),
                };
                found.push(what);
            }
        }
        for (kind, _, _) in children(bytes).unwrap_or_default() {
            if !matches!(&kind, b"ftyp" | b"meta" | b"mdat") {
                found.push(format!("a top-level {} box", String::from_utf8_lossy(&kind)));
            }
        }
        let mut used = 0u64;
        for loc in &self.locations {
            used += loc.extents.iter().map(|e| e.1).sum::<u64>();
        }
        let mdat: u64 = children(bytes).unwrap_or_default().iter().filter(|(k, _, _)| k == b"mdat").map(|(_, b, _)| b.len() as u64).sum();
        if mdat > used {
            found.push(format!("{} bytes in mdat that no item uses", mdat - used));
        }
        found
    }
}

/// A HEIF file of one coded image: the way a video's keyframe (its sample and its track's
/// decoder configuration, `hvcC` or `av1C`) is handed to the still-image decoders.
pub fn single_image(family: Family, config: (&[u8; 4], &[u8]), width: u32, height: u32, data: &[u8]) -> Vec<u8> {
    let (brand, item): (&[u8; 4], &[u8; 4]) = match family {
        Family::Avif => (b"avif", b"av01"),
        _ => (b"heic", b"hvc1"),
    };
    let ftyp = plain_box(b"ftyp", &[&brand[..], &[0; 4], brand, b"mif1"].concat());
    let hdlr = full_box(b"hdlr", 0, 0, &[&[0; 4][..], b"pict", &[0; 12], b"\0"].concat());
    let pitm = full_box(b"pitm", 0, 0, &1u16.to_be_bytes());
    let infe = full_box(b"infe", 2, 0, &[&1u16.to_be_bytes()[..], &[0, 0], item, b"\0"].concat());
    let iinf = full_box(b"iinf", 0, 0, &[&1u16.to_be_bytes()[..], &infe].concat());
    let ispe = full_box(b"ispe", 0, 0, &[width.to_be_bytes(), height.to_be_bytes()].concat());
    let ipco = plain_box(b"ipco", &[plain_box(config.0, config.1), ispe].concat());
    let ipma = full_box(b"ipma", 0, 0, &[&1u32.to_be_bytes()[..], &1u16.to_be_bytes(), &[2, 0x81, 0x02]].concat());
    let iprp = plain_box(b"iprp", &[ipco, ipma].concat());
    // iloc version 0, 4-byte offset and length: the data follows in the mdat.
    let iloc_len = 8 + 4 + 2 + 2 + (2 + 2 + 2 + 4 + 4);
    let meta_len = 8 + 4 + hdlr.len() + pitm.len() + iinf.len() + iprp.len() + iloc_len;
    let offset = (ftyp.len() + meta_len + 8) as u32;
    let mut iloc = vec![0x44, 0x00];
    iloc.extend_from_slice(&1u16.to_be_bytes());
    iloc.extend_from_slice(&1u16.to_be_bytes());
    iloc.extend_from_slice(&0u16.to_be_bytes());
    iloc.extend_from_slice(&1u16.to_be_bytes());
    iloc.extend_from_slice(&offset.to_be_bytes());
    iloc.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let iloc = full_box(b"iloc", 0, 0, &iloc);
    let meta = full_box(b"meta", 0, 0, &[hdlr, pitm, iinf, iprp, iloc].concat());
    let mut out = ftyp;
    out.extend_from_slice(&meta);
    out.extend_from_slice(&plain_box(b"mdat", data));
    out
}

fn plain_box(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut out = ((body.len() + 8) as u32).to_be_bytes().to_vec();
    out.extend_from_slice(kind);
    out.extend_from_slice(body);
    out
}

fn full_box(kind: &[u8; 4], version: u8, flags: u32, body: &[u8]) -> Vec<u8> {
    let head = ((version as u32) << 24 | (flags & 0x00FF_FFFF)).to_be_bytes();
    plain_box(kind, &[&head[..], body].concat())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brands_name_the_family() {
        let ftyp = |major: &[u8; 4], compat: &[&[u8; 4]]| {
            let mut body = major.to_vec();
            body.extend_from_slice(&[0; 4]);
            compat.iter().for_each(|c| body.extend_from_slice(*c));
            plain_box(b"ftyp", &body)
        };
        assert_eq!(family(&ftyp(b"heic", &[b"mif1"])), Some(Family::Heic));
        assert_eq!(family(&ftyp(b"mif1", &[b"heic"])), Some(Family::Heic));
        assert_eq!(family(&ftyp(b"mif1", &[b"miaf"])), Some(Family::Heif));
        assert_eq!(family(&ftyp(b"avif", &[b"mif1", b"miaf"])), Some(Family::Avif));
        assert_eq!(family(&ftyp(b"isom", &[b"mp41"])), None, "an MP4 is not a HEIF");
        assert_eq!(family(b"\0\0\0\x08ftyp"), None, "too short for a brand");
        assert_eq!(family(b"\0\0\0\xffftypheic"), None, "runs past the end");
    }

    #[test]
    fn box_sizes_are_checked() {
        assert!(next_box(b"\0\0\0\x07abcd", 0).is_none(), "smaller than its header");
        assert!(next_box(b"\0\0\0\x01abcd\0\0\0\0\0\0\0\x08", 0).is_none(), "largesize smaller than its header");
        assert!(next_box(b"\0\0\0\x01abcd\xff\xff\xff\xff\xff\xff\xff\xff", 0).is_none(), "largesize past the end");
        assert_eq!(next_box(b"\0\0\0\0abcdxyz", 0).map(|(_, b, e)| (b.len(), e)), Some((3, 11)), "size 0: to the end");
    }
}
