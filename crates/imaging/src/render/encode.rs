//! Encoders: libjpeg for JPEG (progressive, optimised Huffman tables),
//! libwebp for WebP, rav1e through ravif for AVIF.

use super::embed::{self, EmbedOptions};
use super::{Pixels, RenditionSpec};
use crate::ImagingError;
use mozjpeg::compress::CompressStarted;
use mozjpeg::{ColorSpace, Compress, Scan};
use photodesk_types::{PhotoMetadata, RenditionFormat};
use std::panic;

/// rav1e speed (0 slowest … 10 fastest). On a 22 MP photo the whole AVIF
/// ladder took 7.2 s at speed 8, 3.1 s at 9 and 1.2 s at 10, for a 2048-px
/// file of 51, 54 and 65 KB (WebP: about 100 KB). Speed 10 keeps the full
/// ladder within the time libvips needs for three 2048-px files.
pub const AVIF_SPEED: u8 = 10;

pub(crate) fn encode(
    pixels: &Pixels,
    spec: &RenditionSpec,
    metadata: &PhotoMetadata,
    options: EmbedOptions,
) -> Result<Vec<u8>, ImagingError> {
    let failed = |e: String| ImagingError::Corrupt(format!("{} encoder: {e}", spec.format));
    match spec.format {
        RenditionFormat::Jpeg => {
            let flat;
            let rgb = if pixels.alpha {
                flat = flatten_on_white(&pixels.data);
                &flat
            } else {
                &pixels.data
            };
            let jpeg = panic::catch_unwind(|| progressive_jpeg(rgb, pixels, spec.quality))
                .map_err(|e| failed(panic_message(e)))?
                .map_err(|e| failed(e.to_string()))?;
            Ok(embed::into_jpeg(jpeg, metadata, options))
        }
        RenditionFormat::Webp => {
            let encoder = if pixels.alpha {
                webp::Encoder::from_rgba(&pixels.data, pixels.width, pixels.height)
            } else {
                webp::Encoder::from_rgb(&pixels.data, pixels.width, pixels.height)
            };
            let webp = encoder
                .encode_advanced(&webp_config(spec.quality))
                .map_err(|e| failed(format!("{e:?}")))?;
            Ok(embed::into_webp(webp.to_vec(), metadata, options))
        }
        RenditionFormat::Avif => {
            let mut encoder = ravif::Encoder::new()
                .with_quality(f32::from(spec.quality))
                .with_speed(AVIF_SPEED)
                .with_num_threads(Some(1))
                .with_exif(embed::exif(metadata));
            if let Some(xmp) = embed::xmp_packet(metadata, options) {
                encoder = encoder.with_xmp(xmp.into_bytes());
            }
            let (w, h) = (pixels.width as usize, pixels.height as usize);
            let encoded = if pixels.alpha {
                let rgba: Vec<ravif::RGBA8> = pixels
                    .data
                    .chunks_exact(4)
                    .map(|p| ravif::RGBA8::new(p[0], p[1], p[2], p[3]))
                    .collect();
                encoder.encode_rgba(ravif::Img::new(&rgba, w, h))
            } else {
                let rgb: Vec<ravif::RGB8> = pixels
                    .data
                    .chunks_exact(3)
                    .map(|p| ravif::RGB8::new(p[0], p[1], p[2]))
                    .collect();
                encoder.encode_rgb(ravif::Img::new(&rgb, w, h))
            };
            Ok(encoded.map_err(|e| failed(e.to_string()))?.avif_file)
        }
    }
}

/// Lossy WebP at `quality`, libwebp's defaults otherwise (method 4, as
/// libvips, sharp and Pillow use). `thread_level` lets the analysis and the
/// coding loop (vendor/README.md: two macroblock rows at once) use a second
/// core, as they would otherwise leave it idle for most of a WebP rendition.
fn webp_config(quality: u8) -> webp::WebPConfig {
    let mut config = webp::WebPConfig::new().expect("libwebp's default configuration");
    config.quality = f32::from(quality);
    config.alpha_compression = 1;
    config.thread_level = 1;
    config
}

fn progressive_jpeg(rgb: &[u8], pixels: &Pixels, quality: u8) -> std::io::Result<Vec<u8>> {
    let mut started = jpeg_compressor(pixels.width, pixels.height, quality)?;
    started.write_scanlines(rgb)?;
    started.finish()
}

/// libjpeg-turbo's own output (MozJPEG's "fastest" profile: standard
/// quantisation tables, no trellis, as libvips and Pillow write), 4:2:0,
/// progressive in [`SCANS`] with optimised Huffman tables, ready for
/// `width` × `height` RGB rows. Trellis quantisation was measured: about
/// 10× the encode time (shared/STACK.md).
pub(crate) fn jpeg_compressor(
    width: u32,
    height: u32,
    quality: u8,
) -> std::io::Result<CompressStarted<Vec<u8>>> {
    let mut compress = Compress::new(ColorSpace::JCS_RGB);
    compress.set_fastest_defaults();
    compress.set_size(width as usize, height as usize);
    compress.set_quality(f32::from(quality));
    compress.set_chroma_sampling_pixel_sizes((2, 2), (2, 2));
    compress.set_progressive_mode();
    compress.set_scan_script(&SCANS);
    compress.set_optimize_coding(true);
    compress.start_compress(Vec::new())
}

/// The progressive scans, in the order a browser paints them: the DC of
/// each component (one scan each, so Cb and Cr get Huffman tables of their
/// own), the lowest luma AC band at half precision, the chroma AC whole,
/// the rest of the luma AC at half precision, then the last luma bit.
/// libjpeg's default script (`jpeg_simple_progression`, which libvips and
/// Pillow write) has 10 scans, refining the DC and the chroma too: those
/// refinement scans are the costliest to code and save little. Measured
/// with cjpeg on three 2048-px photos: 1 % smaller files and a fifth less
/// encoding time. The coefficients, and so the decoded pixels, are the same.
const SCANS: [Scan; 8] = [
    scan(&[0], (0, 0), (0, 0)),
    scan(&[1], (0, 0), (0, 0)),
    scan(&[2], (0, 0), (0, 0)),
    scan(&[0], (1, 5), (0, 1)),
    scan(&[2], (1, 63), (0, 0)),
    scan(&[1], (1, 63), (0, 0)),
    scan(&[0], (6, 63), (0, 1)),
    scan(&[0], (1, 63), (1, 0)),
];

const fn scan(components: &'static [u8], spectral: (u8, u8), approximation: (u8, u8)) -> Scan {
    Scan {
        components,
        spectral,
        approximation,
    }
}

/// libjpeg's fatal error, which the `mozjpeg` crate unwinds with.
pub(crate) fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_else(|| "libjpeg failed".into())
}

/// JPEG has no alpha: transparent areas become white, as on a page.
fn flatten_on_white(rgba: &[u8]) -> Vec<u8> {
    rgba.chunks_exact(4)
        .flat_map(|p| {
            let a = u16::from(p[3]);
            [0, 1, 2].map(|i| ((u16::from(p[i]) * a + 255 * (255 - a) + 127) / 255) as u8)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::jpeg_compressor;
    use image::RgbImage;
    use mozjpeg::{ColorSpace, Compress};

    fn start_of_scans(jpeg: &[u8]) -> usize {
        // Entropy-coded data stuffs every FF with 00, so FF DA is a marker.
        jpeg.windows(2).filter(|w| w == &[0xFF, 0xDA]).count()
    }

    fn decoded(jpeg: &[u8]) -> RgbImage {
        image::load_from_memory(jpeg).unwrap().to_rgb8()
    }

    #[test]
    fn our_scan_script_codes_the_same_pixels_as_libjpegs_default() {
        // Odd sides: partial blocks at the right and bottom edges.
        let (width, height) = (301, 203);
        let rgb: Vec<u8> = (0..width * height)
            .flat_map(|i| {
                let (x, y) = (i % width, i / width);
                [
                    (x * 5 % 256) as u8,
                    ((x + y) % 97) as u8 * 2,
                    (y * 3 % 256) as u8,
                ]
            })
            .collect();
        let mut ours = jpeg_compressor(width as u32, height as u32, 82).unwrap();
        ours.write_scanlines(&rgb).unwrap();
        let ours = ours.finish().unwrap();

        let mut compress = Compress::new(ColorSpace::JCS_RGB);
        compress.set_fastest_defaults();
        compress.set_size(width, height);
        compress.set_quality(82.0);
        compress.set_chroma_sampling_pixel_sizes((2, 2), (2, 2));
        compress.set_progressive_mode();
        compress.set_optimize_coding(true);
        let mut default = compress.start_compress(Vec::new()).unwrap();
        default.write_scanlines(&rgb).unwrap();
        let default = default.finish().unwrap();

        assert_eq!(start_of_scans(&ours), 8);
        assert_eq!(start_of_scans(&default), 10);
        assert!(decoded(&ours) == decoded(&default));
    }
}
