//! TIFF read chunk by chunk (strips or tiles) with the `tiff` crate, each
//! chunk cut to 8 bits into the one output buffer as it comes. `image` reads
//! the whole image at its stored depth and copies it before cutting it to 8
//! bits: an 81-MP 16-bit scan peaked at 969 MB that way. CMYK is handed on
//! as CMYK, for its ICC profile to convert (`image` converts it naively and
//! the profile is lost). Layouts read here: grey, RGB and CMYK, with or
//! without alpha, 8 or 16 bits, samples interleaved; anything else (planes
//! apart, palettes, floats, 1-bit, YCbCr) goes to `image`.

use super::color::IccSource;
use crate::probe::check_pixels;
use crate::{DecodeLimits, ImagingError};
use std::io::Cursor;
use tiff::decoder::{ChunkType, Decoder, DecodingResult, Limits};
use tiff::tags::{PlanarConfiguration, SampleFormat, Tag};
use tiff::ColorType;

/// The samples of the first image, its width, height and ICC profile, or
/// `None` if its layout is one for `image` to read.
pub(super) type Decoded = (IccSource, u32, u32, Option<Vec<u8>>);

pub(super) fn decode(bytes: &[u8], limits: DecodeLimits) -> Result<Option<Decoded>, ImagingError> {
    let corrupt = |e: tiff::TiffError| ImagingError::Corrupt(e.to_string());
    let mut decoder = Decoder::new(Cursor::new(bytes)).map_err(corrupt)?;
    let (width, height) = decoder.dimensions().map_err(corrupt)?;
    check_pixels(width, height, limits)?;
    let Some(layout) = Layout::of(&mut decoder).map_err(corrupt)? else {
        return Ok(None);
    };
    // One chunk at a time: a chunk is never larger than the image at 16 bits.
    let most = usize::try_from(limits.max_pixels.saturating_mul(10)).unwrap_or(usize::MAX);
    let mut decoder = decoder.with_limits({
        let mut chunk_limits = Limits::default();
        chunk_limits.decoding_buffer_size = most;
        chunk_limits.intermediate_buffer_size = most;
        // Print profiles (CMYK) run to a few megabytes.
        chunk_limits.ifd_value_size = crate::MAX_BLOCK_BYTES as usize;
        chunk_limits
    });
    let icc = decoder.get_tag_u8_vec(Tag::IccProfile).ok();

    let out_channels = layout.out_channels();
    let row_len = width as usize * out_channels;
    // Zeroed pages are only mapped once written: a small file claiming a
    // large image costs nothing before its first chunk fails to read.
    let mut data = vec![0; row_len * height as usize];
    let (chunk_width, chunk_height) = decoder.chunk_dimensions();
    let chunk_type = decoder.get_chunk_type();
    let (chunks, chunk_kind, length_tag) = match chunk_type {
        ChunkType::Strip => (decoder.strip_count(), "strip", Tag::StripByteCounts),
        ChunkType::Tile => (decoder.tile_count(), "tile", Tag::TileByteCounts),
    };
    let chunks = chunks.map_err(corrupt)?;
    let across = width.div_ceil(chunk_width.max(1));
    let needed = across.saturating_mul(height.div_ceil(chunk_height.max(1)));
    if chunks < needed {
        return Err(ImagingError::Corrupt(format!(
            "TIFF has {chunks} {chunk_kind}s where its size needs {needed}"
        )));
    }
    let uncompressed = matches!(
        decoder.find_tag_unsigned::<u16>(Tag::Compression),
        Ok(None | Some(1))
    );
    let stored_lengths = if uncompressed {
        Some(decoder.get_tag_u64_vec(length_tag).map_err(corrupt)?)
    } else {
        None
    };
    for index in 0..needed {
        let (data_width, data_height) = decoder.chunk_data_dimensions(index);
        if let Some(lengths) = &stored_lengths {
            // The `tiff` crate reads an uncompressed chunk for as many bytes
            // as its rows need, on into whatever follows a shorter one: a
            // garbled picture rather than an error, where libtiff refuses.
            // Tiles are stored whole, strips as far as the image goes.
            let rows = match chunk_type {
                ChunkType::Strip => data_height,
                ChunkType::Tile => chunk_height,
            };
            let needs = u64::from(rows)
                * u64::from(chunk_width)
                * (layout.stride * layout.sample_bytes) as u64;
            let holds = lengths.get(index as usize).copied().unwrap_or(0);
            if holds < needs {
                return Err(ImagingError::Corrupt(format!(
                    "TIFF {chunk_kind} {index} holds {holds} bytes where its rows need {needs}"
                )));
            }
        }
        let samples = decoder.read_chunk(index).map_err(corrupt)?;
        let x = (index % across) * chunk_width;
        let y = (index / across) * chunk_height;
        let chunk_row = data_width as usize * layout.stride;
        for row in 0..data_height.min(height.saturating_sub(y)) as usize {
            let start = (y as usize + row) * row_len + x as usize * out_channels;
            let out = &mut data[start..start + data_width as usize * out_channels];
            let within = row * chunk_row..(row + 1) * chunk_row;
            match &samples {
                DecodingResult::U8(samples) => layout.convert(samples.get(within), out, |v| v),
                DecodingResult::U16(samples) => layout.convert(samples.get(within), out, |v| {
                    ((u32::from(v) * 255 + 32767) / 65535) as u8
                }),
                _ => None,
            }
            .ok_or_else(|| ImagingError::Corrupt("TIFF chunk shorter than it says".into()))?;
        }
    }
    let source = match layout.kind {
        Kind::Cmyk => IccSource::Cmyk(data),
        Kind::Grey | Kind::Rgb => IccSource::Rgb {
            data,
            alpha: layout.alpha,
            grey: layout.kind == Kind::Grey,
        },
    };
    Ok(Some((source, width, height, icc)))
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Grey,
    Rgb,
    Cmyk,
}

struct Layout {
    kind: Kind,
    alpha: bool,
    /// Alpha premultiplied into the colours (TIFF's "associated" alpha).
    premultiplied: bool,
    /// Samples per pixel in the file: the colours, then any extra samples
    /// (alpha first, where there is one).
    stride: usize,
    /// 1 or 2.
    sample_bytes: usize,
}

impl Layout {
    fn of(decoder: &mut Decoder<Cursor<&[u8]>>) -> tiff::TiffResult<Option<Layout>> {
        let planar = decoder.find_tag_unsigned::<u16>(Tag::PlanarConfiguration)?;
        let formats = decoder
            .find_tag_unsigned_vec::<u16>(Tag::SampleFormat)?
            .unwrap_or_default();
        let unsigned = formats.iter().all(|&f| f == SampleFormat::Uint.to_u16());
        if planar.is_some_and(|p| p != PlanarConfiguration::Chunky.to_u16()) || !unsigned {
            return Ok(None);
        }
        let extra = decoder
            .find_tag_unsigned_vec::<u16>(Tag::ExtraSamples)?
            .unwrap_or_default();
        // ExtraSamples 1: associated alpha, 2: unassociated.
        let extra_alpha = matches!(extra.first(), Some(1 | 2));
        let (kind, alpha, depth) = match decoder.colortype()? {
            ColorType::Gray(depth) => (Kind::Grey, false, depth),
            // The `tiff` crate names grey with alpha so.
            ColorType::Multiband {
                bit_depth,
                num_samples: 2,
            } if extra_alpha => (Kind::Grey, true, bit_depth),
            ColorType::RGB(depth) => (Kind::Rgb, false, depth),
            ColorType::RGBA(depth) => (Kind::Rgb, true, depth),
            ColorType::CMYK(depth) => (Kind::Cmyk, false, depth),
            _ => return Ok(None),
        };
        let colours = match kind {
            Kind::Grey => 1,
            Kind::Rgb => 3,
            Kind::Cmyk => 4,
        };
        let stride = usize::from(
            decoder
                .find_tag_unsigned::<u16>(Tag::SamplesPerPixel)?
                .unwrap_or(1),
        );
        if (depth != 8 && depth != 16) || stride < colours + usize::from(alpha) {
            return Ok(None);
        }
        Ok(Some(Layout {
            kind,
            alpha,
            premultiplied: alpha && extra.first() == Some(&1),
            stride,
            sample_bytes: usize::from(depth / 8),
        }))
    }

    fn colours(&self) -> usize {
        match self.kind {
            Kind::Grey => 1,
            Kind::Rgb => 3,
            Kind::Cmyk => 4,
        }
    }

    /// Samples per pixel handed on: RGB(A) for grey and RGB, CMYK as is.
    fn out_channels(&self) -> usize {
        match self.kind {
            Kind::Cmyk => 4,
            Kind::Grey | Kind::Rgb => 3 + usize::from(self.alpha),
        }
    }

    /// One row of samples to 8-bit output pixels; `None` if the row is short.
    fn convert<T: Copy>(
        &self,
        row: Option<&[T]>,
        out: &mut [u8],
        to8: impl Fn(T) -> u8,
    ) -> Option<()> {
        let row = row?;
        for (pixel, out) in row
            .chunks_exact(self.stride)
            .zip(out.chunks_exact_mut(self.out_channels()))
        {
            match self.kind {
                Kind::Grey => out[..3].fill(to8(pixel[0])),
                Kind::Rgb | Kind::Cmyk => {
                    for (to, &from) in out.iter_mut().zip(&pixel[..self.colours()]) {
                        *to = to8(from);
                    }
                }
            }
            if self.alpha {
                let a = to8(pixel[self.colours()]);
                out[self.out_channels() - 1] = a;
                if self.premultiplied {
                    let colours = self.out_channels() - 1;
                    for v in &mut out[..colours] {
                        *v = match a {
                            0 => 0,
                            a => ((u32::from(*v) * 255 + u32::from(a) / 2) / u32::from(a)).min(255)
                                as u8,
                        };
                    }
                }
            }
        }
        Some(())
    }
}
