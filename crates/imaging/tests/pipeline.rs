//! The rendition pipeline end to end: orientation, colour, formats, sizes,
//! embedded rights, fingerprints. Pixels are compared with a tolerance;
//! encoded bytes only where the encoder itself is tested (the two-thread
//! WebP coder must give the same file every time).

use image::{DynamicImage, ImageFormat, Rgb, RgbImage};
use photodesk_imaging::render::{
    decode_upright, near_duplicate_distance, perceptual_distance, process, EmbedOptions, Job,
    Pixels, RenditionSpec,
};
use photodesk_imaging::{read_metadata, DecodeLimits, ImagingError};
use photodesk_types::{Fingerprints, PhotoMetadata, RenditionFormat};
use std::io::Cursor;
use std::process::Command;

const LIMITS: DecodeLimits = DecodeLimits {
    max_pixels: 50_000_000,
    max_file_bytes: 50_000_000,
};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// An upright test picture no rotation or flip maps onto itself: four
/// coloured quadrants of unequal size.
fn upright_picture() -> RgbImage {
    RgbImage::from_fn(96, 64, |x, y| match (x < 36, y < 24) {
        (true, true) => Rgb([220, 30, 30]),
        (false, true) => Rgb([30, 200, 40]),
        (true, false) => Rgb([30, 40, 210]),
        (false, false) => Rgb([240, 230, 40]),
    })
}

fn encode(image: &DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    image.write_to(&mut out, format).unwrap();
    out.into_inner()
}

/// A JPEG carrying EXIF orientation `o`, right after SOI.
fn with_orientation(jpeg: &[u8], o: u8) -> Vec<u8> {
    let mut tiff = b"II*\0\x08\0\0\0\x01\0\x12\x01\x03\0\x01\0\0\0".to_vec();
    tiff.extend_from_slice(&[o, 0, 0, 0, 0, 0, 0, 0]);
    let mut payload = b"Exif\0\0".to_vec();
    payload.extend_from_slice(&tiff);
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&payload);
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// Mean absolute difference per sample.
fn difference(pixels: &Pixels, expected: &RgbImage) -> f64 {
    assert_eq!((pixels.width, pixels.height), expected.dimensions());
    let total: u64 = pixels
        .data
        .iter()
        .zip(expected.as_raw())
        .map(|(&a, &b)| u64::from(a.abs_diff(b)))
        .sum();
    total as f64 / pixels.data.len() as f64
}

#[test]
fn every_exif_orientation_comes_out_upright() {
    let upright = DynamicImage::ImageRgb8(upright_picture());
    for o in 1..=8u8 {
        // Store the picture so that applying orientation `o` gives it back:
        // 6 and 8 undo each other, the others are their own inverse.
        let inverse = match o {
            6 => 8,
            8 => 6,
            other => other,
        };
        let mut stored = upright.clone();
        stored.apply_orientation(image::metadata::Orientation::from_exif(inverse).unwrap());
        let jpeg = with_orientation(&encode(&stored, ImageFormat::Jpeg), o);
        assert_eq!(read_metadata(jpeg.clone().into()).orientation, o);

        let pixels = decode_upright(&jpeg, LIMITS, o, None).unwrap();
        let right = difference(&pixels, upright.as_rgb8().unwrap());
        assert!(right < 6.0, "orientation {o}: off by {right:.1} per sample");
        // The comparison can fail: the stored picture, unturned, is far off.
        if o != 1 {
            let unturned = decode_upright(&jpeg, LIMITS, 1, None).unwrap();
            if (unturned.width, unturned.height) == (96, 64) {
                assert!(difference(&unturned, upright.as_rgb8().unwrap()) > 30.0);
            }
        }
        // And through the whole pipeline, at a smaller width.
        let processed = process(jpeg.into(), LIMITS, &job(&[48], RenditionFormat::Jpeg)).unwrap();
        assert_eq!(
            (processed.width, processed.height),
            (96, 64),
            "orientation {o}"
        );
        let rendition = &processed.renditions[0];
        assert_eq!(
            (rendition.width, rendition.height),
            (48, 32),
            "orientation {o}"
        );
        let decoded = image::load_from_memory(&rendition.bytes).unwrap().to_rgb8();
        let expected = image::imageops::resize(
            upright.as_rgb8().unwrap(),
            48,
            32,
            image::imageops::FilterType::Triangle,
        );
        let pixels = Pixels {
            width: 48,
            height: 32,
            alpha: false,
            data: decoded.into_raw(),
        };
        let off = difference(&pixels, &expected);
        assert!(off < 12.0, "orientation {o}: rendition off by {off:.1}");
    }
}

fn job<'a>(widths: &'a [u32], format: RenditionFormat) -> Job<'a> {
    Job {
        specs: Box::new(move |w| specs(w, widths, format)),
        fingerprints: true,
        embed: EmbedOptions::default(),
    }
}

fn specs(upright_width: u32, widths: &[u32], format: RenditionFormat) -> Vec<RenditionSpec> {
    photodesk_imaging::render::widths_for(upright_width, widths)
        .into_iter()
        .map(|width| RenditionSpec {
            width,
            format,
            quality: RenditionSpec::default_quality(format),
        })
        .collect()
}

/// Compares the decoded fixture with LittleCMS's conversion, block by block.
fn assert_colours_match_reference(name: &str) {
    let reference: serde_json::Value =
        serde_json::from_slice(&fixture("colour-reference.json")).unwrap();
    let blocks = reference[name].as_array().unwrap();
    let bytes = fixture(name);
    let pixels = decode_upright(&bytes, LIMITS, 1, None).unwrap();
    let (w, h) = (pixels.width as usize, pixels.height as usize);
    let mut worst: f64 = 0.0;
    for (i, block) in blocks.iter().enumerate() {
        let (bx, by) = (i % 4, i / 4);
        let mut sum = [0u64; 3];
        let mut n = 0u64;
        for y in by * h / 4..(by + 1) * h / 4 {
            for x in bx * w / 4..(bx + 1) * w / 4 {
                for (c, total) in sum.iter_mut().enumerate() {
                    *total += u64::from(pixels.data[(y * w + x) * 3 + c]);
                }
                n += 1;
            }
        }
        for (c, total) in sum.iter().enumerate() {
            let expected = block[c].as_f64().unwrap();
            worst = worst.max((*total as f64 / n as f64 - expected).abs());
        }
    }
    // Ignoring the profile is off by 12 (Adobe RGB) and 35 (CMYK) here.
    assert!(worst < 4.0, "{name}: a block is off by {worst:.1} levels");
}

#[test]
fn adobe_rgb_is_converted_to_srgb() {
    assert_colours_match_reference("adobergb-police.jpg");
}

#[test]
fn adobe_cmyk_is_inverted_and_converted_to_srgb() {
    assert_colours_match_reference("cmyk-swop.jpg");
}

/// JPEG's optional arithmetic coder (`jpegtran -arithmetic`): the same
/// coefficients as the Huffman-coded twin, so the same pixels.
#[test]
fn an_arithmetic_coded_jpeg_decodes_like_its_huffman_twin() {
    let arithmetic = decode_upright(&fixture("arithmetic.jpg"), LIMITS, 1, None).unwrap();
    let huffman = decode_upright(&fixture("huffman.jpg"), LIMITS, 1, None).unwrap();
    assert_eq!((arithmetic.width, arithmetic.height), (96, 64));
    assert!(arithmetic.data == huffman.data);
}

/// Display P3 patches in a PNG, checked against the published P3 → sRGB
/// matrix (both use the sRGB transfer curve). The PNG says P3 with an ICC
/// profile, or with a cICP chunk (PNG's third edition), which outranks an
/// ICC profile that says otherwise.
#[test]
fn display_p3_png_matches_the_colorimetric_conversion() {
    let patches: [[u8; 3]; 4] = [
        [200, 120, 80],
        [90, 160, 200],
        [128, 128, 128],
        [60, 180, 90],
    ];
    let image = RgbImage::from_fn(64, 16, |x, _| Rgb(patches[(x / 16) as usize]));
    let png = encode(&DynamicImage::ImageRgb8(image), ImageFormat::Png);
    let tagged = |icc: Option<moxcms::ColorProfile>, cicp: Option<[u8; 4]>| {
        let mut png = img_parts::png::Png::from_bytes(png.clone().into()).unwrap();
        let icc = icc.map(|profile| profile.encode().unwrap().into());
        img_parts::ImageICC::set_icc_profile(&mut png, icc);
        if let Some(cicp) = cicp {
            let chunk = img_parts::png::PngChunk::new(*b"cICP", cicp.to_vec().into());
            png.chunks_mut().insert(1, chunk);
        }
        decode_upright(&png.encoder().bytes(), LIMITS, 1, None).unwrap()
    };
    const P3_SRGB_CURVE: [u8; 4] = [12, 13, 0, 1];
    let srgb = moxcms::ColorProfile::new_srgb;
    for pixels in [
        tagged(Some(moxcms::ColorProfile::new_display_p3()), None),
        tagged(None, Some(P3_SRGB_CURVE)),
        tagged(Some(srgb()), Some(P3_SRGB_CURVE)),
    ] {
        for (i, patch) in patches.iter().enumerate() {
            assert_p3_converted(*patch, sample(&pixels, i * 16 + 8, 8));
        }
        // The first patch moves visibly, so the check can fail.
        assert!(pixels.data[8 * 64 * 3 + 8 * 3].abs_diff(200) > 10);
    }
    // A cICP chunk that says sRGB, or names no known primaries (even with
    // an HDR curve), changes nothing.
    for cicp in [[1, 13, 0, 1], [200, 16, 0, 1]] {
        let pixels = tagged(Some(srgb()), Some(cicp));
        assert_eq!(sample(&pixels, 8, 8), patches[0], "{cicp:?}");
    }
}

/// Three grey bands, at levels 20, 128 and 230.
fn grey_bands() -> image::GrayImage {
    let levels = GREY_LEVELS;
    image::GrayImage::from_fn(48, 16, |x, _| image::Luma([levels[(x / 16) as usize]]))
}

const GREY_LEVELS: [u8; 3] = [20, 128, 230];

/// Asserts each of the `grey_bands` came out as `expected`, grey.
fn assert_bands(pixels: &Pixels, expected: [u8; 3], what: &str) {
    for (i, expected) in expected.into_iter().enumerate() {
        let got = sample(pixels, i * 16 + 8, 8);
        assert!(
            got.iter().all(|v| v.abs_diff(expected) <= 1),
            "{what}, level {}: {got:?} against {expected}",
            GREY_LEVELS[i]
        );
    }
}

/// Gray Gamma 2.2, as Photoshop embeds in grey photos.
fn grey_profile() -> Vec<u8> {
    moxcms::ColorProfile::new_gray_with_gamma(2.2)
        .encode()
        .unwrap()
}

/// What `grey_bands` become through Gray Gamma 2.2: the dark greys are
/// darker in sRGB.
const TONED: [u8; 3] = [12, 129, 231];

/// A grey JPEG with a Gray Gamma 2.2 profile, as Photoshop saves them, is
/// toned by that curve: its dark greys are darker in sRGB (level 20 is 12,
/// 128 is 129), and grey stays grey. The same profile on a colour JPEG
/// does not match its pixels and is ignored, as browsers ignore it.
#[test]
fn a_grey_profile_tones_a_grey_jpeg() {
    let grey = grey_bands();
    let colour = DynamicImage::ImageLuma8(grey.clone()).into_rgb8();
    let with_grey_profile = |image: DynamicImage| {
        let jpeg = encode(&image, ImageFormat::Jpeg);
        let mut jpeg = img_parts::jpeg::Jpeg::from_bytes(jpeg.into()).unwrap();
        img_parts::ImageICC::set_icc_profile(&mut jpeg, Some(grey_profile().into()));
        decode_upright(&jpeg.encoder().bytes(), LIMITS, 1, None).unwrap()
    };
    let toned = with_grey_profile(DynamicImage::ImageLuma8(grey));
    assert_bands(&toned, TONED, "grey JPEG");
    let untouched = with_grey_profile(DynamicImage::ImageRgb8(colour));
    assert_bands(&untouched, GREY_LEVELS, "colour JPEG");
}

/// A monochrome HEIC or AVIF with a grey profile is toned by it like a
/// JPEG, and so is the grey PNG it was made from.
#[test]
fn a_grey_profile_tones_grey_heif_and_png() {
    use image::ImageEncoder;
    let grey = grey_bands();
    let mut png = Vec::new();
    let mut encoder = image::codecs::png::PngEncoder::new(&mut png);
    encoder.set_icc_profile(grey_profile()).unwrap();
    encoder
        .write_image(grey.as_raw(), 48, 16, image::ExtendedColorType::L8)
        .unwrap();
    let decoded = decode_upright(&png, LIMITS, 1, None).unwrap();
    assert_bands(&decoded, TONED, "PNG");
    for flag in [None, Some("-A")] {
        let heif = heif_enc_png(&png, flag);
        let decoded = decode_upright(&heif, LIMITS, 1, None).unwrap();
        assert_bands(&decoded, TONED, flag.unwrap_or("HEIC"));
    }
}

/// PNGs of every layout come out as `image` reads them (16-bit samples
/// within one level: Photodesk cuts them to 8 bits while decoding).
#[test]
fn png_palettes_alpha_grey_and_16_bit_samples_decode_alike() {
    let (width, height) = (37, 23);
    let level = |x: u32, y: u32, k: u32| ((x * 7 + y * 11 + k * 50) % 256) as u8;
    let wide = |v: u8| u16::from(v) * 257 + u16::from(v % 7);
    let rgba = image::RgbaImage::from_fn(width, height, |x, y| {
        image::Rgba([
            level(x, y, 0),
            level(x, y, 1),
            level(x, y, 2),
            level(x, y, 3),
        ])
    });
    let grey_alpha = image::GrayAlphaImage::from_fn(width, height, |x, y| {
        image::LumaA([level(x, y, 0), level(x, y, 3)])
    });
    let rgb16 = image::ImageBuffer::<Rgb<u16>, _>::from_fn(width, height, |x, y| {
        Rgb([
            wide(level(x, y, 0)),
            wide(level(x, y, 1)),
            wide(level(x, y, 2)),
        ])
    });
    let grey_alpha16 =
        image::ImageBuffer::<image::LumaA<u16>, _>::from_fn(width, height, |x, y| {
            image::LumaA([wide(level(x, y, 0)), wide(level(x, y, 3))])
        });
    // Four colours, one of them half transparent (a tRNS chunk).
    let mut palette = Vec::new();
    let mut encoder = png::Encoder::new(&mut palette, width, height);
    encoder.set_color(png::ColorType::Indexed);
    encoder.set_palette(vec![255, 0, 0, 0, 255, 0, 0, 0, 255, 250, 250, 250]);
    encoder.set_trns(vec![255, 128, 255, 255]);
    let indices: Vec<u8> = (0..width * height).map(|i| (i % 4) as u8).collect();
    let mut writer = encoder.write_header().unwrap();
    writer.write_image_data(&indices).unwrap();
    writer.finish().unwrap();
    let files = [
        (
            "RGBA",
            encode(&DynamicImage::ImageRgba8(rgba), ImageFormat::Png),
        ),
        (
            "grey + alpha",
            encode(&DynamicImage::ImageLumaA8(grey_alpha), ImageFormat::Png),
        ),
        (
            "16-bit RGB",
            encode(&DynamicImage::ImageRgb16(rgb16), ImageFormat::Png),
        ),
        (
            "16-bit grey + alpha",
            encode(&DynamicImage::ImageLumaA16(grey_alpha16), ImageFormat::Png),
        ),
        ("palette + tRNS", palette),
    ];
    for (what, png) in files {
        let expected = image::load_from_memory(&png).unwrap();
        let ours = decode_upright(&png, LIMITS, 1, None).unwrap();
        assert_eq!((ours.width, ours.height), (width, height), "{what}");
        assert_eq!(ours.alpha, expected.color().has_alpha(), "{what}");
        let expected = if ours.alpha {
            expected.to_rgba8().into_raw()
        } else {
            expected.to_rgb8().into_raw()
        };
        let worst = ours
            .data
            .iter()
            .zip(&expected)
            .map(|(a, b)| a.abs_diff(*b))
            .max();
        assert!(worst <= Some(1), "{what}: samples differ by {worst:?}");
    }
}

/// A little-endian TIFF written by hand, as strips of `rows` rows or square
/// tiles of `tile` pixels (padded at the right and bottom edges), so that
/// every layout can be tested: the `tiff` crate's encoder writes strips of
/// its own colour types only. `sample(x, y, channel)` gives each sample,
/// stored at `bits` bits; `extra` is TIFF's ExtraSamples (1: associated,
/// 2: unassociated alpha); `planar` stores each channel apart.
#[derive(Clone)]
struct HandTiff {
    size: (u32, u32),
    bits: u16,
    photometric: u16,
    channels: u16,
    extra: Option<u16>,
    tile: Option<u32>,
    rows: u32,
    planar: bool,
    icc: Option<Vec<u8>>,
}

impl HandTiff {
    /// 16-bit RGB in strips of 5 rows, nothing else: each test changes what
    /// it is about.
    fn rgb16(size: (u32, u32)) -> HandTiff {
        HandTiff {
            size,
            bits: 16,
            photometric: 2,
            channels: 3,
            extra: None,
            tile: None,
            rows: 5,
            planar: false,
            icc: None,
        }
    }

    fn write(&self, sample: impl Fn(u32, u32, u16) -> u16) -> Vec<u8> {
        let (width, height) = self.size;
        let mut data = Vec::new();
        let (mut offsets, mut counts) = (Vec::new(), Vec::new());
        let (chunk_width, chunk_height) = match self.tile {
            Some(tile) => (tile, tile),
            None => (width, self.rows),
        };
        let planes: Vec<Vec<u16>> = match self.planar {
            true => (0..self.channels).map(|c| vec![c]).collect(),
            false => vec![(0..self.channels).collect()],
        };
        for plane in &planes {
            for top in (0..height).step_by(chunk_height as usize) {
                for left in (0..width).step_by(chunk_width as usize) {
                    offsets.push(8 + data.len() as u32);
                    let bottom = match self.tile {
                        Some(_) => top + chunk_height,
                        None => (top + chunk_height).min(height),
                    };
                    for y in top..bottom {
                        for x in left..left + chunk_width {
                            for &c in plane {
                                let v = if x < width && y < height {
                                    sample(x, y, c)
                                } else {
                                    0
                                };
                                match self.bits {
                                    8 => data.push(v as u8),
                                    _ => data.extend(v.to_le_bytes()),
                                }
                            }
                        }
                    }
                    counts.push(8 + data.len() as u32 - offsets.last().unwrap());
                }
            }
        }
        // (tag, type, values): SHORT 3, LONG 4, UNDEFINED 7 (one byte each).
        let mut entries: Vec<(u16, u16, Vec<u32>)> = vec![
            (256, 4, vec![width]),
            (257, 4, vec![height]),
            (
                258,
                3,
                vec![u32::from(self.bits); usize::from(self.channels)],
            ),
            (259, 3, vec![1]),
            (262, 3, vec![u32::from(self.photometric)]),
            (277, 3, vec![u32::from(self.channels)]),
            (284, 3, vec![if self.planar { 2 } else { 1 }]),
        ];
        match self.tile {
            Some(tile) => entries.extend([
                (322, 4, vec![tile]),
                (323, 4, vec![tile]),
                (324, 4, offsets),
                (325, 4, counts),
            ]),
            None => entries.extend([
                (273, 4, offsets),
                (278, 4, vec![self.rows]),
                (279, 4, counts),
            ]),
        }
        entries.extend(self.extra.map(|extra| (338, 3, vec![u32::from(extra)])));
        entries.extend(
            self.icc
                .as_ref()
                .map(|icc| (34675, 7, icc.iter().map(|&b| u32::from(b)).collect())),
        );
        entries.sort_by_key(|entry| entry.0);
        let ifd_at = 8 + data.len() as u32;
        let mut spill_at = ifd_at + 2 + 12 * entries.len() as u32 + 4;
        let (mut ifd, mut spill) = (Vec::new(), Vec::new());
        ifd.extend((entries.len() as u16).to_le_bytes());
        for (tag, kind, values) in &entries {
            let bytes: Vec<u8> = values
                .iter()
                .flat_map(|&v| match kind {
                    3 => (v as u16).to_le_bytes().to_vec(),
                    4 => v.to_le_bytes().to_vec(),
                    _ => vec![v as u8],
                })
                .collect();
            ifd.extend(tag.to_le_bytes());
            ifd.extend(kind.to_le_bytes());
            ifd.extend((values.len() as u32).to_le_bytes());
            if bytes.len() <= 4 {
                ifd.extend(&bytes);
                ifd.extend(vec![0; 4 - bytes.len()]);
            } else {
                ifd.extend(spill_at.to_le_bytes());
                spill_at += bytes.len() as u32;
                spill.extend(bytes);
            }
        }
        ifd.extend(0u32.to_le_bytes());
        [&b"II*\0"[..], &ifd_at.to_le_bytes(), &data, &ifd, &spill].concat()
    }
}

/// TIFFs read chunk by chunk (strips, tiles cut at the edges, 16 bits cut
/// to 8, grey spread to RGB, associated alpha divided out) and those left to
/// `image` (planes stored apart) come out with the samples they hold.
#[test]
fn tiff_strips_tiles_alpha_and_16_bit_samples_decode_alike() {
    let (width, height) = (37, 23);
    let level = |x: u32, y: u32, c: u16| ((x * 7 + y * 11 + u32::from(c) * 50) % 256) as u8;
    // Low bits that rounding to 8 bits must drop.
    let wide = |v: u8| (u16::from(v) * 257).saturating_add(u16::from(v % 7));
    let base = HandTiff::rgb16((width, height));
    let cases: Vec<(&str, HandTiff, bool)> = vec![
        ("16-bit RGB in strips", HandTiff { ..base.clone() }, false),
        (
            "16-bit RGB in tiles",
            HandTiff {
                tile: Some(16),
                ..base.clone()
            },
            false,
        ),
        (
            "8-bit grey + alpha in tiles",
            HandTiff {
                bits: 8,
                photometric: 1,
                channels: 2,
                extra: Some(2),
                tile: Some(16),
                ..base.clone()
            },
            true,
        ),
        (
            "16-bit RGBA, associated alpha",
            HandTiff {
                channels: 4,
                extra: Some(1),
                ..base.clone()
            },
            true,
        ),
        (
            "8-bit RGB in planes",
            HandTiff {
                bits: 8,
                planar: true,
                ..base.clone()
            },
            false,
        ),
    ];
    for (what, tiff, alpha) in cases {
        let (bits, channels, extra) = (tiff.bits, tiff.channels, tiff.extra);
        // Associated alpha stores colour × alpha: kept high enough here for
        // the colour to be recovered within a few levels.
        let alpha_of = |x, y| level(x, y, 3).max(64);
        let stored = |x, y, c| {
            let v = match (channels, c) {
                (2, 1) | (4, 3) => alpha_of(x, y),
                _ => level(x, y, c),
            };
            let v = match (extra, c + 1 < channels) {
                (Some(1), true) => (u32::from(v) * u32::from(alpha_of(x, y)) / 255) as u8,
                _ => v,
            };
            if bits == 8 {
                u16::from(v)
            } else {
                wide(v)
            }
        };
        let ours = decode_upright(&tiff.write(stored), LIMITS, 1, None).unwrap();
        assert_eq!(
            (ours.width, ours.height, ours.alpha),
            (width, height, alpha),
            "{what}"
        );
        let step = if alpha { 4 } else { 3 };
        for (i, pixel) in ours.data.chunks_exact(step).enumerate() {
            let (x, y) = (i as u32 % width, i as u32 / width);
            let colour = |c| {
                if channels <= 2 {
                    level(x, y, 0)
                } else {
                    level(x, y, c)
                }
            };
            let mut expected = vec![colour(0), colour(1), colour(2)];
            if alpha {
                expected.push(alpha_of(x, y));
            }
            // Dividing associated alpha out loses up to 255 / alpha levels.
            let tolerance = match extra {
                Some(1) => 255 / u32::from(alpha_of(x, y)) + 1,
                _ => 1,
            };
            for (got, want) in pixel.iter().zip(&expected) {
                assert!(
                    u32::from(got.abs_diff(*want)) <= tolerance,
                    "{what} at ({x}, {y}): {pixel:?}, not {expected:?}"
                );
            }
        }
    }
}

/// TIFFs whose tags do not fit their data are refused with a message, never
/// a panic, whichever reader they reach.
#[test]
fn tiffs_whose_tags_lie_are_refused() {
    let tiff = HandTiff::rgb16((37, 23));
    let whole = tiff.write(|x, y, c| (x * 1000 + y * 100 + u32::from(c)) as u16);
    let tiled = HandTiff {
        tile: Some(16),
        ..tiff.clone()
    }
    .write(|_, _, _| 7);
    // One strip: its byte count is inline, where a patch can shorten it.
    let one_strip = HandTiff { rows: 23, ..tiff }.write(|_, _, _| 7);
    // The IFD entry of `tag`: its count and first (inline) value are patched.
    let patched = |file: &[u8], tag: u16, count: Option<u32>, value: Option<u32>| {
        let mut file = file.to_vec();
        let ifd = u32::from_le_bytes(file[4..8].try_into().unwrap()) as usize;
        let entries = u16::from_le_bytes([file[ifd], file[ifd + 1]]) as usize;
        let at = (0..entries)
            .map(|i| ifd + 2 + 12 * i)
            .find(|&at| u16::from_le_bytes([file[at], file[at + 1]]) == tag)
            .unwrap();
        if let Some(count) = count {
            file[at + 4..at + 8].copy_from_slice(&count.to_le_bytes());
        }
        if let Some(value) = value {
            file[at + 8..at + 12].copy_from_slice(&value.to_le_bytes());
        }
        file
    };
    let cases = [
        (
            "fewer strip offsets than strips",
            patched(&whole, 273, Some(4), None),
        ),
        (
            "fewer byte counts than strips",
            patched(&whole, 279, Some(3), None),
        ),
        (
            "taller than its strips",
            patched(&whole, 257, None, Some(30)),
        ),
        ("no rows per strip", patched(&whole, 278, None, Some(0))),
        (
            "fewer tile offsets than tiles",
            patched(&tiled, 324, Some(3), None),
        ),
        (
            "a tile longer than the file",
            patched(&tiled, 325, Some(1), Some(1 << 30)),
        ),
        ("cut inside its strips", whole[..whole.len() / 3].to_vec()),
        (
            "an uncompressed strip shorter than its rows",
            patched(&one_strip, 279, None, Some(37 * 23 * 6 / 2)),
        ),
    ];
    assert!(decode_upright(&whole, LIMITS, 1, None).is_ok());
    for (what, file) in cases {
        let outcome = std::panic::catch_unwind(|| decode_upright(&file, LIMITS, 1, None));
        match outcome {
            Ok(Err(err)) => assert!(!err.to_string().is_empty(), "{what}"),
            Ok(Ok(_)) => panic!("{what}: taken"),
            Err(_) => panic!("{what}: panicked"),
        }
    }
}

/// A CMYK TIFF goes through its ICC profile (U.S. Web Coated SWOP here);
/// the expected colours are LittleCMS's, perceptual intent (Pillow's
/// ImageCms); a naive conversion would make cyan (0, 255, 255).
#[test]
fn cmyk_tiff_goes_through_its_profile() {
    use image::ImageDecoder;
    let icc = image::codecs::jpeg::JpegDecoder::new(Cursor::new(fixture("cmyk-swop.jpg")))
        .unwrap()
        .icc_profile()
        .unwrap()
        .unwrap();
    let inks: [[u8; 4]; 6] = [
        [255, 0, 0, 0],
        [0, 255, 0, 0],
        [0, 0, 255, 0],
        [0, 0, 0, 255],
        [0; 4],
        [64, 128, 32, 16],
    ];
    let lcms: [[u8; 3]; 6] = [
        [0, 174, 239],
        [236, 0, 140],
        [255, 242, 0],
        [35, 31, 32],
        [255, 255, 255],
        [179, 132, 163],
    ];
    let tiff = HandTiff {
        bits: 8,
        photometric: 5,
        channels: 4,
        icc: Some(icc),
        ..HandTiff::rgb16((6 * 8, 8))
    };
    let file = tiff.write(|x, _, c| u16::from(inks[(x / 8) as usize][usize::from(c)]));
    let ours = decode_upright(&file, LIMITS, 1, None).unwrap();
    for (patch, expected) in lcms.iter().enumerate() {
        let got = sample(&ours, patch * 8 + 4, 4);
        let off = got
            .iter()
            .zip(expected)
            .map(|(a, b)| a.abs_diff(*b))
            .max()
            .unwrap();
        assert!(off <= 4, "patch {patch}: {got:?}, LittleCMS {expected:?}");
    }
}

/// A PNG with no profile but gAMA and cHRM chunks is converted as browsers
/// read those chunks: a linear (gamma 1.0) or Mac (1.8) file comes out
/// lighter, cHRM's Display P3 primaries like a P3 profile. A gAMA of
/// 1 / 2.2 with sRGB's cHRM, as many writers tag sRGB files, and any chunk
/// beside an sRGB chunk (which ranks above them) change nothing.
#[test]
fn png_gamma_and_chromaticity_chunks_are_converted() {
    const P3_D65: [u32; 8] = [31270, 32900, 68000, 32000, 26500, 69000, 15000, 6000];
    const SRGB_D65: [u32; 8] = [31270, 32900, 64000, 33000, 30000, 60000, 15000, 6000];
    let patches: [[u8; 3]; 4] = [[20, 20, 20], [128, 128, 128], [200, 120, 80], [60, 180, 90]];
    let image = RgbImage::from_fn(64, 16, |x, _| Rgb(patches[(x / 16) as usize]));
    let png = encode(&DynamicImage::ImageRgb8(image), ImageFormat::Png);
    let tagged = |chunks: &[(&[u8; 4], Vec<u8>)]| {
        let mut png = img_parts::png::Png::from_bytes(png.clone().into()).unwrap();
        for (kind, data) in chunks {
            let chunk = img_parts::png::PngChunk::new(**kind, data.clone().into());
            png.chunks_mut().insert(1, chunk);
        }
        let pixels = decode_upright(&png.encoder().bytes(), LIMITS, 1, None).unwrap();
        [0, 1, 2, 3].map(|i| sample(&pixels, i * 16 + 8, 8))
    };
    let gama = |gamma: f64| {
        (
            b"gAMA",
            ((gamma * 1e5).round() as u32).to_be_bytes().to_vec(),
        )
    };
    let chrm = |points: [u32; 8]| {
        (
            b"cHRM",
            points.iter().flat_map(|v| v.to_be_bytes()).collect(),
        )
    };
    let srgb = (b"sRGB", vec![0]);
    let to_encoded = |linear: f64| {
        let srgb = if linear <= 0.0031308 {
            linear * 12.92
        } else {
            1.055 * linear.powf(1.0 / 2.4) - 0.055
        };
        srgb * 255.0
    };
    for (gamma, expected_grey) in [(1.0, [79.0, 188.0]), (1.0 / 1.8, [26.0, 146.0])] {
        let got = tagged(&[gama(gamma)]);
        for (i, &level) in [20.0f64, 128.0].iter().enumerate() {
            let expected = to_encoded((level / 255.0).powf(1.0 / gamma));
            assert!((expected - expected_grey[i]).abs() < 1.0, "{expected}");
            assert!(
                got[i]
                    .iter()
                    .all(|&v| (f64::from(v) - expected).abs() <= 1.5),
                "gamma {gamma}, level {level}: {:?} against {expected:.1}",
                got[i]
            );
        }
    }
    let p3 = tagged(&[chrm(P3_D65)]);
    for (i, patch) in patches.iter().enumerate() {
        assert_p3_converted(*patch, p3[i]);
    }
    assert!(p3[2][0].abs_diff(200) > 10);
    for chunks in [
        vec![gama(1.0 / 2.2), chrm(SRGB_D65)],
        vec![gama(0.45455)],
        vec![gama(1.0), chrm(P3_D65), srgb],
        vec![gama(0.0), chrm([0; 8])],
    ] {
        assert_eq!(tagged(&chunks), patches, "{chunks:?}");
    }
}

/// The RGB sample at (`x`, `y`).
fn sample(pixels: &Pixels, x: usize, y: usize) -> [u8; 3] {
    let at = (y * pixels.width as usize + x) * 3;
    [0, 1, 2].map(|c| pixels.data[at + c])
}

/// `got` is the sRGB form of Display P3 sample `p3`, by the published
/// P3 → sRGB matrix (both spaces use the sRGB transfer curve).
fn assert_p3_converted(p3: [u8; 3], got: [u8; 3]) {
    let to_linear = |v: f64| {
        if v <= 0.04045 {
            v / 12.92
        } else {
            ((v + 0.055) / 1.055).powf(2.4)
        }
    };
    let to_encoded = |v: f64| {
        let v = v.clamp(0.0, 1.0);
        if v <= 0.0031308 {
            v * 12.92
        } else {
            1.055 * v.powf(1.0 / 2.4) - 0.055
        }
    };
    const P3_TO_SRGB: [[f64; 3]; 3] = [
        [1.2249, -0.2247, 0.0],
        [-0.0420, 1.0419, 0.0],
        [-0.0197, -0.0786, 1.0979],
    ];
    let linear = p3.map(|v| to_linear(f64::from(v) / 255.0));
    for c in 0..3 {
        let mixed: f64 = (0..3).map(|k| P3_TO_SRGB[c][k] * linear[k]).sum();
        let expected = to_encoded(mixed) * 255.0;
        assert!(
            (f64::from(got[c]) - expected).abs() <= 2.5,
            "P3 {p3:?} channel {c}: got {}, expected {expected:.1}",
            got[c]
        );
    }
}

/// An AVIF that says Display P3 only with the code points of its `nclx`
/// colour box (no ICC profile), as cameras and export tools write them,
/// is converted like a P3 profile.
#[test]
fn an_avif_tagged_p3_by_its_nclx_box_is_converted_to_srgb() {
    let patches: [[u8; 3]; 3] = [[200, 100, 50], [60, 170, 90], [40, 80, 200]];
    let image = RgbImage::from_fn(96, 32, |x, _| Rgb(patches[(x / 32) as usize]));
    let untagged = heif_enc(&image, Some("-A"));
    // heif-enc 1.15 writes primaries and curve "unspecified" whatever it is
    // told, so the box is rewritten in place.
    let p3 = decode_upright(&with_nclx(untagged.clone(), 12, 13), LIMITS, 1, None).unwrap();
    let as_decoded = decode_upright(&untagged, LIMITS, 1, None).unwrap();
    for i in 0..patches.len() {
        let (x, y) = (i * 32 + 16, 16);
        assert_p3_converted(sample(&as_decoded, x, y), sample(&p3, x, y));
    }
    // The first patch moves visibly, so the check can fail.
    assert!(sample(&p3, 16, 16)[2].abs_diff(sample(&as_decoded, 16, 16)[2]) > 10);
}

/// `heif` with the colour primaries and transfer curve of its `nclx`
/// colour box set to the given H.273 code points.
fn with_nclx(mut heif: Vec<u8>, primaries: u16, curve: u16) -> Vec<u8> {
    let at = heif
        .windows(8)
        .position(|w| w == b"colrnclx")
        .expect("an nclx colour box")
        + 8;
    heif[at..at + 2].copy_from_slice(&primaries.to_be_bytes());
    heif[at + 2..at + 4].copy_from_slice(&curve.to_be_bytes());
    heif
}

/// 10-bit AVIFs and 16-bit PNGs in BT.2100 PQ and HLG (BT.2020 primaries),
/// as cameras write HEIF in their HDR modes, are tone mapped to sRGB rather
/// than shown as their raw code values (flat) or converted as if SDR
/// (dark): mid-tones keep their SDR level, reference white (203 nits, HLG
/// 75 %) is light, the content peak is white, and grey stays grey.
#[test]
fn hdr_avifs_and_pngs_are_tone_mapped_to_srgb() {
    const BT2020: u8 = 9;
    const PQ: u8 = 16;
    const HLG: u8 = 18;
    // 10-bit code values of each grey patch: dim grey, reference white, peak.
    let pq_nits = |nits: f64| {
        let (m1, m2, c1, c2, c3) = (0.159_301_76, 78.843_75, 0.835_937_5, 18.851_562, 18.6875);
        let y = (nits / 10_000.0).powf(m1);
        (((c1 + c2 * y) / (1.0 + c3 * y)).powf(m2) * 1023.0).round() as u16
    };
    let pq_levels = [pq_nits(20.0), pq_nits(203.0), pq_nits(1000.0)];
    let hlg_levels = [400, 767, 1023];
    let patch = |levels: [u16; 3], i: u32| levels[(i % 96 / 32) as usize];
    let avif = |levels: [u16; 3], curve: u8| {
        let grey = (0..32 * 96).map(|i| [patch(levels, i); 3]);
        let avif = ravif::Encoder::new()
            .with_quality(100.0)
            .with_speed(10)
            .encode_raw_planes_10_bit(
                96,
                32,
                grey,
                None::<[u16; 0]>,
                ravif::PixelRange::Full,
                ravif::MatrixCoefficients::Identity,
            )
            .unwrap()
            .avif_file;
        with_nclx(avif, BT2020.into(), curve.into())
    };
    let png = |levels: [u16; 3], curve: u8| {
        let image = image::ImageBuffer::<Rgb<u16>, _>::from_fn(96, 32, |x, _| {
            let level = u32::from(patch(levels, x)) * 65535 / 1023;
            Rgb([level as u16; 3])
        });
        let png = encode(&DynamicImage::ImageRgb16(image), ImageFormat::Png);
        let mut png = img_parts::png::Png::from_bytes(png.into()).unwrap();
        let cicp = vec![BT2020, curve, 0, 1];
        png.chunks_mut()
            .insert(1, img_parts::png::PngChunk::new(*b"cICP", cicp.into()));
        png.encoder().bytes().to_vec()
    };
    let srgb_level = |linear: f64| (1.055 * linear.powf(1.0 / 2.4) - 0.055) * 255.0;
    let formats: [&dyn Fn([u16; 3], u8) -> Vec<u8>; 2] = [&avif, &png];
    for make in formats {
        let decoded = |levels, curve| {
            let pixels = decode_upright(&make(levels, curve), LIMITS, 1, None).unwrap();
            [16, 48, 80].map(|x| sample(&pixels, x, 16))
        };
        let [dim, white, peak] = decoded(pq_levels, PQ);
        for patch in [dim, white, peak] {
            let spread = patch.iter().max().unwrap() - patch.iter().min().unwrap();
            assert!(spread <= 2, "{patch:?}");
        }
        // Raw, 203 nits would be PQ's 58 %: level 148.
        let dim_sdr = srgb_level(20.0 / 203.0);
        assert!(
            (f64::from(dim[1]) - dim_sdr).abs() <= 8.0,
            "{dim:?} against {dim_sdr:.0}"
        );
        assert!((175..peak[1]).contains(&white[1]), "{white:?} {peak:?}");
        assert!(peak[1] >= 250, "{peak:?}");
        // HLG's 75 % is the same reference white.
        let [hlg_dim, hlg_white, hlg_peak] = decoded(hlg_levels, HLG);
        assert!(
            hlg_white[1].abs_diff(white[1]) <= 6,
            "{hlg_white:?} {white:?}"
        );
        assert!(
            hlg_dim[1] < hlg_white[1] && hlg_peak[1] >= 250,
            "{hlg_dim:?} {hlg_peak:?}"
        );
    }
}

/// Transparency survives in WebP and AVIF (JPEG has none), opaque and
/// see-through halves alike, and an opaque photo gets no alpha channel.
#[test]
fn transparency_is_kept_where_the_format_has_it() {
    let half_clear = DynamicImage::ImageRgba8(image::RgbaImage::from_fn(120, 80, |x, _| {
        image::Rgba([200, 40, 10, if x < 60 { 255 } else { 40 }])
    }));
    let png = encode(&half_clear, ImageFormat::Png);
    for format in [RenditionFormat::Webp, RenditionFormat::Avif] {
        let processed = process(png.clone().into(), LIMITS, &job(&[120], format)).unwrap();
        let decoded = decode_upright(&processed.renditions[0].bytes, LIMITS, 1, None).unwrap();
        assert!(decoded.alpha, "{format:?}");
        let alpha_at = |x: usize| decoded.data[(40 * 120 + x) * 4 + 3];
        assert_eq!(alpha_at(10), 255, "{format:?}");
        assert!(
            alpha_at(110).abs_diff(40) <= 3,
            "{format:?}: {}",
            alpha_at(110)
        );
    }
    let opaque = encode(
        &DynamicImage::ImageRgba8(image::RgbaImage::from_pixel(
            64,
            48,
            image::Rgba([1, 2, 3, 255]),
        )),
        ImageFormat::Png,
    );
    let processed = process(opaque.into(), LIMITS, &job(&[64], RenditionFormat::Webp)).unwrap();
    let webp = &processed.renditions[0].bytes;
    assert!(!webp.windows(4).any(|w| w == b"ALPH"));
}

/// WebP renditions are coded on two threads (vendor/README.md: libwebp's
/// coding loop, two macroblock rows at once). The file must not depend on
/// the threads' timing, and must be as good and as small as libwebp's
/// one-thread encode of the same pixels.
#[test]
fn webp_coded_on_two_threads_matches_the_one_thread_encode() {
    // A real photo, without metadata so that the files hold pixels only.
    let photo = image::load_from_memory(&fixture("iptc-ref-std2019.1.jpg")).unwrap();
    let png = encode(&DynamicImage::ImageRgb8(photo.to_rgb8()), ImageFormat::Png);
    let source = decode_upright(&png, LIMITS, 1, None).unwrap();
    let two_threads = |width: u32| {
        let processed = process(
            png.clone().into(),
            LIMITS,
            &job(&[width], RenditionFormat::Webp),
        );
        processed.unwrap().renditions.remove(0).bytes
    };
    // Wide, and a height that leaves a part row at the bottom.
    for width in [1000, 333] {
        let pixels = source.resized(width).unwrap();
        let coded = two_threads(width);
        for _ in 0..3 {
            assert!(two_threads(width) == coded, "{width} px: another file");
        }
        let one_thread = webp::Encoder::from_rgb(&pixels.data, pixels.width, pixels.height)
            .encode_simple(false, 80.0)
            .unwrap()
            .to_vec();
        assert_ne!(
            coded, one_thread,
            "{width} px: the two-thread loop did not run"
        );
        let error = |webp: &[u8]| {
            let decoded = decode_upright(webp, LIMITS, 1, None).unwrap();
            let (mean, _) = differences(&decoded, &pixels);
            mean
        };
        let (two, one) = (error(&coded), error(&one_thread));
        assert!(
            two <= one * 1.02,
            "{width} px: error {two:.4} against {one:.4}"
        );
        let size_ratio = coded.len() as f64 / one_thread.len() as f64;
        assert!(
            (0.98..=1.02).contains(&size_ratio),
            "{width} px: {} bytes against {}",
            coded.len(),
            one_thread.len()
        );
    }
}

#[test]
fn ladder_never_upscales_and_every_format_decodes() {
    let photo = encode(
        &DynamicImage::ImageRgb8(RgbImage::from_fn(700, 300, |x, y| {
            Rgb([(x % 256) as u8, (y % 256) as u8, 90])
        })),
        ImageFormat::Jpeg,
    );
    for format in RenditionFormat::ALL {
        let specs = RenditionSpec::ladder(700, format);
        let widths: Vec<u32> = specs.iter().map(|s| s.width).collect();
        assert_eq!(widths, [320, 640, 700]);
        // Wide photos: JPEG alone adds the 1200-px link-preview width.
        let wide: Vec<u32> = RenditionSpec::ladder(4000, format)
            .iter()
            .map(|s| s.width)
            .collect();
        if format == RenditionFormat::Jpeg {
            assert_eq!(wide, [320, 640, 1024, 1200, 1600, 2048]);
        } else {
            assert_eq!(wide, [320, 640, 1024, 1600, 2048]);
        }
        let processed = process(
            photo.clone().into(),
            LIMITS,
            &job(&[320, 640, 1024, 2048], format),
        )
        .unwrap();
        for rendition in &processed.renditions {
            let expected_height = (300 * rendition.width + 350) / 700;
            assert_eq!(rendition.height, expected_height);
            let decoded = decode_upright(&rendition.bytes, LIMITS, 1, None).unwrap();
            assert_eq!(
                (decoded.width, decoded.height),
                (rendition.width, rendition.height)
            );
        }
        if format == RenditionFormat::Jpeg {
            // Progressive: a SOF2 marker.
            let jpeg = &processed.renditions[0].bytes;
            assert!(jpeg.windows(2).any(|w| w == [0xFF, 0xC2]));
        }
    }
}

fn exiftool(bytes: &[u8], tags: &[&str]) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("photo");
    std::fs::write(&path, bytes).unwrap();
    let output = Command::new("exiftool")
        .args(["-j", "-charset", "utf8"])
        .args(tags.iter().map(|t| format!("-{t}")))
        .arg(&path)
        .output()
        .expect("exiftool (Debian libimage-exiftool-perl) must be installed");
    assert!(output.status.success());
    serde_json::from_slice::<serde_json::Value>(&output.stdout).unwrap()[0].clone()
}

#[test]
fn renditions_carry_rights_but_not_location() {
    let metadata = PhotoMetadata {
        creator: vec!["Анна Петрова".into(), "李明".into()],
        credit: Some("Agence <Test> & Co".into()),
        copyright: Some("© 2026 Agence Test".into()),
        web_statement: Some("https://example.com/licence".into()),
        gps: Some(photodesk_types::Gps {
            latitude: 45.75,
            longitude: -126.5,
        }),
        camera_model: Some("Secret Camera".into()),
        ..Default::default()
    };
    let photo = encode(
        &DynamicImage::ImageRgb8(upright_picture()),
        ImageFormat::Jpeg,
    );
    let pixels = decode_upright(&photo, LIMITS, 1, None).unwrap();
    let tags = [
        "Creator",
        "Credit",
        "Rights",
        "WebStatement",
        "Artist",
        "Copyright",
        "GPSLatitude",
        "GPSLongitude",
        "Model",
    ];
    for format in [
        RenditionFormat::Jpeg,
        RenditionFormat::Webp,
        RenditionFormat::Avif,
    ] {
        let spec = RenditionSpec {
            width: 96,
            format,
            quality: 80,
        };
        for keep_location in [false, true] {
            let out = photodesk_imaging::render::render(
                &pixels,
                &[spec],
                &metadata,
                EmbedOptions { keep_location },
            )
            .unwrap();
            let read = exiftool(&out[0].bytes, &tags);
            // The metadata items leave the image readable.
            let decoded = decode_upright(&out[0].bytes, LIMITS, 1, None).unwrap();
            assert_eq!((decoded.width, decoded.height), (96, 64), "{format}");
            assert_eq!(read["Artist"], "Анна Петрова; 李明", "{format}");
            assert_eq!(read["Copyright"], "© 2026 Agence Test", "{format}");
            assert!(read.get("Model").is_none(), "{format}: camera leaked");
            assert_eq!(
                read["Creator"],
                serde_json::json!(["Анна Петрова", "李明"]),
                "{format}"
            );
            assert_eq!(read["Credit"], "Agence <Test> & Co", "{format}");
            assert_eq!(read["Rights"], "© 2026 Agence Test", "{format}");
            assert_eq!(read["WebStatement"], "https://example.com/licence");
            assert_eq!(
                read.get("GPSLatitude").is_some(),
                keep_location,
                "{format}: GPS kept = {keep_location}: {read}"
            );
        }
    }
}

#[test]
fn a_two_line_copyright_is_the_photographers_then_the_editors_notice() {
    let pixels = decode_upright(
        &encode(
            &DynamicImage::ImageRgb8(upright_picture()),
            ImageFormat::Jpeg,
        ),
        LIMITS,
        1,
        None,
    )
    .unwrap();
    let spec = RenditionSpec {
        width: 48,
        format: RenditionFormat::Jpeg,
        quality: 80,
    };
    for (notice, strings) in [
        ("© Анна Петрова\n© Agence Test", &b"\xc2\xa9 \xd0\x90\xd0\xbd\xd0\xbd\xd0\xb0 \xd0\x9f\xd0\xb5\xd1\x82\xd1\x80\xd0\xbe\xd0\xb2\xd0\xb0\0\xc2\xa9 Agence Test\0"[..]),
        ("\n© Agence Test", b" \0\xc2\xa9 Agence Test\0"),
    ] {
        let metadata = PhotoMetadata {
            copyright: Some(notice.into()),
            ..Default::default()
        };
        let out = photodesk_imaging::render::render(&pixels, &[spec], &metadata, EmbedOptions::default()).unwrap();
        let bytes = &out[0].bytes;
        assert!(bytes.windows(strings.len()).any(|w| w == strings), "{notice:?}: EXIF strings");
        // ExifTool shows a missing photographer's notice as an empty line.
        assert_eq!(exiftool(bytes, &["EXIF:Copyright"])["Copyright"], notice);
        let expected = notice.trim_start();
        assert_eq!(photodesk_imaging::read_metadata(bytes.clone().into()).copyright.as_deref(), Some(expected));
    }
}

#[test]
fn placeholder_and_perceptual_hash_tell_copies_from_other_photos() {
    let picture = DynamicImage::ImageRgb8(RgbImage::from_fn(400, 300, |x, y| {
        let v = ((x as f64 / 40.0).sin() * 60.0 + (y as f64 / 25.0).cos() * 60.0 + 128.0) as u8;
        Rgb([v, v / 2, 255 - v])
    }));
    let other = DynamicImage::ImageRgb8(RgbImage::from_fn(400, 300, |x, y| {
        let v = ((y as f64 / 13.0).sin() * 90.0 + (x as f64 / 70.0).cos() * 30.0 + 128.0) as u8;
        Rgb([255 - v, v, v / 3])
    }));
    let copy = picture
        .resize(200, 150, image::imageops::FilterType::Triangle)
        .brighten(8);
    let hash = |image: &DynamicImage| {
        process(
            encode(image, ImageFormat::Jpeg).into(),
            LIMITS,
            &job(&[], RenditionFormat::Jpeg),
        )
        .unwrap()
        .fingerprints
        .unwrap()
    };
    let (a, b, c) = (hash(&picture), hash(&copy), hash(&other));
    let near = perceptual_distance(&a.perceptual_hash, &b.perceptual_hash).unwrap();
    let far = perceptual_distance(&a.perceptual_hash, &c.perceptual_hash).unwrap();
    assert!(near <= 6, "a resized, brightened copy is {near} bits away");
    assert!(far >= 30, "a different picture is only {far} bits away");
    assert_eq!(near_duplicate_distance(&a, &b), Some(near));
    assert_eq!(near_duplicate_distance(&a, &c), None);
    assert!(a.placeholder.len() < 40 && !a.placeholder.is_empty());
    assert_ne!(a.placeholder, c.placeholder);

    // The hash sees brightness gradients alone: plain pictures, and one
    // layout in other colours, hash alike; their colours tell them apart.
    let plain =
        |colour: [u8; 3]| DynamicImage::ImageRgb8(RgbImage::from_pixel(300, 200, Rgb(colour)));
    let recoloured = hash(&DynamicImage::ImageRgb8(RgbImage::from_fn(
        400,
        300,
        |x, y| {
            let Rgb([r, g, b]) = *picture.as_rgb8().unwrap().get_pixel(x, y);
            Rgb([b, r, g])
        },
    )));
    let (grey, red, darker_grey) = (
        hash(&plain([90; 3])),
        hash(&plain([200, 20, 20])),
        hash(&plain([84; 3])),
    );
    assert_eq!(
        perceptual_distance(&grey.perceptual_hash, &red.perceptual_hash),
        Some(0)
    );
    assert_eq!(near_duplicate_distance(&grey, &red), None);
    assert_eq!(near_duplicate_distance(&grey, &darker_grey), Some(0));
    let light_grey = hash(&plain([200; 3]));
    assert_eq!(near_duplicate_distance(&grey, &light_grey), None);
    // A frame resent re-toned (lighter, darker, warmer) is still a copy.
    let retoned = |gain: [f32; 3]| {
        let mut copy = picture.to_rgb8();
        for pixel in copy.pixels_mut() {
            for (sample, gain) in pixel.0.iter_mut().zip(gain) {
                *sample = (f32::from(*sample) * gain).min(255.0) as u8;
            }
        }
        hash(&DynamicImage::ImageRgb8(copy))
    };
    for gain in [[1.25; 3], [0.8; 3], [1.1, 1.0, 0.88]] {
        let bits = near_duplicate_distance(&a, &retoned(gain));
        assert!(bits.is_some_and(|bits| bits <= 6), "{gain:?}: {bits:?}");
    }
    let bits = perceptual_distance(&a.perceptual_hash, &recoloured.perceptual_hash).unwrap();
    assert!(bits <= 6, "the same luma gradients, {bits} bits apart");
    assert_eq!(near_duplicate_distance(&a, &recoloured), None);
    // Photos recorded without a placeholder are judged by the hash alone.
    let unknown = |f: &Fingerprints| Fingerprints {
        placeholder: String::new(),
        ..f.clone()
    };
    assert_eq!(near_duplicate_distance(&unknown(&grey), &red), Some(0));
}

#[test]
fn truncated_and_foreign_files_get_clear_errors() {
    // (Bombs refused from the header are tested with `probe`, which `process` runs first.)
    let png = encode(
        &DynamicImage::ImageRgb8(upright_picture()),
        ImageFormat::Png,
    );
    let cut = png[..png.len() * 2 / 3].to_vec();
    let err = process(cut.into(), LIMITS, &job(&[320], RenditionFormat::Jpeg)).unwrap_err();
    assert!(matches!(err, ImagingError::Corrupt(_)), "{err:?}");

    let err = process(
        b"GIF89a-but-not-really".to_vec().into(),
        LIMITS,
        &job(&[320], RenditionFormat::Jpeg),
    )
    .unwrap_err();
    // A GIF signature followed by junk reads as an absurd size: refused as such.
    assert!(
        err.is_too_large()
            || matches!(err, ImagingError::Corrupt(_) | ImagingError::Unsupported(_)),
        "{err:?}"
    );

    // An empty file (a failed copy) says so.
    let err = process(
        Vec::new().into(),
        LIMITS,
        &job(&[320], RenditionFormat::Jpeg),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "image is corrupt or truncated: the file is empty"
    );
}

/// `image` encoded by libheif's `heif-enc` (Debian `libheif-examples`) at
/// quality 95: HEIC, or AVIF with `-A`.
fn heif_enc(image: &RgbImage, flag: Option<&str>) -> Vec<u8> {
    let png = encode(&DynamicImage::ImageRgb8(image.clone()), ImageFormat::Png);
    heif_enc_png(&png, flag)
}

/// A PNG file encoded by `heif-enc`, which keeps its ICC profile, and its
/// greyness (a monochrome HEIF) where the PNG is grey.
fn heif_enc_png(png: &[u8], flag: Option<&str>) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let (input, out) = (dir.path().join("in.png"), dir.path().join("out.heif"));
    std::fs::write(&input, png).unwrap();
    let status = Command::new("heif-enc")
        .args(flag)
        .args(["-q", "95", "-o"])
        .arg(&out)
        .arg(&input)
        .status()
        .expect("heif-enc (Debian libheif-examples) must be installed");
    assert!(status.success());
    std::fs::read(&out).unwrap()
}

/// HEIC and AVIF made by libheif's `heif-enc` (Debian `libheif-examples`)
/// from the test picture come out with the right size and pixels.
#[test]
fn heic_and_avif_inputs_decode_upright() {
    for (flag, media_type) in [(None, "image/heic"), (Some("-A"), "image/avif")] {
        let bytes = heif_enc(&upright_picture(), flag);
        let processed = process(
            bytes.clone().into(),
            LIMITS,
            &job(&[48], RenditionFormat::Jpeg),
        )
        .unwrap();
        assert_eq!(processed.media_type, media_type);
        assert_eq!((processed.width, processed.height), (96, 64));
        assert_eq!(
            (
                processed.renditions[0].width,
                processed.renditions[0].height
            ),
            (48, 32)
        );
        let pixels = decode_upright(&bytes, LIMITS, 6, None).unwrap();
        let off = difference(&pixels, &upright_picture());
        // EXIF orientation is ignored: libheif applies the container's own.
        assert!(off < 8.0, "{media_type}: off by {off:.1} per sample");
        // Truncated HEIF is refused with a clear error.
        let err = process(
            bytes[..bytes.len() / 2].to_vec().into(),
            LIMITS,
            &job(&[48], RenditionFormat::Jpeg),
        )
        .unwrap_err();
        assert!(matches!(err, ImagingError::Corrupt(_)), "{err:?}");
    }
}

/// libheif's samples are converted and resized where libheif holds them
/// when its rows carry no padding (96 px: 288-byte rows), and copied first
/// when they do (97 px: 291 bytes, padded to 304). Both come out whole as
/// encoded, alpha kept where it shows and dropped where opaque, and fitted
/// as the whole image resized.
#[test]
fn heif_rows_with_and_without_padding_decode_alike() {
    for width in [96, 97] {
        for translucent in [false, true] {
            let picture = image::RgbaImage::from_fn(width, 64, |x, y| {
                let alpha = if translucent { 120 + x as u8 } else { 255 };
                image::Rgba([(x * 2) as u8, (y * 3) as u8, 90, alpha])
            });
            let png = encode(&DynamicImage::ImageRgba8(picture.clone()), ImageFormat::Png);
            let heif = heif_enc_png(&png, None);
            let whole = decode_upright(&heif, LIMITS, 1, None).unwrap();
            let case = format!("{width} px, translucent {translucent}");
            assert_eq!(
                (whole.width, whole.height, whole.alpha),
                (width, 64, translucent),
                "{case}"
            );
            let channels = if translucent { 4 } else { 3 };
            let off = whole
                .data
                .chunks_exact(channels)
                .zip(picture.pixels())
                .flat_map(|(ours, theirs)| ours.iter().zip(theirs.0).map(|(a, b)| a.abs_diff(b)))
                .map(u32::from)
                .sum::<u32>() as f64
                / whole.data.len() as f64;
            assert!(off < 3.0, "{case}: off by {off:.1} per sample");
            let fitted = decode_upright(&heif, LIMITS, 1, Some(40)).unwrap();
            let expected = whole.resized(40).unwrap();
            assert_eq!(
                (fitted.width, fitted.height, fitted.alpha),
                (expected.width, expected.height, translucent),
                "{case}"
            );
            let worst = fitted
                .data
                .iter()
                .zip(&expected.data)
                .map(|(a, b)| a.abs_diff(*b))
                .max();
            assert!(worst <= Some(2), "{case}: {worst:?}");
        }
    }
}

#[test]
fn a_camera_avif_gives_its_exif_and_renders() {
    let bytes = fixture("canon-eos70d.avif");
    let metadata = read_metadata(bytes.clone().into());
    assert_eq!(metadata.camera_model.as_deref(), Some("Canon EOS 70D"));
    // With EXIF SubSecTimeOriginal "00", as ExifTool's MWG date reads it.
    assert_eq!(
        metadata.date_created.as_deref(),
        Some("2015-10-11T14:41:44.00")
    );
    let processed = process(bytes.into(), LIMITS, &job(&[640], RenditionFormat::Webp)).unwrap();
    assert_eq!((processed.width, processed.height), (5472, 3648));
    assert_eq!(processed.renditions[0].height, 427);
}

#[test]
fn extreme_shapes_render_in_every_format() {
    let shapes = [(1, 1), (1, 3000), (3000, 1), (7, 2500), (2500, 7)];
    for ((w, h), container) in shapes
        .into_iter()
        .flat_map(|shape| [(shape, ImageFormat::Png), (shape, ImageFormat::Jpeg)])
    {
        let photo = encode(
            &DynamicImage::ImageRgb8(RgbImage::from_fn(w, h, |x, y| {
                Rgb([(x % 256) as u8, (y % 256) as u8, 100])
            })),
            container,
        );
        for format in RenditionFormat::ALL {
            let processed = process(
                photo.clone().into(),
                LIMITS,
                &job(&[320, 640, 1024, 1600, 2048], format),
            )
            .unwrap_or_else(|e| panic!("{w}×{h} {container:?} {format}: {e}"));
            let widest = processed.renditions.last().unwrap();
            assert_eq!(widest.width, w.min(2048), "{w}×{h} {format}");
            assert!(widest.height >= 1);
            assert!(!processed.fingerprints.unwrap().placeholder.is_empty());
        }
    }
}

/// Mean and largest absolute difference per sample.
fn differences(a: &Pixels, b: &Pixels) -> (f64, u8) {
    assert_eq!((a.width, a.height), (b.width, b.height));
    let (sum, max) = a
        .data
        .iter()
        .zip(&b.data)
        .fold((0u64, 0u8), |(sum, max), (&x, &y)| {
            (sum + u64::from(x.abs_diff(y)), max.max(x.abs_diff(y)))
        });
    (sum as f64 / a.data.len() as f64, max)
}

#[test]
fn a_large_jpeg_shrunk_while_decoding_equals_a_whole_image_resize() {
    // Tall enough for several decode bands, detailed enough for the filter
    // to matter, with a block structure the DCT shrink would alias.
    let (w, h) = (3000, 2200);
    let picture = RgbImage::from_fn(w, h, |x, y| {
        let ripple = ((x * 7 + y * 3) % 64) as u8 * 3;
        Rgb([(x % 251) as u8, ripple, ((x / 40 + y / 40) % 2 * 200) as u8])
    });
    let plain = encode(&DynamicImage::ImageRgb8(picture), ImageFormat::Jpeg);
    for (orientation, width) in [(1, 1000), (6, 700), (1, 300), (8, 2199)] {
        let jpeg = with_orientation(&plain, orientation);
        let whole = decode_upright(&jpeg, LIMITS, orientation, None).unwrap();
        let expected = whole.resized(width).unwrap();
        let streamed = decode_upright(&jpeg, LIMITS, orientation, Some(width)).unwrap();
        let (mean, max) = differences(&streamed, &expected);
        // 300 px comes from the DCT shrink (a factor of ten): close, not
        // equal. Orientations 6 and 8 run the two filter passes in the other
        // order relative to the upright image, which clips the filter's
        // overshoot at hard edges differently: nearly, not exactly, equal.
        let (mean_limit, max_limit) = match (orientation, width) {
            (_, 300) => (2.5, 80),
            (6 | 8, _) => (0.5, 32),
            _ => (0.05, 2),
        };
        assert!(
            mean <= mean_limit && max <= max_limit,
            "orientation {orientation}, {width} px: mean {mean:.3}, max {max}"
        );
    }
}

#[test]
fn a_cmyk_jpeg_shrunk_while_decoding_keeps_its_colours() {
    let jpeg = fixture("cmyk-swop.jpg");
    let whole = decode_upright(&jpeg, LIMITS, 1, None).unwrap();
    let width = whole.width * 2 / 3;
    let expected = whole.resized(width).unwrap();
    let streamed = decode_upright(&jpeg, LIMITS, 1, Some(width)).unwrap();
    let (mean, _) = differences(&streamed, &expected);
    assert!(mean < 1.5, "mean difference {mean:.2}");
}
