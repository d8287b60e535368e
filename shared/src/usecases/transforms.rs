//! The transform use case: `GET /v1/media/{id}/image` finds (or renders once and stores) the
//! variant a request names and answers where to read it; `link` builds the URL that
//! `GET /v1/media/{id}/url?w=…` hands out. Written against the ports only.

use crate::domain::transform::{check_signature, sign, variant_key, Fit, Output, TransformError, TransformSpec};
use crate::domain::clock::Clock;
use crate::imaging::pixels::{Format, WebpSettings};
use crate::imaging::transform::Geometry;
use crate::imaging::{render_guarded, DecodeLimits, ImageError};
use crate::domain::kinds::{Kinds, Visibility};
use crate::domain::id::MediaId;
use crate::domain::media::{FocalPoint, MediaRecord, Status};
use crate::ports::{Fetched, MediaRepository, ObjectStore, ObjectError, RecordError};
use std::sync::Arc;
use std::time::Duration;

/// How long a presigned redirect to a variant lives: the transform URL that led to it is the
/// real credential (or the media is public), so it only needs to outlast the follow-up GET.
pub const REDIRECT_TTL: Duration = Duration::from_secs(300);

/// `GET /v1/media/{id}/image`, parsed.
#[derive(Debug, Clone)]
pub struct ImageRequest {
    pub id: MediaId,
    pub spec: TransformSpec,
    pub accept: Option<String>,
    /// `exp` and `sig` from the query: required for private media.
    pub signature: Option<(i64, String)>,
    /// The request came through the CDN (its origin header `x-media-cdn`), which serves
    /// `public/` itself: a public variant is then answered with a path on the same host.
    pub via_cdn: bool,
}

/// The header the CDN adds to every request it sends the transform function.
pub const CDN_HEADER: &str = "x-media-cdn";

/// Where the variant is, and whether this request made it.
#[derive(Debug, Clone)]
pub struct Served {
    pub url: String,
    pub output: Output,
    /// True when this request rendered and stored the variant.
    pub rendered: bool,
    /// The redirect is a path the CDN serves (and may cache), not a presigned URL.
    pub shared: bool,
    /// True for `format=auto`: the answer depends on `Accept`.
    pub varies: bool,
}

/// Which transforms of a public media need no signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublicTransforms {
    /// Every parameter set in the bounded space (the default).
    Any,
    /// The named presets only; other boxes need a signed URL from `GET /v1/media/{id}/url`,
    /// as Cloudflare Images serves named variants and flexible ones only when allowed.
    Presets,
}

/// How many new variants one media may have rendered per window: the bound on the work one
/// image can be made to cost, whatever URLs are sent.
#[derive(Debug, Clone, Copy)]
pub struct VariantCap {
    pub renders: u32,
    pub window: Duration,
}

impl VariantCap {
    /// The window `now` (unix seconds) falls in.
    pub fn window_start(&self, now: i64) -> i64 {
        let len = self.window.as_secs().max(1) as i64;
        now - now.rem_euclid(len)
    }
}

pub struct TransformService<R, O, C> {
    pub records: R,
    /// Reads originals, stores variants and presigns the redirect to them.
    pub objects: O,
    pub clock: C,
    pub kinds: Kinds,
    pub limits: DecodeLimits,
    pub secret: Vec<u8>,
    /// libwebp method for WebP variants (the thumbnails' setting).
    pub webp_method: i32,
    pub cap: VariantCap,
    pub public_transforms: PublicTransforms,
}

/// Why a variant is not served.
#[derive(Debug, thiserror::Error)]
pub enum VariantError {
    #[error(transparent)]
    Request(#[from] TransformError),
    /// Private media, or a non-preset of a public one under `PUBLIC_TRANSFORMS=presets`.
    #[error("{0}")]
    SignatureRequired(&'static str),
    #[error("no such image")]
    NoImage,
    #[error("the media is not verified yet")]
    NotReady,
    #[error("only images have transforms")]
    NotAnImage,
    /// The render failed (and is remembered): the same request gets the same answer.
    #[error("{0}")]
    Failed(String),
    #[error("this image had {renders} new variants rendered in the last {window_secs} s; ask for a stored one or later")]
    TooManyVariants { renders: u32, window_secs: u64 },
    #[error("{0}")]
    Internal(String),
    #[error(transparent)]
    Store(#[from] RecordError),
    #[error(transparent)]
    Storage(#[from] ObjectError),
}

/// A render that failed leaves this beside the variant's key, holding the message: the same
/// request is then answered with the same error from a listing and a small read, without
/// decoding the original again.
pub const FAILURE_SUFFIX: &str = ".failed";
/// The failure marker's message is at most this long.
const FAILURE_MESSAGE_BYTES: u64 = 1024;

/// What is stored under a variant's key.
enum Stored {
    Variant,
    Failed(String),
    Nothing,
}

impl<R: MediaRepository, O: ObjectStore, C: Clock> TransformService<R, O, C> {
    /// The variant `req` names: stored already, or rendered now from the verified original
    /// (inside the same boundary and limits as verification) and stored for every later request.
    pub async fn image(&self, req: ImageRequest) -> Result<Served, VariantError> {
        let record = self.records.get(&req.id.to_string()).await?.ok_or(VariantError::NoImage)?;
        self.authorize(&record, &req)?;
        let (original_key, content_type, size) = self.original(&record)?;
        let has_alpha = record.placeholder.as_ref().is_some_and(|p| p.has_alpha);
        let focal = record.focal_point.unwrap_or(FocalPoint::CENTRE);
        let output = self.output(&record, &req, content_type, has_alpha, focal)?;
        let key = variant_key(&record.object_prefix(), &req.spec, output, focal);
        let rendered = match self.stored(&key).await? {
            Stored::Variant => false,
            Stored::Failed(message) => return Err(VariantError::Failed(message)),
            Stored::Nothing => {
                let window = self.cap.window_start(self.clock.now().unix_timestamp());
                if !self.records.count_render(&record.id, window, self.cap.renders).await? {
                    return Err(VariantError::TooManyVariants { renders: self.cap.renders, window_secs: self.cap.window.as_secs() });
                }
                let bytes = match self.objects.get_bounded(&original_key, size).await? {
                    Fetched::Bytes(b) => b,
                    // Deleted meanwhile, or not the object the record describes: nothing to serve.
                    Fetched::Missing | Fetched::TooLarge(_) => return Err(VariantError::NoImage),
                };
                let variant = match self.render(bytes, content_type, &req.spec, output, focal).await {
                    Ok(v) => v,
                    Err(VariantError::Failed(message)) => {
                        let marker = format!("{key}{FAILURE_SUFFIX}");
                        self.objects.put(&marker, message.clone().into_bytes(), "text/plain; charset=utf-8", crate::domain::keys::IMMUTABLE).await?;
                        return Err(VariantError::Failed(message));
                    }
                    Err(e) => return Err(e),
                };
                tracing::info!(media_id = %record.id, key = %key, bytes = variant.len(), "variant rendered");
                self.objects.put(&key, variant, output.mime(), crate::domain::keys::IMMUTABLE).await?;
                true
            }
        };
        // The bucket is private: only the CDN reads `public/`. Anything else is a presigned GET.
        let shared = req.via_cdn && record.visibility == Visibility::Public;
        let url = match shared {
            true => format!("/{key}"),
            false => self.objects.presign_get(&key, REDIRECT_TTL, self.clock.now().into(), None).await?,
        };
        let varies = req.spec.format == crate::domain::transform::Requested::Auto;
        Ok(Served { url, output, rendered, shared, varies })
    }

    /// The encoded format; AVIF only for results of at most `AVIF_MAX_PIXELS` (the size follows
    /// from the record's dimensions, before anything is decoded).
    fn output(&self, record: &MediaRecord, req: &ImageRequest, content_type: crate::domain::kinds::ContentType, has_alpha: bool, focal: FocalPoint) -> Result<Output, VariantError> {
        let (geometry, _) = render_plan(&req.spec, Output::Webp, focal, self.webp_method);
        let (ow, oh) = match (record.width, record.height) {
            (Some(w), Some(h)) => crate::imaging::transform::output_size(geometry, w, h).unwrap_or((u32::MAX, u32::MAX)),
            _ => (u32::MAX, u32::MAX),
        };
        let avif = u64::from(ow) * u64::from(oh) <= crate::domain::transform::AVIF_MAX_PIXELS;
        if req.spec.format == crate::domain::transform::Requested::Avif && !avif {
            return Err(TransformError::Invalid(format!(
                "AVIF is rendered up to {} pixels and this one would be {ow}x{oh}: ask for format=webp or auto",
                crate::domain::transform::AVIF_MAX_PIXELS
            ))
            .into());
        }
        Ok(req.spec.output_within(req.accept.as_deref(), content_type, has_alpha, avif))
    }

    /// A signature, where one is given, is always checked (a public media's too: an unchecked
    /// one would make every forged `sig` another cache key). Private media need one; public
    /// media need one for anything but a preset when `PUBLIC_TRANSFORMS=presets`.
    fn authorize(&self, record: &MediaRecord, req: &ImageRequest) -> Result<(), VariantError> {
        let now = self.clock.now().unix_timestamp();
        if let Some((expires, sig)) = &req.signature {
            return Ok(check_signature(&self.secret, &record.id, &req.spec, *expires, sig, now)?);
        }
        match (record.visibility, self.public_transforms) {
            (Visibility::Public, PublicTransforms::Any) => Ok(()),
            (Visibility::Public, PublicTransforms::Presets) if req.spec.is_preset() => Ok(()),
            (Visibility::Public, PublicTransforms::Presets) => Err(VariantError::SignatureRequired(
                "public media serve the named presets unsigned; other sizes need the signed URL from GET /v1/media/{id}/url",
            )),
            (Visibility::Private, _) => Err(VariantError::SignatureRequired("this media is private: use the signed URL from GET /v1/media/{id}/url")),
        }
    }

    /// What the variant's key holds: the variant, the marker of a failed render, or nothing. A
    /// listing of the key as a prefix (the variant sorts before its marker), not a HEAD: with
    /// the function's prefix-limited ListBucket, S3 answers a HEAD of a missing key with 403.
    async fn stored(&self, key: &str) -> Result<Stored, VariantError> {
        let (items, _) = self.objects.list_page(key, None, 2).await?;
        if items.iter().any(|(k, _)| k == key) {
            return Ok(Stored::Variant);
        }
        let marker = format!("{key}{FAILURE_SUFFIX}");
        if !items.iter().any(|(k, _)| *k == marker) {
            return Ok(Stored::Nothing);
        }
        Ok(match self.objects.get_bounded(&marker, FAILURE_MESSAGE_BYTES).await? {
            Fetched::Bytes(b) => Stored::Failed(String::from_utf8_lossy(&b).into_owned()),
            Fetched::Missing | Fetched::TooLarge(_) => Stored::Failed("this image could not be transformed".into()),
        })
    }

    /// The verified original of a ready image; anything else has no variants.
    fn original(&self, record: &MediaRecord) -> Result<(String, crate::domain::kinds::ContentType, u64), VariantError> {
        match record.status {
            Status::Ready => {}
            Status::Pending => return Err(VariantError::NotReady),
            Status::Rejected | Status::Deleting => return Err(VariantError::NoImage),
        }
        let content_type = record.content_type.ok_or(VariantError::NoImage)?;
        if content_type.is_video() {
            // Videos are rendered from their poster frame.
            let poster = record.poster.as_ref().ok_or(VariantError::NotAnImage)?;
            return Ok((poster.key.clone(), crate::domain::kinds::ContentType::Webp, poster.size_bytes));
        }
        let key = record.final_key.clone().ok_or(VariantError::NoImage)?;
        let max = self.kinds.get(&record.kind).map(|k| k.max_bytes).unwrap_or(0).max(record.size_bytes.unwrap_or(0));
        Ok((key, content_type, max))
    }

    async fn render(&self, bytes: Vec<u8>, content_type: crate::domain::kinds::ContentType, spec: &TransformSpec, output: Output, focal: FocalPoint) -> Result<Vec<u8>, VariantError> {
        let (geometry, format) = render_plan(spec, output, focal, self.webp_method);
        let limits = self.limits;
        let work = tokio::task::spawn_blocking(move || render_guarded(Arc::new(bytes), content_type, geometry, format, limits));
        match work.await.map_err(|e| VariantError::Internal(e.to_string()))? {
            Ok(v) => Ok(v.bytes),
            Err(ImageError::DimensionsTooLarge { width, height }) => {
                Err(TransformError::Invalid(format!("the result would be {width}x{height}, beyond the allowed size")).into())
            }
            Err(e) => {
                // The original passed verification under these limits: this is ours, not the file's.
                tracing::error!(error = %e, "a verified original could not be transformed");
                Err(VariantError::Failed(format!("this image could not be transformed: {e}")))
            }
        }
    }
}

/// The imaging work one variant is: the box and fit, and the encoder with its settings.
pub fn render_plan(spec: &TransformSpec, output: Output, focal: FocalPoint, webp_method: i32) -> (Geometry, Format) {
    // A side not asked for is still bounded by the largest size: `w=1024` of a 1:10 strip is
    // 256×2560, not 1024×10240 (a result larger than any size the API lists).
    let largest = crate::domain::transform::SIZES[crate::domain::transform::SIZES.len() - 1];
    let (bw, bh) = (spec.width.or(Some(largest)), spec.height.or(Some(largest)));
    let geometry = match (spec.fit, spec.width, spec.height) {
        (Fit::Cover, Some(width), Some(height)) => Geometry::Cover { width, height, focal: (focal.x, focal.y) },
        (Fit::Contain, _, _) => Geometry::Contain { width: bw, height: bh },
        _ => Geometry::Inside { width: bw, height: bh },
    };
    let format = match output {
        Output::Avif => Format::Avif(spec.quality),
        Output::Webp => Format::Webp(WebpSettings::lossy(spec.quality as f32, webp_method)),
        Output::Jpeg => Format::Jpeg(spec.quality),
        Output::Png => Format::Png,
    };
    (geometry, format)
}

/// What building transform URLs needs: where they point and the key that signs them.
#[derive(Clone)]
pub struct Links {
    /// The API's or CDN's origin, without a trailing slash.
    pub base_url: String,
    pub secret: Vec<u8>,
    pub public_transforms: PublicTransforms,
}

/// Whether a transform URL of this media needs a signature.
pub fn needs_signature(record: &MediaRecord, spec: &TransformSpec, public: PublicTransforms) -> bool {
    match record.visibility {
        Visibility::Private => true,
        Visibility::Public => public == PublicTransforms::Presets && !spec.is_preset(),
    }
}

/// The transform URL of a media: plain where `needs_signature` says none is needed, else
/// signed until `expires` (unix seconds).
pub fn link(base: &str, record: &MediaRecord, spec: &TransformSpec, secret: &[u8], expires: i64, public: PublicTransforms) -> Option<String> {
    let query: Vec<String> = spec.canonical().split('&').filter(|p| !p.ends_with('=')).map(str::to_string).collect();
    let mut url = format!("{base}/v1/media/{}/image?{}", record.id, query.join("&"));
    if needs_signature(record, spec, public) {
        url.push_str(&format!("&exp={expires}&sig={}", sign(secret, &record.id, spec, expires)?));
    }
    Some(url)
}
