//! The widest JPEG rendition, encoded on its own thread while the photo is
//! still decoding. libjpeg's first pass (colour conversion, DCT,
//! quantisation; about a fifth of a progressive encode) then overlaps the
//! decode, and only the progressive scans are left when the last row
//! arrives; they run beside the other renditions. The decoder feeds it
//! only rows that are already final: upright and sRGB.

use super::encode::{jpeg_compressor, panic_message};
use crate::ImagingError;
use std::panic::{self, AssertUnwindSafe};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::sync::Mutex;
use std::thread::{Scope, ScopedJoinHandle};

/// The decoder's end: it announces the size, then sends every row in order.
pub(crate) struct RowStream {
    to_encoder: SyncSender<Message>,
    /// Buffers the encoder is done with, to copy the next rows into.
    spare: Mutex<Receiver<Vec<u8>>>,
}

enum Message {
    Size { width: u32, height: u32 },
    Rows(Vec<u8>),
}

impl RowStream {
    pub(crate) fn size(&self, width: u32, height: u32) {
        // A gone encoder has failed; the rendition is then encoded as usual.
        self.to_encoder.send(Message::Size { width, height }).ok();
    }

    /// Whole RGB rows, next in order.
    pub(crate) fn rows(&self, rows: &[u8]) {
        let mut buffer = self
            .spare
            .lock()
            .ok()
            .and_then(|spare| spare.try_recv().ok())
            .unwrap_or_default();
        buffer.clear();
        buffer.extend_from_slice(rows);
        self.to_encoder.send(Message::Rows(buffer)).ok();
    }
}

/// The encoder thread, until it hands over the JPEG.
pub(crate) struct EarlyJpeg<'scope> {
    encoder: ScopedJoinHandle<'scope, Option<Result<Vec<u8>, ImagingError>>>,
}

impl<'scope> EarlyJpeg<'scope> {
    /// Starts the encoder thread in `scope`, at `quality`, and gives the
    /// stream that feeds it; dropping the stream ends it.
    pub(crate) fn start(scope: &'scope Scope<'scope, '_>, quality: u8) -> (RowStream, Self) {
        // Two chunks in flight bound the memory if the encoder falls behind.
        let (to_encoder, messages) = mpsc::sync_channel(2);
        let (done_with, spare) = mpsc::channel();
        let encoder = scope.spawn(move || encode(&messages, &done_with, quality));
        let rows = RowStream {
            to_encoder,
            spare: Mutex::new(spare),
        };
        (rows, EarlyJpeg { encoder })
    }

    /// The JPEG, once the scans are written; `None` if the stream ended
    /// before the last row (the decoder could not stream this photo).
    pub(crate) fn finish(self) -> Option<Result<Vec<u8>, ImagingError>> {
        self.encoder.join().unwrap_or(None)
    }
}

fn encode(
    messages: &Receiver<Message>,
    done_with: &Sender<Vec<u8>>,
    quality: u8,
) -> Option<Result<Vec<u8>, ImagingError>> {
    // The decode is the critical path and already keeps both cores busy:
    // at normal priority this thread slowed it by more than it saved.
    // Lowered (nice 10), it mostly runs in the gaps. Failing to lower it
    // changes only the speed.
    rustix::process::setpriority_process(Some(rustix::thread::gettid()), 10).ok();
    let Ok(Message::Size { width, height }) = messages.recv() else {
        return None;
    };
    let failed = |e: String| ImagingError::Corrupt(format!("jpeg encoder: {e}"));
    // libjpeg's fatal errors unwind through the `mozjpeg` crate by design.
    let encoded = panic::catch_unwind(AssertUnwindSafe(|| {
        let mut started = jpeg_compressor(width, height, quality)?;
        let row_bytes = width as usize * 3;
        let mut received = 0;
        while received < height as usize {
            let Ok(Message::Rows(rows)) = messages.recv() else {
                return Ok(None);
            };
            started.write_scanlines(&rows)?;
            received += rows.len() / row_bytes;
            done_with.send(rows).ok();
        }
        started.finish().map(Some)
    }));
    match encoded {
        Ok(Ok(Some(jpeg))) => Some(Ok(jpeg)),
        Ok(Ok(None)) => None,
        Ok(Err(e)) => Some(Err(failed(e.to_string()))),
        Err(e) => Some(Err(failed(panic_message(e)))),
    }
}

#[cfg(test)]
mod tests {
    use super::EarlyJpeg;
    use crate::render::color::{to_srgb, IccSource};
    use crate::render::decode::decode_upright_streamed;
    use crate::render::{encode, jpeg_decode, EmbedOptions, Pixels, RenditionSpec};
    use crate::DecodeLimits;
    use photodesk_types::{PhotoMetadata, RenditionFormat};

    const LIMITS: DecodeLimits = DecodeLimits {
        max_pixels: 50_000_000,
        max_file_bytes: 50_000_000,
    };

    /// Detailed enough that rows out of order or missing change the JPEG.
    fn detailed_jpeg(width: u32, height: u32) -> Vec<u8> {
        crate::test_jpeg(width, height, |x, y| {
            [
                (x % 251) as u8,
                ((x * 7 + y * 3) % 64) as u8 * 3,
                (y % 200) as u8,
            ]
        })
    }

    /// The pixels decoded at `width` and the JPEG the stream made, if any.
    fn decode_streaming(jpeg: &[u8], orientation: u8, width: u32) -> (Pixels, Option<Vec<u8>>) {
        std::thread::scope(|scope| {
            let (rows, early) = EarlyJpeg::start(scope, 82);
            let (pixels, streamed) =
                decode_upright_streamed(jpeg, LIMITS, orientation, Some(width), Some(&rows))
                    .unwrap();
            drop(rows);
            let encoded = early.finish().transpose().unwrap();
            assert_eq!(streamed, encoded.is_some());
            (pixels, encoded)
        })
    }

    fn encoded_afterwards(pixels: &Pixels) -> Vec<u8> {
        let spec = RenditionSpec {
            width: pixels.width,
            format: RenditionFormat::Jpeg,
            quality: 82,
        };
        encode::encode(
            pixels,
            &spec,
            &PhotoMetadata::default(),
            EmbedOptions::default(),
        )
        .unwrap()
    }

    #[test]
    fn rows_encoded_while_decoding_make_the_same_jpeg_as_encoding_afterwards() {
        // Tall enough for several decode bands and resize chunks.
        let jpeg = detailed_jpeg(1800, 2600);
        for width in [900, 611] {
            let (pixels, streamed) = decode_streaming(&jpeg, 1, width);
            assert_eq!(pixels.width, width);
            let streamed = streamed.expect("an upright sRGB JPEG streams");
            assert!(streamed == encoded_afterwards(&pixels), "{width} px");
        }
    }

    /// `jpeg` carrying the Adobe RGB (1998) profile of the fixture.
    fn with_adobe_rgb(jpeg: Vec<u8>) -> Vec<u8> {
        use img_parts::ImageICC;
        let fixture = include_bytes!("../../tests/fixtures/adobergb-police.jpg");
        let icc = crate::jpeg::icc_profile(fixture).expect("the fixture has a profile");
        let mut parts = img_parts::jpeg::Jpeg::from_bytes(jpeg.into()).unwrap();
        parts.set_icc_profile(Some(icc.into()));
        parts.encoder().bytes().to_vec()
    }

    #[test]
    fn rows_in_another_profile_are_converted_as_they_stream() {
        let jpeg = with_adobe_rgb(detailed_jpeg(1800, 2600));
        let (pixels, streamed) = decode_streaming(&jpeg, 1, 700);
        let streamed = streamed.expect("an upright Adobe RGB JPEG streams");
        assert!(streamed == encoded_afterwards(&pixels));
        // Converted chunk by chunk: the same as the whole image at once.
        let raw = jpeg_decode::decode(&jpeg, LIMITS, 1, Some(700), None, None).unwrap();
        let icc = crate::jpeg::icc_profile(&jpeg);
        let source = IccSource::Rgb {
            data: raw.samples.clone(),
            alpha: false,
            grey: false,
        };
        let whole = to_srgb(source, icc.as_deref(), raw.width, raw.height).unwrap();
        assert!(whole.data != raw.samples, "the profile changes the samples");
        assert!(pixels.data == whole.data);
    }

    #[test]
    fn rows_needing_more_work_are_not_streamed() {
        let jpeg = detailed_jpeg(800, 600);
        let cmyk = include_bytes!("../../tests/fixtures/cmyk-swop.jpg");
        for (what, jpeg, orientation, width) in [
            ("turned", &jpeg[..], 6, 300),
            ("full size", &jpeg[..], 1, 800),
            ("CMYK", &cmyk[..], 1, 200),
        ] {
            let (_, streamed) = decode_streaming(jpeg, orientation, width);
            assert!(streamed.is_none(), "{what}");
        }
    }
}
