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
