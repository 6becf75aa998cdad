//! Metadata read by Photodesk must equal what ExifTool reads from the same
//! file. Photos are generated, tagged with ExifTool, then read by both.

use photodesk_imaging::read_metadata;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn exiftool(args: &[&str], file: &Path) -> String {
    let output = Command::new("exiftool")
        .args(args)
        .arg(file)
        .output()
        .expect(
            "exiftool runs (Debian package libimage-exiftool-perl; ./scripts/test installs it)",
        );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// A fresh small image in a temp dir, in the format its name says, tagged
/// with the given ExifTool arguments. HEIC and AVIF come from libheif's
/// `heif-enc` (Debian `libheif-examples`).
fn tagged(dir: &Path, name: &str, tags: &[&str]) -> PathBuf {
    let path = dir.join(name);
    let picture = image::RgbImage::from_pixel(32, 24, image::Rgb([200, 100, 50]));
    if name.ends_with(".heic") || name.ends_with(".avif") {
        let png = dir.join(format!("{name}.png"));
        picture.save(&png).unwrap();
        let mut encode = Command::new("heif-enc");
        if name.ends_with(".avif") {
            encode.arg("--avif");
        }
        let status = encode
            .arg("-o")
            .arg(&path)
            .arg(&png)
            .output()
            .unwrap()
            .status;
        assert!(status.success(), "heif-enc made {name}");
    } else {
        picture.save(&path).unwrap();
    }
    let mut args = vec!["-q", "-overwrite_original"];
    args.extend_from_slice(tags);
    exiftool(&args, &path);
    path
}

/// ExifTool's reading, with the MWG composite tags that reconcile EXIF, IIM and XMP.
fn oracle(path: &Path) -> Value {
    let json = exiftool(
        &[
            "-j",
            "-struct",
            "-use",
            "MWG",
            "-MWG:all",
            "-Headline",
            "-Credit",
            "-Source",
            "-ObjectName",
            "-XMP-iptcCore:AltTextAccessibility",
            "-XMP-iptcCore:ExtDescrAccessibility",
            "-XMP-xmpRights:WebStatement",
        ],
        path,
    );
    let mut values = serde_json::from_str::<Value>(&json).unwrap()[0].clone();
    // Numeric, and apart: the MWG group has an Orientation tag of its own.
    let orientation = exiftool(&["-j", "-n", "-EXIF:Orientation"], path);
    values["Orientation"] =
        serde_json::from_str::<Value>(&orientation).unwrap()[0]["Orientation"].clone();
    values
}

fn text(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        // Photodesk trims the white space around a value, drops blank ones
        // and ends lines with LF, as XML parsers do (ExifTool keeps CR).
        Value::String(s) => {
            Some(s.trim().replace("\r\n", "\n").replace('\r', "\n")).filter(|s| !s.is_empty())
        }
        Value::Number(n) => Some(n.to_string()),
        // A list where Photodesk keeps one text (a location shown more
        // than once): joined as ExifTool prints lists.
        Value::Array(items) => Some(items.iter().filter_map(text).collect::<Vec<_>>().join(", ")),
        other => panic!("not text: {other}"),
    }
}

fn list(value: &Value) -> Vec<String> {
    match value {
        Value::Null => vec![],
        Value::Array(items) => items.iter().filter_map(text).collect(),
        single => text(single).into_iter().collect(),
    }
}

/// ExifTool's `2024:05:16 14:30:00.25+08:00` (or a shorter date) in ISO
/// 8601's separators, as Photodesk gives dates.
fn iso_date(exiftool: &str) -> String {
    exiftool
        .char_indices()
        .map(|(at, c)| match (at, c) {
            (4 | 7, ':') => '-',
            (10, ' ') => 'T',
            _ => c,
        })
        .collect()
}

/// Photodesk's reading of the file at `path`.
fn read(path: &Path) -> photodesk_types::PhotoMetadata {
    read_metadata(std::fs::read(path).unwrap().into())
}

fn assert_matches_exiftool(path: &Path) -> photodesk_types::PhotoMetadata {
    assert_matches_exiftool_but(path, &[])
}

/// Compares all but the `skipped` fields of those ExifTool reads outside its
/// MWG tags (Headline, Credit, Source).
fn assert_matches_exiftool_but(path: &Path, skipped: &[&str]) -> photodesk_types::PhotoMetadata {
    let ours = read(path);
    let theirs = oracle(path);
    let name = path.file_name().unwrap().to_string_lossy();
    assert_eq!(
        ours.caption,
        text(&theirs["Description"]),
        "{name}: caption"
    );
    assert_eq!(ours.creator, list(&theirs["Creator"]), "{name}: creator");
    assert_eq!(
        ours.copyright,
        text(&theirs["Copyright"]),
        "{name}: copyright"
    );
    assert_eq!(ours.keywords, list(&theirs["Keywords"]), "{name}: keywords");
    assert_eq!(ours.city, text(&theirs["City"]), "{name}: city");
    assert_eq!(
        ours.sublocation,
        text(&theirs["Location"]),
        "{name}: sublocation"
    );
    assert_eq!(ours.state, text(&theirs["State"]), "{name}: state");
    assert_eq!(ours.country, text(&theirs["Country"]), "{name}: country");
    for (field, value) in [
        ("Headline", &ours.headline),
        ("Credit", &ours.credit),
        ("Source", &ours.source),
    ] {
        if !skipped.contains(&field) {
            assert_eq!(*value, text(&theirs[field]), "{name}: {field}");
        }
    }
    assert_eq!(
        ours.alt_text,
        text(&theirs["AltTextAccessibility"]),
        "{name}: alt text"
    );
    assert_eq!(
        ours.extended_description,
        text(&theirs["ExtDescrAccessibility"]),
        "{name}: ext descr"
    );
    assert_eq!(
        ours.web_statement,
        text(&theirs["WebStatement"]),
        "{name}: web statement"
    );
    assert_eq!(
        ours.date_created,
        text(&theirs["DateTimeOriginal"]).map(|date| iso_date(&date)),
        "{name}: date"
    );
    assert_eq!(
        ours.orientation,
        theirs["Orientation"].as_u64().unwrap_or(1) as u8,
        "{name}: orientation"
    );
    ours
}

#[test]
fn iim_in_utf8_with_cyrillic_and_chinese() {
    let dir = tempfile::tempdir().unwrap();
    let path = tagged(
        dir.path(),
        "iim-utf8.jpg",
        &[
            "-codedcharacterset=utf8",
            "-IPTC:Caption-Abstract=Путин прибыл в Харбин.\nВторая строка.",
            "-IPTC:By-line=王小明",
            "-IPTC:Credit=Спутник",
            "-IPTC:CopyrightNotice=© 2024 Агентство",
            "-IPTC:Keywords=Харбин",
            "-IPTC:Keywords=哈尔滨",
            "-IPTC:City=Харбин",
            "-IPTC:Country-PrimaryLocationName=中国",
            "-IPTC:Headline=Визит",
        ],
    );
    let ours = assert_matches_exiftool(&path);
    assert_eq!(
        ours.caption.as_deref(),
        Some("Путин прибыл в Харбин.\nВторая строка.")
    );
    assert_eq!(ours.creator, ["王小明"]);
    assert_eq!(ours.keywords, ["Харбин", "哈尔滨"]);
    assert_eq!(ours.alt_text, None, "alt text never comes from the caption");
}

#[test]
fn iim_without_a_character_set_is_windows_1252() {
    let dir = tempfile::tempdir().unwrap();
    let path = tagged(
        dir.path(),
        "iim-latin.jpg",
        &[
            "-charset",
            "iptc=cp1252",
            "-IPTC:Caption-Abstract=Café in Zürich – “quoted” €5",
            "-IPTC:By-line=José Müller",
        ],
    );
    let ours = assert_matches_exiftool(&path);
    assert_eq!(
        ours.caption.as_deref(),
        Some("Café in Zürich – “quoted” €5")
    );
}

#[test]
fn xmp_only_with_accessibility_fields() {
    let dir = tempfile::tempdir().unwrap();
    let path = tagged(
        dir.path(),
        "xmp.jpg",
        &[
            "-XMP-dc:Description=Students attend the meeting. 学生们参加了会议。",
            "-XMP-dc:Creator=Jane Doe",
            "-XMP-dc:Creator=Иван Петров",
            "-XMP-photoshop:Credit=Agency / Pool",
            "-XMP-dc:Rights=© Agency",
            "-XMP-iptcCore:AltTextAccessibility=Students seated in rows in a lecture hall.",
            "-XMP-iptcCore:ExtDescrAccessibility=A wide hall with about a hundred students.",
            "-XMP-xmpRights:WebStatement=https://example.com/licence",
            "-XMP-photoshop:City=Harbin",
            "-XMP-dc:Subject=education",
            "-XMP-dc:Subject=China",
            "-EXIF:Orientation#=6",
        ],
    );
    let ours = assert_matches_exiftool(&path);
    assert_eq!(ours.creator, ["Jane Doe", "Иван Петров"]);
    assert_eq!(
        ours.alt_text.as_deref(),
        Some("Students seated in rows in a lecture hall.")
    );
    assert_eq!(ours.orientation, 6);
}

#[test]
fn iim_and_xmp_in_sync_and_out_of_sync() {
    let dir = tempfile::tempdir().unwrap();
    let both = [
        "-codedcharacterset=utf8",
        "-IPTC:Caption-Abstract=Old caption",
        "-XMP-dc:Description=Old caption",
        "-IPTC:Credit=Old credit",
        "-XMP-photoshop:Credit=Old credit",
    ];
    let synced = tagged(dir.path(), "synced.jpg", &both);
    assert_matches_exiftool(&synced);

    // XMP edited later by an XMP-aware tool: the digest still matches the
    // IIM, so XMP wins.
    let xmp_newer = tagged(dir.path(), "xmp-newer.jpg", &both);
    exiftool(
        &[
            "-q",
            "-overwrite_original",
            "-XMP-dc:Description=New XMP caption",
        ],
        &xmp_newer,
    );
    let ours = assert_matches_exiftool(&xmp_newer);
    assert_eq!(ours.caption.as_deref(), Some("New XMP caption"));

    // IIM edited by a tool that leaves the stored digest stale: IIM wins.
    let iim_newer = tagged(dir.path(), "iim-newer.jpg", &both);
    exiftool(
        &[
            "-q",
            "-overwrite_original",
            "-IPTC:Caption-Abstract=New IIM caption",
            "-Photoshop:IPTCDigest=00112233445566778899aabbccddeeff",
        ],
        &iim_newer,
    );
    let ours = assert_matches_exiftool(&iim_newer);
    assert_eq!(ours.caption.as_deref(), Some("New IIM caption"));
}

#[test]
fn stale_bytes_after_the_xmp_trailer() {
    // An XMP packet updated in place over a longer one, as Lightroom leaves
    // it: the old packet's tail follows the new trailer, in the same APP1.
    let dir = tempfile::tempdir().unwrap();
    let path = tagged(
        dir.path(),
        "stale.jpg",
        &["-XMP-dc:Description=Fresh caption", "-XMP-dc:Creator=Ann"],
    );
    let mut bytes = std::fs::read(&path).unwrap();
    let trailer = b"<?xpacket end='w'?>";
    let at = bytes
        .windows(trailer.len())
        .position(|w| w == trailer)
        .unwrap();
    let stale = b"<?xpacket end='w'?>li>\n </rdf:Bag></mwg-rs:RegionList>";
    let padding = at - stale.len();
    assert!(bytes[padding..at].iter().all(|b| b.is_ascii_whitespace()));
    bytes[padding..at].copy_from_slice(stale);
    bytes[at..at + trailer.len()].fill(b' ');
    std::fs::write(&path, bytes).unwrap();
    let ours = assert_matches_exiftool(&path);
    assert_eq!(ours.caption.as_deref(), Some("Fresh caption"));
    assert_eq!(ours.creator, ["Ann"]);
}

#[test]
fn a_malformed_xmp_date_gives_way_to_the_iim_date() {
    // Seen in the wild (GIMP): two dates in XMP photoshop:DateCreated.
    // ExifTool passes the text through; a page must not publish it.
    // ExifTool refuses to write such a date, so the packet is written whole.
    let dir = tempfile::tempdir().unwrap();
    let packet = dir.path().join("dates.xmp");
    std::fs::write(
        &packet,
        r#"<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/"
 photoshop:DateCreated="2009-09-09T17:00:00, 2009-09-09"/></rdf:RDF></x:xmpmeta>"#,
    )
    .unwrap();
    let xmp = format!("-xmp<={}", packet.display());
    let xmp_only = tagged(dir.path(), "xmp-date.jpg", &[&xmp]);
    let both = tagged(
        dir.path(),
        "dates.jpg",
        &[
            &xmp,
            "-IPTC:DateCreated=2009:09:09",
            "-IPTC:TimeCreated=17:00:00+00:00",
        ],
    );
    assert_eq!(
        oracle(&both)["DateTimeOriginal"],
        "2009:09:09T17:00:00, 2009:09:09"
    );
    assert_eq!(
        read(&both).date_created.as_deref(),
        Some("2009-09-09T17:00:00+00:00")
    );
    assert_eq!(read(&xmp_only).date_created, None);
}

#[test]
fn png_webp_tiff_heic_and_avif_carry_the_same_fields() {
    let dir = tempfile::tempdir().unwrap();
    for name in [
        "tagged.png",
        "tagged.webp",
        "tagged.tif",
        "tagged.heic",
        "tagged.avif",
    ] {
        let path = tagged(
            dir.path(),
            name,
            &[
                "-codedcharacterset=utf8",
                "-XMP-dc:Description=Подпись 说明",
                "-XMP-dc:Creator=Анна",
                "-XMP-photoshop:Credit=Agency",
                "-XMP-iptcCore:AltTextAccessibility=Two people at a desk.",
                "-XMP-dc:Subject=键",
                "-EXIF:Orientation#=8",
                "-EXIF:Make=Canon",
            ],
        );
        let ours = assert_matches_exiftool(&path);
        assert_eq!(ours.caption.as_deref(), Some("Подпись 说明"), "{name}");
        assert_eq!(ours.orientation, 8, "{name}");
        assert_eq!(ours.camera_make.as_deref(), Some("Canon"), "{name}");
    }
    // A TIFF keeps IIM in a tag of its own (33723), typed LONG by Photoshop
    // and ExifTool.
    let iim = tagged(
        dir.path(),
        "iim.tif",
        &[
            "-codedcharacterset=utf8",
            "-IPTC:Caption-Abstract=Только IIM",
            "-IPTC:Keywords=a",
            "-IPTC:Keywords=б",
        ],
    );
    let ours = assert_matches_exiftool(&iim);
    assert_eq!(ours.keywords, ["a", "б"]);
}

/// A PNG whose XMP is a deflated iTXt chunk (ExifTool writes it plain).
fn png_with_deflated_xmp(path: &Path, xmp: &[u8]) {
    use std::io::Write;
    let mut png = Vec::new();
    image::RgbImage::from_pixel(16, 8, image::Rgb([1, 2, 3]))
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    let mut png = img_parts::png::Png::from_bytes(png.into()).unwrap();
    let mut deflate = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    deflate.write_all(xmp).unwrap();
    let mut contents = b"XML:com.adobe.xmp\0\x01\0\0\0".to_vec();
    contents.extend(deflate.finish().unwrap());
    png.chunks_mut()
        .insert(1, img_parts::png::PngChunk::new(*b"iTXt", contents.into()));
    let mut file = std::fs::File::create(path).unwrap();
    img_parts::ImageEncoder::from(png)
        .write_to(&mut file)
        .unwrap();
}

#[test]
fn deflated_xmp_in_png_is_read_and_a_bomb_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("deflated.png");
    let xmp = r#"<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">
<dc:description><rdf:Alt><rdf:li xml:lang="x-default">Сжатая подпись</rdf:li></rdf:Alt></dc:description>
</rdf:Description></rdf:RDF></x:xmpmeta>"#;
    png_with_deflated_xmp(&path, xmp.as_bytes());
    let ours = assert_matches_exiftool(&path);
    assert_eq!(ours.caption.as_deref(), Some("Сжатая подпись"));

    // The same packet padded with 20 MB of white space (deflated to 20 KB):
    // still XML, but past the 16 MB inflation limit, so not read at all.
    let bomb = dir.path().join("bomb.png");
    let mut padded = xmp.as_bytes().to_vec();
    padded.resize(padded.len() + (20 << 20), b' ');
    png_with_deflated_xmp(&bomb, &padded);
    assert_eq!(read(&bomb).caption, None);
}

#[test]
fn exif_values_win_when_present() {
    let dir = tempfile::tempdir().unwrap();
    let path = tagged(
        dir.path(),
        "exif.jpg",
        &[
            "-EXIF:ImageDescription=EXIF description",
            "-EXIF:Artist=EXIF Artist",
            "-EXIF:Copyright=EXIF Copyright",
            "-XMP-dc:Description=XMP description",
            "-EXIF:DateTimeOriginal=2024:05:16 14:30:00",
            "-EXIF:SubSecTimeOriginal=25",
            "-EXIF:OffsetTimeOriginal=+08:00",
            "-GPSLatitude=45.75",
            "-GPSLatitudeRef=N",
            "-GPSLongitude=126.65",
            "-GPSLongitudeRef=E",
        ],
    );
    let ours = assert_matches_exiftool(&path);
    assert_eq!(
        ours.date_created.as_deref(),
        Some("2024-05-16T14:30:00.25+08:00")
    );
    let gps = ours.gps.unwrap();
    assert!((gps.latitude - 45.75).abs() < 1e-6 && (gps.longitude - 126.65).abs() < 1e-6);
}

#[test]
fn mwg_creator_lists_and_iptc_extension_locations() {
    let dir = tempfile::tempdir().unwrap();
    let path = tagged(
        dir.path(),
        "mwg.jpg",
        &[
            "-use",
            "MWG",
            // Also written into EXIF Artist as one MWG string list.
            "-MWG:Creator=Jane Doe",
            "-MWG:Creator=Doe; John",
            "-MWG:Creator=\"Quoted\" 李明",
            "-XMP-photoshop:City=Harbin",
            "-XMP-photoshop:State=Heilongjiang",
            "-XMP-iptcExt:LocationShownCity=Київ",
        ],
    );
    let ours = assert_matches_exiftool(&path);
    assert_eq!(ours.creator, ["Jane Doe", "Doe; John", "\"Quoted\" 李明"]);
    // The IPTC Core property where there is one, as ExifTool's City.
    assert_eq!(ours.city.as_deref(), Some("Harbin"));
    assert_eq!(ours.state.as_deref(), Some("Heilongjiang"));

    // Else the Location Shown, as ExifTool's MWG tags read it (without
    // -struct, which hides the flattened Location Shown tags they use).
    let shown_only = tagged(
        dir.path(),
        "shown.jpg",
        &[
            "-XMP-iptcExt:LocationShownSublocation=Майдан",
            "-XMP-iptcExt:LocationShownCountryName=Україна",
            "-XMP-iptcExt:LocationShownCountryName=Polska",
        ],
    );
    let ours = read(&shown_only);
    assert_eq!(ours.country.as_deref(), Some("Україна, Polska"));
    assert_eq!(ours.sublocation.as_deref(), Some("Майдан"));
    let mwg = exiftool(&["-j", "-use", "MWG", "-MWG:all"], &shown_only);
    let mwg = serde_json::from_str::<Value>(&mwg).unwrap()[0].clone();
    assert_eq!(ours.country, text(&mwg["Country"]));
    assert_eq!(ours.sublocation, text(&mwg["Location"]));
}

#[test]
fn the_iptc_reference_image() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/iptc-ref-std2019.1.jpg");
    let ours = assert_matches_exiftool(&path);
    assert_eq!(ours.headline.as_deref(), Some("The Headline (ref2019.1)"));
    assert_eq!(ours.credit.as_deref(), Some("Credit Line (ref2019.1)"));
    assert_eq!(
        ours.caption.as_deref(),
        Some("The description aka caption (ref2019.1)")
    );
}

/// Cameras write their own name where the caption goes (EXIF, and some
/// XMP too): no caption, whichever field it is in, while a real caption
/// beside it still comes through. (ExifTool reports these names as they
/// are; Photodesk leaves them out of the slide captions it fills in.)
#[test]
fn camera_names_are_no_caption_in_any_field() {
    let dir = tempfile::tempdir().unwrap();
    let kodak = "-EXIF:ImageDescription=KODAK Digital Still Camera";
    let everywhere = tagged(
        dir.path(),
        "everywhere.jpg",
        &[
            kodak,
            "-XMP-dc:Description=KODAK Digital Still Camera   ",
            "-IPTC:Caption-Abstract=OLYMPUS DIGITAL CAMERA",
        ],
    );
    assert_eq!(read(&everywhere).caption, None);
    let real = tagged(
        dir.path(),
        "real.jpg",
        &[
            kodak,
            "-XMP-dc:Description=Ice lanterns on the Songhua river",
        ],
    );
    assert_eq!(
        read(&real).caption.as_deref(),
        Some("Ice lanterns on the Songhua river")
    );
}

/// The APP1 segments of a JPEG whose contents start with `prefix`, as
/// (start of the marker, end of the segment).
fn app1_segments(bytes: &[u8], prefix: &[u8]) -> Vec<(usize, usize)> {
    let mut found = Vec::new();
    let mut at = 2;
    while bytes[at] == 0xFF && bytes[at + 1] != 0xDA {
        let end = at + 2 + usize::from(u16::from_be_bytes([bytes[at + 2], bytes[at + 3]]));
        if bytes[at + 1] == 0xE1 && bytes[at + 4..].starts_with(prefix) {
            found.push((at, end));
        }
        at = end;
    }
    found
}

#[test]
fn extended_xmp_split_over_several_segments() {
    // Over 64 KB of XMP: ExifTool (like Photoshop) moves the largest
    // properties into an extended packet, in segments of its own.
    let dir = tempfile::tempdir().unwrap();
    // Each under Photodesk's 20,000-character cap, 130 KB together: two
    // are moved, and their packet needs two segments.
    let caption = "Жителі Києва біля станції метро. 市民在地铁站附近。".repeat(450);
    let description = format!("-XMP-dc:Description={caption}");
    let headline = format!(
        "-XMP-photoshop:Headline={}",
        "地铁站附近的市民。".repeat(1800)
    );
    let extended = format!(
        "-XMP-iptcCore:ExtDescrAccessibility={}",
        "Довгий опис натовпу для доступності. "
            .repeat(500)
            .trim_end()
    );
    let path = tagged(
        dir.path(),
        "extended.jpg",
        &[
            &description,
            &headline,
            &extended,
            "-XMP-dc:Creator=Олена Коваль",
            "-XMP-photoshop:Credit=Agency",
            "-XMP-iptcCore:AltTextAccessibility=People outside a metro station.",
        ],
    );
    let bytes = std::fs::read(&path).unwrap();
    let extension = b"http://ns.adobe.com/xmp/extension/\0";
    let parts = app1_segments(&bytes, extension);
    assert!(parts.len() >= 2, "ExifTool split the XMP: {parts:?}");
    let ours = assert_matches_exiftool(&path);
    assert_eq!(ours.caption.as_deref(), Some(caption.as_str()));
    assert!(ours.extended_description.is_some());
    assert_eq!(ours.credit.as_deref(), Some("Agency"));

    // A part missing: ExifTool and Photodesk drop the extended packet and
    // keep the main one.
    let (start, end) = parts[1];
    let mut cut = bytes.clone();
    cut.drain(start..end);
    std::fs::write(&path, &cut).unwrap();
    let ours = assert_matches_exiftool(&path);
    assert_eq!(ours.credit.as_deref(), Some("Agency"));
    assert_eq!(ours.creator, ["Олена Коваль"]);

    // A packet under another GUID than the main packet names is not read.
    let mut foreign = bytes.clone();
    for (start, _) in parts {
        let guid = start + 4 + extension.len();
        foreign[guid..guid + 32].copy_from_slice(&[b'0'; 32]);
    }
    std::fs::write(&path, &foreign).unwrap();
    let ours = assert_matches_exiftool(&path);
    assert_eq!(ours.caption, None);
}

/// Which of Headline, Credit and Source IIM and XMP give different values
/// for. ExifTool's plain tags then read whichever comes last in the file
/// (XMP in a JPEG, IIM in a TIFF); Photodesk follows the MWG's rule for
/// its reconciled tags: XMP, unless the IIM digest shows the IIM was edited
/// since.
fn disagreeing_iim_and_xmp(path: &Path) -> Vec<&'static str> {
    let json = exiftool(&["-j", "-G", "-IPTC:all", "-XMP:all"], path);
    let values = &serde_json::from_str::<Value>(&json).unwrap()[0];
    ["Headline", "Credit", "Source"]
        .into_iter()
        .filter(|field| {
            let (iim, xmp) = (
                &values[format!("IPTC:{field}")],
                &values[format!("XMP:{field}")],
            );
            !iim.is_null() && !xmp.is_null() && iim != xmp
        })
        .collect()
}

/// Deterministic xorshift: the same tag sets on every run.
struct Dice(u64);

impl Dice {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }

    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.below(from.len())]
    }
}

/// Tag sets drawn at random from the fields, values, character sets,
/// digests and formats a photo desk meets, each read as ExifTool reads it.
/// The seed is fixed; `ORACLE_CASES` sets how many (24 by default; 400
/// passed when it was written).
#[test]
fn random_tag_sets_match_exiftool() {
    const TEXTS: &[&str] = &[
        "Plain caption",
        "Путин прибыл в Харбин",
        "哈尔滨冰雪节开幕",
        "مهرجان الجليد في هاربين",
        "Two lines\nsecond line",
        "  padded  ",
        "<script>alert(1)</script> & \"quoted\" 'single'",
        "Doe; John, Jr.",
        "Ünïcödé – “smart” € ß",
        "emoji 📷 🇨🇳",
        "x",
        "a,b;c",
        "&amp; &lt;b&gt;",
        "Tab\there",
        "CR\rline",
        "Exactly forty characters long, in total.",
        "Долгий текст длиннее пределов IIM для поля, повторённый. Долгий текст длиннее пределов IIM для поля, повторённый. Долгий текст длиннее пределов IIM для поля, повторённый. Долгий текст длиннее пределов IIM для поля, повторённый. Конец.",
    ];
    const FIELDS: &[&[&str]] = &[
        &[
            "EXIF:ImageDescription",
            "IPTC:Caption-Abstract",
            "XMP-dc:Description",
        ],
        &["EXIF:Artist", "IPTC:By-line", "XMP-dc:Creator"],
        &["EXIF:Copyright", "IPTC:CopyrightNotice", "XMP-dc:Rights"],
        &["IPTC:Keywords", "XMP-dc:Subject"],
        &["IPTC:City", "XMP-photoshop:City"],
        &["IPTC:Province-State", "XMP-photoshop:State"],
        &["IPTC:Country-PrimaryLocationName", "XMP-photoshop:Country"],
        &["IPTC:Sub-location", "XMP-iptcCore:Location"],
        &["IPTC:Headline", "XMP-photoshop:Headline"],
        &["IPTC:Credit", "XMP-photoshop:Credit"],
        &["IPTC:Source", "XMP-photoshop:Source"],
        &["XMP-iptcCore:AltTextAccessibility"],
        &["XMP-iptcCore:ExtDescrAccessibility"],
        &["XMP-xmpRights:WebStatement"],
    ];
    const DATES: &[&str] = &[
        "-EXIF:DateTimeOriginal=2024:05:16 14:30:00",
        "-EXIF:OffsetTimeOriginal=+08:00",
        "-EXIF:SubSecTimeOriginal=5",
        "-IPTC:DateCreated=2023:01:02",
        "-IPTC:TimeCreated=09:08:07-05:00",
        "-XMP-photoshop:DateCreated=2022-03-04T05:06:07+01:00",
        "-XMP-photoshop:DateCreated=2021-07",
        "-XMP-exif:DateTimeOriginal=2020:12:31 23:59:59",
    ];
    let dir = tempfile::tempdir().unwrap();
    let cases: usize = std::env::var("ORACLE_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(24);
    for case in 0..cases {
        let mut dice =
            Dice(0x9E37_79B9_7F4A_7C15 ^ (case as u64 + 1).wrapping_mul(0x2545_F491_4F6C_DD1D));
        let mut args: Vec<String> = Vec::new();
        if dice.below(2) == 0 {
            args.push("-codedcharacterset=utf8".into());
        }
        let format = dice.pick(&["jpg", "jpg", "jpg", "png", "tif", "webp", "heic"]);
        for field in FIELDS {
            for tag in *field {
                // ExifTool's MWG tags ignore IIM in a PNG, where Photodesk
                // reads it (png_raw_profiles_as_imagemagick_writes_them).
                if dice.below(3) == 0 && !(format == "png" && tag.starts_with("IPTC:")) {
                    for _ in 0..=dice.below(2) {
                        args.push(format!("-{tag}={}", dice.pick(TEXTS)));
                    }
                }
            }
        }
        for date in DATES {
            if dice.below(3) == 0 && !(format == "png" && date.starts_with("-IPTC:")) {
                args.push((*date).into());
            }
        }
        if dice.below(2) == 0 {
            args.push(format!("-EXIF:Orientation#={}", 1 + dice.below(8)));
        }
        let name = format!("case-{case}.{format}");
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let path = tagged(dir.path(), &name, &refs);
        // A digest that no longer matches: the IIM was edited since.
        if dice.below(4) == 0 {
            args.push("-Photoshop:IPTCDigest=00112233445566778899aabbccddeeff".into());
            exiftool(&["-q", "-overwrite_original", &args[args.len() - 1]], &path);
        }
        eprintln!("case {case}: {args:?}");
        assert_matches_exiftool_but(&path, &disagreeing_iim_and_xmp(&path));
    }
}

/// ImageMagick's PNG text for a profile: its name, the byte count, then hex
/// digits 72 to a line.
fn imagemagick_raw_profile(name: &str, data: &[u8]) -> Vec<u8> {
    let digits = hex::encode(data);
    let lines: Vec<&str> = digits
        .as_bytes()
        .chunks(72)
        .map(|line| std::str::from_utf8(line).unwrap())
        .collect();
    format!("\n{name}\n{:8}\n{}\n", data.len(), lines.join("\n")).into_bytes()
}

#[test]
fn png_raw_profiles_as_imagemagick_writes_them() {
    // ImageMagick turns a wire JPEG into a PNG with its EXIF, XMP and IIM
    // hex-coded in text chunks; ExifTool reads them, and so must we.
    let dir = tempfile::tempdir().unwrap();
    let jpeg = tagged(
        dir.path(),
        "wire.jpg",
        &[
            "-codedcharacterset=utf8",
            "-EXIF:Artist=Олена Коваль",
            "-EXIF:Orientation#=6",
            "-XMP-dc:Description=Ледяные фонари на Сунгари",
            "-XMP-photoshop:Credit=Agency / Pool",
            "-XMP-iptcCore:AltTextAccessibility=Lanterns of ice on a frozen river.",
            "-IPTC:Headline=Ice festival",
            "-IPTC:Source=哈尔滨日报",
        ],
    );
    let block = |group: &str| {
        let output = Command::new("exiftool")
            .args(["-b", group])
            .arg(&jpeg)
            .output()
            .unwrap();
        assert!(!output.stdout.is_empty(), "{group} extracted");
        output.stdout
    };
    let mut exif = b"Exif\0\0".to_vec();
    exif.extend(block("-EXIF"));
    let (xmp, iim) = (block("-XMP"), block("-IPTC"));

    let png_path = dir.path().join("converted.png");
    let mut png = Vec::new();
    image::RgbImage::from_pixel(32, 24, image::Rgb([200, 100, 50]))
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    let mut png = img_parts::png::Png::from_bytes(png.into()).unwrap();
    let zipped = |text: Vec<u8>| {
        let mut encoder =
            flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut encoder, &text).unwrap();
        encoder.finish().unwrap()
    };
    for (kind, name, data) in [
        (*b"zTXt", "exif", exif),
        (*b"tEXt", "xmp", xmp),
        (*b"zTXt", "iptc", iim),
    ] {
        let text = imagemagick_raw_profile(name, &data);
        let mut contents = format!("Raw profile type {name}\0").into_bytes();
        if &kind == b"zTXt" {
            contents.push(0);
            contents.extend(zipped(text));
        } else {
            contents.extend(text);
        }
        let at = png.chunks().len() - 1;
        png.chunks_mut()
            .insert(at, img_parts::png::PngChunk::new(kind, contents.into()));
    }
    let mut file = std::fs::File::create(&png_path).unwrap();
    png.encoder().write_to(&mut file).unwrap();

    let ours = assert_matches_exiftool(&png_path);
    assert_eq!(ours.creator, ["Олена Коваль"]);
    assert_eq!(ours.orientation, 6);
    assert_eq!(ours.caption.as_deref(), Some("Ледяные фонари на Сунгари"));
    assert_eq!(ours.credit.as_deref(), Some("Agency / Pool"));
    assert_eq!(
        ours.alt_text.as_deref(),
        Some("Lanterns of ice on a frozen river.")
    );
    assert_eq!(ours.headline.as_deref(), Some("Ice festival"));
    assert_eq!(ours.source.as_deref(), Some("哈尔滨日报"));

    // IIM has no standard place in a PNG: ExifTool's MWG tags ignore it,
    // where Photodesk keeps a caption found only there.
    let iim_only = tagged(
        dir.path(),
        "iim-only.png",
        &[
            "-codedcharacterset=utf8",
            "-IPTC:Caption-Abstract=Только IIM",
            "-IPTC:City=Київ",
        ],
    );
    let ours = read(&iim_only);
    assert_eq!(oracle(&iim_only)["Description"], Value::Null);
    assert_eq!(
        exiftool(&["-s3", "-IPTC:Caption-Abstract"], &iim_only).trim(),
        "Только IIM"
    );
    assert_eq!(ours.caption.as_deref(), Some("Только IIM"));
    assert_eq!(ours.city.as_deref(), Some("Київ"));
}

#[test]
fn copyright_parts_line_ends_and_fields_only_xmp_has() {
    let dir = tempfile::tempdir().unwrap();
    // EXIF keeps the photographer's and the editor's notices NUL apart.
    for (notice, expected) in [
        ("© Ann Lee\n© Daily News", "© Ann Lee\n© Daily News"),
        (" \n© Daily News", "© Daily News"),
        ("© Ann Lee", "© Ann Lee"),
    ] {
        let path = tagged(
            dir.path(),
            "copyright.jpg",
            &[&format!("-EXIF:Copyright={notice}")],
        );
        let ours = assert_matches_exiftool(&path);
        assert_eq!(ours.copyright.as_deref(), Some(expected), "{notice:?}");
    }

    // An IIM caption typed with CR line ends, and XMP holding a headline
    // and credit the IIM lacks, after the IIM was edited by a tool that
    // ignores XMP (its digest no longer matches).
    let path = tagged(
        dir.path(),
        "edited.jpg",
        &[
            "-IPTC:Caption-Abstract=First line\rsecond line\r\nthird",
            "-XMP-dc:Description=Stale XMP caption",
            "-XMP-photoshop:Headline=Only in XMP",
            "-XMP-photoshop:Credit=XMP credit",
            "-Photoshop:IPTCDigest=00112233445566778899aabbccddeeff",
        ],
    );
    let ours = assert_matches_exiftool(&path);
    assert_eq!(
        ours.caption.as_deref(),
        Some("First line\nsecond line\nthird")
    );
    assert_eq!(ours.headline.as_deref(), Some("Only in XMP"));
    assert_eq!(ours.credit.as_deref(), Some("XMP credit"));
}
