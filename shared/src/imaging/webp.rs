//! WebP through libwebp itself (`libwebp-sys`, libwebp 1.6 vendored and linked statically; the
//! only copy in the build): the decoder scales while decoding, and the encoder imports RGB or
//! RGBA straight into its YUV picture (`use_argb = 0`), where the `webp` crate forced an ARGB
//! copy and a second conversion of every frame.

use super::pixels::{Decoded, Pixels, WebpSettings};
use super::ImageError;
use libwebp_sys as w;

/// Encodes RGB8 or RGBA8 pixels.
pub fn encode(p: &Pixels, s: WebpSettings) -> Result<Vec<u8>, ImageError> {
    let failed = |what: &str| ImageError::Corrupt(format!("WebP encoding failed: {what}"));
    let channels = if p.alpha { 4 } else { 3 };
    if p.data.len() != p.width as usize * p.height as usize * channels || p.width == 0 || p.height == 0 {
        return Err(failed("pixel buffer size mismatch"));
    }
    let mut config = w::WebPConfig::new().map_err(|_| failed("libwebp ABI mismatch"))?;
    if s.lossless {
        // SAFETY: `config` was initialised by WebPConfig::new.
        if unsafe { w::WebPConfigLosslessPreset(&mut config, 6.min(s.method.max(0))) } == 0 {
            return Err(failed("lossless preset"));
        }
        config.exact = 1;
    } else {
        config.quality = s.quality;
        config.method = s.method;
        if let Some(sns) = s.sns_strength {
            config.sns_strength = sns;
        }
    }
    // SAFETY: a fully initialised config.
    if unsafe { w::WebPValidateConfig(&config) } == 0 {
        return Err(failed("invalid settings"));
    }
    let mut picture = w::WebPPicture::new().map_err(|_| failed("libwebp ABI mismatch"))?;
    picture.use_argb = i32::from(s.lossless);
    picture.width = p.width as i32;
    picture.height = p.height as i32;
    let stride = (p.width as usize * channels) as i32;
    // SAFETY: `p.data` holds width * height pixels of `channels` bytes (checked above); the
    // import allocates the picture's own planes and copies from it.
    let imported = unsafe {
        if p.alpha {
            w::WebPPictureImportRGBA(&mut picture, p.data.as_ptr(), stride)
        } else {
            w::WebPPictureImportRGB(&mut picture, p.data.as_ptr(), stride)
        }
    };
    if imported == 0 {
        // SAFETY: frees whatever the failed import allocated; the picture is not used again.
        unsafe { w::WebPPictureFree(&mut picture) };
        return Err(failed("out of memory importing pixels"));
    }
    // SAFETY: zeroed is the writer's documented initial state, and WebPMemoryWriterInit sets it.
    let mut writer: w::WebPMemoryWriter = unsafe { std::mem::zeroed() };
    unsafe { w::WebPMemoryWriterInit(&mut writer) };
    picture.writer = Some(w::WebPMemoryWrite);
    picture.custom_ptr = (&mut writer as *mut w::WebPMemoryWriter).cast();
    // SAFETY: config and picture are valid; the writer outlives the call.
    let ok = unsafe { w::WebPEncode(&config, &mut picture) };
    let error = picture.error_code;
    // SAFETY: the writer's buffer is `size` bytes allocated by libwebp; it is copied out and
    // released once, as are the picture's planes.
    let out = unsafe {
        let out = if ok != 0 && !writer.mem.is_null() { std::slice::from_raw_parts(writer.mem, writer.size).to_vec() } else { Vec::new() };
        w::WebPMemoryWriterClear(&mut writer);
        w::WebPPictureFree(&mut picture);
        out
    };
    if ok == 0 || out.is_empty() {
        return Err(failed(&format!("{error:?}")));
    }
    Ok(out)
}

/// Still WebP (lossy or lossless, with or without alpha) through libwebp's own decoder, which
/// scales while decoding (`use_scaling`, an area-averaging rescaler applied row by row): a
/// 20 MP WebP for 1024 px thumbnails never exists at full size in RGB. Returns None for
/// animations, which the general decoder handles (first frame). `stored` is the size the
/// header probe read; the bitstream must agree.
pub fn decode_scaled(bytes: &[u8], stored: (u32, u32), min_long_side: Option<u32>) -> Result<Option<Decoded>, ImageError> {
    let corrupt = |what: &str, status: w::VP8StatusCode| ImageError::Corrupt(format!("WebP {what}: {status:?}"));
    let mut config = w::WebPDecoderConfig::new().map_err(|_| ImageError::Corrupt("libwebp decoder ABI mismatch".into()))?;
    // SAFETY: `bytes` is valid for its length for the duration of the call; `config.input` is
    // a plain struct libwebp fills in.
    let status = unsafe { w::WebPGetFeatures(bytes.as_ptr(), bytes.len(), &mut config.input) };
    if status != w::VP8StatusCode::VP8_STATUS_OK {
        return Err(corrupt("header", status));
    }
    if config.input.has_animation != 0 {
        return Ok(None);
    }
    let (width, height) = (config.input.width as u32, config.input.height as u32);
    if (width, height) != stored {
        return Err(ImageError::Corrupt("WebP frame size differs from its header".into()));
    }
    let (sw, sh) = match min_long_side {
        Some(target) if target < width.max(height) => super::pixels::fit(width, height, target),
        _ => (width, height),
    };
    let alpha = config.input.has_alpha != 0;
    let channels = if alpha { 4 } else { 3 };
    let stride = sw as usize * channels;
    let mut data = vec![0u8; stride * sh as usize];
    config.options.use_scaling = i32::from((sw, sh) != (width, height));
    config.options.scaled_width = sw as i32;
    config.options.scaled_height = sh as i32;
    config.output.colorspace = if alpha { w::WEBP_CSP_MODE::MODE_RGBA } else { w::WEBP_CSP_MODE::MODE_RGB };
    config.output.is_external_memory = 1;
    config.output.u.RGBA = w::WebPRGBABuffer { rgba: data.as_mut_ptr(), stride: stride as i32, size: data.len() };
    // SAFETY: the output buffer is `data`, alive and exactly `stride * sh` bytes as declared;
    // libwebp writes only inside it and keeps no pointer after `WebPFreeDecBuffer`.
    let status = unsafe { w::WebPDecode(bytes.as_ptr(), bytes.len(), &mut config) };
    unsafe { w::WebPFreeDecBuffer(&mut config.output) };
    if status != w::VP8StatusCode::VP8_STATUS_OK {
        return Err(corrupt("data", status));
    }
    Ok(Some(Decoded::whole(Pixels { width: sw, height: sh, alpha, data })))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rgb(w: u32, h: u32) -> Pixels {
        let data = (0..w * h).flat_map(|i| if (i % w) < w / 2 { [200, 30, 40] } else { [20, 60, 220] }).collect();
        Pixels { width: w, height: h, alpha: false, data }
    }

    #[test]
    fn lossy_rgb_round_trips_with_its_colours() {
        let bytes = encode(&rgb(320, 240), WebpSettings::lossy(85.0, 4)).unwrap();
        let p = decode_scaled(&bytes, (320, 240), None).unwrap().unwrap().pixels;
        assert_eq!((p.width, p.height, p.alpha), (320, 240, false));
        let at = |x: usize| &p.data[(120 * 320 + x) * 3..(120 * 320 + x) * 3 + 3];
        assert!(at(40).iter().zip([200, 30, 40]).all(|(&a, b): (&u8, i32)| (a as i32 - b).abs() < 10), "{:?}", at(40));
        assert!(at(280).iter().zip([20, 60, 220]).all(|(&a, b): (&u8, i32)| (a as i32 - b).abs() < 10), "{:?}", at(280));
    }

    #[test]
    fn lossless_rgba_is_exact() {
        let data: Vec<u8> = (0..64u32 * 48).flat_map(|i| [(i % 251) as u8, (i * 7 % 256) as u8, 9, (i % 3 * 100) as u8]).collect();
        let src = Pixels { width: 64, height: 48, alpha: true, data };
        let bytes = encode(&src, WebpSettings::lossless()).unwrap();
        let back = decode_scaled(&bytes, (64, 48), None).unwrap().unwrap().pixels;
        assert!(back.alpha);
        assert_eq!(back.data, src.data, "lossless with exact keeps even transparent pixels' colours");
    }

    #[test]
    fn a_wrong_buffer_size_is_an_error_not_a_read_past_the_end() {
        let mut p = rgb(10, 10);
        p.data.truncate(299);
        assert!(encode(&p, WebpSettings::lossy(80.0, 2)).is_err());
    }
}
