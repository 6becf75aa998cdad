//! EXIF through kamadak-exif: the fields Photodesk uses, as plain values.

use exif::{In, Reader, Tag, Value};
use photodesk_types::Gps;

#[derive(Debug, Default, PartialEq)]
pub struct ExifFields {
    pub orientation: Option<u8>,
    /// ISO 8601, with the offset when the file gives one.
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
pub fn parse(tiff: &[u8]) -> Option<ExifFields> {
    let exif = Reader::new().read_raw(tiff.to_vec()).ok()?;
    let text = |tag: Tag| -> Option<String> {
        let field = exif.get_field(tag, In::PRIMARY)?;
        // Only the first NUL-terminated string counts, as in ExifTool:
        // cameras leave stale bytes after it (a Nokia N9 writes "Nokia\02").
        let Value::Ascii(ref parts) = field.value else {
            return None;
        };
        let first = String::from_utf8_lossy(parts.first()?);
        let trimmed = first.trim_matches(|c: char| c == '\0' || c.is_whitespace());
        (!trimmed.is_empty()).then(|| trimmed.to_owned())
    };
    let orientation = exif
        .get_field(Tag::Orientation, In::PRIMARY)
        .and_then(|f| f.value.get_uint(0))
        .and_then(|v| u8::try_from(v).ok())
        .filter(|v| (1..=8).contains(v));
    let date_taken = text(Tag::DateTimeOriginal).and_then(|date| {
        let iso = exif_date_to_iso(&date)?;
        Some(match text(Tag::OffsetTimeOriginal) {
            Some(offset) if offset.len() == 6 => format!("{iso}{offset}"),
            _ => iso,
        })
    });
    Some(ExifFields {
        orientation,
        date_taken,
        make: text(Tag::Make),
        model: text(Tag::Model),
        lens: text(Tag::LensModel),
        artist: text(Tag::Artist),
        copyright: text(Tag::Copyright),
        description: text(Tag::ImageDescription),
        gps: gps(&exif),
    })
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
    use super::{exif_date_to_iso, parse};

    /// A little-endian TIFF with one IFD holding Make as `value`.
    fn tiff_with_make(value: &[u8]) -> Vec<u8> {
        let mut tiff = b"II*\0\x08\0\0\0\x01\0".to_vec();
        tiff.extend_from_slice(&0x010f_u16.to_le_bytes());
        tiff.extend_from_slice(&2_u16.to_le_bytes()); // ASCII
        tiff.extend_from_slice(&(value.len() as u32).to_le_bytes());
        tiff.extend_from_slice(&26_u32.to_le_bytes()); // value offset
        tiff.extend_from_slice(&0_u32.to_le_bytes()); // no next IFD
        tiff.extend_from_slice(value);
        tiff
    }

    #[test]
    fn ascii_values_end_at_the_first_nul() {
        let make = |value: &[u8]| parse(&tiff_with_make(value)).unwrap().make;
        assert_eq!(make(b"Nokia\x002").as_deref(), Some("Nokia"));
        assert_eq!(make(b"  Canon  \0").as_deref(), Some("Canon"));
        assert_eq!(make(b"\0Stale\0"), None);
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
