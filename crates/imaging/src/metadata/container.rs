//! Finds the metadata blocks in a file, each where its container keeps it:
//! EXIF (read into fields here), IPTC IIM (from Photoshop's resources, with
//! their stored digest, or a TIFF tag) and XMP. img-parts does the JPEG, PNG
//! and WebP container parsing, kamadak-exif the TIFF; the Photoshop resource
//! list is walked here because no crate reads it.

use super::exif::{parse as exif_fields, ExifFields};
use crate::MAX_BLOCK_BYTES;
use bytes::Bytes;
use img_parts::jpeg::Jpeg;
use img_parts::png::{Png, PngChunk};
use img_parts::webp::WebP;
use img_parts::ImageEXIF;
use std::borrow::Cow;
use std::collections::HashMap;
use std::io::Read;

const XMP_APP1: &[u8] = b"http://ns.adobe.com/xap/1.0/\0";
const XMP_EXTENSION_APP1: &[u8] = b"http://ns.adobe.com/xmp/extension/\0";
const PHOTOSHOP_APP13: &[u8] = b"Photoshop 3.0\0";
const PNG_XMP_KEYWORD: &[u8] = b"XML:com.adobe.xmp";
const RESOURCE_IPTC: u16 = 0x0404;
const RESOURCE_IPTC_DIGEST: u16 = 0x0425;

#[derive(Debug, Default)]
pub struct Blocks {
    /// The fields, or why the EXIF block found could not be read.
    pub exif: Option<Result<ExifFields, String>>,
    pub iim: Option<Bytes>,
    /// MD5 of the IIM as stored by the last XMP-aware writer.
    pub iim_digest: Option<[u8; 16]>,
    pub xmp: Option<String>,
    /// Extended XMP packets (JPEG only) by GUID, for the main packet's
    /// `xmpNote:HasExtendedXMP` to pick from.
    pub xmp_extensions: HashMap<String, String>,
}

/// Takes `Bytes` so the container parsers share the caller's buffer
/// instead of copying a possibly 200 MB file.
pub fn find_blocks(data: Bytes) -> Blocks {
    let bytes = &data[..];
    if bytes.starts_with(&[0xFF, 0xD8]) {
        Jpeg::from_bytes(data.clone())
            .map(jpeg_blocks)
            .unwrap_or_default()
    } else if bytes.starts_with(b"\x89PNG") {
        Png::from_bytes(data.clone())
            .map(png_blocks)
            .unwrap_or_default()
    } else if bytes.starts_with(b"RIFF") {
        WebP::from_bytes(data).map(webp_blocks).unwrap_or_default()
    } else if bytes.starts_with(b"II*\0") || bytes.starts_with(b"MM\0*") {
        tiff_blocks(bytes)
    } else if crate::heif::media_type(bytes).is_some() {
        let (exif, xmp) = crate::heif::metadata(bytes);
        Blocks {
            exif: exif.as_deref().map(exif_fields),
            xmp,
            ..Blocks::default()
        }
    } else {
        Blocks::default()
    }
}

fn jpeg_blocks(jpeg: Jpeg) -> Blocks {
    let mut blocks = Blocks {
        exif: jpeg.exif().as_deref().map(exif_fields),
        ..Blocks::default()
    };
    let mut photoshop = Vec::new();
    let mut extension_parts = Vec::new();
    for segment in jpeg.segments() {
        let contents = segment.contents();
        match segment.marker() {
            0xE1 if blocks.xmp.is_none() && contents.starts_with(XMP_APP1) => {
                blocks.xmp =
                    Some(String::from_utf8_lossy(&contents[XMP_APP1.len()..]).into_owned());
            }
            // Photoshop resources may be split over several APP13 segments.
            0xED if contents.starts_with(PHOTOSHOP_APP13) => {
                photoshop.extend_from_slice(&contents[PHOTOSHOP_APP13.len()..]);
            }
            0xE1 => extension_parts.extend(
                contents
                    .strip_prefix(XMP_EXTENSION_APP1)
                    .and_then(ExtensionPart::read),
            ),
            _ => {}
        }
    }
    read_photoshop_resources(&photoshop, &mut blocks);
    blocks.xmp_extensions = assemble_extensions(extension_parts);
    blocks
}

/// One segment of an extended XMP packet (XMP specification part 3,
/// 1.1.3.1): a JPEG segment holds at most 64 KB, so writers (ExifTool,
/// Photoshop) move the largest properties of a bigger packet into a second
/// one, split over segments that each carry its GUID (32 hex digits), its
/// full length and this part's offset. No crate reads them.
struct ExtensionPart<'a> {
    guid: &'a [u8],
    full_length: usize,
    offset: usize,
    data: &'a [u8],
}

impl<'a> ExtensionPart<'a> {
    fn read(contents: &'a [u8]) -> Option<Self> {
        let (guid, rest) = contents.split_at_checked(32)?;
        let (full_length, rest) = rest.split_first_chunk::<4>()?;
        let (offset, data) = rest.split_first_chunk::<4>()?;
        Some(ExtensionPart {
            guid,
            full_length: u32::from_be_bytes(*full_length) as usize,
            offset: u32::from_be_bytes(*offset) as usize,
            data,
        })
    }
}

/// The packets whose parts, in offset order, fill their stated length
/// exactly; one with a part missing, overlapping or left over is dropped.
/// Memory follows the parts present, never the length a header claims.
fn assemble_extensions(mut parts: Vec<ExtensionPart>) -> HashMap<String, String> {
    parts.sort_by_key(|part| (part.guid, part.offset));
    let mut packets = HashMap::new();
    for same_packet in parts.chunk_by(|a, b| a.guid == b.guid) {
        let full_length = same_packet[0].full_length;
        let mut packet = Vec::new();
        let fits = same_packet.iter().all(|part| {
            let fits = part.full_length == full_length && part.offset == packet.len();
            packet.extend_from_slice(part.data);
            fits
        });
        if fits && packet.len() == full_length {
            packets.insert(
                String::from_utf8_lossy(same_packet[0].guid).into_owned(),
                String::from_utf8_lossy(&packet).into_owned(),
            );
        }
    }
    packets
}

/// IIM and its digest from Photoshop image resources, wherever they are kept.
fn read_photoshop_resources(resources: &[u8], blocks: &mut Blocks) {
    for (id, data) in photoshop_resources(resources) {
        match id {
            RESOURCE_IPTC if blocks.iim.is_none() => {
                blocks.iim = Some(Bytes::copy_from_slice(data))
            }
            RESOURCE_IPTC_DIGEST => blocks.iim_digest = data.try_into().ok(),
            _ => {}
        }
    }
}

/// A TIFF is its own EXIF; XMP, IIM and Photoshop's resources are tags of
/// its first IFD (700, 33723, 34377). Read once: the reader copies the file,
/// which can be a 200 MB scan.
fn tiff_blocks(data: &[u8]) -> Blocks {
    let Ok(tiff) = exif::Reader::new().read_raw(data.to_vec()) else {
        return Blocks::default();
    };
    let tag_bytes = |number: u16| -> Option<Vec<u8>> {
        let field = tiff.get_field(exif::Tag(exif::Context::Tiff, number), exif::In::PRIMARY)?;
        match &field.value {
            exif::Value::Byte(bytes) | exif::Value::Undefined(bytes, _) => Some(bytes.clone()),
            // Photoshop writes IPTC-NAA typed LONG: the bytes in file order.
            exif::Value::Long(longs) => Some(
                longs
                    .iter()
                    .flat_map(|l| match tiff.little_endian() {
                        true => l.to_le_bytes(),
                        false => l.to_be_bytes(),
                    })
                    .collect(),
            ),
            _ => None,
        }
    };
    let mut blocks = Blocks {
        xmp: tag_bytes(700).map(|xmp| String::from_utf8_lossy(&xmp).into_owned()),
        iim: tag_bytes(33723).map(Bytes::from),
        ..Blocks::default()
    };
    if let Some(resources) = tag_bytes(34377) {
        read_photoshop_resources(&resources, &mut blocks);
    }
    blocks.exif = Some(Ok(super::exif::fields(&tiff)));
    blocks
}

/// XMP in PNG is an iTXt chunk, its text optionally deflated; EXIF is an
/// eXIf chunk. ImageMagick and GraphicsMagick write neither: they keep EXIF,
/// XMP and IIM as hex in text chunks named "Raw profile type exif" (or
/// `APP1`, `xmp`, `iptc`, `8bim`), which ExifTool reads too, so a PNG they
/// converted from a wire JPEG keeps its caption and credit. The standard
/// chunks win where both are present.
fn png_blocks(png: Png) -> Blocks {
    let texts: Vec<_> = png.chunks().iter().filter_map(png_text).collect();
    let mut blocks = Blocks {
        exif: png.exif().as_deref().map(exif_fields),
        xmp: texts
            .iter()
            .find(|chunk| &chunk.kind == b"iTXt" && chunk.keyword == PNG_XMP_KEYWORD)
            .map(|chunk| String::from_utf8_lossy(&chunk.text).into_owned()),
        ..Blocks::default()
    };
    for chunk in &texts {
        let Some(profile) = chunk.keyword.strip_prefix(b"Raw profile type ") else {
            continue;
        };
        let Some(data) = raw_profile(&chunk.text) else {
            continue;
        };
        match profile {
            b"exif" | b"APP1" if data.starts_with(XMP_APP1) => {
                blocks.xmp.get_or_insert_with(|| {
                    String::from_utf8_lossy(&data[XMP_APP1.len()..]).into_owned()
                });
            }
            b"exif" | b"APP1" => {
                let tiff = data.strip_prefix(b"Exif\0\0").unwrap_or(&data);
                blocks.exif.get_or_insert_with(|| exif_fields(tiff));
            }
            b"xmp" => {
                blocks
                    .xmp
                    .get_or_insert_with(|| String::from_utf8_lossy(&data).into_owned());
            }
            b"iptc" if data.starts_with(&[0x1C]) => {
                blocks.iim.get_or_insert_with(|| Bytes::from(data));
            }
            b"iptc" | b"8bim" => read_photoshop_resources(&data, &mut blocks),
            _ => {}
        }
    }
    // IIM has no standard place in PNG; as in ExifTool, it yields to XMP
    // field by field, whatever digest came with it.
    blocks.iim_digest = None;
    blocks
}

/// A PNG text chunk (tEXt, zTXt or iTXt), its text inflated where deflated.
struct PngText<'a> {
    kind: [u8; 4],
    keyword: &'a [u8],
    text: Cow<'a, [u8]>,
}

fn png_text(chunk: &PngChunk) -> Option<PngText<'_>> {
    let contents = chunk.contents();
    let (keyword, rest) = contents.split_at(contents.iter().position(|&b| b == 0)?);
    let rest = &rest[1..];
    let text = match &chunk.kind() {
        b"tEXt" => Cow::Borrowed(rest),
        b"zTXt" => Cow::Owned(inflate(rest.get(1..)?)?),
        b"iTXt" => {
            // compression flag, method, language\0, translated keyword\0, text
            let [compressed, _method, rest @ ..] = rest else {
                return None;
            };
            let rest = &rest[rest.iter().position(|&b| b == 0)? + 1..];
            let text = &rest[rest.iter().position(|&b| b == 0)? + 1..];
            match compressed {
                0 => Cow::Borrowed(text),
                _ => Cow::Owned(inflate(text)?),
            }
        }
        _ => return None,
    };
    Some(PngText {
        kind: chunk.kind(),
        keyword,
        text,
    })
}

/// The bytes of an ImageMagick raw profile: "\nexif\n    1234\n" then hex
/// digits in lines. The digits are trusted over the stated length, as by
/// ExifTool.
fn raw_profile(text: &[u8]) -> Option<Vec<u8>> {
    if text.len() as u64 > 2 * MAX_BLOCK_BYTES + 100 {
        return None;
    }
    let mut lines = text.strip_prefix(b"\n")?.splitn(3, |&b| b == b'\n');
    let (_kind, _length) = (lines.next()?, lines.next()?);
    let digits: Vec<u8> = lines
        .next()?
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    hex::decode(digits).ok()
}

fn inflate(deflated: &[u8]) -> Option<Vec<u8>> {
    let mut text = Vec::new();
    flate2::read::ZlibDecoder::new(deflated)
        .take(MAX_BLOCK_BYTES + 1)
        .read_to_end(&mut text)
        .ok()?;
    (text.len() as u64 <= MAX_BLOCK_BYTES).then_some(text)
}

fn webp_blocks(webp: WebP) -> Blocks {
    let xmp = webp
        .chunk_by_id(*b"XMP ")
        .and_then(|chunk| chunk.content().data())
        .map(|data| String::from_utf8_lossy(data).into_owned());
    Blocks {
        exif: webp.exif().as_deref().map(exif_fields),
        xmp,
        ..Blocks::default()
    }
}

/// Photoshop image resources: `8BIM`, id, padded Pascal name, size, padded data.
fn photoshop_resources(mut data: &[u8]) -> Vec<(u16, &[u8])> {
    let mut resources = Vec::new();
    while data.len() >= 12 && &data[..4] == b"8BIM" {
        let id = u16::from_be_bytes([data[4], data[5]]);
        let name_len = usize::from(data[6]);
        let name_field = (1 + name_len + 1) & !1; // length byte + name, padded to even
        let size_at = 6 + name_field;
        let Some(size_bytes) = data.get(size_at..size_at + 4) else {
            break;
        };
        let size = u32::from_be_bytes(size_bytes.try_into().unwrap()) as usize;
        let start = size_at + 4;
        let Some(resource) = data.get(start..start.saturating_add(size)) else {
            break;
        };
        resources.push((id, resource));
        let next = start + size + (size & 1);
        data = data.get(next..).unwrap_or_default();
    }
    resources
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_profiles_decode_or_are_refused() {
        let good = b"\nexif\n       6\n457869\n660000\n";
        assert_eq!(raw_profile(good).as_deref(), Some(&b"Exif\0\0"[..]));
        // The digits count, not the stated length.
        assert_eq!(
            raw_profile(b"\nxmp\n  99\n3c78\n").as_deref(),
            Some(&b"<x"[..])
        );
        for hostile in [
            &b"exif\n 6\n457869660000"[..],
            b"\nexif\n 3\n45786",
            b"\nexif\n 3\n45zz69",
            b"\nexif",
            b"",
        ] {
            assert_eq!(raw_profile(hostile), None, "{hostile:?}");
        }
        let huge = [b"\nxmp\n 1\n".as_slice(), &vec![b'0'; 40 << 20]].concat();
        assert_eq!(raw_profile(&huge), None);
    }

    fn part(guid: &[u8; 32], full_length: u32, offset: u32, data: &[u8]) -> Vec<u8> {
        let mut contents = guid.to_vec();
        contents.extend_from_slice(&full_length.to_be_bytes());
        contents.extend_from_slice(&offset.to_be_bytes());
        contents.extend_from_slice(data);
        contents
    }

    fn assemble(parts: &[Vec<u8>]) -> HashMap<String, String> {
        assemble_extensions(
            parts
                .iter()
                .filter_map(|p| ExtensionPart::read(p))
                .collect(),
        )
    }

    #[test]
    fn extended_xmp_is_kept_only_when_its_parts_fill_it_exactly() {
        let a = [b'A'; 32];
        let b = [b'B'; 32];
        // Out of order, two packets interleaved.
        let packets = assemble(&[
            part(&a, 6, 3, b"def"),
            part(&b, 2, 0, b"xy"),
            part(&a, 6, 0, b"abc"),
        ]);
        assert_eq!(packets[&"A".repeat(32)], "abcdef");
        assert_eq!(packets[&"B".repeat(32)], "xy");
        let refused = [
            vec![part(&a, 6, 0, b"abc")],                          // a part missing
            vec![part(&a, 6, 0, b"abcd"), part(&a, 6, 3, b"def")], // overlapping
            vec![part(&a, 6, 0, b"abc"), part(&a, 6, 0, b"abc")],  // repeated
            vec![part(&a, 6, 0, b"abc"), part(&a, 7, 3, b"def")],  // lengths disagree
            vec![part(&a, u32::MAX, 0, b"abc")],                   // claims 4 GB
            vec![part(&a, 2, 0, b"abc")],                          // longer than stated
        ];
        for parts in refused {
            assert!(assemble(&parts).is_empty());
        }
        // Too short to hold the header.
        assert!(ExtensionPart::read(&[b'A'; 39]).is_none());
    }
}
