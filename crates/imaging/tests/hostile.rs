//! Truncated and mangled real photos: metadata reading and the whole
//! rendition pipeline never panic, and every incomplete file is refused.

use photodesk_imaging::render::{process, EmbedOptions, Job, RenditionSpec};
use photodesk_imaging::{read_metadata, DecodeLimits, ImagingError};
use photodesk_types::RenditionFormat;
use std::path::Path;

/// The fixture is 0.5 MP; flipped header bytes may claim far more, which
/// the limit must refuse before any decoding.
const LIMITS: DecodeLimits = DecodeLimits {
    max_pixels: 2_000_000,
    max_file_bytes: 50_000_000,
};

fn fixture() -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/iptc-ref-std2019.1.jpg"),
    )
    .unwrap()
}

/// The ingest pipeline on `bytes`, with two small renditions.
fn check(bytes: &[u8]) -> Result<(), ImagingError> {
    let specs = |w: u32| {
        [RenditionFormat::Jpeg, RenditionFormat::Webp]
            .map(|format| RenditionSpec {
                width: w.min(64),
                format,
                quality: 70,
            })
            .to_vec()
    };
    let job = Job {
        specs: Box::new(specs),
        fingerprints: true,
        embed: EmbedOptions::default(),
    };
    process(bytes::Bytes::copy_from_slice(bytes), LIMITS, &job).map(|_| ())
}

#[test]
fn every_truncation_is_refused_and_never_panics() {
    let whole = fixture();
    check(&whole).unwrap();
    let step = (whole.len() / 150).max(1);
    for cut in (0..whole.len() - 2).step_by(step) {
        let _ = read_metadata(bytes::Bytes::copy_from_slice(&whole[..cut]));
        assert!(
            check(&whole[..cut]).is_err(),
            "accepted a file cut at {cut} of {}",
            whole.len()
        );
    }
}

/// A scan cut short and closed with an end marker (as a tool may save a
/// file damaged in transfer) has lost the rest of its picture: refused,
/// where libjpeg alone would fill it with grey. Stray bytes before the end
/// marker (some cameras pad so) lose nothing and are taken.
#[test]
fn lost_pixels_are_refused_and_padding_before_the_end_is_not() {
    let whole = fixture();
    // Entropy-coded data stuffs every FF, so the last FF DA is a marker.
    let last_scan = whole.windows(2).rposition(|w| w == [0xFF, 0xDA]).unwrap();
    let end_of_image = whole.len() - 2;
    for cut_at in [
        last_scan + 600,
        (last_scan + end_of_image) / 2,
        end_of_image - 200,
    ] {
        let closed = [&whole[..cut_at], &[0xFF, 0xD9][..]].concat();
        let err = check(&closed).unwrap_err().to_string();
        assert!(
            err.contains("premature end of data segment"),
            "{cut_at}: {err}"
        );
    }
    let padded = [
        &whole[..end_of_image],
        &[0x00, 0x01, 0x02],
        &whole[end_of_image..],
    ]
    .concat();
    check(&padded).unwrap();
}

#[test]
fn flipped_bytes_never_panic() {
    let whole = fixture();
    let end = whole.len();
    let mut random = xorshift(0x9E37_79B9_7F4A_7C15);
    for _ in 0..100 {
        let mut bytes = whole.clone();
        for _ in 0..16 {
            flip(&mut bytes, random(), end);
        }
        let _ = read_metadata(bytes::Bytes::copy_from_slice(&bytes));
        let _ = check(&bytes);
    }
}

#[test]
fn mangled_heif_containers_get_errors_not_crashes() {
    let whole = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/canon-eos70d.avif"),
    )
    .unwrap();
    // 20 MP is over this test's limit: intact, it is refused from the header.
    assert!(check(&whole).unwrap_err().is_too_large());
    // Cut short, libheif refuses it, in a message fit for a summary line.
    let cut = check(&whole[..whole.len() / 2]).unwrap_err().to_string();
    assert!(cut.contains("HEIF") && cut == cut.trim_end(), "{cut:?}");
    let mut random = xorshift(0x2545_F491_4F6C_DD1D);
    for round in 0..200 {
        let mut bytes = whole.clone();
        if round % 2 == 0 {
            bytes.truncate((random() as usize) % whole.len());
        }
        for _ in 0..8 {
            // The container boxes (ftyp, meta, iloc, ispe…) sit in the first kilobytes.
            flip(&mut bytes, random(), 4096);
        }
        let _ = read_metadata(bytes::Bytes::copy_from_slice(&bytes));
        let _ = check(&bytes);
    }
}

/// The fixture's picture, small, in `format`, through `image`'s encoder;
/// for PNG with the Adobe RGB fixture's ICC profile.
fn reencoded(format: image::ImageFormat) -> Vec<u8> {
    use image::ImageEncoder;
    let picture = image::load_from_memory(&fixture())
        .unwrap()
        .thumbnail(160, 120)
        .to_rgb8();
    let mut bytes = Vec::new();
    if format == image::ImageFormat::Png {
        let adobe = std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/adobergb-police.jpg"),
        )
        .unwrap();
        let icc = image::codecs::jpeg::JpegDecoder::new(std::io::Cursor::new(adobe))
            .and_then(|mut decoder| image::ImageDecoder::icc_profile(&mut decoder))
            .unwrap()
            .unwrap();
        let mut encoder = image::codecs::png::PngEncoder::new(&mut bytes);
        encoder.set_icc_profile(icc).unwrap();
        encoder
            .write_image(
                &picture,
                picture.width(),
                picture.height(),
                image::ExtendedColorType::Rgb8,
            )
            .unwrap();
    } else {
        picture
            .write_to(&mut std::io::Cursor::new(&mut bytes), format)
            .unwrap();
    }
    bytes
}

/// The fixture rendered by Photodesk as a WebP: it carries the fixture's
/// rights metadata as EXIF and XMP chunks.
fn webp_with_metadata() -> Vec<u8> {
    let job = Job {
        specs: Box::new(|_| {
            vec![RenditionSpec {
                width: 160,
                format: RenditionFormat::Webp,
                quality: 70,
            }]
        }),
        fingerprints: false,
        embed: EmbedOptions::default(),
    };
    let processed = process(fixture().into(), LIMITS, &job).unwrap();
    processed.renditions.into_iter().next().unwrap().bytes
}

#[test]
fn mangled_png_webp_gif_and_tiff_get_errors_not_crashes() {
    use image::ImageFormat;
    let webp = webp_with_metadata();
    assert!(read_metadata(webp.clone().into()).credit.is_some());
    let files = [
        ("PNG", reencoded(ImageFormat::Png)),
        ("WebP", webp),
        ("GIF", reencoded(ImageFormat::Gif)),
        ("TIFF", reencoded(ImageFormat::Tiff)),
    ];
    let mut random = xorshift(0xD1B5_4A32_D192_ED03);
    for (format, whole) in files {
        check(&whole).unwrap_or_else(|e| panic!("{format} intact: {e}"));
        let mut refused = 0;
        for round in 0..150 {
            let mut bytes = whole.clone();
            if round % 3 == 0 {
                bytes.truncate((random() as usize) % whole.len());
            }
            for _ in 0..4 {
                let state = random();
                // Headers and metadata chunks sit first; half the flips go there.
                let within = if state.is_multiple_of(2) {
                    2048
                } else {
                    usize::MAX
                };
                flip(&mut bytes, state >> 1, within);
            }
            let _ = read_metadata(bytes::Bytes::copy_from_slice(&bytes));
            if let Err(e) = check(&bytes) {
                refused += 1;
                let message = e.to_string();
                assert!(
                    !message.is_empty() && !message.contains('\n'),
                    "{format}: {message:?}"
                );
            }
        }
        assert!(refused > 0, "{format}: every mangled file was taken");
    }
}

/// Sets one byte among the first `within` of `bytes` (all, if fewer) to a
/// value, both drawn from the random `state`.
fn flip(bytes: &mut [u8], state: u64, within: usize) {
    let at = (state as usize) % within.min(bytes.len()).max(1);
    if let Some(byte) = bytes.get_mut(at) {
        *byte = (state >> 40) as u8;
    }
}

/// A small deterministic generator, so failures reproduce.
fn xorshift(mut state: u64) -> impl FnMut() -> u64 {
    move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    }
}
