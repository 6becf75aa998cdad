//! HEIC and AVIF stills through libheif. Debian 12 ships libheif 1.15, so
//! this uses libheif-rs 0.18 with libheif-sys pinned to its 1.14 bindings
//! (newer bindings refuse anything below 1.16). libheif applies the
//! container's rotation and mirroring itself, so EXIF orientation must not
//! be applied again.

use crate::probe::check_pixels;
use crate::render::{cicp_profile, hdr_to_srgb, HdrSpace, Pixels};
use crate::{DecodeLimits, ImagingError};
use libheif_rs::{ColorSpace, HeifContext, ImageHandle, ItemId, RgbChroma};

/// `image/heic` or `image/avif` if `bytes` is a HEIF-family still image.
pub(crate) fn media_type(bytes: &[u8]) -> Option<&'static str> {
    if bytes.get(4..8) != Some(b"ftyp") {
        return None;
    }
    let size = usize::try_from(u32::from_be_bytes(bytes.get(0..4)?.try_into().ok()?)).ok()?;
    let brands = bytes.get(8..size.min(bytes.len()).max(12))?;
    let brand = |b: &[u8]| brands.chunks_exact(4).any(|c| c == b);
    let major = &brands[..4];
    if major == b"avif" || (major == b"mif1" && brand(b"avif")) {
        Some("image/avif")
    } else if [&b"heic"[..], b"heix", b"heim", b"heis", b"mif1"].contains(&major) {
        Some("image/heic")
    } else {
        None
    }
}

/// Whether `bytes` is a HEIF-family image sequence (an animated AVIF or
/// HEIF: major brand `avis`, `msf1`, `hevc` or `hevx`), which libheif 1.15
/// cannot decode and `media_type` does not take.
pub(crate) fn is_sequence(bytes: &[u8]) -> bool {
    bytes.get(4..8) == Some(b"ftyp")
        && bytes
            .get(8..12)
            .is_some_and(|major| [&b"avis"[..], b"msf1", b"hevc", b"hevx"].contains(&major))
}

fn primary(bytes: &[u8]) -> Result<(HeifContext, ImageHandle), ImagingError> {
    let context = HeifContext::read_from_bytes(bytes).map_err(corrupt)?;
    let handle = context.primary_image_handle().map_err(corrupt)?;
    Ok((context, handle))
}

/// Width and height as displayed, read from the container alone.
pub(crate) fn dimensions(bytes: &[u8], limits: DecodeLimits) -> Result<(u32, u32), ImagingError> {
    let (_context, handle) = primary(bytes)?;
    let (width, height) = (handle.width(), handle.height());
    check_pixels(width, height, limits)?;
    Ok((width, height))
}

/// The primary image as decoded, upright.
pub(crate) enum Decoded {
    /// 8-bit RGB(A) in the colour space of `icc` (none: sRGB).
    Rgb {
        image: RgbImage,
        icc: Option<Vec<u8>>,
    },
    /// An HDR image, tone mapped to sRGB.
    Srgb(Pixels),
}

/// libheif's 8-bit interleaved RGB(A) image, kept where libheif decoded it.
pub(crate) struct RgbImage {
    image: libheif_rs::Image,
    pub width: u32,
    pub height: u32,
    pub alpha: bool,
}

impl RgbImage {
    /// Calls `use_samples` with the rows, unpadded: where libheif holds
    /// them when its rows carry no padding (the usual case: it pads rows
    /// to 16 bytes, and camera widths are multiples of 16), else a copy.
    /// A 43-MP photo peaked at 343 MB when always copied.
    pub fn with_samples<R>(
        &mut self,
        use_samples: impl FnOnce(&mut [u8]) -> Result<R, ImagingError>,
    ) -> Result<R, ImagingError> {
        let row = self.width as usize * if self.alpha { 4 } else { 3 };
        let plane = self
            .image
            .planes_mut()
            .interleaved
            .ok_or_else(no_interleaved_plane)?;
        if plane.stride == row {
            use_samples(&mut plane.data[..row * self.height as usize])
        } else {
            use_samples(&mut unpadded(plane.data, plane.stride, row, self.height))
        }
    }
}

/// Decodes the primary image, upright, to 8-bit RGB(A) in its own colour
/// space, with the ICC profile to convert it to sRGB with: the embedded
/// one, else one made from the `nclx` code points. An image with an HDR
/// curve in its `nclx` box (PQ, HLG: 10-bit camera HEIFs in HDR mode) and
/// no ICC profile is decoded at its full depth and tone mapped to sRGB
/// here instead.
pub(crate) fn decode(bytes: &[u8], limits: DecodeLimits) -> Result<Decoded, ImagingError> {
    let (_context, handle) = primary(bytes)?;
    check_pixels(handle.width(), handle.height(), limits)?;
    let alpha = handle.has_alpha_channel();
    let raw_profile = handle.color_profile_raw().map(|profile| profile.data);
    let code_points = handle.color_profile_nclx().map(|nclx| {
        (
            nclx.color_primaries() as u8,
            nclx.transfer_characteristics() as u8,
        )
    });
    let hdr =
        code_points.and_then(|(primaries, transfer)| HdrSpace::from_cicp(primaries, transfer));
    if let (None, Some(hdr)) = (&raw_profile, hdr) {
        return Ok(Decoded::Srgb(decode_hdr(&handle, alpha, &hdr)?));
    }
    let image = decode_interleaved(&handle, alpha, false)?;
    let (width, height) = (image.width(), image.height());
    let icc = raw_profile.or_else(|| {
        let (primaries, transfer) = code_points?;
        cicp_profile(primaries, transfer)
    });
    let image = RgbImage {
        image,
        width,
        height,
        alpha,
    };
    Ok(Decoded::Rgb { image, icc })
}

/// The image decoded at its own depth (10 or 12 bits, in 16-bit words) and
/// tone mapped to 8-bit sRGB from `space`.
fn decode_hdr(handle: &ImageHandle, alpha: bool, space: &HdrSpace) -> Result<Pixels, ImagingError> {
    let image = decode_interleaved(handle, alpha, true)?;
    let planes = image.planes();
    let plane = planes.interleaved.ok_or_else(no_interleaved_plane)?;
    let channels = if alpha { 4 } else { 3 };
    let row = plane.width as usize * channels * 2;
    let samples = unpadded(plane.data, plane.stride, row, plane.height)
        .chunks_exact(2)
        .map(|pair| u16::from_le_bytes([pair[0], pair[1]]))
        .collect();
    let size = (plane.width, plane.height);
    hdr_to_srgb(samples, plane.bits_per_pixel, channels, space, size)
}

/// The image decoded to interleaved RGB(A): 8 bits a sample or, with
/// `deep`, 16-bit little-endian words at the image's own depth.
fn decode_interleaved(
    handle: &ImageHandle,
    alpha: bool,
    deep: bool,
) -> Result<libheif_rs::Image, ImagingError> {
    let chroma = match (alpha, deep) {
        (false, false) => RgbChroma::Rgb,
        (true, false) => RgbChroma::Rgba,
        (false, true) => RgbChroma::HdrRgbLe,
        (true, true) => RgbChroma::HdrRgbaLe,
    };
    handle
        .decode(ColorSpace::Rgb(chroma), None)
        .map_err(corrupt)
}

fn no_interleaved_plane() -> ImagingError {
    ImagingError::Corrupt("HEIF decoder gave no interleaved plane".into())
}

/// The first `row` bytes of each of `height` rows `stride` apart.
fn unpadded(data: &[u8], stride: usize, row: usize, height: u32) -> Vec<u8> {
    data.chunks(stride)
        .take(height as usize)
        .flat_map(|line| &line[..row])
        .copied()
        .collect()
}

/// The EXIF (as TIFF bytes) and XMP blocks of the primary image.
pub(crate) fn metadata(bytes: &[u8]) -> (Option<Vec<u8>>, Option<String>) {
    let Ok((_context, handle)) = primary(bytes) else {
        return (None, None);
    };
    let block = |kind: &[u8; 4]| -> Option<Vec<u8>> {
        let mut ids: [ItemId; 1] = [0];
        (handle.metadata_block_ids(&mut ids, kind) > 0)
            .then(|| handle.metadata(ids[0]).ok())
            .flatten()
    };
    // HEIF's Exif item starts with the offset of the TIFF header.
    let exif = block(b"Exif").and_then(|exif| {
        let offset = u32::from_be_bytes(exif.get(0..4)?.try_into().ok()?) as usize;
        exif.get(4 + offset..).map(<[u8]>::to_vec)
    });
    let xmp = block(b"mime").map(|xmp| String::from_utf8_lossy(&xmp).into_owned());
    (exif, xmp)
}

/// libheif's messages end with a line break; a summary line must not.
fn corrupt(err: impl std::fmt::Display) -> ImagingError {
    ImagingError::Corrupt(format!("HEIF: {}", err.to_string().trim_end()))
}
