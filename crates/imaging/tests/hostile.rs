//! Truncated and mangled real photos: metadata reading never panics, and
//! probing refuses every incomplete file.

use photodesk_imaging::{probe, read_metadata, DecodeLimits};
use std::path::Path;

const LIMITS: DecodeLimits = DecodeLimits {
    max_pixels: 50_000_000,
    max_file_bytes: 50_000_000,
};

fn fixture() -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/iptc-ref-std2019.1.jpg"),
    )
    .unwrap()
}

#[test]
fn every_truncation_is_refused_and_never_panics() {
    let whole = fixture();
    assert!(probe(&whole, LIMITS).is_ok());
    let step = (whole.len() / 150).max(1);
    for cut in (0..whole.len() - 2).step_by(step) {
        let _ = read_metadata(bytes::Bytes::copy_from_slice(&whole[..cut]));
        assert!(
            probe(&whole[..cut], LIMITS).is_err(),
            "accepted a file cut at {cut} of {}",
            whole.len()
        );
    }
}

#[test]
fn flipped_bytes_in_the_metadata_never_panic() {
    let whole = fixture();
    // The metadata segments sit in the first few kilobytes.
    let end = whole.len().min(40_000);
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    for _ in 0..400 {
        let mut bytes = whole.clone();
        for _ in 0..16 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            bytes[(state as usize) % end] = (state >> 40) as u8;
        }
        let _ = read_metadata(bytes::Bytes::copy_from_slice(&bytes));
        let _ = probe(&bytes, LIMITS);
    }
}
