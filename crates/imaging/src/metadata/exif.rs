//! EXIF through kamadak-exif: the fields Photodesk uses, as plain values.

use exif::{In, Reader, Tag, Value};
use photodesk_types::Gps;

#[derive(Debug, Default, PartialEq)]
pub struct ExifFields {
    pub orientation: Option<u8>,
    /// ISO 8601, with the fraction and offset when the file gives them.
    pub date_taken: Option<String>,
    pub make: Option<String>,
    pub model: Option<String>,
    pub lens: Option<String>,
    pub artist: Option<String>,
    pub copyright: Option<String>,
    pub description: Option<String>,
    pub gps: Option<Gps>,
}

/// Reads the TIFF structure of an EXIF block; `None` if it is not valid.
pub fn parse(tiff: &[u8]) -> Result<ExifFields, String> {
    let exif = Reader::new()
        .read_raw(tiff.to_vec())
        .map_err(|e| e.to_string())?;
    Ok(fields(&exif))
}

/// The fields Photodesk uses, from EXIF already read.
pub fn fields(exif: &exif::Exif) -> ExifFields {
    // The NUL-terminated strings of an ASCII field.
    let strings = |tag: Tag| -> &[Vec<u8>] {
        match exif.get_field(tag, In::PRIMARY).map(|field| &field.value) {
            Some(Value::Ascii(strings)) => strings,
            _ => &[],
        }
    };
    // Only the first string counts, as in ExifTool: cameras leave stale
    // bytes after it (a Nokia N9 writes "Nokia\02").
    let text = |tag: Tag| joined(strings(tag).iter().take(1));
    let orientation = exif
        .get_field(Tag::Orientation, In::PRIMARY)
        .and_then(|f| f.value.get_uint(0))
        .and_then(|v| u8::try_from(v).ok())
        .filter(|v| (1..=8).contains(v));
    let date_taken = text(Tag::DateTimeOriginal).and_then(|date| {
        date_taken(
            &date,
            text(Tag::SubSecTimeOriginal).as_deref(),
            text(Tag::OffsetTimeOriginal).as_deref(),
        )
    });
    ExifFields {
        orientation,
        date_taken,
        make: text(Tag::Make),
        model: text(Tag::Model),
        lens: text(Tag::LensModel).or_else(|| canon_lens(exif)),
        artist: text(Tag::Artist),
        // The photographer's notice, then the editor's (" \0editor" when
        // there is only the editor's): joined by a line break, as ExifTool
        // reads them.
        copyright: joined(strings(Tag::Copyright).iter().take(2)),
        description: text(Tag::ImageDescription),
        gps: gps(exif),
    }
}

/// EXIF strings as one text, a line each, without the blanks around them.
fn joined<'a>(strings: impl Iterator<Item = &'a Vec<u8>>) -> Option<String> {
    let lines: Vec<String> = strings
        .map(|bytes| String::from_utf8_lossy(bytes).trim().to_owned())
        .filter(|line| !line.is_empty())
        .collect();
    (!lines.is_empty()).then(|| lines.join("\n"))
}

/// Canon bodies before about 2010 name the lens only in their maker note
/// (tag 0x0095, as ExifTool reads it): an IFD in the file's byte order whose
/// offsets count from the TIFF header. Other makers' notes hold lens IDs
/// that need a lens database, which we do not keep.
fn canon_lens(exif: &exif::Exif) -> Option<String> {
    const LENS_MODEL: usize = 0x0095;
    const ASCII: usize = 2;
    let make = exif.get_field(Tag::Make, In::PRIMARY)?;
    if !make.display_value().to_string().contains("Canon") {
        return None;
    }
    let Value::Undefined(_, at) = exif.get_field(Tag::MakerNote, In::PRIMARY)?.value else {
        return None;
    };
    let tiff = exif.buf();
    let little = exif.little_endian();
    // An unsigned number of `len` bytes at `at`, in the file's byte order.
    let number = |at: usize, len: usize| -> Option<usize> {
        let bytes = tiff.get(at..at.checked_add(len)?)?;
        let fold = |n: usize, &b: &u8| n << 8 | usize::from(b);
        Some(if little {
            bytes.iter().rev().fold(0, fold)
        } else {
            bytes.iter().fold(0, fold)
        })
    };
    let at = at as usize;
    let entries = number(at, 2)?;
    let entry = (0..entries)
        .map(|i| at + 2 + 12 * i)
        .find(|&entry| number(entry, 2) == Some(LENS_MODEL))?;
    let count = number(entry + 4, 4)?;
    if number(entry + 2, 2)? != ASCII || count <= 4 {
        return None;
    }
    let start = number(entry + 8, 4)?;
    let value = tiff.get(start..start.checked_add(count)?)?;
    let name = value.split(|&b| b == 0).next()?;
    let name = String::from_utf8_lossy(name);
    let name = name.trim();
    (!name.is_empty()).then(|| name.to_owned())
}

/// The moment of capture as ExifTool's `SubSecDateTimeOriginal` gives it
/// (the MWG date): `DateTimeOriginal` with the leading digits of
/// `SubSecTimeOriginal` as a fraction and `OffsetTimeOriginal` as the zone,
/// e.g. `2018-07-25T16:34:23.935+02:00`. Bursts of frames within one second
/// keep their order this way.
fn date_taken(date: &str, subsec: Option<&str>, offset: Option<&str>) -> Option<String> {
    let mut iso = exif_date_to_iso(date)?;
    let fraction: String = subsec
        .unwrap_or_default()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    if !fraction.is_empty() {
        iso.push('.');
        iso.push_str(&fraction);
    }
    if let Some(zone) = offset.and_then(utc_offset) {
        iso.push_str(&zone);
    }
    Some(iso)
}

/// `+2:00` or `+02:00` → `+02:00`, as ExifTool normalises OffsetTime.
fn utc_offset(offset: &str) -> Option<String> {
    let (sign, rest) = offset.split_at_checked(1)?;
    let (hours, minutes) = rest.split_once(':')?;
    let minutes = minutes.get(..2)?;
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let hours_ok = (1..=2).contains(&hours.len()) && digits(hours);
    (matches!(sign, "+" | "-") && hours_ok && digits(minutes))
        .then(|| format!("{sign}{hours:0>2}:{minutes}"))
}

/// `2019:10:16 19:01:00` → `2019-10-16T19:01:00`.
fn exif_date_to_iso(date: &str) -> Option<String> {
    let b = date.as_bytes();
    let shape_ok = b.len() >= 19
        && b[4] == b':'
        && b[7] == b':'
        && b[13] == b':'
        && b[16] == b':'
        && [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18]
            .iter()
            .all(|&i| b[i].is_ascii_digit());
    (shape_ok && &date[..4] != "0000").then(|| {
        format!(
            "{}-{}-{}T{}",
            &date[..4],
            &date[5..7],
            &date[8..10],
            &date[11..19]
        )
    })
}

fn gps(exif: &exif::Exif) -> Option<Gps> {
    let degrees = |tag: Tag, reference: Tag, negative: u8| -> Option<f64> {
        let Value::Rational(ref parts) = exif.get_field(tag, In::PRIMARY)?.value else {
            return None;
        };
        if parts.len() < 3 || parts.iter().any(|r| r.denom == 0) {
            return None;
        }
        let value = parts[0].to_f64() + parts[1].to_f64() / 60.0 + parts[2].to_f64() / 3600.0;
        let sign = match exif.get_field(reference, In::PRIMARY)?.value {
            Value::Ascii(ref r) if r.first().and_then(|s| s.first()) == Some(&negative) => -1.0,
            _ => 1.0,
        };
        Some(sign * value)
    };
    let latitude = degrees(Tag::GPSLatitude, Tag::GPSLatitudeRef, b'S')?;
    let longitude = degrees(Tag::GPSLongitude, Tag::GPSLongitudeRef, b'W')?;
    ((-90.0..=90.0).contains(&latitude) && (-180.0..=180.0).contains(&longitude)).then_some(Gps {
        latitude,
        longitude,
    })
}

#[cfg(test)]
mod tests {
    use super::{date_taken, exif_date_to_iso, parse};

    /// A TIFF from a camera: Make as the bytes given, and an EXIF IFD whose
    /// maker note is an IFD naming the lens (tag 0x0095) in a 64-byte field,
    /// as Canon's EOS 1000D writes it; in either byte order.
    fn camera_tiff(little: bool, make: &[u8], lens: &str) -> Vec<u8> {
        let u16b = |v: u16| {
            if little {
                v.to_le_bytes()
            } else {
                v.to_be_bytes()
            }
        };
        let u32b = |v: u32| {
            if little {
                v.to_le_bytes()
            } else {
                v.to_be_bytes()
            }
        };
        let entry = |tiff: &mut Vec<u8>, tag: u16, kind: u16, count: u32, value: u32| {
            tiff.extend(u16b(tag));
            tiff.extend(u16b(kind));
            tiff.extend(u32b(count));
            tiff.extend(u32b(value));
        };
        let (make_at, exif_at) = (38, 38 + make.len() as u32);
        let note_at = exif_at + 18;
        let lens_at = note_at + 18;
        let mut tiff = if little {
            b"II*\0".to_vec()
        } else {
            b"MM\0*".to_vec()
        };
        tiff.extend(u32b(8));
        tiff.extend(u16b(2));
        entry(&mut tiff, 0x010f, 2, make.len() as u32, make_at);
        entry(&mut tiff, 0x8769, 4, 1, exif_at);
        tiff.extend(u32b(0));
        tiff.extend(make);
        tiff.extend(u16b(1));
        entry(&mut tiff, 0x927c, 7, 18 + 64, note_at);
        tiff.extend(u32b(0));
        tiff.extend(u16b(1));
        entry(&mut tiff, 0x0095, 2, 64, lens_at);
        tiff.extend(u32b(0));
        let mut field = lens.as_bytes().to_vec();
        field.resize(64, 0);
        tiff.extend(field);
        tiff
    }

    #[test]
    fn a_canon_maker_note_names_the_lens() {
        for little in [true, false] {
            let lens = |make: &[u8]| {
                parse(&camera_tiff(little, make, "EF-S18-55mm f/3.5-5.6 IS"))
                    .unwrap()
                    .lens
            };
            assert_eq!(
                lens(b"Canon\0").as_deref(),
                Some("EF-S18-55mm f/3.5-5.6 IS")
            );
            // Another maker's note is not read as Canon's.
            assert_eq!(lens(b"NIKON CORPORATION\0"), None);
        }
        let empty = parse(&camera_tiff(true, b"Canon\0", "")).unwrap();
        assert_eq!(empty.lens, None);
    }

    #[test]
    fn ascii_values_end_at_the_first_nul() {
        let make = |value: &[u8]| parse(&camera_tiff(true, value, "")).unwrap().make;
        assert_eq!(make(b"Nokia\x002").as_deref(), Some("Nokia"));
        assert_eq!(make(b"  Canon  \0").as_deref(), Some("Canon"));
        assert_eq!(make(b"\0Stale\0"), None);
    }

    #[test]
    fn sub_seconds_and_offset_join_the_date_as_exiftool_joins_them() {
        let date = "2018:07:25 16:34:23";
        for (subsec, offset, expected) in [
            (None, None, "2018-07-25T16:34:23"),
            (Some("935476"), None, "2018-07-25T16:34:23.935476"),
            (Some("00"), Some("+02:00"), "2018-07-25T16:34:23.00+02:00"),
            (Some("12 "), Some("-5:30"), "2018-07-25T16:34:23.12-05:30"),
            (Some("ab"), Some("+0200"), "2018-07-25T16:34:23"),
            (None, Some("Z"), "2018-07-25T16:34:23"),
        ] {
            assert_eq!(
                date_taken(date, subsec, offset).as_deref(),
                Some(expected),
                "{subsec:?} {offset:?}"
            );
        }
        assert_eq!(date_taken("not a date", Some("1"), None), None);
    }

    #[test]
    fn exif_dates_become_iso() {
        assert_eq!(
            exif_date_to_iso("2019:10:16 19:01:00").as_deref(),
            Some("2019-10-16T19:01:00")
        );
        for bad in [
            "",
            "0000:00:00 00:00:00",
            "2019-10-16 19:01:00",
            "    :  :     :  :  ",
        ] {
            assert_eq!(exif_date_to_iso(bad), None, "{bad:?}");
        }
    }
}
