//! Stage timings of the JPEG thumbnail pipeline (decode, resize, encode per size), for
//! RESULTS.md's explanation of where the time goes.

use std::time::Instant;

fn main() {
    let path = std::env::args().nth(1).expect("input");
    let bytes = std::fs::read(path).expect("read");
    let method: i32 = std::env::var("WEBP_METHOD").ok().and_then(|m| m.parse().ok()).unwrap_or(4);
    for _ in 0..3 {
        let t = Instant::now();
        let mut d = jpeg_decoder::Decoder::new(std::io::Cursor::new(&bytes));
        d.read_info().unwrap();
        let info = d.info().unwrap();
        let (sw, sh) = d.scale(1024, (1024 * info.height as u32 / info.width as u32) as u16).unwrap();
        let px = d.decode().unwrap();
        let decode = t.elapsed();
        let t = Instant::now();
        let src = fast_image_resize::images::ImageRef::new(sw as u32, sh as u32, &px, fast_image_resize::PixelType::U8x3).unwrap();
        let mut dst = fast_image_resize::images::Image::new(1024, 768, fast_image_resize::PixelType::U8x3);
        fast_image_resize::Resizer::new()
            .resize(&src, &mut dst, &fast_image_resize::ResizeOptions::new().resize_alg(fast_image_resize::ResizeAlg::Convolution(fast_image_resize::FilterType::Lanczos3)))
            .unwrap();
        let resize = t.elapsed();
        let t = Instant::now();
        let mut cfg = webp::WebPConfig::new().unwrap();
        cfg.quality = 80.0;
        cfg.method = method;
        let out = webp::Encoder::from_rgb(dst.buffer(), 1024, 768).encode_advanced(&cfg).unwrap();
        let encode = t.elapsed();
        eprintln!("decoded {sw}x{sh} in {decode:?}; resize to 1024 {resize:?}; encode 1024 (method {method}) {encode:?} -> {} bytes", out.len());
    }
}
