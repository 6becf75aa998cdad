//! Colour management: every rendition is sRGB, whatever profile the photo
//! carries. moxcms was measured several times faster than lcms2 with the same
//! results on Adobe RGB and Display P3 (shared/STACK.md).

use super::Pixels;
use crate::ImagingError;
use moxcms::{ColorProfile, DataColorSpace, Layout, Transform8BitExecutor, TransformOptions};
use std::sync::Arc;

/// Decoded samples before colour conversion.
pub(crate) enum IccSource {
    Rgb(Vec<u8>),
    Rgba(Vec<u8>),
    /// Four samples per pixel, 0 = no ink.
    Cmyk(Vec<u8>),
}

/// Converts samples in the embedded profile's space to sRGB. Without a
/// profile RGB is taken as sRGB, and CMYK is converted naively. A profile
/// that cannot be parsed, or does not match the pixels, is ignored, as
/// browsers do.
pub(crate) fn to_srgb(
    source: IccSource,
    icc: Option<&[u8]>,
    width: u32,
    height: u32,
) -> Result<Pixels, ImagingError> {
    let profile = icc.and_then(|icc| ColorProfile::new_from_slice(icc).ok());
    let rgb_profile = profile.as_ref().filter(|p| needs_transform(p));
    let pixels = |data, alpha| Pixels {
        width,
        height,
        alpha,
        data,
    };
    Ok(match source {
        IccSource::Rgb(data) => {
            let converted = transformed(rgb_profile, Layout::Rgb, Layout::Rgb, &data);
            pixels(converted.unwrap_or(data), false)
        }
        IccSource::Rgba(data) => {
            let converted = transformed(rgb_profile, Layout::Rgba, Layout::Rgba, &data);
            pixels(converted.unwrap_or(data), true)
        }
        IccSource::Cmyk(data) => {
            let cmyk_profile = profile
                .as_ref()
                .filter(|p| p.color_space == DataColorSpace::Cmyk);
            // moxcms takes four-channel input in the Rgba layout.
            let converted = transformed(cmyk_profile, Layout::Rgba, Layout::Rgb, &data);
            pixels(converted.unwrap_or_else(|| naive_cmyk(&data)), false)
        }
    })
}

/// The sRGB conversion of 8-bit RGB samples in an embedded profile. It works
/// pixel by pixel, so the JPEG decoder applies it to each chunk of rows as
/// they are resized, and the rows can go on to an encoder at once.
pub(crate) struct RgbToSrgb(Arc<Transform8BitExecutor>);

impl RgbToSrgb {
    /// `None` where `to_srgb` leaves RGB samples described by `icc` as they
    /// are (no usable profile, or sRGB's primaries).
    pub(crate) fn for_profile(icc: Option<&[u8]>) -> Option<RgbToSrgb> {
        let profile = ColorProfile::new_from_slice(icc?).ok()?;
        needs_transform(&profile)
            .then(|| transform(&profile, Layout::Rgb, Layout::Rgb))
            .flatten()
            .map(RgbToSrgb)
    }

    /// Converts whole pixels of `rows` in place; `scratch` is reused.
    pub(crate) fn apply(&self, rows: &mut [u8], scratch: &mut Vec<u8>) {
        scratch.clear();
        scratch.extend_from_slice(rows);
        if self.0.transform(scratch, rows).is_err() {
            // As in `to_srgb`: samples the transform refuses stay as they were.
            rows.copy_from_slice(scratch);
        }
    }
}

/// An RGB profile other than sRGB's: RGB samples in it are converted.
fn needs_transform(profile: &ColorProfile) -> bool {
    profile.color_space == DataColorSpace::Rgb && !is_srgb(profile)
}

/// `data` converted from `profile` to sRGB, or `None` without a usable profile.
fn transformed(
    profile: Option<&ColorProfile>,
    from: Layout,
    to: Layout,
    data: &[u8],
) -> Option<Vec<u8>> {
    let transform = transform(profile?, from, to)?;
    let mut out = vec![0u8; data.len() / from.channels() * to.channels()];
    transform.transform(data, &mut out).ok()?;
    Some(out)
}

/// The 8-bit transform from `profile` to sRGB, if moxcms can make one.
fn transform(
    profile: &ColorProfile,
    from: Layout,
    to: Layout,
) -> Option<Arc<Transform8BitExecutor>> {
    profile
        .create_transform_8bit(
            from,
            &ColorProfile::new_srgb(),
            to,
            TransformOptions::default(),
        )
        .ok()
}

/// A profile whose primaries are sRGB's (within rounding) needs no transform:
/// camera and phone JPEGs almost all carry one, and skipping it saves a pass.
fn is_srgb(profile: &ColorProfile) -> bool {
    let srgb = ColorProfile::new_srgb();
    let close = |a: moxcms::Xyzd, b: moxcms::Xyzd| {
        (a.x - b.x).abs() < 0.003 && (a.y - b.y).abs() < 0.003 && (a.z - b.z).abs() < 0.003
    };
    profile.lut_a_to_b_perceptual.is_none()
        && close(profile.red_colorant, srgb.red_colorant)
        && close(profile.green_colorant, srgb.green_colorant)
        && close(profile.blue_colorant, srgb.blue_colorant)
}

/// CMYK without a profile: the textbook conversion, as browsers do.
fn naive_cmyk(cmyk: &[u8]) -> Vec<u8> {
    cmyk.chunks_exact(4)
        .flat_map(|p| {
            let k = 255 - u16::from(p[3]);
            [0, 1, 2].map(|i| ((255 - u16::from(p[i])) * k / 255) as u8)
        })
        .collect()
}
