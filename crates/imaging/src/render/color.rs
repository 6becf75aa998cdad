//! Colour management: every rendition is sRGB, whatever profile the photo
//! carries. moxcms was measured several times faster than lcms2 with the same
//! results on Adobe RGB and Display P3 (shared/STACK.md).

use super::Pixels;
use crate::ImagingError;
use moxcms::{ColorProfile, DataColorSpace, Layout, TransformOptions};

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
    let srgb = ColorProfile::new_srgb();
    let options = TransformOptions::default();
    let pixels = |data, alpha| Pixels {
        width,
        height,
        alpha,
        data,
    };
    match source {
        IccSource::Rgb(data) => {
            let converted = profile
                .filter(|p| p.color_space == DataColorSpace::Rgb && !is_srgb(p))
                .and_then(|p| p.create_transform_8bit(Layout::Rgb, &srgb, Layout::Rgb, options).ok())
                .and_then(|transform| {
                    let mut out = vec![0u8; data.len()];
                    transform.transform(&data, &mut out).ok().map(|()| out)
                });
            Ok(pixels(converted.unwrap_or(data), false))
        }
        IccSource::Rgba(data) => {
            let converted = profile
                .filter(|p| p.color_space == DataColorSpace::Rgb && !is_srgb(p))
                .and_then(|p| {
                    p.create_transform_8bit(Layout::Rgba, &srgb, Layout::Rgba, options).ok()
                })
                .and_then(|transform| {
                    let mut out = vec![0u8; data.len()];
                    transform.transform(&data, &mut out).ok().map(|()| out)
                });
            Ok(pixels(converted.unwrap_or(data), true))
        }
        IccSource::Cmyk(data) => {
            let converted = profile
                .filter(|p| p.color_space == DataColorSpace::Cmyk)
                .and_then(|p| p.create_transform_8bit(Layout::Rgba, &srgb, Layout::Rgb, options).ok())
                .and_then(|transform| {
                    let mut out = vec![0u8; data.len() / 4 * 3];
                    transform.transform(&data, &mut out).ok().map(|()| out)
                });
            Ok(pixels(converted.unwrap_or_else(|| naive_cmyk(&data)), false))
        }
    }
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
