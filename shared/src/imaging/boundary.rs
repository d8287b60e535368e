//! The one boundary around untrusted bytes. Everything that parses an upload (sniff, scan
//! count, header probe, decode, thumbnails, metadata strip) runs inside [`inspect`], and
//! production calls it through [`inspect_guarded`], which turns a panic or a time-budget overrun
//! into a final verdict. A file can therefore never make verification fail in a way that looks
//! like ours and is retried until the dead-letter queue.

use super::pixels::Format;
use super::transform::{render, Geometry, Variant};
use super::{container, probe, sniff, strip_metadata, thumbnails, DecodeLimits, Display, ImageError, Placeholder, Probe, Thumbnail, ThumbnailSpec};
use crate::domain::kinds::ContentType;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{mpsc, Arc};
use std::time::Instant;

/// What to check and produce for one upload.
#[derive(Debug, Clone)]
pub struct Request {
    /// The type the client declared; the bytes must be this type.
    pub declared: ContentType,
    /// The types the media kind accepts.
    pub allowed: Vec<ContentType>,
    pub thumbnails: ThumbnailSpec,
    /// Rebuild the file without metadata (public kinds).
    pub strip: bool,
    pub limits: DecodeLimits,
}

#[derive(Debug)]
pub struct Inspection {
    pub probe: Probe,
    pub thumbs: Vec<Thumbnail>,
    pub placeholder: Placeholder,
    /// The file rebuilt without metadata, when the request asked for it.
    pub stripped: Option<Vec<u8>>,
    /// A rendition every browser shows, for types not every browser does.
    pub display: Option<Display>,
}

/// The whole check of one file, unguarded: fuzz targets call this so that a panic is found.
pub fn inspect(bytes: &[u8], req: &Request, deadline: Instant) -> Result<Inspection, ImageError> {
    let sniffed = sniff(bytes).ok_or(ImageError::NotAnImage)?;
    if !sniffed.same_family(req.declared) || !req.allowed.contains(&sniffed) {
        return Err(ImageError::TypeMismatch { sniffed, declared: req.declared });
    }
    bound_scans(bytes, sniffed, req.limits)?;
    let probe = probe(bytes, sniffed, req.limits)?;
    let rendered = thumbnails(bytes, &probe, &req.thumbnails, req.limits, deadline)?;
    let stripped = match req.strip {
        true => Some(strip_metadata(bytes, &probe).ok_or_else(|| ImageError::Corrupt("malformed container".into()))?),
        false => None,
    };
    Ok(Inspection { probe, thumbs: rendered.thumbs, placeholder: rendered.placeholder, stripped, display: rendered.display })
}

/// Each progressive JPEG scan is a full pass over the coefficients: bound them before decoding.
fn bound_scans(bytes: &[u8], content_type: ContentType, limits: DecodeLimits) -> Result<(), ImageError> {
    if content_type != ContentType::Jpeg {
        return Ok(());
    }
    let scans = container::jpeg_scan_count(bytes).ok_or_else(|| ImageError::Corrupt("broken JPEG structure".into()))?;
    if scans > limits.max_jpeg_scans {
        return Err(ImageError::LimitExceeded(format!("{scans} JPEG scans exceed the limit of {}", limits.max_jpeg_scans)));
    }
    Ok(())
}

/// [`inspect`] on its own thread, bounded by the time budget of `req.limits`. A panic becomes
/// `Corrupt`, an overrun `LimitExceeded`; both are final verdicts. An overrunning thread is left
/// to finish its current stage (each stage checks the deadline) and its result is dropped.
pub fn inspect_guarded(bytes: Arc<Vec<u8>>, req: Request) -> Result<Inspection, ImageError> {
    let budget = req.limits.time_budget;
    guarded("verify", budget, move |deadline| inspect(&bytes, &req, deadline))
}

/// One on-demand variant of a verified image ([`transform::render`]) behind the same boundary:
/// its own thread, the time budget, panics caught. The header is probed again (and a JPEG's
/// scans counted) so the decode is bounded exactly as at verification.
pub fn render_guarded(bytes: Arc<Vec<u8>>, content_type: ContentType, geometry: Geometry, format: Format, limits: DecodeLimits) -> Result<Variant, ImageError> {
    guarded("transform", limits.time_budget, move |deadline| {
        bound_scans(&bytes, content_type, limits)?;
        let probe = probe(&bytes, content_type, limits)?;
        render(&bytes, &probe, geometry, format, limits, deadline)
    })
}

/// A video's poster set from its keyframe sample ([`poster::render`]) behind the same boundary.
pub fn poster_guarded(keyframe: crate::domain::keyframe::Keyframe, sample: Arc<Vec<u8>>, spec: ThumbnailSpec, limits: DecodeLimits) -> Result<super::poster::Poster, ImageError> {
    guarded("poster", limits.time_budget, move |deadline| super::poster::render(&keyframe, &sample, &spec, limits, deadline))
}

/// Runs `work` on its own thread with a deadline `budget` from now, and waits at most that
/// long. An overrunning thread finishes its current stage (each checks the deadline) and its
/// result is dropped.
fn guarded<T: Send + 'static>(name: &str, budget: std::time::Duration, work: impl FnOnce(Instant) -> Result<T, ImageError> + Send + 'static) -> Result<T, ImageError> {
    let deadline = Instant::now() + budget;
    let (tx, rx) = mpsc::sync_channel(1);
    let work = Arc::new(std::sync::Mutex::new(Some(work)));
    let run = {
        let work = Arc::clone(&work);
        move || -> Result<T, ImageError> {
            let taken = work.lock().ok().and_then(|mut w| w.take());
            match taken {
                Some(f) => catch_unwind(AssertUnwindSafe(|| f(deadline))).unwrap_or_else(|p| Err(panicked(p))),
                None => Err(ImageError::Corrupt("the file could not be processed".into())),
            }
        }
    };
    let worker = {
        let run = run.clone();
        move || {
            let _ = tx.send(run());
        }
    };
    if let Err(e) = std::thread::Builder::new().name(name.into()).spawn(worker) {
        // No thread to be had: work inline, still catching panics (no hard time bound then).
        tracing::warn!(error = %e, "{name} thread not started; working inline");
        return run();
    }
    match rx.recv_timeout(budget) {
        Ok(result) => result,
        Err(mpsc::RecvTimeoutError::Timeout) => {
            Err(ImageError::LimitExceeded(format!("processing took longer than {} ms", budget.as_millis())))
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => Err(ImageError::Corrupt("the file could not be processed".into())),
    }
}

fn panicked(payload: Box<dyn std::any::Any + Send>) -> ImageError {
    let what = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    tracing::error!(panic = %what, "a decoder panicked on an image; refusing it");
    ImageError::Corrupt("the file could not be processed".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn request(declared: ContentType) -> Request {
        Request {
            declared,
            allowed: ContentType::IMAGES.to_vec(),
            thumbnails: ThumbnailSpec { sizes: vec![64], quality: 50.0, method: 0, parallel: false },
            strip: true,
            limits: DecodeLimits { max_pixels: 1_000_000, max_side: 2000, max_jpeg_scans: 8, max_memory_mb: 384, time_budget: Duration::from_secs(5) },
        }
    }

    #[test]
    fn the_42_byte_webp_gets_a_final_verdict() {
        let w = b"RIFF\x1e\0\0\0WEBPVP8L\x0a\0\0\0\x2f\0\0\0\0\0\0\0\0\0VP8X\0\0\0\0".to_vec();
        let err = inspect_guarded(Arc::new(w), request(ContentType::Webp)).unwrap_err();
        assert!(matches!(err, ImageError::Corrupt(_)), "{err:?}");
    }

    #[test]
    fn too_many_scans_are_a_limit_not_a_decode() {
        let mut j = vec![0xFF, 0xD8];
        for _ in 0..9 {
            j.extend_from_slice(&[0xFF, 0xDA, 0, 2, 1]);
        }
        j.extend_from_slice(&[0xFF, 0xD9]);
        assert!(matches!(inspect_guarded(Arc::new(j), request(ContentType::Jpeg)), Err(ImageError::LimitExceeded(_))));
    }

    #[test]
    fn type_is_judged_by_the_bytes() {
        let w = b"RIFF\x1e\0\0\0WEBPVP8L\x0a\0\0\0\x2f\0\0\0\0\0\0\0\0\0VP8X\0\0\0\0".to_vec();
        let err = inspect(&w, &request(ContentType::Jpeg), Instant::now()).unwrap_err();
        assert_eq!(err, ImageError::TypeMismatch { sniffed: ContentType::Webp, declared: ContentType::Jpeg });
        assert_eq!(inspect(b"<svg/>", &request(ContentType::Png), Instant::now()).unwrap_err(), ImageError::NotAnImage);
    }
}
