//! JPEG decoding streamed through the resize, so a 22-megapixel photo is
//! never held at full size.
//!
//! libjpeg (MozJPEG's build of libjpeg-turbo, through the `mozjpeg` crate:
//! the TurboJPEG API decodes only whole images) hands over bands of rows;
//! a second thread resizes them (down, then across) while the next band
//! decodes. Memory is a window of rows and the output, never the full
//! image, and the two cores overlap decode and resize. The DCT-domain
//! shrink (1/2, 1/4, 1/8) is used only where a factor of two remains for
//! the Lanczos filter, as libvips does: closer to the target it measurably
//! costs quality (DSSIM, `bench/`).

use super::color::RgbToSrgb;
use super::early_jpeg::RowStream;
use super::turn::Turn;
use super::{resize_across, resize_down_into, scaled};
use crate::probe::{check_pixels, upright_size};
use crate::{DecodeLimits, ImagingError};
use fast_image_resize::PixelType;
use mozjpeg::decompress::DecompressStarted;
use mozjpeg::{ColorSpace, Decompress};
use std::sync::mpsc;

/// Samples of one decoded, resized JPEG, upright.
pub(crate) struct Decoded {
    pub samples: Vec<u8>,
    pub width: u32,
    pub height: u32,
    /// Four CMYK samples per pixel as stored (Adobe's files store them
    /// inverted), else RGB, in sRGB if a conversion was given.
    pub cmyk: bool,
    /// Every row was also handed to the stream given, in order.
    pub streamed: bool,
}

/// Rows per band handed to the resizing thread: about 2 MB of samples.
const BAND_BYTES: usize = 2 << 20;

/// Decodes `bytes` to `width` upright pixels wide (full size if `None` or
/// wider than the photo), turned upright by EXIF `orientation`. RGB rows
/// are converted with `to_srgb` and then handed to `stream` as they are
/// resized, if given (the caller passes none for turned photos). libjpeg's
/// fatal errors unwind (the `mozjpeg` crate's design); the caller catches
/// them.
pub(crate) fn decode(
    bytes: &[u8],
    limits: DecodeLimits,
    orientation: u8,
    width: Option<u32>,
    to_srgb: Option<&RgbToSrgb>,
    stream: Option<&RowStream>,
) -> Result<Decoded, ImagingError> {
    let mut decompress = Decompress::builder()
        .refusing_damaged_data()
        .from_mem(bytes)
        .map_err(corrupt)?;
    let (stored_width, stored_height) = (
        dimension(decompress.width())?,
        dimension(decompress.height())?,
    );
    check_pixels(stored_width, stored_height, limits)?;
    let (upright_width, upright_height) = upright_size(stored_width, stored_height, orientation);
    let out_width = width.map_or(upright_width, |w| w.clamp(1, upright_width));
    let out_height = scaled(upright_height, out_width, upright_width);
    let target = if upright_width == stored_width {
        (out_width, out_height)
    } else {
        (out_height, out_width)
    };

    decompress.scale(dct_scale(upright_width, out_width));
    // Chroma is resized with the rest anyway: libjpeg's plain (merged)
    // upsampling scored the same DSSIM in `bench/` and decodes 5 % faster.
    decompress.do_fancy_upsampling(false);
    let cmyk = matches!(
        decompress.color_space(),
        ColorSpace::JCS_CMYK | ColorSpace::JCS_YCCK
    );
    let mut started = if cmyk {
        decompress.to_colorspace(ColorSpace::JCS_CMYK)
    } else {
        decompress.rgb()
    }
    .map_err(corrupt)?;
    let channels = if cmyk { 4 } else { 3 };
    let rgb = RgbRows {
        to_srgb: to_srgb.filter(|_| !cmyk),
        stream: stream.filter(|_| !cmyk),
    };
    let turn = Turn::of(orientation, target);
    let (samples, streamed) = read_resized(&mut started, channels, target, rgb, turn)?;
    started.finish().map_err(corrupt)?;
    let (width, height) = turn.map_or(target, |turn| turn.upright());
    Ok(Decoded {
        samples,
        width,
        height,
        cmyk,
        streamed,
    })
}

/// The DCT scale as libjpeg takes it (n/8): 1/8, 1/4 or 1/2 where at least
/// a factor of two is left for the resize, else 8/8.
fn dct_scale(upright_width: u32, out_width: u32) -> u8 {
    let shrink = upright_width / out_width.max(1);
    match shrink {
        16.. => 1,
        8.. => 2,
        4.. => 4,
        _ => 8,
    }
}

/// What happens to each chunk of finished RGB rows, in this order.
#[derive(Clone, Copy)]
struct RgbRows<'a> {
    to_srgb: Option<&'a RgbToSrgb>,
    stream: Option<&'a RowStream>,
}

/// All rows of `started`, resized to `target`, on a second thread as they
/// decode: down first (fir's order for 8-bit samples, which leaves the
/// costlier horizontal pass a fraction of the rows), then across in chunks,
/// each then converted and handed on as `rgb` says, and placed upright by
/// `turn`. The flag says whether the stream got them (not at full size,
/// where no resize runs beside the decode).
fn read_resized<R>(
    started: &mut DecompressStarted<R>,
    channels: usize,
    target: (u32, u32),
    rgb: RgbRows,
    turn: Option<Turn>,
) -> Result<(Vec<u8>, bool), ImagingError> {
    let (width, height) = (started.width(), started.height());
    let row_bytes = width * channels;
    if (dimension(width)?, dimension(height)?) == target {
        let mut samples = vec![0u8; row_bytes * height];
        started.read_scanlines_into(&mut samples).map_err(corrupt)?;
        if let Some(to_srgb) = rgb.to_srgb {
            let mut scratch = Vec::new();
            for rows in samples.chunks_mut(row_bytes * CHUNK_ROWS) {
                to_srgb.apply(rows, &mut scratch);
            }
        }
        if let Some(turn) = turn {
            let mut upright = vec![0u8; samples.len()];
            turn.place(&samples, 0, channels, &mut upright);
            samples = upright;
        }
        return Ok((samples, false));
    }
    if let Some(stream) = rgb.stream {
        stream.size(target.0, target.1);
    }
    let mut out = vec![0u8; target.0 as usize * channels * target.1 as usize];
    let band_rows = (BAND_BYTES / row_bytes).clamp(16, height.max(16));
    let mut window = RowWindow {
        width: dimension(width)?,
        pixel_type: if channels == 4 {
            PixelType::U8x4
        } else {
            PixelType::U8x3
        },
        row_bytes,
        height,
        scale: height as f64 / f64::from(target.1),
        rows: Vec::new(),
        first_row: 0,
        received: 0,
        down: Vec::new(),
        made: 0,
        target_width: target.0,
        out: &mut out,
        out_rows: 0,
        rgb,
        scratch: Vec::new(),
        turn,
        turning: Vec::new(),
    };
    window.reserve(band_rows);
    std::thread::scope(|scope| -> Result<(), ImagingError> {
        let (full_tx, full_rx) = mpsc::sync_channel::<Vec<u8>>(1);
        let (empty_tx, empty_rx) = mpsc::channel::<Vec<u8>>();
        for _ in 0..2 {
            empty_tx
                .send(Vec::with_capacity(band_rows * row_bytes))
                .ok();
        }
        let resizing = scope.spawn(move || -> Result<(), ImagingError> {
            for band in full_rx {
                window.push(&band)?;
                // The receiver is gone only when decoding stopped.
                empty_tx.send(band).ok();
            }
            Ok(())
        });
        let mut decoded_rows = 0;
        while decoded_rows < height {
            let rows = band_rows.min(height - decoded_rows);
            // Either side stopping ends the other; its error is kept.
            let Ok(mut band) = empty_rx.recv() else { break };
            band.resize(rows * row_bytes, 0);
            started.read_scanlines_into(&mut band).map_err(corrupt)?;
            if full_tx.send(band).is_err() {
                break;
            }
            decoded_rows += rows;
        }
        drop(full_tx);
        resizing.join().expect("resizing thread panicked")
    })?;
    Ok((out, rgb.stream.is_some()))
}

/// Output rows resized down are resized across this many at a time: each
/// chunk recomputes the horizontal filter weights.
const CHUNK_ROWS: usize = 128;

/// The decoded rows still needed for the vertical pass, and both passes
/// made as the rows arrive. Each batch of output rows is resized down from
/// a window holding every source row its filter reaches, so the result is
/// the same as one pass over the whole image.
struct RowWindow<'a> {
    width: u32,
    pixel_type: PixelType,
    row_bytes: usize,
    /// Source rows in all.
    height: usize,
    /// Source rows per output row.
    scale: f64,
    /// Source rows `first_row..received`, in order.
    rows: Vec<u8>,
    first_row: usize,
    received: usize,
    /// Rows resized down (full width) not yet resized across.
    down: Vec<u8>,
    /// Output rows resized down so far.
    made: usize,
    target_width: u32,
    out: &'a mut [u8],
    /// Output rows finished.
    out_rows: usize,
    rgb: RgbRows<'a>,
    /// Reused by the colour conversion.
    scratch: Vec<u8>,
    /// How finished rows are placed upright, if the photo is turned.
    turn: Option<Turn>,
    /// Finished rows of a turned photo, before they are placed.
    turning: Vec<u8>,
}

impl RowWindow<'_> {
    /// Lanczos3 reaches three source rows per output row either side.
    fn reach(&self) -> f64 {
        3.0 * self.scale.max(1.0)
    }

    /// The first source row output row `row`'s filter may read (one spare).
    fn first_needed(&self, row: usize) -> usize {
        let centre = (row as f64 + 0.5) * self.scale;
        (centre - self.reach()).floor().max(1.0) as usize - 1
    }

    /// One past the last source row output row `row`'s filter may read.
    fn end_needed(&self, row: usize) -> usize {
        let centre = (row as f64 + 0.5) * self.scale;
        (centre + self.reach()).ceil() as usize + 1
    }

    /// Room for the most rows the window and the rows resized down hold at
    /// once, so neither grows (copying and faulting in new pages) while the
    /// photo decodes in bands of `band_rows`.
    fn reserve(&mut self, band_rows: usize) {
        let kept = 2 * self.reach().ceil() as usize + 4;
        self.rows.reserve((band_rows + kept) * self.row_bytes);
        let made_per_band = (band_rows as f64 / self.scale).ceil() as usize;
        self.down
            .reserve((CHUNK_ROWS + made_per_band) * self.row_bytes);
    }

    fn out_height(&self) -> usize {
        self.out.len() / (self.target_width as usize * self.pixel_type.size())
    }

    fn push(&mut self, band: &[u8]) -> Result<(), ImagingError> {
        self.received += band.len() / self.row_bytes;
        let out_height = self.out_height();
        if out_height == self.height {
            self.down.extend_from_slice(band);
            self.made = self.received;
        } else {
            self.rows.extend_from_slice(band);
            self.resize_down(out_height)?;
        }
        let pending = self.down.len() / self.row_bytes;
        if pending >= CHUNK_ROWS || (self.made == out_height && pending > 0) {
            self.resize_across(pending)?;
        }
        Ok(())
    }

    /// Every output row whose source rows have all arrived, resized down.
    fn resize_down(&mut self, out_height: usize) -> Result<(), ImagingError> {
        let all_in = self.received == self.height;
        let mut end = self.made;
        while end < out_height && (all_in || self.end_needed(end) <= self.received) {
            end += 1;
        }
        if end == self.made {
            return Ok(());
        }
        let held = self.received - self.first_row;
        let top = self.made as f64 * self.scale - self.first_row as f64;
        let span = ((end - self.made) as f64 * self.scale).min(held as f64 - top);
        let start = self.down.len();
        self.down
            .resize(start + (end - self.made) * self.row_bytes, 0);
        let size = (self.width, dimension(held)?);
        let dest = &mut self.down[start..];
        resize_down_into(&self.rows, size, self.pixel_type, (top, span), dest)?;
        self.made = end;
        let keep_from = if end < out_height {
            self.first_needed(end).max(self.first_row)
        } else {
            self.received
        };
        self.rows
            .drain(..(keep_from - self.first_row) * self.row_bytes);
        self.first_row = keep_from;
        Ok(())
    }

    /// The `pending` rows resized down, resized across into the output
    /// (straight into place, or through `turning` if they are turned).
    fn resize_across(&mut self, pending: usize) -> Result<(), ImagingError> {
        let out_row_bytes = self.target_width as usize * self.pixel_type.size();
        if let Some(turn) = self.turn {
            let mut turning = std::mem::take(&mut self.turning);
            turning.resize(pending * out_row_bytes, 0);
            self.finish_rows(&mut turning)?;
            turn.place(&turning, self.out_rows, self.pixel_type.size(), self.out);
            self.turning = turning;
        } else {
            let out = std::mem::take(&mut self.out);
            let dest = &mut out[self.out_rows * out_row_bytes..][..pending * out_row_bytes];
            let finished = self.finish_rows(dest);
            self.out = out;
            finished?;
        }
        self.out_rows += pending;
        self.down.clear();
        Ok(())
    }

    /// The rows resized down, resized across into `dest`, then converted
    /// and streamed as `rgb` says.
    fn finish_rows(&mut self, dest: &mut [u8]) -> Result<(), ImagingError> {
        if self.target_width == self.width {
            dest.copy_from_slice(&self.down);
        } else {
            let size = (self.width, dimension(self.down.len() / self.row_bytes)?);
            resize_across(&self.down, size, self.pixel_type, dest, self.target_width)?;
        }
        if let Some(to_srgb) = self.rgb.to_srgb {
            to_srgb.apply(dest, &mut self.scratch);
        }
        if let Some(stream) = self.rgb.stream {
            stream.rows(dest);
        }
        Ok(())
    }
}

fn dimension(value: usize) -> Result<u32, ImagingError> {
    u32::try_from(value).map_err(|_| ImagingError::Corrupt("image dimension overflows".into()))
}

fn corrupt(err: impl std::fmt::Display) -> ImagingError {
    ImagingError::Corrupt(format!("JPEG decoder: {err}"))
}

#[cfg(test)]
mod tests {
    use super::{dct_scale, decode};
    use crate::render::Pixels;
    use crate::DecodeLimits;

    #[test]
    fn rows_turned_as_they_are_resized_equal_the_image_turned_afterwards() {
        let limits = DecodeLimits {
            max_pixels: 10_000_000,
            max_file_bytes: 10_000_000,
        };
        // Wide enough for bands of under 500 rows: several bands and chunks.
        let jpeg = crate::test_jpeg(1600, 900, |x, y| {
            [
                (x % 251) as u8,
                ((x * 7 + y * 3) % 64) as u8 * 3,
                (y % 200) as u8,
            ]
        });
        for o in 1..=8 {
            // Full size (turned after reading) and resized (turned by chunk).
            for (upright_width, stored_width) in [(None, None), (Some(800), Some(800))] {
                let (upright_width, stored_width) = if o >= 5 {
                    (upright_width.map(|_| 450), stored_width)
                } else {
                    (upright_width, stored_width)
                };
                let turned = decode(&jpeg, limits, o, upright_width, None, None).unwrap();
                let stored = decode(&jpeg, limits, 1, stored_width, None, None).unwrap();
                let afterwards = Pixels {
                    width: stored.width,
                    height: stored.height,
                    alpha: false,
                    data: stored.samples,
                }
                .oriented(o);
                assert_eq!(
                    (turned.width, turned.height),
                    (afterwards.width, afterwards.height),
                    "orientation {o}, {upright_width:?} px"
                );
                assert!(
                    turned.samples == afterwards.data,
                    "orientation {o}, {upright_width:?} px"
                );
            }
        }
    }

    #[test]
    fn dct_scale_leaves_a_factor_of_two_for_the_filter() {
        assert_eq!(dct_scale(6000, 2048), 8);
        assert_eq!(dct_scale(8191, 2048), 8);
        assert_eq!(dct_scale(8192, 2048), 4);
        assert_eq!(dct_scale(6000, 400), 2);
        assert_eq!(dct_scale(6400, 400), 1);
        assert_eq!(dct_scale(300, 2048), 8);
    }
}
