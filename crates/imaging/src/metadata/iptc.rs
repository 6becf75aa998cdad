//! IPTC IIM (the APP13 "IPTC-NAA" record). A simple tagged format with no
//! well-kept Rust reader, hence this one: datasets `0x1C record dataset
//! length value`, text in the character set that dataset 1:90 declares.
//! Damage (a length running past the end) stops the reading and is
//! reported; the fields before it are kept.

use std::collections::BTreeMap;

/// Record 2 datasets by number, values in file order (some repeat).
#[derive(Debug, Default, PartialEq)]
pub struct Iim {
    values: BTreeMap<u8, Vec<String>>,
    /// What was wrong with the block, in words for the person ingesting;
    /// the datasets before the damage are kept.
    pub problems: Vec<String>,
}

pub const OBJECT_NAME: u8 = 5;
pub const KEYWORDS: u8 = 25;
pub const DATE_CREATED: u8 = 55;
pub const TIME_CREATED: u8 = 60;
pub const BY_LINE: u8 = 80;
pub const CITY: u8 = 90;
pub const SUBLOCATION: u8 = 92;
pub const PROVINCE_STATE: u8 = 95;
pub const COUNTRY_CODE: u8 = 100;
pub const COUNTRY: u8 = 101;
pub const HEADLINE: u8 = 105;
pub const CREDIT: u8 = 110;
pub const SOURCE: u8 = 115;
pub const COPYRIGHT: u8 = 116;
pub const CAPTION: u8 = 120;

/// ISO 2022 escape sequence for UTF-8 in dataset 1:90.
const UTF8_MARKER: &[u8] = b"\x1b%G";

impl Iim {
    pub fn parse(mut data: &[u8]) -> Iim {
        let mut utf8 = false;
        let mut raw: Vec<(u8, &[u8])> = Vec::new();
        while data.len() >= 5 && data[0] == 0x1C {
            let (record, dataset) = (data[1], data[2]);
            let declared = u16::from_be_bytes([data[3], data[4]]);
            let (length, header) = if declared & 0x8000 == 0 {
                (usize::from(declared), 5)
            } else {
                // Extended dataset: the low bits give how many length bytes follow.
                let count = usize::from(declared & 0x7FFF);
                let Some(bytes) = data.get(5..5 + count).filter(|_| count <= 4) else {
                    break;
                };
                (
                    bytes.iter().fold(0usize, |n, &b| (n << 8) | usize::from(b)),
                    5 + count,
                )
            };
            let Some(value) = data.get(header..header.saturating_add(length)) else {
                break;
            };
            match (record, dataset) {
                (1, 90) => utf8 = value.starts_with(UTF8_MARKER),
                (2, dataset) if dataset != 0 => raw.push((dataset, value)),
                _ => {}
            }
            data = &data[header + length..];
        }
        let mut problems = Vec::new();
        // Writers pad the block with NULs; anything else left is damage.
        if data.iter().any(|&b| b != 0) {
            let read = match raw.len() {
                1 => "1 field".to_owned(),
                n => format!("{n} fields"),
            };
            problems.push(format!(
                "its IPTC (IIM) metadata is cut short or damaged: \
                 only the {read} before the damage could be read"
            ));
        }
        let mut values: BTreeMap<u8, Vec<String>> = BTreeMap::new();
        for (dataset, value) in raw {
            let value = trim_nuls(value);
            let text = match std::str::from_utf8(value) {
                Ok(text) if utf8 => text.to_owned(),
                // Declared UTF-8 but not: a tool set 1:90 and left the
                // older values as they were, in Windows-1252 (ExifTool
                // passes such bytes through undecoded).
                _ => encoding_rs::WINDOWS_1252
                    .decode_without_bom_handling(value)
                    .0
                    .into_owned(),
            };
            values.entry(dataset).or_default().push(text);
        }
        Iim { values, problems }
    }

    pub fn first(&self, dataset: u8) -> Option<&str> {
        self.values.get(&dataset)?.first().map(String::as_str)
    }

    pub fn all(&self, dataset: u8) -> Vec<String> {
        self.values.get(&dataset).cloned().unwrap_or_default()
    }
}

fn trim_nuls(value: &[u8]) -> &[u8] {
    let end = value.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    &value[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dataset(record: u8, number: u8, value: &[u8]) -> Vec<u8> {
        let mut out = vec![0x1C, record, number];
        out.extend_from_slice(&(value.len() as u16).to_be_bytes());
        out.extend_from_slice(value);
        out
    }

    #[test]
    fn utf8_is_used_only_when_declared() {
        let caption = "Путин в Харбине 哈尔滨";
        let mut utf8 = dataset(1, 90, UTF8_MARKER);
        utf8.extend(dataset(2, CAPTION, caption.as_bytes()));
        utf8.extend(dataset(2, KEYWORDS, b"one"));
        utf8.extend(dataset(2, KEYWORDS, b"two\0"));
        let iim = Iim::parse(&utf8);
        assert_eq!(iim.first(CAPTION), Some(caption));
        assert_eq!(iim.all(KEYWORDS), ["one", "two"]);

        let latin = dataset(2, CAPTION, b"Caf\xe9 \x80 \x96");
        assert_eq!(Iim::parse(&latin).first(CAPTION), Some("Café € –"));
    }

    #[test]
    fn hostile_lengths_stop_parsing_without_panicking() {
        let mut data = dataset(2, CAPTION, b"ok");
        data.extend_from_slice(&[0x1C, 2, CREDIT, 0xFF, 0xFF]);
        data.extend_from_slice(&[0x1C, 2, CREDIT, 0x80, 0x09, 1]);
        let iim = Iim::parse(&data);
        assert_eq!(iim.first(CAPTION), Some("ok"));
        assert_eq!(iim.first(CREDIT), None);
        assert_eq!(iim.problems.len(), 1, "{:?}", iim.problems);
        assert!(iim.problems[0].contains("only the 1 field before the damage"));
        for cut in 0..data.len() {
            Iim::parse(&data[..cut]);
        }
    }

    #[test]
    fn padding_is_no_problem() {
        let mut padded = dataset(2, CAPTION, b"ok");
        padded.extend_from_slice(&[0, 0, 0]);
        assert_eq!(Iim::parse(&padded).problems, Vec::<String>::new());
    }

    #[test]
    fn values_left_in_windows_1252_under_a_utf8_declaration_are_read() {
        let mut mixed = dataset(1, 90, UTF8_MARKER);
        mixed.extend(dataset(2, COPYRIGHT, b"\xa9 2010 Big Newspaper"));
        mixed.extend(dataset(2, CAPTION, "Київ".as_bytes()));
        let iim = Iim::parse(&mixed);
        assert_eq!(iim.first(COPYRIGHT), Some("© 2010 Big Newspaper"));
        assert_eq!(iim.first(CAPTION), Some("Київ"));
        assert_eq!(iim.problems, Vec::<String>::new());
    }
}
