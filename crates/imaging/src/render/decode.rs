//! Decoding to upright sRGB pixels, shrinking on load where the codec can.

use super::color::{to_srgb, IccSource};
use super::Pixels;
use crate::probe::{check_pixels, upright_size};
use crate::{DecodeLimits, ImagingError};
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader};
use std::io::Cursor;
use turbojpeg::{Colorspace, Decompressor, PixelFormat, ScalingFactor};

/// Decodes `bytes` into upright sRGB pixels whose upright width is at least
/// `min_width` (or the full size if the photo is narrower). `orientation` is
/// the EXIF orientation (1–8; anything else means upright); HEIC and AVIF
/// ignore it, as libheif applies the container's own rotation.
pub fn decode_upright(
    bytes: &[u8],
    limits: DecodeLimits,
    orientation: u8,
    min_width: Option<u32>,
) -> Result<Pixels, ImagingError> {
    if crate::heif::media_type(bytes).is_some() {
        let (pixels, icc) = crate::heif::decode(bytes, limits)?;
        let (width, height) = (pixels.width, pixels.height);
        let source = if pixels.alpha {
            IccSource::Rgba(pixels.data)
        } else {
            IccSource::Rgb(pixels.data)
        };
        return to_srgb(source, icc.as_deref(), width, height);
    }
    let format = image::guess_format(bytes).map_err(|_| {
        ImagingError::Unsupported("not a JPEG, PNG, WebP, HEIC, AVIF, GIF or TIFF image".into())
    })?;
    let decoded = if format == ImageFormat::Jpeg {
        decode_jpeg(bytes, limits, orientation, min_width)?
    } else {
        decode_other(bytes, format, limits)?
    };
    Ok(decoded.oriented(orientation))
}

/// JPEG through libjpeg-turbo: its DCT-domain scaling (shrink-on-load) is
/// what makes large camera files cheap, and zune-jpeg (used by `image`) has
/// none. libjpeg-turbo reports recoverable damage as an error; such files
/// are decoded again by the more lenient `image` decoder.
fn decode_jpeg(
    bytes: &[u8],
    limits: DecodeLimits,
    orientation: u8,
    min_width: Option<u32>,
) -> Result<Pixels, ImagingError> {
    let icc = crate::jpeg::icc_profile(bytes);
    let mut decompressor = Decompressor::new().map_err(internal)?;
    let header = decompressor.read_header(bytes).map_err(corrupt)?;
    let (width, height) = (dimension(header.width)?, dimension(header.height)?);
    check_pixels(width, height, limits)?;

    let (upright_width, _) = upright_size(width, height, orientation);
    let factor = shrink_factor(upright_width, min_width);
    decompressor.set_scaling_factor(factor).map_err(internal)?;
    let scaled = header.scaled(factor);
    let cmyk = matches!(header.colorspace, Colorspace::CMYK | Colorspace::YCCK);
    let format = if cmyk {
        PixelFormat::CMYK
    } else {
        PixelFormat::RGB
    };
    let channels = format.size();
    let mut image = turbojpeg::Image {
        pixels: vec![0u8; channels * scaled.width * scaled.height],
        width: scaled.width,
        pitch: channels * scaled.width,
        height: scaled.height,
        format,
    };
    if decompressor
        .decompress(bytes, image.as_deref_mut())
        .is_err()
    {
        return decode_other(bytes, ImageFormat::Jpeg, limits);
    }
    let (w, h) = (dimension(scaled.width)?, dimension(scaled.height)?);
    if cmyk {
        let mut cmyk = image.pixels;
        if crate::jpeg::has_adobe_marker(bytes) {
            cmyk.iter_mut().for_each(|v| *v = 255 - *v);
        }
        return to_srgb(IccSource::Cmyk(cmyk), icc.as_deref(), w, h);
    }
    to_srgb(IccSource::Rgb(image.pixels), icc.as_deref(), w, h)
}

/// The smallest DCT scale (n/8) that still leaves the upright width at or
/// above what the largest rendition needs; the final resize then does the
/// rest with a proper filter.
fn shrink_factor(upright_width: u32, min_width: Option<u32>) -> ScalingFactor {
    let Some(min_width) = min_width else {
        return ScalingFactor::ONE;
    };
    for denom in [8usize, 4, 2] {
        let factor = ScalingFactor::new(1, denom);
        if factor.scale(upright_width as usize) >= min_width as usize {
            return factor;
        }
    }
    ScalingFactor::ONE
}

/// PNG, WebP, GIF, TIFF (and JPEGs libjpeg-turbo refused) through `image`,
/// whose decoders take an allocation limit.
fn decode_other(
    bytes: &[u8],
    format: ImageFormat,
    limits: DecodeLimits,
) -> Result<Pixels, ImagingError> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut decoder_limits = image::Limits::default();
    decoder_limits.max_alloc = Some(limits.max_pixels.saturating_mul(8));
    reader.limits(decoder_limits);
    let mut decoder = reader.into_decoder().map_err(corrupt)?;
    let (width, height) = decoder.dimensions();
    check_pixels(width, height, limits)?;
    let icc = decoder.icc_profile().ok().flatten();
    let image = DynamicImage::from_decoder(decoder).map_err(corrupt)?;
    if image.color().has_alpha() {
        let rgba = image.into_rgba8().into_raw();
        return to_srgb(IccSource::Rgba(rgba), icc.as_deref(), width, height);
    }
    let rgb = image.into_rgb8().into_raw();
    to_srgb(IccSource::Rgb(rgb), icc.as_deref(), width, height)
}

fn dimension(value: usize) -> Result<u32, ImagingError> {
    u32::try_from(value).map_err(|_| ImagingError::Corrupt("image dimension overflows".into()))
}

fn corrupt(err: impl std::fmt::Display) -> ImagingError {
    ImagingError::Corrupt(err.to_string())
}

fn internal(err: impl std::fmt::Display) -> ImagingError {
    ImagingError::Corrupt(format!("JPEG decoder: {err}"))
}
