//! Colour management: every rendition is sRGB, whatever profile the photo
//! carries. moxcms was measured several times faster than lcms2 with the same
//! results on Adobe RGB and Display P3 (shared/STACK.md).

use super::Pixels;
use crate::ImagingError;
use moxcms::{
    Chromaticity, CicpColorPrimaries, CicpProfile, ColorPrimaries, ColorProfile, DataColorSpace,
    Layout, MatrixCoefficients, ToneReprCurve, TransferCharacteristics, Transform8BitExecutor,
    TransformOptions, XyY,
};
use std::sync::Arc;

/// Decoded samples before colour conversion.
pub(crate) enum IccSource {
    /// Three samples per pixel, or four with `alpha`; `grey` where they were
    /// grey in the file (R = G = B), so a grey profile applies to them.
    Rgb {
        data: Vec<u8>,
        alpha: bool,
        grey: bool,
    },
    /// Four samples per pixel, 0 = no ink.
    Cmyk(Vec<u8>),
}

/// Converts samples in the embedded profile's space to sRGB. Without a
/// profile RGB is taken as sRGB, and CMYK is converted naively. A profile
/// that cannot be parsed, or does not match the pixels, is ignored, as
/// browsers do. The samples are converted where they lie, so a large photo
/// is never held twice, and an alpha channel opaque throughout is dropped
/// first: it shows nothing, and would cost a quarter more memory and a
/// premultiplied copy in every resize.
pub(crate) fn to_srgb(
    source: IccSource,
    icc: Option<&[u8]>,
    width: u32,
    height: u32,
) -> Result<Pixels, ImagingError> {
    Ok(match source {
        IccSource::Rgb {
            mut data,
            alpha,
            grey,
        } => {
            let (length, alpha) = rgb_to_srgb_in_place(&mut data, alpha, grey, icc);
            if length < data.len() {
                data.truncate(length);
                data.shrink_to_fit();
            }
            Pixels {
                width,
                height,
                alpha,
                data,
            }
        }
        IccSource::Cmyk(mut data) => {
            let profile = icc.and_then(|icc| ColorProfile::new_from_slice(icc).ok());
            let cmyk_transform = profile
                .filter(|p| p.color_space == DataColorSpace::Cmyk)
                // moxcms takes four-channel input in the Rgba layout.
                .and_then(|p| transform(&p, Layout::Rgba, Layout::Rgb));
            let rgb_bytes = convert_in_place(&mut data, (4, 3), &mut Vec::new(), |from, to| {
                match &cmyk_transform {
                    Some(transform) if transform.transform(from, to).is_ok() => {}
                    _ => naive_cmyk(from, to),
                }
            });
            data.truncate(rgb_bytes);
            data.shrink_to_fit();
            Pixels {
                width,
                height,
                alpha: false,
                data,
            }
        }
    })
}

/// `to_srgb` for RGB(A) samples held by their decoder: they are converted
/// where they lie, and an alpha channel opaque throughout is dropped, the
/// pixels then taking the first three quarters of `samples`. Gives the
/// length the samples take and whether they keep an alpha channel.
pub(crate) fn rgb_to_srgb_in_place(
    samples: &mut [u8],
    alpha: bool,
    grey: bool,
    icc: Option<&[u8]>,
) -> (usize, bool) {
    let dropped = alpha.then(|| drop_opaque_alpha(samples)).flatten();
    let (samples, alpha) = match dropped {
        Some(rgb_bytes) => (&mut samples[..rgb_bytes], false),
        None => (samples, alpha),
    };
    let rgb_profile = icc
        .and_then(|icc| ColorProfile::new_from_slice(icc).ok())
        .and_then(|p| rgb_profile_to_convert(p, grey));
    let layout = if alpha { Layout::Rgba } else { Layout::Rgb };
    if let Some(transform) = rgb_profile.and_then(|p| transform(&p, layout, layout)) {
        let channels = (layout.channels(), layout.channels());
        convert_in_place(samples, channels, &mut Vec::new(), |from, to| {
            transform_or_keep(&*transform, from, to)
        });
    }
    (samples.len(), alpha)
}

/// Drops the alpha of RGBA `samples` if every pixel is opaque, moving the
/// RGB samples to the front; gives their length if it did.
fn drop_opaque_alpha(samples: &mut [u8]) -> Option<usize> {
    // Whole pixels ANDed block by block, which the compiler vectorises;
    // pixel by pixel with an early exit took as long as decoding the PNG.
    let opaque = samples.chunks(CONVERT_PIXELS * 4).all(|block| {
        let all = block.chunks_exact(4).fold(u32::MAX, |all, pixel| {
            all & u32::from_le_bytes(pixel.try_into().expect("four samples"))
        });
        all >> 24 == u32::from(u8::MAX)
    });
    opaque.then(|| {
        convert_in_place(samples, (4, 3), &mut Vec::new(), |rgba, rgb| {
            for (to, from) in rgb.chunks_exact_mut(3).zip(rgba.chunks_exact(4)) {
                to.copy_from_slice(&from[..3]);
            }
        })
    })
}

/// Whole pixels converted at a time by `convert_in_place`: about 1 MB.
const CONVERT_PIXELS: usize = 1 << 18;

/// `samples` of `channels.0` bytes a pixel converted by `convert` to
/// `channels.1` (no more) where they lie, a chunk at a time through a copy
/// of it in `scratch`: each chunk's output lands on samples already read,
/// so a large photo is never held twice. Gives the output's length.
fn convert_in_place(
    samples: &mut [u8],
    (in_channels, out_channels): (usize, usize),
    scratch: &mut Vec<u8>,
    mut convert: impl FnMut(&[u8], &mut [u8]),
) -> usize {
    let pixels = samples.len() / in_channels;
    for first in (0..pixels).step_by(CONVERT_PIXELS) {
        let count = CONVERT_PIXELS.min(pixels - first);
        scratch.clear();
        scratch.extend_from_slice(&samples[first * in_channels..(first + count) * in_channels]);
        convert(
            scratch,
            &mut samples[first * out_channels..(first + count) * out_channels],
        );
    }
    pixels * out_channels
}

/// `from` converted into `to`; samples the transform refuses stay as they
/// were (it refuses only a length that is no whole number of pixels).
fn transform_or_keep(transform: &Transform8BitExecutor, from: &[u8], to: &mut [u8]) {
    if transform.transform(from, to).is_err() {
        to.copy_from_slice(from);
    }
}

/// An ICC profile for RGB samples described only by CICP code points
/// (ITU-T H.273: the `nclx` colour box of HEIC and AVIF files that embed no
/// profile), so `to_srgb` converts them like any other: Display P3 or
/// BT.2020 primaries, or a curve other than sRGB's. `None` where the
/// samples are sRGB already (BT.709 primaries or unspecified ones, with the
/// sRGB, BT.709 or BT.601 curve, which browsers show as sRGB), for unknown
/// code points, and for the HDR curves (PQ, HLG), which `HdrSpace` covers.
pub(crate) fn cicp_profile(primaries: u8, transfer: u8) -> Option<Vec<u8>> {
    const UNSPECIFIED: u8 = 2;
    let primaries = match primaries {
        UNSPECIFIED => CicpColorPrimaries::Bt709,
        code => CicpColorPrimaries::try_from(code).ok()?,
    };
    let transfer = match TransferCharacteristics::try_from(transfer).ok()? {
        TransferCharacteristics::Smpte2084 | TransferCharacteristics::Hlg => return None,
        TransferCharacteristics::Unspecified
        | TransferCharacteristics::Bt709
        | TransferCharacteristics::Bt601
        | TransferCharacteristics::Bt202010bit
        | TransferCharacteristics::Bt202012bit
        | TransferCharacteristics::Srgb => TransferCharacteristics::Srgb,
        other => other,
    };
    if matches!(primaries, CicpColorPrimaries::Bt709)
        && matches!(transfer, TransferCharacteristics::Srgb)
    {
        return None;
    }
    let profile = ColorProfile::new_from_cicp(CicpProfile {
        color_primaries: primaries,
        transfer_characteristics: transfer,
        matrix_coefficients: MatrixCoefficients::Bt709,
        full_range: true,
    });
    // moxcms leaves the curves out of a profile it cannot describe.
    profile.red_trc.as_ref()?;
    profile.encode().ok()
}

/// An ICC profile for RGB samples described only by a PNG's gAMA and cHRM
/// chunks (a file with no cICP, iCCP or sRGB chunk), as browsers read them:
/// the curve is the pure power 1 / `file_gamma` (sRGB's curve without gAMA),
/// the primaries and white are cHRM's (sRGB's without it). `None` where
/// that is sRGB near enough: a gamma within libpng's 5 % of 1 / 2.2 (many
/// writers tag sRGB files so, and the two curves part only in the deepest
/// shadows) and cHRM within 0.001 of sRGB's. Values no display space has
/// (a gamma outside 0.1–10, a chromaticity outside 0–1 or with y = 0) are
/// ignored.
pub(crate) fn png_chunk_profile(
    file_gamma: Option<f32>,
    chromaticities: Option<[(f32, f32); 4]>,
) -> Option<Vec<u8>> {
    const SRGB: [(f32, f32); 4] = [(0.3127, 0.329), (0.64, 0.33), (0.3, 0.6), (0.15, 0.06)];
    let gamma = file_gamma
        .filter(|g| (0.1..=10.0).contains(g))
        .filter(|g| !(0.95..=1.05).contains(&(g * 2.2)));
    let plausible = |&(x, y): &(f32, f32)| (0.0..=1.0).contains(&x) && y > 0.0 && y <= 1.0;
    let near_srgb = |points: &[(f32, f32); 4]| {
        points
            .iter()
            .zip(SRGB)
            .all(|(&(x, y), (sx, sy))| (x - sx).abs() <= 0.001 && (y - sy).abs() <= 0.001)
    };
    let chromaticities = chromaticities
        .filter(|points| points.iter().all(plausible))
        .filter(|points| !near_srgb(points));
    if gamma.is_none() && chromaticities.is_none() {
        return None;
    }
    let mut profile = ColorProfile::new_srgb();
    profile.cicp = None;
    if let Some(file_gamma) = gamma {
        let curve = ToneReprCurve::Parametric(vec![1.0 / file_gamma]);
        profile.red_trc = Some(curve.clone());
        profile.green_trc = Some(curve.clone());
        profile.blue_trc = Some(curve);
    }
    if let Some([white, red, green, blue]) = chromaticities {
        let point = |(x, y): (f32, f32)| Chromaticity { x, y };
        let white = XyY {
            x: f64::from(white.0),
            y: f64::from(white.1),
            yb: 1.0,
        };
        profile.update_rgb_colorimetry(
            white,
            ColorPrimaries {
                red: point(red),
                green: point(green),
                blue: point(blue),
            },
        );
    }
    profile.encode().ok()
}

/// An HDR colour space (the PQ or HLG curve) named by CICP code points,
/// whose samples `hdr_to_srgb` tone maps.
pub(crate) struct HdrSpace(ColorProfile);

impl HdrSpace {
    /// `None` for SDR curves, and for primaries HDR photos do not use
    /// (BT.709, P3 and BT.2020 are taken). Unspecified primaries are taken
    /// as BT.2020, the only ones BT.2100 names.
    pub(crate) fn from_cicp(primaries: u8, transfer: u8) -> Option<HdrSpace> {
        let transfer = match TransferCharacteristics::try_from(transfer).ok()? {
            hdr @ (TransferCharacteristics::Smpte2084 | TransferCharacteristics::Hlg) => hdr,
            _ => return None,
        };
        let primaries = match CicpColorPrimaries::try_from(primaries).ok()? {
            CicpColorPrimaries::Unspecified => CicpColorPrimaries::Bt2020,
            known @ (CicpColorPrimaries::Bt709
            | CicpColorPrimaries::Bt2020
            | CicpColorPrimaries::Smpte431
            | CicpColorPrimaries::Smpte432) => known,
            _ => return None,
        };
        Some(HdrSpace(ColorProfile::new_from_cicp(CicpProfile {
            color_primaries: primaries,
            transfer_characteristics: transfer,
            matrix_coefficients: MatrixCoefficients::Bt709,
            full_range: true,
        })))
    }
}

/// Tone maps HDR samples (`bits` deep, 3 or 4 to a pixel) to 8-bit sRGB.
/// Content is taken as mastered to 1000 nits (what libheif 1.15 does not
/// expose, the content light level box, would say otherwise): those
/// highlights come out at full white and BT.2408's reference white (203
/// nits, HLG 75 %) at about three quarters, while shadows and mid-tones
/// keep their SDR level. Per-channel RGB mapping keeps every colour in
/// range and grey grey.
pub(crate) fn hdr_to_srgb(
    mut samples: Vec<u16>,
    bits: u8,
    channels: usize,
    HdrSpace(source): &HdrSpace,
    (width, height): (u32, u32),
) -> Result<Pixels, ImagingError> {
    use gainforge::{
        GainHdrMetadata, GamutClipping, MappingColorSpace, RgbToneMapperParameters,
        ToneMappingMethod,
    };
    let unsupported = |what: String| ImagingError::Corrupt(format!("HDR tone mapping: {what}"));
    let method = ToneMappingMethod::TunedReinhard(GainHdrMetadata {
        content_max_brightness: 1000.0,
        display_max_brightness: 203.0,
    });
    let space = MappingColorSpace::Rgb(RgbToneMapperParameters {
        exposure: 1.0,
        gamut_clipping: GamutClipping::Clip,
    });
    // gainforge maps 10, 12 and 16 bits: other depths are widened to 16.
    let bits = match bits {
        10 | 12 | 16 => bits,
        8..=15 => {
            samples.iter_mut().for_each(|v| *v <<= 16 - bits);
            16
        }
        _ => return Err(unsupported(format!("{bits}-bit samples"))),
    };
    let srgb = ColorProfile::new_srgb();
    let mapper = match (channels, bits) {
        (3, 10) => gainforge::create_tone_mapper_rgb10(source, &srgb, method, space),
        (3, 12) => gainforge::create_tone_mapper_rgb12(source, &srgb, method, space),
        (3, _) => gainforge::create_tone_mapper_rgb16(source, &srgb, method, space),
        (_, 10) => gainforge::create_tone_mapper_rgba10(source, &srgb, method, space),
        (_, 12) => gainforge::create_tone_mapper_rgba12(source, &srgb, method, space),
        _ => gainforge::create_tone_mapper_rgba16(source, &srgb, method, space),
    }
    .map_err(|e| unsupported(e.to_string()))?;
    let max = (1u32 << bits) - 1;
    let row = width as usize * channels;
    let mut mapped = vec![0u16; row];
    let mut data = Vec::with_capacity(samples.len());
    for from in samples.chunks(row) {
        mapper
            .tonemap_lane(from, &mut mapped[..from.len()])
            .map_err(|e| unsupported(e.to_string()))?;
        let to_8_bit = |&v: &u16| ((u32::from(v) * 255 + max / 2) / max) as u8;
        data.extend(mapped[..from.len()].iter().map(to_8_bit));
    }
    Ok(Pixels {
        width,
        height,
        alpha: channels == 4,
        data,
    })
}

/// The sRGB conversion of 8-bit RGB samples in an embedded profile. It works
/// pixel by pixel, so the JPEG decoder applies it to each chunk of rows as
/// they are resized, and the rows can go on to an encoder at once.
pub(crate) struct RgbToSrgb(Arc<Transform8BitExecutor>);

impl RgbToSrgb {
    /// `None` where `to_srgb` leaves RGB samples described by `icc` as they
    /// are (no usable profile, or sRGB's); `grey` as in `IccSource::Rgb`.
    pub(crate) fn for_profile(icc: Option<&[u8]>, grey: bool) -> Option<RgbToSrgb> {
        let profile = ColorProfile::new_from_slice(icc?).ok()?;
        let profile = rgb_profile_to_convert(profile, grey)?;
        transform(&profile, Layout::Rgb, Layout::Rgb).map(RgbToSrgb)
    }

    /// Converts whole pixels of `rows` in place; `scratch` is reused.
    pub(crate) fn apply(&self, rows: &mut [u8], scratch: &mut Vec<u8>) {
        convert_in_place(rows, (3, 3), scratch, |from, to| {
            transform_or_keep(&*self.0, from, to)
        });
    }
}

/// The profile RGB samples described by `profile` are converted from, or
/// `None` where they are left as they are: sRGB, a CMYK profile, or a grey
/// one on samples that were not `grey` in the file (a mismatch browsers
/// ignore too). Grey photos reach us as RGB with R = G = B, so a grey
/// profile (Gray Gamma 2.2, Dot Gain 20 %…) stands as sRGB's primaries with
/// the grey curve on every channel: neutral in, neutral out, toned by it.
fn rgb_profile_to_convert(mut profile: ColorProfile, grey: bool) -> Option<ColorProfile> {
    if grey && profile.color_space == DataColorSpace::Gray {
        let curve = profile.gray_trc.take()?;
        profile = ColorProfile::new_srgb();
        // Else moxcms takes sRGB's curve from these code points instead.
        profile.cicp = None;
        profile.red_trc = Some(curve.clone());
        profile.green_trc = Some(curve.clone());
        profile.blue_trc = Some(curve);
    }
    (profile.color_space == DataColorSpace::Rgb && !is_srgb(&profile)).then_some(profile)
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

/// A profile with sRGB's primaries and curves (within rounding) needs no
/// transform: camera and phone JPEGs almost all carry one, and skipping it
/// saves a pass. Both must match: sRGB primaries with a linear or gamma 1.8
/// curve are a different space.
fn is_srgb(profile: &ColorProfile) -> bool {
    let srgb = ColorProfile::new_srgb();
    let close = |a: moxcms::Xyzd, b: moxcms::Xyzd| {
        (a.x - b.x).abs() < 0.003 && (a.y - b.y).abs() < 0.003 && (a.z - b.z).abs() < 0.003
    };
    profile.lut_a_to_b_perceptual.is_none()
        && close(profile.red_colorant, srgb.red_colorant)
        && close(profile.green_colorant, srgb.green_colorant)
        && close(profile.blue_colorant, srgb.blue_colorant)
        && [&profile.red_trc, &profile.green_trc, &profile.blue_trc]
            .into_iter()
            .all(|curve| curve.as_ref().is_some_and(is_srgb_curve))
}

/// Whether `curve` decodes every 8-bit level to within a quarter level of
/// what sRGB's curve gives, measured back in sRGB's encoding.
fn is_srgb_curve(curve: &ToneReprCurve) -> bool {
    let (Ok(decode), Ok(srgb_encode)) = (
        curve.make_linear_evaluator(),
        ToneReprCurve::make_cicp_gamma_evaluator(TransferCharacteristics::Srgb),
    ) else {
        return false;
    };
    (0..=255u8).all(|level| {
        let x = f32::from(level) / 255.0;
        let encoded = srgb_encode.evaluate_value(decode.evaluate_value(x).clamp(0.0, 1.0));
        ((encoded - x) * 255.0).abs() <= 0.25
    })
}

/// CMYK without a profile: the textbook conversion, as browsers do, of the
/// pixels of `cmyk` into `rgb`.
fn naive_cmyk(cmyk: &[u8], rgb: &mut [u8]) {
    for (p, out) in cmyk.chunks_exact(4).zip(rgb.chunks_exact_mut(3)) {
        let k = 255 - u16::from(p[3]);
        for i in 0..3 {
            out[i] = ((255 - u16::from(p[i])) * k / 255) as u8;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{cicp_profile, to_srgb, transform, IccSource, CONVERT_PIXELS};
    use moxcms::{ColorProfile, Layout};

    fn rgb(data: Vec<u8>) -> IccSource {
        IccSource::Rgb {
            data,
            alpha: false,
            grey: false,
        }
    }

    /// Display P3 and BT.2020 samples against sRGB, worked out by hand:
    /// linearised, through XYZ (D65), clipped, encoded.
    #[test]
    fn cicp_primaries_are_converted_to_srgb() {
        const P3: u8 = 12;
        const BT2020: u8 = 9;
        const SRGB_CURVE: u8 = 13;
        let samples = vec![200, 100, 50, 60, 170, 90, 128, 128, 128];
        for (primaries, expected) in [
            (P3, [[215, 93, 31], [0, 173, 80]]),
            (BT2020, [[241, 76, 29], [0, 179, 76]]),
        ] {
            let icc = cicp_profile(primaries, SRGB_CURVE).expect("a profile");
            let pixels = to_srgb(rgb(samples.clone()), Some(&icc), 3, 1).unwrap();
            for (got, want) in pixels.data.chunks(3).zip(expected) {
                for (g, w) in got.iter().zip(want) {
                    assert!(g.abs_diff(w) <= 2, "{primaries}: {got:?} against {want:?}");
                }
            }
            // Grey stays grey.
            assert!(pixels.data[6..9].iter().all(|&v| v.abs_diff(128) <= 1));
        }
    }

    /// sRGB's primaries with another curve are another space: mid grey
    /// stored linear is sRGB 188, and level 10 under gamma 2.2 is sRGB 3.
    #[test]
    fn srgb_primaries_with_another_curve_are_converted() {
        const SRGB_PRIMARIES: u8 = 1;
        const LINEAR: u8 = 8;
        const GAMMA_2_2: u8 = 4;
        for (transfer, sample, expected) in [(LINEAR, 128, 188), (GAMMA_2_2, 10, 3)] {
            let icc = cicp_profile(SRGB_PRIMARIES, transfer).expect("a profile");
            let pixels = to_srgb(rgb(vec![sample; 3]), Some(&icc), 1, 1).unwrap();
            for got in pixels.data {
                assert!(
                    got.abs_diff(expected) <= 1,
                    "{transfer}: {got} against {expected}"
                );
            }
        }
        // sRGB itself, written out as an ICC profile, is left alone.
        let srgb = moxcms::ColorProfile::new_srgb().encode().unwrap();
        let samples: Vec<u8> = (0..=255).flat_map(|v| [v, v, v]).collect();
        let pixels = to_srgb(rgb(samples.clone()), Some(&srgb), 256, 1).unwrap();
        assert_eq!(pixels.data, samples);
    }

    #[test]
    fn srgb_look_alikes_unknown_codes_and_hdr_curves_get_no_profile() {
        for (primaries, transfer) in [
            (1, 13),   // sRGB
            (2, 13),   // unspecified primaries
            (1, 1),    // BT.709 curve
            (1, 6),    // BT.601 curve
            (2, 2),    // nothing specified
            (9, 16),   // BT.2100 PQ: needs tone mapping
            (9, 18),   // BT.2100 HLG
            (200, 13), // no such primaries
            (12, 200), // no such curve
        ] {
            assert!(
                cicp_profile(primaries, transfer).is_none(),
                "{primaries}/{transfer}"
            );
        }
    }

    /// More pixels than one chunk of `convert_in_place`, none alike.
    fn many_samples(channels: usize) -> Vec<u8> {
        (0..CONVERT_PIXELS * 3 / 2 * channels)
            .map(|i| (i * 7 % 251) as u8)
            .collect()
    }

    /// `samples` through the whole-image transform from `icc` to sRGB.
    fn whole(icc: &[u8], (from, to): (Layout, Layout), samples: &[u8]) -> Vec<u8> {
        let profile = ColorProfile::new_from_slice(icc).unwrap();
        let transform = transform(&profile, from, to).unwrap();
        let mut out = vec![0; samples.len() / from.channels() * to.channels()];
        transform.transform(samples, &mut out).unwrap();
        out
    }

    #[test]
    fn photos_converted_where_they_lie_equal_the_whole_image_converted() {
        const P3: u8 = 12;
        let p3 = cicp_profile(P3, 13).unwrap();
        let width = u32::try_from(CONVERT_PIXELS / 2).unwrap();
        for (alpha, layout) in [(false, Layout::Rgb), (true, Layout::Rgba)] {
            let samples = many_samples(layout.channels());
            let source = IccSource::Rgb {
                data: samples.clone(),
                alpha,
                grey: false,
            };
            let pixels = to_srgb(source, Some(&p3), width, 3).unwrap();
            assert_eq!(pixels.alpha, alpha);
            assert!(pixels.data == whole(&p3, (layout, layout), &samples));
        }
        let cmyk_jpeg = include_bytes!("../../tests/fixtures/cmyk-swop.jpg");
        let swop = crate::jpeg::icc_profile(cmyk_jpeg).expect("the fixture has a profile");
        let samples = many_samples(4);
        let pixels = to_srgb(IccSource::Cmyk(samples.clone()), Some(&swop), width, 3).unwrap();
        assert!(!pixels.alpha);
        assert!(pixels.data == whole(&swop, (Layout::Rgba, Layout::Rgb), &samples));
    }

    #[test]
    fn an_alpha_channel_opaque_throughout_is_dropped() {
        let rgb = many_samples(3);
        let rgba = |last_alpha: u8| -> Vec<u8> {
            let mut rgba: Vec<u8> = rgb
                .chunks_exact(3)
                .flat_map(|p| [p[0], p[1], p[2], 255])
                .collect();
            *rgba.last_mut().unwrap() = last_alpha;
            rgba
        };
        let width = u32::try_from(CONVERT_PIXELS / 2).unwrap();
        let convert = |data: Vec<u8>| {
            let source = IccSource::Rgb {
                data,
                alpha: true,
                grey: false,
            };
            to_srgb(source, None, width, 3).unwrap()
        };
        let opaque = convert(rgba(255));
        assert!(!opaque.alpha);
        assert!(opaque.data == rgb);
        // One translucent pixel, the last, keeps the channel.
        let translucent = convert(rgba(254));
        assert!(translucent.alpha);
        assert!(translucent.data == rgba(254));
    }
}
