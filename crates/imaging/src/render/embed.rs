//! Rights metadata written into renditions: who made the photo, the credit
//! line and the copyright travel with every copy, while location and camera
//! details (serial numbers, GPS) stay behind unless asked for.

use img_parts::jpeg::{markers, Jpeg, JpegSegment};
use img_parts::riff::{RiffChunk, RiffContent};
use img_parts::webp::WebP;
use img_parts::{Bytes, ImageEXIF};
use photodesk_types::PhotoMetadata;

/// What beyond the rights fields a rendition may carry.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EmbedOptions {
    /// Keep the GPS position (off by default: it can endanger sources).
    pub keep_location: bool,
}

/// Each embedded value is capped so the XMP packet always fits one JPEG
/// segment (64 KiB), whatever the original held.
const MAX_VALUE_CHARS: usize = 2_000;

const XMP_SIGNATURE: &[u8] = b"http://ns.adobe.com/xap/1.0/\0";

pub(crate) fn into_jpeg(jpeg: Vec<u8>, metadata: &PhotoMetadata, options: EmbedOptions) -> Vec<u8> {
    let Some(xmp) = xmp_packet(metadata, options) else {
        return jpeg;
    };
    let jpeg = Bytes::from(jpeg);
    let Ok(mut parsed) = Jpeg::from_bytes(jpeg.clone()) else {
        return jpeg.to_vec();
    };
    let mut payload = XMP_SIGNATURE.to_vec();
    payload.extend_from_slice(xmp.as_bytes());
    let after_jfif = parsed
        .segments()
        .iter()
        .take_while(|s| s.marker() == markers::APP0)
        .count();
    parsed.segments_mut().insert(
        after_jfif,
        JpegSegment::new_with_contents(markers::APP1, Bytes::from(payload)),
    );
    parsed.set_exif(exif_tiff(metadata).map(Bytes::from));
    parsed.encoder().bytes().to_vec()
}

pub(crate) fn into_webp(webp: Vec<u8>, metadata: &PhotoMetadata, options: EmbedOptions) -> Vec<u8> {
    let Some(xmp) = xmp_packet(metadata, options) else {
        return webp;
    };
    let webp = Bytes::from(webp);
    let Ok(mut parsed) = WebP::from_bytes(webp.clone()) else {
        return webp.to_vec();
    };
    parsed.chunks_mut().push(RiffChunk::new(
        *b"XMP ",
        RiffContent::Data(Bytes::from(xmp.into_bytes())),
    ));
    // Setting EXIF also turns the file into the extended (VP8X) form and
    // sets the flags for both chunks.
    parsed.set_exif(exif_tiff(metadata).map(Bytes::from));
    parsed.encoder().bytes().to_vec()
}

/// EXIF (a TIFF structure) with Artist and Copyright, for readers that look
/// only at EXIF, in every format.
pub(crate) fn exif(metadata: &PhotoMetadata) -> Vec<u8> {
    exif_tiff(metadata).unwrap_or_default()
}

fn exif_tiff(metadata: &PhotoMetadata) -> Option<Vec<u8>> {
    use exif::experimental::Writer;
    use exif::{Field, In, Tag, Value};
    let artist = (!metadata.creator.is_empty())
        .then(|| vec![capped(&metadata.creator.join("; ")).into_bytes()]);
    // The photographer's notice, then the editor's on the next line, NUL
    // apart as EXIF keeps them (and ExifTool writes them); " " stands for a
    // missing photographer's notice.
    let copyright = metadata.copyright.as_deref().map(|notice| {
        let notice = capped(notice);
        match notice.split_once('\n') {
            Some((photographer, editor)) => {
                let photographer = photographer.trim_end();
                let photographer = if photographer.is_empty() {
                    " "
                } else {
                    photographer
                };
                vec![photographer.into(), editor.trim_start().into()]
            }
            None => vec![notice.into_bytes()],
        }
    });
    let fields: Vec<Field> = [(Tag::Artist, artist), (Tag::Copyright, copyright)]
        .into_iter()
        .filter_map(|(tag, strings)| {
            Some(Field {
                tag,
                ifd_num: In::PRIMARY,
                value: Value::Ascii(strings?),
            })
        })
        .collect();
    if fields.is_empty() {
        return None;
    }
    let mut writer = Writer::new();
    for field in &fields {
        writer.push_field(field);
    }
    let mut out = std::io::Cursor::new(Vec::new());
    writer.write(&mut out, false).ok()?;
    Some(out.into_inner())
}

/// An XMP packet with the rights fields (and the position if kept), or
/// `None` if the photo has none of them.
pub(crate) fn xmp_packet(metadata: &PhotoMetadata, options: EmbedOptions) -> Option<String> {
    let mut body = String::new();
    if !metadata.creator.is_empty() {
        body.push_str("<dc:creator><rdf:Seq>");
        for creator in &metadata.creator {
            body.push_str(&format!("<rdf:li>{}</rdf:li>", escape(creator)));
        }
        body.push_str("</rdf:Seq></dc:creator>");
    }
    if let Some(copyright) = &metadata.copyright {
        body.push_str(&format!(
            "<dc:rights><rdf:Alt><rdf:li xml:lang=\"x-default\">{}</rdf:li></rdf:Alt></dc:rights>",
            escape(copyright)
        ));
    }
    if let Some(terms) = &metadata.usage_terms {
        body.push_str(&format!(
            "<xmpRights:UsageTerms><rdf:Alt><rdf:li xml:lang=\"x-default\">{}</rdf:li></rdf:Alt></xmpRights:UsageTerms>",
            escape(terms)
        ));
    }
    for (element, value) in [
        ("photoshop:Credit", &metadata.credit),
        ("photoshop:Source", &metadata.source),
        ("xmpRights:WebStatement", &metadata.web_statement),
    ] {
        if let Some(value) = value {
            body.push_str(&format!("<{element}>{}</{element}>", escape(value)));
        }
    }
    if options.keep_location {
        if let Some(gps) = metadata.gps {
            body.push_str(&format!(
                "<exif:GPSLatitude>{}</exif:GPSLatitude><exif:GPSLongitude>{}</exif:GPSLongitude>",
                xmp_coordinate(gps.latitude, 'N', 'S'),
                xmp_coordinate(gps.longitude, 'E', 'W')
            ));
        }
    }
    if body.is_empty() {
        return None;
    }
    Some(format!(
        "<?xpacket begin=\"\u{feff}\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\
<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\
<rdf:Description rdf:about=\"\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\" \
xmlns:photoshop=\"http://ns.adobe.com/photoshop/1.0/\" \
xmlns:xmpRights=\"http://ns.adobe.com/xap/1.0/rights/\" \
xmlns:exif=\"http://ns.adobe.com/exif/1.0/\">{body}</rdf:Description></rdf:RDF></x:xmpmeta>\
<?xpacket end=\"w\"?>"
    ))
}

/// XMP's GPS form: degrees, decimal minutes and the hemisphere letter.
fn xmp_coordinate(value: f64, positive: char, negative: char) -> String {
    let hemisphere = if value < 0.0 { negative } else { positive };
    let value = value.abs();
    let degrees = value.trunc();
    format!("{degrees},{:.6}{hemisphere}", (value - degrees) * 60.0)
}

fn capped(value: &str) -> String {
    value.chars().take(MAX_VALUE_CHARS).collect()
}

fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in capped(value).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            // XML 1.0 cannot carry most control characters at all.
            c if c.is_control() && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}
