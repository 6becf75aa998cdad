use super::*;

#[test]
fn iim_dates_become_iso() {
    assert_eq!(
        iim_date("20191016", Some("190100+0200")).as_deref(),
        Some("2019-10-16T19:01:00+02:00")
    );
    assert_eq!(
        iim_date("20191016", Some("190100")).as_deref(),
        Some("2019-10-16T19:01:00")
    );
    assert_eq!(iim_date("20191016", None).as_deref(), Some("2019-10-16"));
    assert_eq!(iim_date("2019-10-16", None), None);
}

#[test]
fn only_well_formed_xmp_dates_are_dates() {
    for good in [
        "2009",
        "2009-09",
        "2009-09-09",
        "2009-09-09T17:00",
        "2009-09-09T17:00:00",
        "2009-09-09T17:00:00.25+02:00",
        "2009-09-09T17:00Z",
        "2009-09-09T17:00:00-05:00",
    ] {
        assert!(is_xmp_date(good), "{good}");
    }
    for bad in [
        "",
        "2009-09-09T17:00:00, 2009-09-09",
        "2009:09:09",
        "09-09-2009",
        "2009-9-9",
        "2009-09-09T",
        "2009-09-09T17",
        "2009-09-09T17:00.5",
        "2009-09-09T17:00:00.",
        "2009-09-09T17:00:00+0200",
        "2009-09-09T17:00:00X",
        "yesterday",
    ] {
        assert!(!is_xmp_date(bad), "{bad}");
    }
}

#[test]
fn fields_are_trimmed_capped_and_empty_means_absent() {
    assert_eq!(clean("  \0 "), None);
    assert_eq!(clean(" a\0b ").as_deref(), Some("ab"));
    assert_eq!(
        clean(&"é".repeat(MAX_FIELD_CHARS + 5))
            .unwrap()
            .chars()
            .count(),
        MAX_FIELD_CHARS
    );
}

#[test]
fn camera_names_are_not_captions() {
    assert!(is_camera_boilerplate("OLYMPUS DIGITAL CAMERA         "));
    assert!(!is_camera_boilerplate("Colorful cups. Aarhus, Denmark."));
}

#[test]
fn files_without_metadata_and_garbage_give_defaults() {
    assert_eq!(
        read_metadata(bytes::Bytes::from_static(b"")),
        PhotoMetadata {
            orientation: 1,
            ..Default::default()
        }
    );
    assert_eq!(
        read_metadata(bytes::Bytes::from_static(b"\xFF\xD8\xFF\xE1\x00\x02")),
        PhotoMetadata {
            orientation: 1,
            ..Default::default()
        }
    );
}

/// A JPEG of metadata only: SOI, one APP1 segment (`signature` then
/// `payload`), EOI.
fn jpeg_with_app1(signature: &[u8], payload: &[u8]) -> bytes::Bytes {
    jpeg_with_segment(0xE1, signature, payload)
}

/// A JPEG of metadata only: SOI, one segment `marker` (`signature` then
/// `payload`), EOI.
fn jpeg_with_segment(marker: u8, signature: &[u8], payload: &[u8]) -> bytes::Bytes {
    let length = u16::try_from(signature.len() + payload.len() + 2).unwrap();
    let mut jpeg = vec![0xFF, 0xD8, 0xFF, marker];
    jpeg.extend_from_slice(&length.to_be_bytes());
    jpeg.extend_from_slice(signature);
    jpeg.extend_from_slice(payload);
    jpeg.extend_from_slice(&[0xFF, 0xD9]);
    jpeg.into()
}

fn jpeg_with_xmp(packet: &str) -> bytes::Bytes {
    jpeg_with_app1(b"http://ns.adobe.com/xap/1.0/\0", packet.as_bytes())
}

/// `problems` is one problem, which starts with `start`.
fn assert_one_problem(problems: &[String], start: &str) {
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].starts_with(start), "{problems:?}");
}

#[test]
fn an_xmp_packet_that_is_not_xml_is_reported_not_just_skipped() {
    let packet = r#"<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" dc:description="Ice lanterns"/></rdf:RDF></x:xmpmeta>"#;
    let (metadata, problems) = read_metadata_and_problems(jpeg_with_xmp(packet));
    assert_eq!(metadata.caption.as_deref(), Some("Ice lanterns"));
    assert_eq!(problems, Vec::<String>::new());

    let cut = &packet[..packet.len() - 40];
    let (metadata, problems) = read_metadata_and_problems(jpeg_with_xmp(cut));
    assert_eq!(metadata.caption, None);
    assert_one_problem(&problems, "its XMP metadata is not well-formed XML (");
    // No XMP at all is nothing to report.
    assert!(
        read_metadata_and_problems(bytes::Bytes::from_static(b"\xFF\xD8\xFF\xD9"))
            .1
            .is_empty()
    );
}

#[test]
fn an_exif_block_that_cannot_be_read_is_reported() {
    // A big-endian TIFF header whose first IFD claims five entries and ends.
    let truncated = b"MM\0*\0\0\0\x08\0\x05\x01\x12";
    let (metadata, problems) = read_metadata_and_problems(jpeg_with_app1(b"Exif\0\0", truncated));
    assert_eq!(metadata.orientation, 1);
    assert_one_problem(&problems, "its EXIF metadata could not be read (");
}

#[test]
fn a_damaged_iim_block_is_reported_and_its_first_fields_kept() {
    let mut iim = vec![0x1C, 2, iptc::CAPTION, 0, 5];
    iim.extend_from_slice(b"Ships");
    // A credit that claims 200 bytes where 3 remain.
    iim.extend_from_slice(&[0x1C, 2, iptc::CREDIT, 0, 200, b'A', b'g', b'e']);
    // One Photoshop image resource (8BIM, id 0x0404, empty name) holding it.
    let mut resources = b"8BIM\x04\x04\0\0".to_vec();
    resources.extend_from_slice(&u32::try_from(iim.len()).unwrap().to_be_bytes());
    resources.extend_from_slice(&iim);
    let jpeg = jpeg_with_segment(0xED, b"Photoshop 3.0\0", &resources);
    let (metadata, problems) = read_metadata_and_problems(jpeg);
    assert_eq!(metadata.caption.as_deref(), Some("Ships"));
    assert_eq!(metadata.credit, None);
    assert_one_problem(&problems, "its IPTC (IIM) metadata is cut short or damaged");
}

#[test]
fn an_exif_artist_list_splits_as_the_mwg_writes_it() {
    for (artist, items) in [
        ("Jane Doe", &["Jane Doe"][..]),
        ("Jane Doe; 李明", &["Jane Doe", "李明"]),
        (r#""Doe; Jane"; John"#, &["Doe; Jane", "John"]),
        (r#""He said ""hi"""; B"#, &[r#"He said "hi""#, "B"]),
        ("A;B", &["A;B"]),
    ] {
        assert_eq!(mwg_string_list(artist), items, "{artist}");
    }
}
