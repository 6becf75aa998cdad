//! Caption, credit and the rest, read from EXIF, IPTC IIM and XMP and
//! reconciled as the Metadata Working Group (and ExifTool's MWG tags) do:
//!
//! - a non-blank EXIF value (ImageDescription, Artist, Copyright, date taken)
//!   wins;
//! - otherwise XMP wins, unless the file has IIM whose MD5 no longer equals
//!   the digest an XMP-aware writer stored (Photoshop resource 0x0425): then
//!   the IIM was edited later by a tool that ignores XMP, and IIM wins (taking
//!   XMP only where IIM is a truncated copy of it).
//!
//! Alt text and extended description exist only in XMP (IPTC Core 1.3).

mod container;
mod exif;
mod iptc;
mod xmp;

use iptc::Iim;
use md5::{Digest, Md5};
use photodesk_types::PhotoMetadata;
use xmp::{Xmp, AUX, DC, EXIF_EX, IPTC_CORE, IPTC_EXT, PHOTOSHOP, TIFF, XMP_RIGHTS};

/// Longest text kept from any one field; hostile files can carry megabytes.
const MAX_FIELD_CHARS: usize = 20_000;
const MAX_LIST_ITEMS: usize = 200;

/// Which source to trust, decided once per file.
struct Sources {
    iim: Option<Iim>,
    xmp: Xmp,
    /// XMP is authoritative: there is no IIM, or its digest still matches.
    xmp_in_sync: bool,
}

impl Sources {
    fn text(
        &self,
        exif: Option<&str>,
        dataset: u8,
        xmp: Option<&str>,
        iim_limit: usize,
    ) -> Option<String> {
        if let Some(value) = exif.and_then(clean) {
            return Some(value);
        }
        let xmp = xmp.and_then(clean);
        let Some(iim) = &self.iim else {
            return xmp;
        };
        if xmp.is_some() && self.xmp_in_sync {
            return xmp;
        }
        // IIM is authoritative here; XMP only restores what IIM's length
        // limit cut off.
        let iim_value = iim.first(dataset).and_then(clean);
        match (iim_value, xmp) {
            (Some(iim), Some(xmp)) if iim.chars().count() == iim_limit && xmp.starts_with(&iim) => {
                Some(xmp)
            }
            (iim, _) => iim,
        }
    }

    /// A field outside the MWG's reconciled set (headline, credit…), which
    /// ExifTool reads from whichever of IIM and XMP has it: IIM that is
    /// authoritative but lacks the field leaves the XMP value standing.
    fn iptc_text(&self, dataset: u8, xmp: Option<&str>, iim_limit: usize) -> Option<String> {
        self.text(None, dataset, xmp, iim_limit)
            .or_else(|| xmp.and_then(clean))
    }

    fn list(&self, exif: Option<&str>, dataset: u8, xmp: Vec<String>) -> Vec<String> {
        if let Some(value) = exif.and_then(clean) {
            return clean_list(mwg_string_list(&value));
        }
        let xmp = clean_list(xmp);
        match &self.iim {
            None => xmp,
            Some(_) if !xmp.is_empty() && self.xmp_in_sync => xmp,
            Some(iim) => clean_list(iim.all(dataset)),
        }
    }
}

/// Reads everything Photodesk uses from a photo's metadata. Never fails:
/// unreadable blocks simply contribute nothing.
pub fn read_metadata(bytes: bytes::Bytes) -> PhotoMetadata {
    read_metadata_and_problems(bytes).0
}

/// [`read_metadata`], and what could not be read, in words for the person
/// ingesting: a caption or credit that silently vanished (a damaged XMP
/// packet) is worse than one reported missing.
pub fn read_metadata_and_problems(bytes: bytes::Bytes) -> (PhotoMetadata, Vec<String>) {
    let blocks = container::find_blocks(bytes);
    let mut problems = Vec::new();
    let exif = readable(blocks.exif, &mut problems, |err| {
        format!("its EXIF metadata could not be read ({err}), so its orientation, date and camera were not")
    });
    let xmp_in_sync = match (&blocks.iim, blocks.iim_digest) {
        (Some(iim), Some(stored)) => Md5::digest(iim).as_slice() == stored,
        _ => true,
    };
    let iim = blocks.iim.as_deref().map(Iim::parse);
    problems.extend(iim.iter().flat_map(|iim| iim.problems.iter().cloned()));
    let mut xmp = readable(
        blocks.xmp.as_deref().map(Xmp::parse),
        &mut problems,
        |err| format!("its XMP metadata is not well-formed XML ({err}), so none of it was read"),
    );
    if let Err(err) = xmp.add_extension(&blocks.xmp_extensions) {
        problems.push(format!(
            "its extended XMP metadata is not well-formed XML ({err}), so the fields kept there were not read"
        ));
    }
    let sources = Sources {
        iim,
        xmp,
        xmp_in_sync,
    };
    let x = &sources.xmp;
    let description = exif
        .description
        .as_deref()
        .filter(|d| !is_camera_boilerplate(d));
    let date_from_iptc = || {
        let xmp_date = x
            .first(PHOTOSHOP, "DateCreated")
            .and_then(clean)
            .filter(|date| is_xmp_date(date));
        if sources.iim.is_none() || (xmp_date.is_some() && sources.xmp_in_sync) {
            return xmp_date;
        }
        let iim = sources.iim.as_ref()?;
        iim_date(
            iim.first(iptc::DATE_CREATED)?,
            iim.first(iptc::TIME_CREATED),
        )
    };
    // A location field: IIM dataset, Location Shown field, IPTC Core
    // property, IIM length limit.
    let place = |dataset, shown, core, limit| {
        sources.text(None, dataset, location(x, shown, core).as_deref(), limit)
    };
    let metadata = PhotoMetadata {
        caption: sources
            .text(description, iptc::CAPTION, x.first(DC, "description"), 2000)
            .filter(|caption| !is_camera_boilerplate(caption)),
        headline: sources.iptc_text(iptc::HEADLINE, x.first(PHOTOSHOP, "Headline"), 256),
        title: sources.iptc_text(iptc::OBJECT_NAME, x.first(DC, "title"), 64),
        creator: sources.list(exif.artist.as_deref(), iptc::BY_LINE, x.all(DC, "creator")),
        credit: sources.iptc_text(iptc::CREDIT, x.first(PHOTOSHOP, "Credit"), 32),
        copyright: sources.text(
            exif.copyright.as_deref(),
            iptc::COPYRIGHT,
            x.first(DC, "rights"),
            128,
        ),
        source: sources.iptc_text(iptc::SOURCE, x.first(PHOTOSHOP, "Source"), 32),
        date_created: exif.date_taken.clone().or_else(date_from_iptc),
        sublocation: place(
            iptc::SUBLOCATION,
            "Sublocation",
            (IPTC_CORE, "Location"),
            32,
        ),
        city: place(iptc::CITY, "City", (PHOTOSHOP, "City"), 32),
        state: place(
            iptc::PROVINCE_STATE,
            "ProvinceState",
            (PHOTOSHOP, "State"),
            32,
        ),
        country: place(iptc::COUNTRY, "CountryName", (PHOTOSHOP, "Country"), 64),
        country_code: sources.iptc_text(iptc::COUNTRY_CODE, x.first(IPTC_CORE, "CountryCode"), 3),
        keywords: sources.list(None, iptc::KEYWORDS, x.all(DC, "subject")),
        alt_text: x.first(IPTC_CORE, "AltTextAccessibility").and_then(clean),
        extended_description: x.first(IPTC_CORE, "ExtDescrAccessibility").and_then(clean),
        web_statement: x.first(XMP_RIGHTS, "WebStatement").and_then(clean),
        usage_terms: x.first(XMP_RIGHTS, "UsageTerms").and_then(clean),
        // Files converted without their EXIF (PNG from Lightroom) keep
        // the camera in XMP.
        camera_make: exif.make.or_else(|| x.first(TIFF, "Make").and_then(clean)),
        camera_model: exif
            .model
            .or_else(|| x.first(TIFF, "Model").and_then(clean)),
        lens: exif.lens.or_else(|| {
            x.first(EXIF_EX, "LensModel")
                .or_else(|| x.first(AUX, "Lens"))
                .and_then(clean)
        }),
        gps: exif.gps,
        orientation: exif.orientation.unwrap_or(1),
    };
    (metadata, problems)
}

/// A location field in XMP: the IPTC Core property every newsroom tool
/// writes (and ExifTool's `City`, `State`… tags read), else the IPTC
/// Extension's Location Shown structures (several joined with ", ", as
/// ExifTool prints its MWG tags' lists), which newer tools may write alone.
fn location(x: &Xmp, field: &str, (core_ns, core): (&str, &str)) -> Option<String> {
    if let Some(value) = x.first(core_ns, core).and_then(clean) {
        return Some(value);
    }
    let shown = clean_list(x.fields(IPTC_EXT, "LocationShown", field));
    (!shown.is_empty()).then(|| shown.join(", "))
}

/// A block's contents; absent or unreadable, the default (nothing read),
/// an unreadable one noted in `problems` as `describe` puts it.
fn readable<T: Default>(
    block: Option<Result<T, String>>,
    problems: &mut Vec<String>,
    describe: impl FnOnce(String) -> String,
) -> T {
    match block {
        Some(Ok(contents)) => contents,
        Some(Err(err)) => {
            problems.push(describe(err));
            T::default()
        }
        None => T::default(),
    }
}

/// Drops NULs and surrounding white space; empty means absent; caps length.
fn clean(value: &str) -> Option<String> {
    let trimmed = value.trim_matches(|c: char| c == '\0' || c.is_whitespace());
    if trimmed.is_empty() {
        return None;
    }
    // Line ends as XML parsers give them (XMP's are already so): a caption
    // typed on an old system (IIM, EXIF) breaks its lines with CR or CR LF.
    let mut text: String = trimmed
        .replace("\r\n", "\n")
        .chars()
        .filter(|&c| c != '\0')
        .map(|c| if c == '\r' { '\n' } else { c })
        .collect();
    if let Some((cut, _)) = text.char_indices().nth(MAX_FIELD_CHARS) {
        text.truncate(cut);
    }
    Some(text)
}

fn clean_list(values: Vec<String>) -> Vec<String> {
    values
        .iter()
        .filter_map(|v| clean(v))
        .take(MAX_LIST_ITEMS)
        .collect()
}

/// The items of a list kept in one EXIF string (Artist), as the MWG
/// writes them and ExifTool reads them back: separated by "; ", an item
/// holding "; " or starting with a quote put in quotes, inner quotes
/// doubled.
fn mwg_string_list(text: &str) -> Vec<String> {
    let mut items: Vec<String> = Vec::new();
    let mut in_quotes = false;
    for part in text.split("; ") {
        let continues_quoted_item = in_quotes;
        let mut part = part.to_owned();
        if !in_quotes && part.starts_with('"') {
            part.remove(0);
            in_quotes = true;
        }
        if in_quotes {
            // An odd number of quotes at the end closes the item.
            let trailing = part.chars().rev().take_while(|&c| c == '"').count();
            if trailing % 2 == 1 {
                part.pop();
                in_quotes = false;
            }
            part = part.replace("\"\"", "\"");
        }
        match items.last_mut() {
            Some(item) if continues_quoted_item => {
                item.push_str("; ");
                item.push_str(&part);
            }
            _ => items.push(part),
        }
    }
    items
}

/// Cameras fill EXIF ImageDescription (and some XMP's description) with
/// their own name; that is no caption.
fn is_camera_boilerplate(description: &str) -> bool {
    const BOILERPLATE: &[&str] = &[
        "OLYMPUS DIGITAL CAMERA",
        "KODAK Digital Still Camera",
        "SONY DSC",
        "DIGITAL CAMERA",
        "Default",
    ];
    let trimmed = description.trim();
    BOILERPLATE.iter().any(|b| trimmed.eq_ignore_ascii_case(b))
}

/// An XMP date: `YYYY`, `YYYY-MM`, `YYYY-MM-DD`, optionally with
/// `Thh:mm[:ss[.s…]]` and a zone (`Z`, `±hh:mm`). Anything else (writers
/// have been seen to put two dates in one field) is not published as the
/// date the photo was taken.
fn is_xmp_date(date: &str) -> bool {
    let digits = |s: &[u8], len: usize| s.len() == len && s.iter().all(u8::is_ascii_digit);
    let (day, time) = match date.split_once('T') {
        Some((day, time)) => (day, Some(time)),
        None => (date, None),
    };
    let day_ok = match split(day, '-')[..] {
        [y] => digits(y, 4),
        [y, m] => digits(y, 4) && digits(m, 2),
        [y, m, d] => digits(y, 4) && digits(m, 2) && digits(d, 2),
        _ => false,
    };
    let Some(time) = time else {
        return day_ok;
    };
    let (clock, zone) = time.split_at(time.find(['Z', '+', '-']).unwrap_or(time.len()));
    let zone_ok = match zone.as_bytes() {
        [] | [b'Z'] => true,
        [b'+' | b'-', h @ .., b':', m1, m2] => digits(h, 2) && digits(&[*m1, *m2], 2),
        _ => false,
    };
    let (whole, fraction) = match clock.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction.as_bytes())),
        None => (clock, None),
    };
    let clock_ok = match (&split(whole, ':')[..], fraction) {
        ([h, m], None) => digits(h, 2) && digits(m, 2),
        ([h, m, s], fraction) => {
            digits(h, 2)
                && digits(m, 2)
                && digits(s, 2)
                && fraction.is_none_or(|f| !f.is_empty() && digits(f, f.len()))
        }
        _ => false,
    };
    day_ok && zone_ok && clock_ok
}

fn split(text: &str, at: char) -> Vec<&[u8]> {
    text.split(at).map(str::as_bytes).collect()
}

/// IIM date `CCYYMMDD` and optional time `HHMMSS±HHMM` → ISO 8601.
fn iim_date(date: &str, time: Option<&str>) -> Option<String> {
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if date.len() != 8 || !digits(date) {
        return None;
    }
    let day = format!("{}-{}-{}", &date[..4], &date[4..6], &date[6..8]);
    match time {
        Some(t) if t.len() >= 6 && digits(&t[..6]) => {
            let mut iso = format!("{day}T{}:{}:{}", &t[..2], &t[2..4], &t[4..6]);
            if t.len() == 11 && matches!(&t[6..7], "+" | "-") && digits(&t[7..]) {
                iso.push_str(&format!("{}{}:{}", &t[6..7], &t[7..9], &t[9..11]));
            }
            Some(iso)
        }
        _ => Some(day),
    }
}

#[cfg(test)]
mod tests;
