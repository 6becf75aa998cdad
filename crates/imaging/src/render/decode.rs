//! Decoding to upright sRGB pixels, shrinking on load where the codec can.

use super::color::{
    cicp_profile, hdr_to_srgb, png_chunk_profile, rgb_to_srgb_in_place, to_srgb, HdrSpace,
    IccSource, RgbToSrgb,
};
use super::early_jpeg::RowStream;
use super::encode::panic_message;
use super::{is_grey, jpeg_decode, tiff_decode, turns, Pixels};
use crate::heif;
use crate::probe::{check_pixels, guess_format, readable};
use crate::{DecodeLimits, ImagingError};
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader};
use std::io::Cursor;
use std::panic::{self, AssertUnwindSafe};

/// Decodes `bytes` into upright sRGB pixels `width` wide (keeping the aspect
/// ratio; the full size if `width` is `None` or wider than the photo).
/// `orientation` is the EXIF orientation (1–8; anything else means upright);
/// HEIC and AVIF ignore it, as libheif applies the container's own rotation.
pub fn decode_upright(
    bytes: &[u8],
    limits: DecodeLimits,
    orientation: u8,
    width: Option<u32>,
) -> Result<Pixels, ImagingError> {
    decode_upright_streamed(bytes, limits, orientation, width, None).map(|(pixels, _)| pixels)
}

/// `decode_upright`, also handing the rows to `stream` as they are made
/// where the decoder can: an RGB JPEG resized while decoding that needs no
/// turning (rows are converted to sRGB first). The flag says whether it
/// did; the stream then got every row of the pixels returned.
pub(crate) fn decode_upright_streamed(
    bytes: &[u8],
    limits: DecodeLimits,
    orientation: u8,
    width: Option<u32>,
    stream: Option<&RowStream>,
) -> Result<(Pixels, bool), ImagingError> {
    if heif::media_type(bytes).is_some() {
        return Ok((decode_heif(bytes, limits, width)?, false));
    }
    let format = guess_format(bytes)?;
    if format == ImageFormat::Jpeg {
        return decode_jpeg(bytes, limits, orientation, width, stream);
    }
    Ok((
        decode_other_upright(bytes, format, limits, orientation, width)?,
        false,
    ))
}

/// HEIC and AVIF through libheif, converted to sRGB and fitted to `width`
/// where libheif holds the samples (see `RgbImage::with_samples`). Upright
/// already: libheif applies the container's turn.
fn decode_heif(
    bytes: &[u8],
    limits: DecodeLimits,
    width: Option<u32>,
) -> Result<Pixels, ImagingError> {
    match heif::decode(bytes, limits)? {
        heif::Decoded::Rgb { mut image, icc } => {
            let (size, alpha) = ((image.width, image.height), image.alpha);
            image.with_samples(|samples| {
                // libheif gives a monochrome image as RGB.
                let grey = is_grey(samples, alpha);
                let (length, alpha) = rgb_to_srgb_in_place(samples, alpha, grey, icc.as_deref());
                Pixels::fitted_from(&mut samples[..length], size, alpha, width)
            })
        }
        heif::Decoded::Srgb(pixels) => {
            let (full_width, full_height) = (pixels.width, pixels.height);
            let source = IccSource::Rgb {
                data: pixels.data,
                alpha: pixels.alpha,
                grey: false,
            };
            to_srgb(source, None, full_width, full_height)?.upright_fitted(1, width)
        }
    }
}

/// `decode_other`, turned upright and fitted to `width`.
fn decode_other_upright(
    bytes: &[u8],
    format: ImageFormat,
    limits: DecodeLimits,
    orientation: u8,
    width: Option<u32>,
) -> Result<Pixels, ImagingError> {
    decode_other(bytes, format, limits)?.upright_fitted(orientation, width)
}

/// JPEG through libjpeg, streamed through the resize (see `jpeg_decode`);
/// zune-jpeg (used by `image`) has no DCT-domain shrink and no row access.
/// A file libjpeg gives up on is decoded again by the more lenient `image`
/// decoder before it counts as corrupt.
fn decode_jpeg(
    bytes: &[u8],
    limits: DecodeLimits,
    orientation: u8,
    width: Option<u32>,
    stream: Option<&RowStream>,
) -> Result<(Pixels, bool), ImagingError> {
    let icc = crate::jpeg::icc_profile(bytes);
    let grey = crate::jpeg::frame(bytes).is_some_and(|frame| frame.components == 1);
    let rgb_to_srgb = RgbToSrgb::for_profile(icc.as_deref(), grey);
    // libjpeg's fatal errors unwind through the `mozjpeg` crate by design.
    let decoded = panic::catch_unwind(AssertUnwindSafe(|| {
        let stream = stream.filter(|_| !turns(orientation));
        jpeg_decode::decode(
            bytes,
            limits,
            orientation,
            width,
            rgb_to_srgb.as_ref(),
            stream,
        )
    }));
    let decoded = match decoded.map_err(panic_message) {
        Ok(Ok(decoded)) => decoded,
        // Lost pixels are refused: a more lenient decoder would fill them in.
        Err(message) if message.starts_with(mozjpeg::DAMAGED_DATA) => {
            return Err(ImagingError::Corrupt(message))
        }
        Ok(Err(ImagingError::Corrupt(_))) | Err(_) => {
            let pixels =
                decode_other_upright(bytes, ImageFormat::Jpeg, limits, orientation, width)?;
            return Ok((pixels, false));
        }
        Ok(Err(refused)) => return Err(refused),
    };
    let streamed = decoded.streamed;
    let pixels = if decoded.cmyk {
        let mut cmyk = decoded.samples;
        if crate::jpeg::has_adobe_marker(bytes) {
            cmyk.iter_mut().for_each(|v| *v = 255 - *v);
        }
        let source = IccSource::Cmyk(cmyk);
        to_srgb(source, icc.as_deref(), decoded.width, decoded.height)?
    } else {
        // Converted to sRGB by the decoder.
        Pixels {
            width: decoded.width,
            height: decoded.height,
            alpha: false,
            data: decoded.samples,
        }
    };
    Ok((pixels, streamed))
}

/// PNG, WebP, GIF, TIFF (and JPEGs libjpeg gave up on).
fn decode_other(
    bytes: &[u8],
    format: ImageFormat,
    limits: DecodeLimits,
) -> Result<Pixels, ImagingError> {
    let bytes = &*readable(bytes, format);
    if format == ImageFormat::Png {
        return decode_png(bytes, limits);
    }
    if format == ImageFormat::Tiff {
        if let Some((source, width, height, icc)) = tiff_decode::decode(bytes, limits)? {
            return to_srgb(source, icc.as_deref(), width, height);
        }
    }
    decode_through_image(bytes, format, limits, None)
}

/// Through `image`, whose decoders take an allocation limit. `hdr` is the
/// colour space of a PNG in PQ or HLG, decoded at 16 bits and tone mapped.
fn decode_through_image(
    bytes: &[u8],
    format: ImageFormat,
    limits: DecodeLimits,
    hdr: Option<HdrSpace>,
) -> Result<Pixels, ImagingError> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut decoder_limits = image::Limits::default();
    decoder_limits.max_alloc = Some(limits.max_pixels.saturating_mul(8));
    reader.limits(decoder_limits);
    let mut decoder = reader.into_decoder()?;
    let (width, height) = decoder.dimensions();
    check_pixels(width, height, limits)?;
    let icc = decoder.icc_profile().ok().flatten();
    let image = DynamicImage::from_decoder(decoder)?;
    if let Some(hdr) = hdr {
        let (samples, channels) = if image.color().has_alpha() {
            (image.into_rgba16().into_raw(), 4)
        } else {
            (image.into_rgb16().into_raw(), 3)
        };
        return hdr_to_srgb(samples, 16, channels, &hdr, (width, height));
    }
    let alpha = image.color().has_alpha();
    let grey = image.color().channel_count() <= 2;
    let data = if alpha {
        image.into_rgba8().into_raw()
    } else {
        image.into_rgb8().into_raw()
    };
    let source = IccSource::Rgb { data, alpha, grey };
    to_srgb(source, icc.as_deref(), width, height)
}

/// A PNG in SDR, decoded by the png crate straight to 8-bit samples (a
/// palette and tRNS expanded, 16-bit samples cut while decoding) rather
/// than through `image`, which decodes 16-bit files at 16 bits and then
/// copies them to 8: an 81-MP 16-bit RGBA PNG peaked at 974 MB that way.
fn decode_png(bytes: &[u8], limits: DecodeLimits) -> Result<Pixels, ImagingError> {
    let corrupt = |e: png::DecodingError| ImagingError::Corrupt(e.to_string());
    let decoder_limits = png::Limits {
        bytes: usize::try_from(limits.max_pixels.saturating_mul(8)).unwrap_or(usize::MAX),
    };
    let mut decoder = png::Decoder::new_with_limits(Cursor::new(bytes), decoder_limits);
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().map_err(corrupt)?;
    let code_points = reader
        .info()
        .coding_independent_code_points
        .map(|cicp| (cicp.color_primaries, cicp.transfer_function));
    let hdr =
        code_points.and_then(|(primaries, transfer)| HdrSpace::from_cicp(primaries, transfer));
    if hdr.is_some() {
        return decode_through_image(bytes, ImageFormat::Png, limits, hdr);
    }
    let (width, height) = reader.info().size();
    check_pixels(width, height, limits)?;
    let icc = png_profile(reader.info(), code_points);
    let size = reader
        .output_buffer_size()
        .ok_or_else(|| ImagingError::Corrupt("PNG too large to decode".into()))?;
    let mut samples = vec![0; size];
    let frame = reader.next_frame(&mut samples).map_err(corrupt)?;
    samples.truncate(frame.buffer_size());
    let (data, alpha, grey) = match frame.color_type {
        png::ColorType::Rgb => (samples, false, false),
        png::ColorType::Rgba => (samples, true, false),
        png::ColorType::Grayscale => (samples.iter().flat_map(|&v| [v; 3]).collect(), false, true),
        png::ColorType::GrayscaleAlpha => (
            samples
                .chunks_exact(2)
                .flat_map(|p| [p[0], p[0], p[0], p[1]])
                .collect(),
            true,
            true,
        ),
        // Expanded to RGB by `normalize_to_color8`.
        png::ColorType::Indexed => {
            return Err(ImagingError::Corrupt("PNG palette not expanded".into()))
        }
    };
    to_srgb(
        IccSource::Rgb { data, alpha, grey },
        icc.as_deref(),
        width,
        height,
    )
}

/// The profile an SDR PNG's colours are in, as PNG's third edition ranks
/// the chunks: cICP (its `code_points`) above iCCP, then sRGB (no profile
/// needed), then gAMA and cHRM. An iCCP profile is used where the code
/// points name none of `cicp_profile`'s (sRGB, unknown code points).
fn png_profile(info: &png::Info, code_points: Option<(u8, u8)>) -> Option<Vec<u8>> {
    if let Some(profile) =
        code_points.and_then(|(primaries, transfer)| cicp_profile(primaries, transfer))
    {
        return Some(profile);
    }
    if let Some(icc) = &info.icc_profile {
        return Some(icc.to_vec());
    }
    if code_points.is_some() || info.srgb.is_some() {
        return None;
    }
    let xy = |(x, y): (png::ScaledFloat, png::ScaledFloat)| (x.into_value(), y.into_value());
    let chromaticities = info
        .chrm_chunk
        .map(|c| [xy(c.white), xy(c.red), xy(c.green), xy(c.blue)]);
    png_chunk_profile(info.gama_chunk.map(|g| g.into_value()), chromaticities)
}
