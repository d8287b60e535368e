//! On-demand image variants: the parameters of `GET /v1/media/{id}/image?w=&h=&fit=&format=&q=`,
//! bounded and normalised so one image cannot be fanned out into unbounded variants; the output
//! format chosen from `Accept`; the stored key of each variant (one per canonical parameter set
//! and focal point); and the HMAC signatures that make a private media's transform URL work
//! without a token until it expires. `service` is the use case the transform function runs.


use crate::domain::kinds::ContentType;
use crate::domain::media::FocalPoint;
use sha2::{Digest, Sha256};

/// Widths and heights a transform may ask for: common layout and retina sizes. Anything else is
/// 400, so a media has at most |SIZES|² × fits × formats × qualities variants.
pub const SIZES: [u32; 15] = [64, 128, 256, 320, 360, 480, 512, 640, 720, 768, 1024, 1280, 1600, 1920, 2560];
/// The most pixels an AVIF variant may have: rav1e's encode time grows with the pixels, and
/// larger ones would not finish within the render budget on one vCPU with margin (bench/RESULTS.md,
/// "Worst-case renders"). `format=auto` gives larger results as WebP; `format=avif` is 400.
pub const AVIF_MAX_PIXELS: u64 = 2_000_000;
/// Quality levels (the encoder's scale); the default is 80.
pub const QUALITIES: [u8; 4] = [50, 65, 80, 90];
const DEFAULT_QUALITY: u8 = 80;
/// The query parameters that describe a transform (besides `exp` and `sig`, which sign it).
pub const TRANSFORM_PARAMS: [&str; 6] = ["w", "h", "fit", "format", "q", "preset"];

/// Named shapes apps ask for most, as (name, width, height, fit): `preset=card` is exactly
/// `w=640&h=360&fit=cover` (the same stored variant). `format` and `q` still apply.
pub const PRESETS: [(&str, Option<u32>, Option<u32>, Fit); 6] = [
    ("avatar", Some(256), Some(256), Fit::Cover),
    ("avatar-2x", Some(512), Some(512), Fit::Cover),
    ("card", Some(640), Some(360), Fit::Cover),
    ("card-2x", Some(1280), Some(720), Fit::Cover),
    ("feed", Some(1024), None, Fit::Inside),
    ("hero", Some(1920), None, Fit::Inside),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fit {
    /// Fill the box exactly, cropping around the focal point.
    Cover,
    /// The whole image within the box, never upscaled beyond it.
    Contain,
    /// Like contain, but never larger than the original (the default).
    Inside,
}

/// What the client asked for; `Auto` is decided by `Accept`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requested {
    Auto,
    Avif,
    Webp,
    Jpeg,
    Png,
}

/// What is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    Avif,
    Webp,
    Jpeg,
    Png,
}

impl Output {
    pub fn mime(self) -> &'static str {
        match self {
            Self::Avif => "image/avif",
            Self::Webp => "image/webp",
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
        }
    }
    pub fn extension(self) -> &'static str {
        match self {
            Self::Avif => "avif",
            Self::Webp => "webp",
            Self::Jpeg => "jpg",
            Self::Png => "png",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransformSpec {
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub fit: Fit,
    pub format: Requested,
    pub quality: u8,
}

/// Why a transform URL is refused, decided from the URL alone.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransformError {
    /// A parameter outside the bounded space.
    #[error("{0}")]
    Invalid(String),
    #[error("this URL has expired")]
    Expired,
    #[error("the signature does not match this URL")]
    BadSignature,
}

impl TransformError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Invalid(_) => "invalid_transform",
            Self::Expired => "expired_signature",
            Self::BadSignature => "invalid_signature",
        }
    }
}

fn invalid(message: impl Into<String>) -> TransformError {
    TransformError::Invalid(message.into())
}

/// A number in its one decimal spelling: `+640`, `0640` and `640.0` would each be another URL
/// (another CDN cache key, another function call) for the same variant.
pub fn canonical_number<T: std::str::FromStr + ToString>(raw: &str) -> Option<T> {
    raw.parse::<T>().ok().filter(|v| v.to_string() == raw)
}

fn size(name: &str, raw: &str) -> Result<u32, TransformError> {
    canonical_number::<u32>(raw)
        .filter(|v| SIZES.contains(v))
        .ok_or_else(|| invalid(format!("{name} must be one of {SIZES:?}")))
}

/// Whether an `Accept` header names `mime` itself with a non-zero weight. Wildcards do not
/// count (`*/*` from an old browser is no promise it decodes AVIF). A weight is a qvalue in any
/// of its spellings (`q=0`, `Q = 0.000`, `q=0.5`); a media range with a malformed weight is
/// left out, and a zero weight for `mime` anywhere in the header refuses it.
pub fn accepts(accept: &str, mime: &str) -> bool {
    let mut named = false;
    for range in accept.split(',') {
        let mut fields = range.split(';');
        if !fields.next().is_some_and(|t| t.trim().eq_ignore_ascii_case(mime)) {
            continue;
        }
        let mut weight = Some(1.0);
        for param in fields {
            let Some((key, value)) = param.split_once('=') else { continue };
            if key.trim().eq_ignore_ascii_case("q") {
                weight = qvalue(value.trim());
            }
        }
        match weight {
            Some(w) if w > 0.0 => named = true,
            Some(_) => return false,
            None => {}
        }
    }
    named
}

/// RFC 9110's `qvalue`: `0` or `1`, optionally with up to three decimals (`0.000` to `1.000`).
fn qvalue(raw: &str) -> Option<f32> {
    let (int, frac) = raw.split_once('.').unwrap_or((raw, ""));
    let well_formed = matches!(int, "0" | "1") && frac.len() <= 3 && frac.bytes().all(|b| b.is_ascii_digit()) && (int == "0" || frac.bytes().all(|b| b == b'0'));
    well_formed.then(|| raw.parse::<f32>().ok()).flatten()
}

impl TransformSpec {
    /// Parses the query parameters (`sig` and `exp` belong to the signature and are read by
    /// the edge). Unknown or repeated parameters are refused, `sig` and `exp` included, so every
    /// URL has one meaning (and one CDN cache key per variant).
    pub fn parse(params: &[(String, String)]) -> Result<Self, TransformError> {
        let mut seen: Vec<&str> = Vec::new();
        let mut spec = Self { width: None, height: None, fit: Fit::Inside, format: Requested::Auto, quality: DEFAULT_QUALITY };
        for (k, v) in params {
            if seen.contains(&k.as_str()) {
                return Err(invalid(format!("{k} is given more than once")));
            }
            seen.push(k);
            match k.as_str() {
                "sig" | "exp" => {}
                "w" => spec.width = Some(size("w", v)?),
                "h" => spec.height = Some(size("h", v)?),
                "fit" => {
                    spec.fit = match v.as_str() {
                        "cover" => Fit::Cover,
                        "contain" => Fit::Contain,
                        "inside" => Fit::Inside,
                        _ => return Err(invalid("fit must be cover, contain or inside")),
                    }
                }
                "format" => {
                    spec.format = match v.as_str() {
                        "auto" => Requested::Auto,
                        "avif" => Requested::Avif,
                        "webp" => Requested::Webp,
                        "jpeg" | "jpg" => Requested::Jpeg,
                        "png" => Requested::Png,
                        _ => return Err(invalid("format must be auto, avif, webp, jpeg or png")),
                    }
                }
                "preset" => {
                    let (_, w, h, fit) = PRESETS.iter().find(|p| p.0 == v).ok_or_else(|| {
                        invalid(format!("unknown preset; known: {}", PRESETS.iter().map(|p| p.0).collect::<Vec<_>>().join(", ")))
                    })?;
                    (spec.width, spec.height, spec.fit) = (*w, *h, *fit);
                }
                "q" => {
                    spec.quality = canonical_number::<u8>(v)
                        .filter(|q| QUALITIES.contains(q))
                        .ok_or_else(|| invalid(format!("q must be one of {QUALITIES:?}")))?
                }
                other => return Err(invalid(format!("unknown parameter {other:?}; known: w, h, fit, format, q, preset"))),
            }
        }
        if seen.contains(&"preset") && ["w", "h", "fit"].iter().any(|k| seen.contains(k)) {
            return Err(invalid("preset already sets w, h and fit: give one or the other"));
        }
        if spec.width.is_none() && spec.height.is_none() {
            return Err(invalid("give w, h or both"));
        }
        if spec.fit == Fit::Cover && (spec.width.is_none() || spec.height.is_none()) {
            return Err(invalid("fit=cover needs both w and h"));
        }
        Ok(spec)
    }

    /// Whether the box is one of the named presets (which public media may be asked for
    /// unsigned when `PUBLIC_TRANSFORMS=presets`).
    pub fn is_preset(&self) -> bool {
        PRESETS.iter().any(|(_, w, h, fit)| (*w, *h, *fit) == (self.width, self.height, self.fit))
    }

    /// The one spelling of these parameters: what signatures cover and variant keys hash.
    pub fn canonical(&self) -> String {
        let fit = match self.fit {
            Fit::Cover => "cover",
            Fit::Contain => "contain",
            Fit::Inside => "inside",
        };
        let format = match self.format {
            Requested::Auto => "auto",
            Requested::Avif => "avif",
            Requested::Webp => "webp",
            Requested::Jpeg => "jpeg",
            Requested::Png => "png",
        };
        let dim = |d: Option<u32>| d.map(|v| v.to_string()).unwrap_or_default();
        format!("w={}&h={}&fit={fit}&format={format}&q={}", dim(self.width), dim(self.height), self.quality)
    }

    /// The encoded format: the requested one, or for `auto` the best the `Accept` header allows
    /// (AVIF, then WebP), else the original's own (a WebP, HEIC/HEIF or AVIF original falls
    /// back to PNG if it may have alpha, JPEG otherwise).
    pub fn output(&self, accept: Option<&str>, original: ContentType, has_alpha: bool) -> Output {
        self.output_within(accept, original, has_alpha, true)
    }

    /// `output`, where `avif` says whether AVIF may be chosen for `auto` (the result is small
    /// enough to encode within budget: `AVIF_MAX_PIXELS`).
    pub fn output_within(&self, accept: Option<&str>, original: ContentType, has_alpha: bool, avif: bool) -> Output {
        match self.format {
            Requested::Avif => Output::Avif,
            Requested::Webp => Output::Webp,
            Requested::Jpeg => Output::Jpeg,
            Requested::Png => Output::Png,
            Requested::Auto => {
                let accepts = |mime: &str| accept.is_some_and(|a| accepts(a, mime));
                if avif && accepts("image/avif") {
                    Output::Avif
                } else if accepts("image/webp") {
                    Output::Webp
                } else {
                    match original {
                        ContentType::Png => Output::Png,
                        ContentType::Webp | ContentType::Heic | ContentType::Heif | ContentType::Avif if has_alpha => Output::Png,
                        _ => Output::Jpeg,
                    }
                }
            }
        }
    }
}

/// Where a variant is stored: inside the media's folder, so deleting the media deletes it. A
/// cover crop depends on the focal point too, so moving it makes new crops.
pub fn variant_key(media_folder: &str, spec: &TransformSpec, output: Output, focal: FocalPoint) -> String {
    let crop = match spec.fit {
        Fit::Cover => format!("|{:.2},{:.2}", focal.x, focal.y),
        _ => String::new(),
    };
    let digest = Sha256::digest(format!("{}|{}{crop}", spec.canonical(), output.extension()).as_bytes());
    crate::domain::keys::derived(media_folder, &hex::encode(digest)[..24], output.extension())
}

/// What one URL's MAC covers: the media id, the canonical parameters and the expiry.
fn signed_text(media_id: &str, spec: &TransformSpec, expires: i64) -> String {
    format!("{media_id}?{}&exp={expires}", spec.canonical())
}

/// The signature of a transform URL: HMAC-SHA256, base64url without padding (like imgproxy's).
/// `None` only if HMAC refused the key, which it never does.
pub fn sign(secret: &[u8], media_id: &str, spec: &TransformSpec, expires: i64) -> Option<String> {
    crate::domain::mac::tag_base64url(secret, &[signed_text(media_id, spec, expires).as_bytes()])
}

/// Checks a signature's expiry, then the signature in constant time.
pub fn check_signature(secret: &[u8], media_id: &str, spec: &TransformSpec, expires: i64, signature: &str, now: i64) -> Result<(), TransformError> {
    if expires <= now {
        return Err(TransformError::Expired);
    }
    match crate::domain::mac::verify_base64url(secret, &[signed_text(media_id, spec, expires).as_bytes()], signature) {
        true => Ok(()),
        false => Err(TransformError::BadSignature),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn parameters_are_bounded_and_have_one_spelling() {
        let a = TransformSpec::parse(&q(&[("w", "640"), ("h", "480"), ("fit", "cover"), ("format", "webp"), ("q", "80")])).unwrap();
        let b = TransformSpec::parse(&q(&[("q", "80"), ("fit", "cover"), ("format", "webp"), ("h", "480"), ("w", "640")])).unwrap();
        assert_eq!(a.canonical(), b.canonical());
        assert_eq!(TransformSpec::parse(&q(&[("w", "320")])).unwrap().canonical(), "w=320&h=&fit=inside&format=auto&q=80");
        for bad in [
            q(&[]),
            q(&[("w", "641")]),
            q(&[("w", "0")]),
            q(&[("w", "-1")]),
            q(&[("w", "99999999999")]),
            q(&[("w", "640"), ("w", "320")]),
            q(&[("w", "640"), ("fit", "stretch")]),
            q(&[("w", "640"), ("fit", "cover")]),
            q(&[("w", "640"), ("format", "gif")]),
            q(&[("w", "640"), ("q", "81")]),
            q(&[("w", "640"), ("blur", "5")]),
        ] {
            let e = TransformSpec::parse(&bad).unwrap_err();
            assert_eq!(e.code(), "invalid_transform", "{bad:?}");
        }
        // The whole variant space is finite: sizes (or none) squared, fits, formats, qualities.
        let max = (SIZES.len() + 1).pow(2) * 3 * 5 * QUALITIES.len();
        assert_eq!(max, 15_360, "at most this many variants of one image");
        // A preset is its explicit form: the same canonical spelling, so the same variant.
        let card = TransformSpec::parse(&q(&[("preset", "card"), ("format", "webp")])).unwrap();
        assert_eq!(card.canonical(), TransformSpec::parse(&q(&[("w", "640"), ("h", "360"), ("fit", "cover"), ("format", "webp")])).unwrap().canonical());
        for bad in [q(&[("preset", "huge")]), q(&[("preset", "card"), ("w", "640")]), q(&[("fit", "inside"), ("preset", "card")])] {
            assert_eq!(TransformSpec::parse(&bad).unwrap_err().code(), "invalid_transform", "{bad:?}");
        }
    }

    #[test]
    fn auto_follows_accept_then_the_original() {
        let spec = TransformSpec::parse(&q(&[("w", "640")])).unwrap();
        let chrome = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8";
        assert_eq!(spec.output(Some(chrome), ContentType::Jpeg, false), Output::Avif);
        assert_eq!(spec.output(Some("image/webp,*/*"), ContentType::Jpeg, false), Output::Webp);
        assert_eq!(spec.output(Some("image/avif;q=0, image/webp"), ContentType::Jpeg, false), Output::Webp);
        assert_eq!(spec.output(Some("*/*"), ContentType::Jpeg, false), Output::Jpeg);
        assert_eq!(spec.output(None, ContentType::Png, true), Output::Png);
        assert_eq!(spec.output(Some("*/*"), ContentType::Webp, true), Output::Png);
        let explicit = TransformSpec::parse(&q(&[("w", "640"), ("format", "jpeg")])).unwrap();
        assert_eq!(explicit.output(Some(chrome), ContentType::Png, true), Output::Jpeg);
    }

    #[test]
    fn a_zero_weight_refuses_in_every_spelling() {
        for refused in ["image/avif;q=0", "image/avif;q=0.0", "image/avif; q=0.00", "image/avif;Q=0.000", "image/avif ; q = 0", "IMAGE/AVIF;q=0."] {
            let accept = format!("{refused},image/webp,*/*;q=0.8");
            assert!(!accepts(&accept, "image/avif"), "{accept}");
            assert!(accepts(&accept, "image/webp"), "{accept}");
        }
        for taken in ["image/avif", "image/avif;q=1", "image/avif;q=0.001", "image/avif;q=1.000", "image/avif;level=1;q=0.5", " image/avif "] {
            assert!(accepts(taken, "image/avif"), "{taken}");
        }
        // Malformed weights leave the range out; a wildcard is no promise; a refusal anywhere wins.
        for not_taken in ["image/avif;q=2", "image/avif;q=-1", "image/avif;q=0.0001", "image/avif;q=1.5", "image/avif;q=", "image/avif;q=abc", "image/*", "*/*", "", "image/avifx", "image/avif,image/avif;q=0"] {
            assert!(!accepts(not_taken, "image/avif"), "{not_taken}");
        }
        let spec = TransformSpec::parse(&q(&[("w", "640")])).unwrap();
        assert_eq!(spec.output(Some("image/avif;q=0.0,image/webp"), ContentType::Jpeg, false), Output::Webp);
    }

    #[test]
    fn every_parameter_has_one_spelling_and_one_occurrence() {
        for bad in [
            q(&[("w", "+640")]),
            q(&[("w", "0640")]),
            q(&[("w", "640.0")]),
            q(&[("w", " 640")]),
            q(&[("w", "640"), ("q", "080")]),
            q(&[("w", "640"), ("sig", "a"), ("sig", "b")]),
            q(&[("w", "640"), ("exp", "1"), ("exp", "1")]),
            q(&[("W", "640")]),
            q(&[("w", "")]),
            q(&[("w", "640"), ("", "")]),
        ] {
            assert_eq!(TransformSpec::parse(&bad).unwrap_err().code(), "invalid_transform", "{bad:?}");
        }
        assert!(TransformSpec::parse(&q(&[("w", "640"), ("exp", "1"), ("sig", "a")])).is_ok());
    }

    /// Property: over many generated parameter lists (a fixed-seed generator), a list that
    /// parses has a canonical form that parses back to the same spec, and every permutation of
    /// it parses to the same canonical form; no list panics.
    #[test]
    fn canonical_forms_round_trip_and_ignore_order() {
        let keys = ["w", "h", "fit", "format", "q", "preset", "sig", "exp", "x", "W"];
        let values = ["640", "1024", "65", "+640", "0", "cover", "inside", "contain", "webp", "avif", "jpg", "auto", "80", "90", "card", "feed", "", "%20", "1e3"];
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        let mut parsed = 0;
        for _ in 0..100_000 {
            let len = 1 + next(5);
            let list: Vec<(String, String)> = (0..len).map(|_| (keys[next(keys.len())].to_string(), values[next(values.len())].to_string())).collect();
            let Ok(spec) = TransformSpec::parse(&list) else { continue };
            parsed += 1;
            let canonical: Vec<(String, String)> =
                spec.canonical().split('&').filter(|p| !p.ends_with('=')).filter_map(|p| p.split_once('=')).map(|(k, v)| (k.to_string(), v.to_string())).collect();
            assert_eq!(TransformSpec::parse(&canonical).unwrap(), spec, "{list:?}");
            let mut reversed = list.clone();
            reversed.reverse();
            assert_eq!(TransformSpec::parse(&reversed).unwrap().canonical(), spec.canonical(), "{list:?}");
        }
        assert!(parsed > 400, "the generator reaches valid lists: {parsed}");
    }

    #[test]
    fn variants_are_keyed_by_their_parameters_inside_the_media_folder() {
        let a = TransformSpec::parse(&q(&[("w", "640")])).unwrap();
        let b = TransformSpec::parse(&q(&[("w", "640"), ("q", "90")])).unwrap();
        let c = FocalPoint::CENTRE;
        let ka = variant_key("private/image/id/", &a, Output::Webp, c);
        assert!(ka.starts_with("private/image/id/derived/") && ka.ends_with(".webp"), "{ka}");
        assert_eq!(ka, variant_key("private/image/id/", &a, Output::Webp, c));
        assert_ne!(ka, variant_key("private/image/id/", &b, Output::Webp, c));
        assert_ne!(ka, variant_key("private/image/id/", &a, Output::Avif, c));
        // The focal point matters to cover crops only.
        let corner = FocalPoint { x: 0.0, y: 0.0 };
        assert_eq!(ka, variant_key("private/image/id/", &a, Output::Webp, corner));
        let cover = TransformSpec::parse(&q(&[("w", "640"), ("h", "640"), ("fit", "cover")])).unwrap();
        assert_ne!(variant_key("f/", &cover, Output::Webp, c), variant_key("f/", &cover, Output::Webp, corner));
    }

    #[test]
    fn signatures_cover_the_media_the_parameters_and_the_expiry() {
        let key = b"0123456789abcdef0123456789abcdef";
        let spec = TransformSpec::parse(&q(&[("w", "640"), ("h", "640"), ("fit", "cover")])).unwrap();
        let sig = sign(key, "m1", &spec, 2000).unwrap();
        assert!(check_signature(key, "m1", &spec, 2000, &sig, 1000).is_ok());
        let other = TransformSpec::parse(&q(&[("w", "1280"), ("h", "640"), ("fit", "cover")])).unwrap();
        for (id, s, exp, sig2, now) in [("m2", &spec, 2000, sig.as_str(), 1000), ("m1", &other, 2000, sig.as_str(), 1000), ("m1", &spec, 2001, sig.as_str(), 1000), ("m1", &spec, 2000, "AAAA", 1000)] {
            assert_eq!(check_signature(key, id, s, exp, sig2, now).unwrap_err().code(), "invalid_signature");
        }
        assert_eq!(check_signature(key, "m1", &spec, 2000, &sig, 2000).unwrap_err().code(), "expired_signature");
        assert_eq!(check_signature(b"another key of thirty-two bytes!", "m1", &spec, 2000, &sig, 1000).unwrap_err().code(), "invalid_signature");
    }
}
