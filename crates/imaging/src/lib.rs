//! Image work that needs no I/O beyond byte slices, so it can be tested,
//! benchmarked and fuzzed alone. Only this crate names image codecs.

mod heif;
mod jpeg;
mod metadata;
mod probe;
pub mod render;

pub use metadata::{read_metadata, read_metadata_and_problems};
pub use probe::{probe, Probed};

/// Largest metadata block taken: inflated XMP, a decoded raw profile, an ICC
/// profile. A few kilobytes is usual and print profiles run to a few
/// megabytes, while a deflated block can expand a thousandfold.
pub(crate) const MAX_BLOCK_BYTES: u64 = 16 << 20;

/// Bounds checked before any pixel buffer is allocated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeLimits {
    pub max_pixels: u64,
    pub max_file_bytes: u64,
}

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum ImagingError {
    #[error("unsupported format: {0}")]
    Unsupported(String),
    #[error("file is {size} bytes; the limit is {limit} bytes")]
    FileTooLarge { size: u64, limit: u64 },
    #[error("image is {width}×{height} = {pixels} pixels; the limit is {limit} pixels")]
    TooManyPixels {
        width: u32,
        height: u32,
        pixels: u64,
        limit: u64,
    },
    #[error("image is corrupt or truncated: {0}")]
    Corrupt(String),
}

/// `image`'s errors: a feature its decoders lack (a TIFF's photometric
/// interpretation, a PNG's bit depth) is an unsupported format, not damage.
impl From<image::ImageError> for ImagingError {
    fn from(err: image::ImageError) -> Self {
        match err {
            image::ImageError::Unsupported(_) => ImagingError::Unsupported(err.to_string()),
            other => ImagingError::Corrupt(other.to_string()),
        }
    }
}

impl ImagingError {
    /// True when the input exceeded a configured limit.
    pub fn is_too_large(&self) -> bool {
        matches!(
            self,
            ImagingError::FileTooLarge { .. } | ImagingError::TooManyPixels { .. }
        )
    }
}

/// A JPEG of `width` × `height` pixels given by `pixel`, for unit tests.
#[cfg(test)]
pub(crate) fn test_jpeg(width: u32, height: u32, pixel: impl Fn(u32, u32) -> [u8; 3]) -> Vec<u8> {
    let picture = image::RgbImage::from_fn(width, height, |x, y| image::Rgb(pixel(x, y)));
    let mut out = std::io::Cursor::new(Vec::new());
    picture
        .write_to(&mut out, image::ImageFormat::Jpeg)
        .expect("encoding to memory");
    out.into_inner()
}
