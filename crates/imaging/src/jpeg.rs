//! The marker segments of a JPEG header, walked without copying: the probe
//! needs the frame size and where the scan starts, the decoder the ICC and
//! Adobe segments.
//! img-parts parses (and copies) the whole file, which is more than either
//! needs.

/// One marker segment before (or of) the first scan.
pub(crate) struct Segment<'a> {
    pub marker: u8,
    pub payload: &'a [u8],
    /// Offset just past the segment; for the start of scan, where the
    /// entropy-coded data begins.
    pub end: usize,
}

/// The segments after SOI up to and including the first start-of-scan.
/// Stops early at anything that is not a marker or runs past the end.
pub(crate) fn segments(bytes: &[u8]) -> impl Iterator<Item = Segment<'_>> {
    let mut at = 2; // after SOI
    let mut done = false;
    std::iter::from_fn(move || {
        while !done && at + 4 <= bytes.len() && bytes[at] == 0xFF {
            let marker = bytes[at + 1];
            if marker == 0xFF {
                at += 1; // fill byte
                continue;
            }
            let length = usize::from(u16::from_be_bytes([bytes[at + 2], bytes[at + 3]]));
            let end = at + 2 + length;
            let payload = bytes.get(at + 4..end.max(at + 4))?;
            at = end;
            done = marker == 0xDA;
            return Some(Segment {
                marker,
                payload,
                end,
            });
        }
        None
    })
}

/// How many scans come before the end-of-image marker; `None` if the file
/// ends first. The JPEG decoder pads a truncated scan with grey instead of
/// failing, so a file cut short in transfer would otherwise be accepted.
/// Markers before the first scan are skipped by their lengths, so an EXIF
/// thumbnail's own markers do not count; in entropy-coded data a data `FF`
/// is followed by `00` (or is a restart marker), and the segments between
/// scans are skipped by their lengths too.
pub(crate) fn scans_to_end(bytes: &[u8]) -> Option<usize> {
    let first = segments(bytes).find(|segment| segment.marker == 0xDA)?;
    let mut scans = 1;
    let mut at = first.end;
    loop {
        let marker_at = at + memchr::memchr(0xFF, bytes.get(at..)?)?;
        at = match *bytes.get(marker_at + 1)? {
            0xD9 => return Some(scans),
            0xFF => marker_at + 1,
            0x00 | 0xD0..=0xD7 => marker_at + 2,
            marker => {
                scans += usize::from(marker == 0xDA);
                let length = bytes.get(marker_at + 2..marker_at + 4)?;
                marker_at + 2 + usize::from(u16::from_be_bytes([length[0], length[1]]))
            }
        };
    }
}

/// What the frame header says of the image.
pub(crate) struct Frame {
    /// The coding process: SOF0–SOF15.
    pub marker: u8,
    /// Bits per sample.
    pub precision: u8,
    pub width: u32,
    pub height: u32,
    /// 1 for a greyscale JPEG.
    pub components: u8,
}

/// The frame header (SOF0–SOF15, not the DHT, JPG and DAC markers that
/// share the range).
pub(crate) fn frame(bytes: &[u8]) -> Option<Frame> {
    let header = segments(bytes)
        .find(|s| matches!(s.marker, 0xC0..=0xCF) && !matches!(s.marker, 0xC4 | 0xC8 | 0xCC))?;
    let field = |at: usize| {
        let pair = header.payload.get(at..at + 2)?;
        Some(u32::from(u16::from_be_bytes([pair[0], pair[1]])))
    };
    Some(Frame {
        marker: header.marker,
        precision: *header.payload.first()?,
        height: field(1)?,
        width: field(3)?,
        components: *header.payload.get(5)?,
    })
}

/// The ICC profile from APP2 `ICC_PROFILE` segments, joined in their stated order.
pub(crate) fn icc_profile(bytes: &[u8]) -> Option<Vec<u8>> {
    const TAG: &[u8] = b"ICC_PROFILE\0";
    let mut chunks: Vec<(u8, &[u8])> = segments(bytes)
        .filter(|s| s.marker == 0xE2 && s.payload.starts_with(TAG))
        .filter_map(|s| Some((*s.payload.get(TAG.len())?, s.payload.get(TAG.len() + 2..)?)))
        .collect();
    if chunks.is_empty() {
        return None;
    }
    chunks.sort_by_key(|(sequence, _)| *sequence);
    Some(
        chunks
            .into_iter()
            .flat_map(|(_, data)| data.iter().copied())
            .collect(),
    )
}

/// Photoshop stores CMYK inverted and says so with an APP14 "Adobe" segment.
pub(crate) fn has_adobe_marker(bytes: &[u8]) -> bool {
    segments(bytes).any(|s| s.marker == 0xEE && s.payload.starts_with(b"Adobe"))
}
