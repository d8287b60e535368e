//! The transform use case: `GET /v1/media/{id}/image` finds (or renders once and stores) the
//! variant a request names and answers where to read it; `link` builds the URL that
//! `GET /v1/media/{id}/url?w=…` hands out. Written against the ports only.

use crate::domain::transform::{sign, variant_key, verify, Fit, Output, TransformSpec};
use crate::domain::clock::Clock;
use crate::edge::error::ApiError;
use crate::imaging::pixels::{Format, WebpSettings};
use crate::imaging::transform::Geometry;
use crate::imaging::{render_guarded, DecodeLimits, ImageError};
use crate::domain::kinds::{Kinds, Visibility};
use crate::domain::media::{FocalPoint, MediaId, MediaRecord, Status};
use crate::ports::{Fetched, MediaRepository, ObjectStore};
use std::sync::Arc;
use std::time::Duration;

/// How long a presigned redirect to a variant lives: the transform URL that led to it is the
/// real credential (or the media is public), so it only needs to outlast the follow-up GET.
pub const REDIRECT_TTL: Duration = Duration::from_secs(300);
/// A stored variant never changes (its key names its parameters), so caches may keep it.
pub const VARIANT_CACHE_CONTROL: &str = "public, max-age=31536000, immutable";

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
    pub repo: R,
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

fn no_image() -> ApiError {
    ApiError::new(404, "not_found", "no such image")
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

fn transform_failed(message: String) -> ApiError {
    ApiError::new(422, "transform_failed", message)
}

impl<R: MediaRepository, O: ObjectStore, C: Clock> TransformService<R, O, C> {
    /// The variant `req` names: stored already, or rendered now from the verified original
    /// (inside the same boundary and limits as verification) and stored for every later request.
    pub async fn image(&self, req: ImageRequest) -> Result<Served, ApiError> {
        let record = self.repo.get(&req.id.to_string()).await?.ok_or_else(no_image)?;
        self.authorize(&record, &req)?;
        let (original_key, content_type, size) = self.original(&record)?;
        let has_alpha = record.placeholder.as_ref().is_some_and(|p| p.has_alpha);
        let focal = record.focal_point.unwrap_or(FocalPoint::CENTRE);
        let output = self.output(&record, &req, content_type, has_alpha, focal)?;
        let key = variant_key(&record.object_prefix(), &req.spec, output, focal);
        let rendered = match self.stored(&key).await? {
            Stored::Variant => false,
            Stored::Failed(message) => return Err(transform_failed(message)),
            Stored::Nothing => {
                let window = self.cap.window_start(self.clock.now().unix_timestamp());
                if !self.repo.count_render(&record.id, window, self.cap.renders).await? {
                    return Err(ApiError::new(
                        429,
                        "too_many_variants",
                        format!("this image had {} new variants rendered in the last {} s; ask for a stored one or later", self.cap.renders, self.cap.window.as_secs()),
                    ));
                }
                let bytes = match self.objects.get_bounded(&original_key, size).await? {
                    Fetched::Bytes(b) => b,
                    // Deleted meanwhile, or not the object the record describes: nothing to serve.
                    Fetched::Missing | Fetched::TooLarge(_) => return Err(no_image()),
                };
                let variant = match self.render(bytes, content_type, &req.spec, output, focal).await {
                    Ok(v) => v,
                    Err(e) if e.code == "transform_failed" => {
                        let marker = format!("{key}{FAILURE_SUFFIX}");
                        self.objects.put(&marker, e.message.clone().into_bytes(), "text/plain; charset=utf-8", VARIANT_CACHE_CONTROL).await?;
                        return Err(e);
                    }
                    Err(e) => return Err(e),
                };
                tracing::info!(media_id = %record.id, key = %key, bytes = variant.len(), "variant rendered");
                self.objects.put(&key, variant, output.mime(), VARIANT_CACHE_CONTROL).await?;
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
    fn output(&self, record: &MediaRecord, req: &ImageRequest, content_type: crate::domain::kinds::ContentType, has_alpha: bool, focal: FocalPoint) -> Result<Output, ApiError> {
        let (geometry, _) = plan(&req.spec, Output::Webp, focal, self.webp_method);
        let (ow, oh) = match (record.width, record.height) {
            (Some(w), Some(h)) => crate::imaging::transform::output_size(geometry, w, h).unwrap_or((u32::MAX, u32::MAX)),
            _ => (u32::MAX, u32::MAX),
        };
        let avif = u64::from(ow) * u64::from(oh) <= crate::domain::transform::AVIF_MAX_PIXELS;
        if req.spec.format == crate::domain::transform::Requested::Avif && !avif {
            return Err(ApiError::new(
                400,
                "invalid_transform",
                format!("AVIF is rendered up to {} pixels and this one would be {ow}x{oh}: ask for format=webp or auto", crate::domain::transform::AVIF_MAX_PIXELS),
            ));
        }
        Ok(req.spec.output_within(req.accept.as_deref(), content_type, has_alpha, avif))
    }

    /// A signature, where one is given, is always checked (a public media's too: an unchecked
    /// one would make every forged `sig` another cache key). Private media need one; public
    /// media need one for anything but a preset when `PUBLIC_TRANSFORMS=presets`.
    fn authorize(&self, record: &MediaRecord, req: &ImageRequest) -> Result<(), ApiError> {
        let now = self.clock.now().unix_timestamp();
        if let Some((expires, sig)) = &req.signature {
            return verify(&self.secret, &record.id, &req.spec, *expires, sig, now);
        }
        match (record.visibility, self.public_transforms) {
            (Visibility::Public, PublicTransforms::Any) => Ok(()),
            (Visibility::Public, PublicTransforms::Presets) if req.spec.is_preset() => Ok(()),
            (Visibility::Public, PublicTransforms::Presets) => Err(ApiError::new(
                403,
                "signature_required",
                "public media serve the named presets unsigned; other sizes need the signed URL from GET /v1/media/{id}/url",
            )),
            (Visibility::Private, _) => Err(ApiError::new(403, "signature_required", "this media is private: use the signed URL from GET /v1/media/{id}/url")),
        }
    }

    /// What the variant's key holds: the variant, the marker of a failed render, or nothing. A
    /// listing of the key as a prefix (the variant sorts before its marker), not a HEAD: with
    /// the function's prefix-limited ListBucket, S3 answers a HEAD of a missing key with 403.
    async fn stored(&self, key: &str) -> Result<Stored, ApiError> {
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
    fn original(&self, record: &MediaRecord) -> Result<(String, crate::domain::kinds::ContentType, u64), ApiError> {
        match record.status {
            Status::Ready => {}
            Status::Pending => return Err(ApiError::conflict("not_ready", "the media is not verified yet")),
            Status::Rejected | Status::Deleting => return Err(no_image()),
        }
        let content_type = record.content_type.ok_or_else(no_image)?;
        if content_type.is_video() {
            return Err(ApiError::new(400, "not_an_image", "only images have transforms"));
        }
        let key = record.final_key.clone().ok_or_else(no_image)?;
        let max = self.kinds.get(&record.kind).map(|k| k.max_bytes).unwrap_or(0).max(record.size_bytes.unwrap_or(0));
        Ok((key, content_type, max))
    }

    async fn render(&self, bytes: Vec<u8>, content_type: crate::domain::kinds::ContentType, spec: &TransformSpec, output: Output, focal: FocalPoint) -> Result<Vec<u8>, ApiError> {
        let (geometry, format) = plan(spec, output, focal, self.webp_method);
        let limits = self.limits;
        let work = tokio::task::spawn_blocking(move || render_guarded(Arc::new(bytes), content_type, geometry, format, limits));
        match work.await.map_err(ApiError::internal)? {
            Ok(v) => Ok(v.bytes),
            Err(ImageError::DimensionsTooLarge { width, height }) => {
                Err(ApiError::new(400, "invalid_transform", format!("the result would be {width}x{height}, beyond the allowed size")))
            }
            Err(e) => {
                // The original passed verification under these limits: this is ours, not the file's.
                tracing::error!(error = %e, "a verified original could not be transformed");
                Err(transform_failed(format!("this image could not be transformed: {e}")))
            }
        }
    }
}

/// The imaging work one variant is: the box and fit, and the encoder with its settings.
pub fn plan(spec: &TransformSpec, output: Output, focal: FocalPoint, webp_method: i32) -> (Geometry, Format) {
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
pub fn link(base: &str, record: &MediaRecord, spec: &TransformSpec, secret: &[u8], expires: i64, public: PublicTransforms) -> Result<String, ApiError> {
    let query: Vec<String> = spec.canonical().split('&').filter(|p| !p.ends_with('=')).map(str::to_string).collect();
    let mut url = format!("{base}/v1/media/{}/image?{}", record.id, query.join("&"));
    if needs_signature(record, spec, public) {
        url.push_str(&format!("&exp={expires}&sig={}", sign(secret, &record.id, spec, expires)?));
    }
    Ok(url)
}
