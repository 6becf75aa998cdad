//! Identify a photo and prove it decodes, within limits.

use crate::{DecodeLimits, ImagingError, MAX_BLOCK_BYTES};
use image::{ImageDecoder, ImageFormat, ImageReader};
use std::borrow::Cow;
use std::io::{Cursor, Read};

/// What a photo is, read from its header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probed {
    pub media_type: &'static str,
    /// Width and height as stored, before EXIF orientation.
    pub stored_width: u32,
    pub stored_height: u32,
    /// The decoder applies the container's own rotation (HEIF), so EXIF
    /// orientation must be ignored.
    pub oriented_by_container: bool,
}

impl Probed {
    /// Width and height as displayed: orientations 5–8 swap the sides.
    pub fn upright(&self, orientation: u8) -> (u32, u32) {
        let orientation = if self.oriented_by_container {
            1
        } else {
            orientation
        };
        upright_size(self.stored_width, self.stored_height, orientation)
    }
}

/// Identifies a photo and checks its size and pixel count from the header
/// alone, before any pixel buffer is allocated. A JPEG cut short is refused
/// here too. Whether the pixels decode is proven by decoding them.
pub fn probe(bytes: &[u8], limits: DecodeLimits) -> Result<Probed, ImagingError> {
    let size = bytes.len() as u64;
    if size > limits.max_file_bytes {
        return Err(ImagingError::FileTooLarge {
            size,
            limit: limits.max_file_bytes,
        });
    }
    if let Some(media_type) = crate::heif::media_type(bytes) {
        let (stored_width, stored_height) = crate::heif::dimensions(bytes, limits)?;
        return Ok(Probed {
            media_type,
            stored_width,
            stored_height,
            oriented_by_container: true,
        });
    }
    let format = guess_format(bytes)?;
    let media_type = media_type(format)?;
    if format == ImageFormat::Tiff {
        refuse_camera_raw(bytes)?;
    }
    if format == ImageFormat::Png {
        refuse_png_profile_bomb(bytes)?;
    }
    let (stored_width, stored_height) = if format == ImageFormat::Jpeg {
        // `image`'s JPEG decoder would first copy the whole file.
        let frame = crate::jpeg::frame(bytes)
            .ok_or_else(|| ImagingError::Corrupt("JPEG has no frame header".into()))?;
        refuse_unsupported_jpeg_process(&frame)?;
        (frame.width, frame.height)
    } else {
        ImageReader::with_format(Cursor::new(readable(bytes, format)), format)
            .into_decoder()?
            .dimensions()
    };
    check_pixels(stored_width, stored_height, limits)?;
    if format == ImageFormat::Jpeg {
        refuse_jpeg_scan_bomb(bytes, u64::from(stored_width) * u64::from(stored_height))?;
    }
    Ok(Probed {
        media_type,
        stored_width,
        stored_height,
        oriented_by_container: false,
    })
}

/// Names the JPEG kinds libjpeg's 8-bit build does not decode, which no
/// camera or wire service sends: 12- and 16-bit samples (medical and
/// scientific imaging), lossless and hierarchical coding. Otherwise they
/// would be reported as corrupt.
fn refuse_unsupported_jpeg_process(frame: &crate::jpeg::Frame) -> Result<(), ImagingError> {
    let kind = match frame.marker {
        0xC3 | 0xCB => "a lossless JPEG".to_string(),
        0xC5..=0xC7 | 0xCD..=0xCF => "a hierarchical JPEG".to_string(),
        _ if frame.precision != 8 => format!("a {}-bit JPEG", frame.precision),
        _ => return Ok(()),
    };
    Err(ImagingError::Unsupported(format!(
        "{kind}; Photodesk takes JPEGs of 8-bit samples, baseline, progressive or arithmetic-coded"
    )))
}

/// Refuses a JPEG cut short, and one whose scans would keep the decoder
/// busy for long: each scan is a pass over the whole image, and a file can
/// repeat a tiny scan thousands of times (libjpeg-turbo's report
/// LJT-01-003). A 660-KB, 64-MP file of 3,000 scans ran past 120 s here, in
/// djpeg too; at 100 scans it still took 5 s, against 0.3 s for its own ten.
fn refuse_jpeg_scan_bomb(bytes: &[u8], pixels: u64) -> Result<(), ImagingError> {
    let scans = crate::jpeg::scans_to_end(bytes).ok_or_else(|| {
        ImagingError::Corrupt(
            "JPEG ends before its image data does (no end-of-image marker)".into(),
        )
    })?;
    let allowed = scans_allowed(pixels);
    if scans > allowed {
        return Err(ImagingError::Corrupt(format!(
            "JPEG has {scans} scans; at most {allowed} are taken at {:.0} megapixels",
            pixels as f64 / 1e6
        )));
    }
    Ok(())
}

/// Scans a JPEG of `pixels` may have: at most 100, and fewer on very large
/// images, so that scans × pixels stay within 2 × 10⁹ (about 2 s of
/// decoding here), but never fewer than 20. Progressive JPEGs have about
/// ten (libjpeg's default script; the corpus: 12 at most).
fn scans_allowed(pixels: u64) -> usize {
    const MOST: u64 = 100;
    const LEAST: u64 = 20;
    const SCAN_PIXELS: u64 = 2_000_000_000;
    (SCAN_PIXELS / pixels.max(1)).clamp(LEAST, MOST) as usize
}

/// The format `bytes` start like, for every format but HEIF's.
pub(crate) fn guess_format(bytes: &[u8]) -> Result<ImageFormat, ImagingError> {
    if bytes.is_empty() {
        return Err(ImagingError::Corrupt("the file is empty".into()));
    }
    let format = image::guess_format(bytes).map_err(|_| match raw_format(bytes) {
        Some(raw) => camera_raw(raw),
        None if crate::heif::is_sequence(bytes) => ImagingError::Unsupported(format!(
            "an image sequence (animated AVIF or HEIF); Photodesk takes {TAKEN} still image"
        )),
        None => ImagingError::Unsupported(format!("not {TAKEN} image")),
    })?;
    match format {
        ImageFormat::Jpeg
        | ImageFormat::Png
        | ImageFormat::WebP
        | ImageFormat::Gif
        | ImageFormat::Tiff => Ok(format),
        // `image` knows BMP, ICO, PNM, OpenEXR… by their signatures, but
        // has no decoder for them built in, and would say "not supported
        // yet"; named here, with what is taken instead.
        other => Err(ImagingError::Unsupported(format!(
            "{} image; Photodesk takes {TAKEN} image",
            format!("{other:?}").to_uppercase()
        ))),
    }
}

/// The formats Photodesk decodes, as a refusal lists them.
const TAKEN: &str = "a JPEG, PNG, WebP, HEIC, AVIF, GIF or TIFF";

/// Camera raw formats with a header of their own (the TIFF-based ones are
/// told apart in `refuse_camera_raw`), named so the refusal says what the
/// file is.
fn raw_format(bytes: &[u8]) -> Option<&'static str> {
    let starts = |at: usize, mark: &[u8]| bytes.get(at..at + mark.len()) == Some(mark);
    [
        (4, &b"ftypcrx "[..], "Canon CR3"),
        (0, b"FUJIFILMCCD-RAW", "Fujifilm RAF"),
        (0, b"IIRO", "Olympus ORF"),
        (0, b"IIRS", "Olympus ORF"),
        (0, b"MMOR", "Olympus ORF"),
        (0, b"IIU\0", "Panasonic RW2"),
        (0, b"FOVb", "Sigma X3F"),
    ]
    .into_iter()
    .find(|&(at, mark, _)| starts(at, mark))
    .map(|(_, _, name)| name)
}

fn camera_raw(what: &str) -> ImagingError {
    ImagingError::Unsupported(format!(
        "camera raw files are not supported ({what}); ingest a JPEG or TIFF developed from it"
    ))
}

/// PNG's third-edition colour chunks, over which the png crate refuses a
/// whole file when one is malformed (a cICP chunk with a matrix other than
/// 0, say), while libpng and browsers pass over the chunk.
const STRICT_PNG_CHUNKS: [&[u8]; 3] = [b"cICP", b"mDCV", b"cLLI"];

/// The file as `image` should read it: a PNG refused over one of
/// `STRICT_PNG_CHUNKS` without them, if it then reads; otherwise as it is,
/// for the decoder to report.
pub(crate) fn readable(bytes: &[u8], format: ImageFormat) -> Cow<'_, [u8]> {
    let reads = |png: &[u8]| png::Decoder::new(Cursor::new(png)).read_info().is_ok();
    if format != ImageFormat::Png || reads(bytes) {
        return Cow::Borrowed(bytes);
    }
    match png_without(bytes, &STRICT_PNG_CHUNKS) {
        Some(stripped) if reads(&stripped) => Cow::Owned(stripped),
        _ => Cow::Borrowed(bytes),
    }
}

/// The PNG without the chunks of the types `dropped`, or `None` if it has
/// none of them or its chunks do not add up to the file.
fn png_without(bytes: &[u8], dropped: &[&[u8]]) -> Option<Vec<u8>> {
    let mut kept = bytes.get(..8)?.to_vec();
    let mut any_dropped = false;
    let mut end = 8;
    for chunk in png_chunks(bytes) {
        if dropped.contains(&&chunk.kind[..]) {
            any_dropped = true;
        } else {
            kept.extend_from_slice(chunk.whole);
        }
        end += chunk.whole.len();
    }
    (any_dropped && end == bytes.len()).then_some(kept)
}

struct PngChunk<'a> {
    kind: [u8; 4],
    data: &'a [u8],
    /// Length, type, data and CRC.
    whole: &'a [u8],
}

/// The chunks after the signature, as far as they fit in the file.
fn png_chunks(bytes: &[u8]) -> impl Iterator<Item = PngChunk<'_>> {
    let mut at = 8;
    std::iter::from_fn(move || {
        let length = u32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?);
        let end = at
            .checked_add(12)?
            .checked_add(usize::try_from(length).ok()?)?;
        let whole = bytes.get(at..end)?;
        at = end;
        Some(PngChunk {
            kind: whole[4..8].try_into().ok()?,
            data: &whole[8..whole.len() - 4],
            whole,
        })
    })
}

/// Refuses a PNG whose ICC profile inflates past [`MAX_BLOCK_BYTES`]: the
/// png crate inflates it within the limit it has for the pixels, so a
/// 1-MB file took 1.2 GB and 3 s before the profile was dropped. Counted
/// into a sink, the check itself holds nothing.
fn refuse_png_profile_bomb(bytes: &[u8]) -> Result<(), ImagingError> {
    let Some(profile) = png_chunks(bytes).find(|chunk| &chunk.kind == b"iCCP") else {
        return Ok(());
    };
    // The profile's name, a NUL, the compression method, then zlib.
    let Some(name_end) = profile.data.iter().position(|&b| b == 0) else {
        return Ok(());
    };
    let deflated = profile.data.get(name_end + 2..).unwrap_or_default();
    let inflated = std::io::copy(
        &mut flate2::read::ZlibDecoder::new(deflated).take(MAX_BLOCK_BYTES + 1),
        &mut std::io::sink(),
    )
    .unwrap_or(0);
    if inflated > MAX_BLOCK_BYTES {
        return Err(ImagingError::Corrupt(format!(
            "the PNG's colour profile (iCCP) inflates past {} MB, as a decompression bomb does",
            MAX_BLOCK_BYTES >> 20
        )));
    }
    Ok(())
}

/// Camera raw files built on TIFF (DNG, NEF, ARW, CR2, PEF…) would decode
/// as the small preview their first directory holds, or not at all: they
/// are refused as what they are. A TIFF whose first directory cannot be
/// read is left to the decoder to report.
fn refuse_camera_raw(bytes: &[u8]) -> Result<(), ImagingError> {
    // CR2's header: the TIFF one, then "CR" and its version, 2.0.
    if bytes.get(8..12) == Some(b"CR\x02\x00") {
        return Err(camera_raw("Canon CR2"));
    }
    let Ok(tiff) = exif::Reader::new().read_raw(bytes.to_vec()) else {
        return Ok(());
    };
    let field =
        |number: u16| tiff.get_field(exif::Tag(exif::Context::Tiff, number), exif::In::PRIMARY);
    let first = |number: u16| field(number).and_then(|f| f.value.get_uint(0));
    const NEW_SUBFILE_TYPE: u16 = 254;
    const PHOTOMETRIC_INTERPRETATION: u16 = 262;
    const DNG_VERSION: u16 = 50706;
    /// Sensor data, not pixels: colour filter array and linear raw.
    const RAW_PHOTOMETRIC: [u32; 2] = [32803, 34892];
    if field(DNG_VERSION).is_some() {
        return Err(camera_raw("DNG"));
    }
    if first(NEW_SUBFILE_TYPE).is_some_and(|kind| kind & 1 == 1) {
        return Err(camera_raw(
            "a TIFF whose first image is a reduced-size preview",
        ));
    }
    if first(PHOTOMETRIC_INTERPRETATION).is_some_and(|p| RAW_PHOTOMETRIC.contains(&p)) {
        return Err(camera_raw("a TIFF of sensor data"));
    }
    Ok(())
}

/// Width and height as displayed: EXIF orientations 5–8 swap the sides.
pub(crate) fn upright_size(width: u32, height: u32, orientation: u8) -> (u32, u32) {
    if (5..=8).contains(&orientation) {
        (height, width)
    } else {
        (width, height)
    }
}

/// Refuses images over the pixel limit, and images with no pixels.
pub(crate) fn check_pixels(
    width: u32,
    height: u32,
    limits: DecodeLimits,
) -> Result<(), ImagingError> {
    let pixels = u64::from(width) * u64::from(height);
    if pixels > limits.max_pixels {
        return Err(ImagingError::TooManyPixels {
            width,
            height,
            pixels,
            limit: limits.max_pixels,
        });
    }
    if pixels == 0 {
        return Err(ImagingError::Corrupt("image has no pixels".into()));
    }
    Ok(())
}

fn media_type(format: ImageFormat) -> Result<&'static str, ImagingError> {
    match format {
        ImageFormat::Jpeg => Ok("image/jpeg"),
        ImageFormat::Png => Ok("image/png"),
        ImageFormat::WebP => Ok("image/webp"),
        ImageFormat::Gif => Ok("image/gif"),
        ImageFormat::Tiff => Ok("image/tiff"),
        other => Err(ImagingError::Unsupported(format!(
            "{} images are not supported yet",
            other.extensions_str().first().unwrap_or(&"this kind of")
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{ImageBuffer, Rgb};

    const GENEROUS: DecodeLimits = DecodeLimits {
        max_pixels: 10_000_000,
        max_file_bytes: 10_000_000,
    };

    fn jpeg(width: u32, height: u32) -> Vec<u8> {
        crate::test_jpeg(width, height, |x, y| [x as u8, y as u8, 128])
    }

    #[test]
    fn reads_type_and_size() {
        let probed = probe(&jpeg(64, 32), GENEROUS).unwrap();
        assert_eq!(
            probed,
            Probed {
                media_type: "image/jpeg",
                stored_width: 64,
                stored_height: 32,
                oriented_by_container: false,
            }
        );
        assert_eq!(probed.upright(6), (32, 64));
        assert_eq!(probed.upright(3), (64, 32));
    }

    #[test]
    fn refuses_text_and_truncated_jpeg() {
        assert!(matches!(
            probe(b"hello, world", GENEROUS),
            Err(ImagingError::Unsupported(_))
        ));
        let whole = jpeg(256, 256);
        for cut in [4, 100, whole.len() / 2, whole.len() - 2] {
            let err = probe(&whole[..cut], GENEROUS).unwrap_err();
            assert!(
                matches!(err, ImagingError::Corrupt(_)),
                "cut {cut}: {err:?}"
            );
        }
    }

    #[test]
    fn formats_known_but_not_decoded_are_refused_by_name() {
        let mut avif_sequence = 24u32.to_be_bytes().to_vec();
        avif_sequence.extend_from_slice(b"ftypavis\0\0\0\0avifmsf1");
        for (bytes, named) in [
            (&b"BM\x3e\0\0\0\0\0\0\0\x36\0\0\0\x28\0"[..], "BMP image; "),
            (b"\0\0\x01\0\x01\0\x10\x10\0\0\x01\0\x20\0", "ICO image; "),
            (b"P6\n400 300\n255\n\0\0\0", "PNM image; "),
            (
                &avif_sequence,
                "an image sequence (animated AVIF or HEIF); ",
            ),
            (b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>", "not a JPEG"),
        ] {
            let err = probe(bytes, GENEROUS).unwrap_err().to_string();
            assert!(
                err.starts_with(&format!("unsupported format: {named}"))
                    && err.contains("a JPEG, PNG, WebP, HEIC, AVIF, GIF or TIFF"),
                "{named}: {err}"
            );
        }
    }

    /// `jpeg`'s header segments (whole, marker included) rearranged by
    /// `arrange`, the scan data after them unchanged.
    fn rearranged(jpeg: &[u8], arrange: impl Fn(&mut Vec<(u8, &[u8])>)) -> Vec<u8> {
        let segments: Vec<_> = crate::jpeg::segments(jpeg).collect();
        let scan_start = segments.last().unwrap().end;
        let mut header: Vec<(u8, &[u8])> = segments
            .iter()
            .map(|s| (s.marker, &jpeg[s.end - s.payload.len() - 4..s.end]))
            .collect();
        arrange(&mut header);
        let mut out = jpeg[..2].to_vec();
        header
            .iter()
            .for_each(|(_, bytes)| out.extend_from_slice(bytes));
        out.extend_from_slice(&jpeg[scan_start..]);
        out
    }

    #[test]
    fn jpeg_size_comes_from_the_frame_header_wherever_it_is() {
        let whole = jpeg(64, 32);
        // Huffman tables (C4, in the SOF range) before the frame header.
        let tables_first = rearranged(&whole, |h| h.sort_by_key(|(m, _)| *m != 0xC4));
        assert_eq!(tables_first.len(), whole.len());
        let probed = probe(&tables_first, GENEROUS).unwrap();
        assert_eq!((probed.stored_width, probed.stored_height), (64, 32));
        let frameless = rearranged(&whole, |h| h.retain(|(m, _)| *m != 0xC0));
        let err = probe(&frameless, GENEROUS).unwrap_err();
        assert!(
            matches!(err, ImagingError::Corrupt(ref m) if m.contains("frame header")),
            "{err:?}"
        );
    }

    #[test]
    fn limits_are_checked_from_the_header() {
        let small = jpeg(100, 100);
        let err = probe(
            &small,
            DecodeLimits {
                max_pixels: 9_999,
                ..GENEROUS
            },
        )
        .unwrap_err();
        assert!(err.is_too_large(), "{err:?}");
        let err = probe(
            &small,
            DecodeLimits {
                max_file_bytes: 10,
                ..GENEROUS
            },
        )
        .unwrap_err();
        assert!(err.is_too_large(), "{err:?}");
    }

    #[test]
    fn a_png_that_claims_huge_dimensions_is_refused_without_allocating() {
        // A valid 1×1 PNG whose header is patched to say 60000×60000: a classic
        // decompression bomb shape. The IHDR CRC is recomputed so only the
        // limit can refuse it.
        let img = ImageBuffer::from_pixel(1, 1, Rgb([0u8, 0, 0]));
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, ImageFormat::Png).unwrap();
        let mut png = out.into_inner();
        png[16..20].copy_from_slice(&60_000u32.to_be_bytes());
        png[20..24].copy_from_slice(&60_000u32.to_be_bytes());
        let crc = crc32(&png[12..29]);
        png[29..33].copy_from_slice(&crc.to_be_bytes());
        let err = probe(&png, GENEROUS).unwrap_err();
        assert!(
            matches!(err, ImagingError::TooManyPixels { width: 60_000, .. }),
            "{err:?}"
        );
    }

    #[test]
    fn a_png_whose_colour_profile_inflates_past_the_limit_is_refused() {
        use std::io::Write;
        let img = ImageBuffer::from_pixel(8, 8, Rgb([10u8, 20, 30]));
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, ImageFormat::Png).unwrap();
        let plain = out.into_inner();
        // An iCCP chunk right after IHDR: its name, a NUL, method 0, zlib.
        let with_profile = |inflated: u64| {
            let mut zlib = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
            zlib.write_all(&vec![0u8; inflated as usize]).unwrap();
            let mut data = b"bomb\0\0".to_vec();
            data.extend(zlib.finish().unwrap());
            let mut chunk = (data.len() as u32).to_be_bytes().to_vec();
            chunk.extend(b"iCCP");
            chunk.extend(&data);
            chunk.extend(crc32(&chunk[4..]).to_be_bytes());
            [&plain[..33], &chunk, &plain[33..]].concat()
        };
        let bomb = with_profile(2 * MAX_BLOCK_BYTES);
        assert!(bomb.len() < 100_000, "{} bytes", bomb.len());
        let err = probe(&bomb, GENEROUS).unwrap_err();
        assert!(
            matches!(err, ImagingError::Corrupt(ref m) if m.contains("iCCP")),
            "{err:?}"
        );
        // A large profile within the limit is left to the colour code.
        assert_eq!(
            probe(&with_profile(MAX_BLOCK_BYTES), GENEROUS)
                .unwrap()
                .stored_width,
            8
        );
    }

    /// A progressive JPEG in libjpeg's default ten scans, with `inserted`
    /// put in before the start of its last scan.
    fn progressive_jpeg(inserted: impl Fn(&[u8]) -> Vec<u8>) -> Vec<u8> {
        let mut compress = mozjpeg::Compress::new(mozjpeg::ColorSpace::JCS_RGB);
        compress.set_fastest_defaults();
        compress.set_size(64, 48);
        compress.set_progressive_mode();
        let mut started = compress.start_compress(Vec::new()).unwrap();
        let rgb: Vec<u8> = (0..64 * 48 * 3).map(|i| (i * 7 % 251) as u8).collect();
        started.write_scanlines(&rgb).unwrap();
        let jpeg = started.finish().unwrap();
        // Entropy-coded data stuffs every FF, so the last FF DA is a marker.
        let last_scan = jpeg.windows(2).rposition(|w| w == [0xFF, 0xDA]).unwrap();
        let scan = &jpeg[last_scan..jpeg.len() - 2];
        [&jpeg[..last_scan], &inserted(scan), &jpeg[last_scan..]].concat()
    }

    #[test]
    fn a_jpeg_of_too_many_scans_is_refused_before_decoding() {
        assert_eq!(crate::jpeg::scans_to_end(&jpeg(64, 32)), Some(1));
        let plain = progressive_jpeg(|_| Vec::new());
        assert_eq!(crate::jpeg::scans_to_end(&plain), Some(10));
        // A comment between scans holding FF DA is skipped by its length.
        let commented = progressive_jpeg(|_| b"\xFF\xFE\x00\x06\xFF\xDA\xFF\xDA".to_vec());
        assert_eq!(crate::jpeg::scans_to_end(&commented), Some(10));
        assert!(probe(&commented, GENEROUS).is_ok());
        // Nor is FF D9 in a comment taken for the end of a file cut short.
        let cut = progressive_jpeg(|_| b"\xFF\xFE\x00\x04\xFF\xD9".to_vec());
        let cut = &cut[..cut.len() - 40];
        assert!(cut.windows(2).any(|w| w == [0xFF, 0xD9]));
        assert_eq!(crate::jpeg::scans_to_end(cut), None);
        assert!(probe(cut, GENEROUS).is_err());

        // `times` copies of the last scan, in a frame said to be `width` wide.
        let repeated = |times: usize, width: u16| {
            let mut jpeg = progressive_jpeg(|scan| scan.repeat(times));
            let frame = jpeg.windows(2).position(|w| w == [0xFF, 0xC2]).unwrap();
            jpeg[frame + 7..frame + 9].copy_from_slice(&width.to_be_bytes());
            jpeg
        };
        let refused = |jpeg: &[u8], limits, said: &str| {
            let err = probe(jpeg, limits).unwrap_err();
            assert!(
                matches!(err, ImagingError::Corrupt(ref m) if m.contains(said)),
                "{err:?}"
            );
        };
        refused(&repeated(100, 64), GENEROUS, "110 scans; at most 100");
        assert!(probe(&repeated(90, 64), GENEROUS).is_ok());
        // 60,000 × 48 pixels (2.9 MP) may have 100; 60,000 × 1,000 (60 MP,
        // a 61-MP camera's size), 33; larger ones still 20.
        let wide = repeated(90, 60_000);
        assert!(probe(&wide, GENEROUS).is_ok());
        let mut tall = wide.clone();
        let frame = tall.windows(2).position(|w| w == [0xFF, 0xC2]).unwrap();
        tall[frame + 5..frame + 7].copy_from_slice(&1000u16.to_be_bytes());
        let large = DecodeLimits {
            max_pixels: 100_000_000,
            ..GENEROUS
        };
        refused(
            &tall,
            large,
            "100 scans; at most 33 are taken at 60 megapixels",
        );
        assert_eq!(scans_allowed(60_000_000), 33);
        assert_eq!(scans_allowed(100_000_000), 20);
        assert_eq!(scans_allowed(400_000_000), 20);
        assert_eq!(scans_allowed(1), 100);
    }

    /// A 64 × 48 RGB TIFF with `tags` added to its first directory.
    fn tiff(tags: &[(tiff::tags::Tag, &[u8])]) -> Vec<u8> {
        use tiff::encoder::{colortype::RGB8, TiffEncoder};
        let mut out = Cursor::new(Vec::new());
        let mut encoder = TiffEncoder::new(&mut out).unwrap();
        let mut image = encoder.new_image::<RGB8>(64, 48).unwrap();
        for &(tag, value) in tags {
            image.encoder().write_tag(tag, value).unwrap();
        }
        image.write_data(&[90u8; 64 * 48 * 3]).unwrap();
        out.into_inner()
    }

    #[test]
    fn camera_raw_files_are_refused_as_such() {
        use tiff::tags::Tag;
        let plain = tiff(&[]);
        assert_eq!(probe(&plain, GENEROUS).unwrap().stored_width, 64);
        let mut cr2 = plain.clone();
        cr2[8..12].copy_from_slice(b"CR\x02\x00");
        let dng = tiff(&[(Tag::Unknown(50706), &[1, 4, 0, 0])]);
        // NEF, ARW, PEF…: a small preview first, the raw data further on.
        let preview_first = tiff(&[(Tag::NewSubfileType, &[1])]);
        let sensor_data = with_photometric(&plain, 32803);
        let raf = b"FUJIFILMCCD-RAW 0201FF383501".to_vec();
        let mut cr3 = b"\0\0\0\x18ftypcrx \0\0\0\x01crx isom".to_vec();
        cr3.extend_from_slice(&[0; 64]);
        for (file, named) in [
            (raf, "(Fujifilm RAF)"),
            (cr3, "(Canon CR3)"),
            (cr2, "(Canon CR2)"),
            (dng, "(DNG)"),
            (preview_first, "reduced-size preview"),
            (sensor_data, "sensor data"),
        ] {
            let err = probe(&file, GENEROUS).unwrap_err();
            assert!(
                matches!(&err, ImagingError::Unsupported(m) if m.contains("camera raw") && m.contains(named)),
                "{named}: {err:?}"
            );
        }
    }

    #[test]
    fn a_malformed_cicp_chunk_is_passed_over_not_the_png() {
        let img = ImageBuffer::from_fn(8, 6, |x, y| Rgb([x as u8 * 30, y as u8 * 40, 200]));
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, ImageFormat::Png).unwrap();
        let plain = out.into_inner();
        // After IHDR (8 + 25 bytes): BT.709 primaries, sRGB curve, but a
        // matrix (5), which PNG forbids.
        let mut chunk = 4u32.to_be_bytes().to_vec();
        chunk.extend_from_slice(b"cICP\x01\x0d\x05\x01");
        chunk.extend_from_slice(&crc32(&chunk[4..]).to_be_bytes());
        let png = [&plain[..33], &chunk, &plain[33..]].concat();
        assert!(png::Decoder::new(Cursor::new(&png)).read_info().is_err());
        assert_eq!(probe(&png, GENEROUS).unwrap().stored_width, 8);
        let pixels = crate::render::decode_upright(&png, GENEROUS, 1, None).unwrap();
        let expected = crate::render::decode_upright(&plain, GENEROUS, 1, None).unwrap();
        assert_eq!(pixels.data, expected.data);
        // Cut short, it is still refused.
        assert!(probe(&png[..png.len() - 20], GENEROUS).is_err());
    }

    #[test]
    fn a_feature_the_decoder_lacks_is_unsupported_not_corrupt() {
        // JPEG coding processes beyond libjpeg's 8-bit build: the frame
        // marker and precision of a baseline JPEG changed.
        let baseline = jpeg(64, 32);
        let frame = baseline.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
        for (marker, precision, said) in [
            (0xC1, 12, "a 12-bit JPEG"),
            (0xC2, 12, "a 12-bit JPEG"),
            (0xC1, 16, "a 16-bit JPEG"),
            (0xC3, 8, "a lossless JPEG"),
            (0xCB, 8, "a lossless JPEG"),
            (0xC5, 8, "a hierarchical JPEG"),
            (0xCE, 8, "a hierarchical JPEG"),
        ] {
            let mut changed = baseline.clone();
            changed[frame + 1] = marker;
            changed[frame + 4] = precision;
            let err = probe(&changed, GENEROUS).unwrap_err();
            assert!(
                matches!(&err, ImagingError::Unsupported(m) if m.starts_with(said)),
                "{marker:X} {precision}: {err:?}"
            );
        }
        // Extended sequential and arithmetic coding at 8 bits are decoded.
        for marker in [0xC0, 0xC1, 0xC9] {
            let mut changed = baseline.clone();
            changed[frame + 1] = marker;
            assert!(probe(&changed, GENEROUS).is_ok(), "{marker:X}");
        }

        // CIE L*a*b* pixels (photometric interpretation 9), which `tiff` lacks.
        let lab = with_photometric(&tiff(&[]), 9);
        let err = probe(&lab, GENEROUS).unwrap_err();
        assert!(
            matches!(&err, ImagingError::Unsupported(m) if m.contains("Lab")),
            "{err:?}"
        );
    }

    /// `tiff` (little-endian) with its first directory's photometric
    /// interpretation changed to `value`.
    fn with_photometric(tiff: &[u8], value: u16) -> Vec<u8> {
        let mut out = tiff.to_vec();
        let u16_at = |at: usize| u16::from_le_bytes([tiff[at], tiff[at + 1]]);
        let ifd = u32::from_le_bytes(tiff[4..8].try_into().unwrap()) as usize;
        let entry = (0..usize::from(u16_at(ifd)))
            .map(|n| ifd + 2 + 12 * n)
            .find(|&at| u16_at(at) == 262)
            .unwrap();
        out[entry + 8..entry + 10].copy_from_slice(&value.to_le_bytes());
        out
    }

    fn crc32(data: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for &byte in data {
            crc ^= u32::from(byte);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
}
