//! Small fingerprints of a photo's pixels: a ThumbHash placeholder for pages
//! and a perceptual hash for spotting near-identical frames.

use super::Pixels;
use base64::Engine;
use image::{DynamicImage, RgbImage};
use image_hasher::{HashAlg, HasherConfig};
use photodesk_types::Fingerprints;

/// Photos whose perceptual hashes differ in at most this many of their 144
/// bits may be near-duplicates. On the test corpus, resized and recompressed
/// copies measured 0–4 and different photos 47 and more.
const NEAR_DUPLICATE_BITS: u32 = 12;

/// …if their average colours (0–1) are alike too. The hash sees brightness
/// gradients alone, so plain or nearly plain pictures (a clear sky, a
/// coloured title card) hash alike whatever their colour. Alike is within
/// this much in each of R, G and B, which a third of a stop's exposure
/// change stays within (it moves a mid-tone by about 0.05)…
const NEAR_DUPLICATE_COLOUR: f32 = 0.1;

/// …or of the same hue and saturation, each channel's share of the sum
/// within this much, at a brightness (luma) within
/// [`NEAR_DUPLICATE_BRIGHTNESS`]: agencies resend a frame re-toned, a stop
/// lighter or warmer. Measured on 16 corpus photos: ±1 stop moved the
/// shares by at most 0.032 and the luma by 1.38×; a 1.3× contrast or
/// saturation boost by 0.048 and 0.052; swapping two channels by far more.
const NEAR_DUPLICATE_HUE: f32 = 0.05;

/// See [`NEAR_DUPLICATE_HUE`].
const NEAR_DUPLICATE_BRIGHTNESS: f32 = 1.5;

/// ThumbHash of the photo (about 25 bytes, base64): a blurred miniature a
/// page can paint before the image arrives.
pub fn placeholder(pixels: &Pixels) -> String {
    // ThumbHash works on at most 100×100 pixels.
    let Ok(small) = pixels.fitted(100) else {
        return String::new();
    };
    let (width, height) = (small.width as usize, small.height as usize);
    let rgba: Vec<u8> = if small.alpha {
        small.data
    } else {
        small
            .data
            .chunks_exact(3)
            .flat_map(|p| [p[0], p[1], p[2], 255])
            .collect()
    };
    let hash = thumbhash::rgba_to_thumb_hash(width, height, &rgba);
    base64::engine::general_purpose::STANDARD.encode(hash)
}

/// A perceptual hash (hex) of the photo: resizing, recompression and small
/// exposure changes move it by a few bits; a different photo by many.
pub fn perceptual_hash(pixels: &Pixels) -> String {
    // Hashing a small copy is as good and far quicker than the full image.
    let small = pixels.fitted(256).unwrap_or_else(|_| pixels.clone());
    let rgb: Vec<u8> = if small.alpha {
        small
            .data
            .chunks_exact(4)
            .flat_map(|p| [p[0], p[1], p[2]])
            .collect()
    } else {
        small.data
    };
    let Some(image) = RgbImage::from_raw(small.width, small.height, rgb) else {
        return String::new();
    };
    let hash = hasher().hash_image(&DynamicImage::ImageRgb8(image));
    hex::encode(hash.as_bytes())
}

/// Bits that differ between two perceptual hashes; `None` if either is not
/// a hash of this kind.
pub fn perceptual_distance(a: &str, b: &str) -> Option<u32> {
    hamming(&hash_bits(a)?, &hash_bits(b)?)
}

/// How many bits apart two photos' perceptual hashes are, if the photos are
/// near-duplicates: within `NEAR_DUPLICATE_BITS`, and with average colours
/// (from the placeholders) within `NEAR_DUPLICATE_COLOUR`. A placeholder
/// that is not a ThumbHash (none was recorded) leaves the hash to decide.
pub fn near_duplicate_distance(a: &Fingerprints, b: &Fingerprints) -> Option<u32> {
    Likeness::of(a)?.near_duplicate_distance(&Likeness::of(b)?)
}

/// A photo's fingerprints as near-duplicates are told by: the hash's bits
/// and the placeholder's average colour, read once. A library's worth is
/// held compactly (under 100 bytes a photo) and compared without parsing.
#[derive(Debug, Clone, PartialEq)]
pub struct Likeness {
    hash: Box<[u8]>,
    colour: Option<[f32; 3]>,
}

impl Likeness {
    /// `None` if the perceptual hash is not one of this kind.
    pub fn of(fingerprints: &Fingerprints) -> Option<Likeness> {
        Some(Likeness {
            hash: hash_bits(&fingerprints.perceptual_hash)?.into(),
            colour: average_colour(&fingerprints.placeholder),
        })
    }

    /// [`near_duplicate_distance`] of the two photos.
    pub fn near_duplicate_distance(&self, other: &Likeness) -> Option<u32> {
        let bits = hamming(&self.hash, &other.hash).filter(|&bits| bits <= NEAR_DUPLICATE_BITS)?;
        let alike = self
            .colour
            .zip(other.colour)
            .is_none_or(|(a, b)| colours_alike(a, b));
        alike.then_some(bits)
    }
}

/// Whether two average colours are alike ([`NEAR_DUPLICATE_COLOUR`],
/// [`NEAR_DUPLICATE_HUE`]).
fn colours_alike(a: [f32; 3], b: [f32; 3]) -> bool {
    let close = a
        .iter()
        .zip(b)
        .all(|(a, b)| (a - b).abs() <= NEAR_DUPLICATE_COLOUR);
    let luma = |[r, g, b]: [f32; 3]| 0.2126 * r + 0.7152 * g + 0.0722 * b;
    let shares = |c: [f32; 3]| {
        let sum = c.iter().sum::<f32>();
        (sum > 0.0).then(|| c.map(|v| v / sum))
    };
    let same_hue = shares(a).zip(shares(b)).is_some_and(|(a, b)| {
        a.iter()
            .zip(b)
            .all(|(a, b)| (a - b).abs() <= NEAR_DUPLICATE_HUE)
    });
    let (lighter, darker) = (luma(a).max(luma(b)), luma(a).min(luma(b)));
    close || (same_hue && lighter <= darker * NEAR_DUPLICATE_BRIGHTNESS)
}

/// The bits of a perceptual hash as [`perceptual_hash`] writes it.
fn hash_bits(hex: &str) -> Option<Vec<u8>> {
    hex::decode(hex).ok().filter(|bits| !bits.is_empty())
}

/// Bits that differ between two hashes of the same length.
fn hamming(a: &[u8], b: &[u8]) -> Option<u32> {
    (a.len() == b.len()).then(|| a.iter().zip(b).map(|(a, b)| (a ^ b).count_ones()).sum())
}

/// The average R, G and B (0–1) a ThumbHash records.
fn average_colour(placeholder: &str) -> Option<[f32; 3]> {
    let hash = base64::engine::general_purpose::STANDARD
        .decode(placeholder)
        .ok()?;
    let (r, g, b, _) = thumbhash::thumb_hash_to_average_rgba(&hash).ok()?;
    Some([r, g, b])
}

/// DoubleGradient on 16×16 (144 bits). On the test corpus a resized,
/// recompressed copy moved by at most 4 bits and the nearest different
/// photos were 47 apart; 8×8 (40 bits) left only 6 between different photos.
fn hasher() -> image_hasher::Hasher {
    HasherConfig::new()
        .hash_alg(HashAlg::DoubleGradient)
        .hash_size(16, 16)
        .to_hasher()
}
