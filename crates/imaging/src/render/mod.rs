//! Renditions: one decode per photo (shrunk on load where the codec can),
//! made upright and sRGB, then resized with Lanczos3 and encoded to each
//! width and format asked for.

mod color;
mod decode;
mod early_jpeg;
mod embed;
mod encode;
mod hashes;
mod jpeg_decode;
mod tiff_decode;
mod turn;

pub(crate) use color::{cicp_profile, hdr_to_srgb, HdrSpace};
pub use decode::decode_upright;
use decode::decode_upright_streamed;
use early_jpeg::EarlyJpeg;
pub use embed::EmbedOptions;
pub use hashes::{
    near_duplicate_distance, perceptual_distance, perceptual_hash, placeholder, Likeness,
};
use turn::Turn;

use crate::probe::upright_size;
use crate::{DecodeLimits, ImagingError};
use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{Filter, FilterType, MulDiv, PixelType, ResizeAlg, ResizeOptions, Resizer};
use photodesk_types::{Fingerprints, PhotoMetadata, RenditionFormat};
use std::borrow::Cow;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{LazyLock, OnceLock};

/// The widths every photo gets, narrowest first.
pub const LADDER_WIDTHS: [u32; 5] = [320, 640, 1024, 1600, 2048];

/// The JPEG width link previews want (Open Graph, Twitter cards: 1200 px).
/// Only JPEG gets it: every sharing crawler reads JPEG, not all read AVIF.
pub const SHARING_WIDTH: u32 = 1200;

/// Bumped, with a row of [`FORMAT_VERSIONS`], when the files of a format
/// change in what they show (size, crop, colour) or carry (rights
/// metadata), so their rendition keys (and immutable URLs) change with
/// them; renditions of older versions keep being served until the
/// background worker has made the current ones (`photodesk rerender`).
/// Finer filtering that changes nothing visible keeps it. Version 2: colour
/// fixes for ICC curves other than sRGB's, grey profiles, PNG cICP and HDR
/// photos. Version 3: AVIF files carry the XMP rights fields (credit line,
/// creator, copyright) as JPEG and WebP do; JPEG and WebP were bumped with
/// it, as versions were not yet kept per format.
pub const PIPELINE_VERSION: u32 = 3;

/// The version of the files each format gets from each pipeline version
/// (the first row is version 1), JPEG, WebP and AVIF in that order. A
/// pipeline version that changes one format's files (a new AVIF encoder)
/// bumps that format alone, so the others keep their files, keys and URLs
/// and are not made again; rendition keys carry the format's version.
const FORMAT_VERSIONS: [[u32; 3]; PIPELINE_VERSION as usize] = [[1, 1, 1], [2, 2, 2], [3, 3, 3]];

/// The column of `format` in [`FORMAT_VERSIONS`].
fn format_column(format: RenditionFormat) -> usize {
    match format {
        RenditionFormat::Jpeg => 0,
        RenditionFormat::Webp => 1,
        RenditionFormat::Avif => 2,
    }
}

/// The version of `format`'s files the current pipeline makes.
fn current_files_version(format: RenditionFormat) -> u32 {
    FORMAT_VERSIONS[PIPELINE_VERSION as usize - 1][format_column(format)]
}

/// The newest pipeline version in `table` whose files of `format` are of
/// `files_version`: a file stays as good as new until its format is bumped.
fn newest_pipeline_with(
    table: &[[u32; 3]],
    format: RenditionFormat,
    files_version: u32,
) -> Option<u32> {
    let row = table
        .iter()
        .rposition(|row| row[format_column(format)] == files_version)?;
    u32::try_from(row + 1).ok()
}

/// What to produce: one width in one format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RenditionSpec {
    pub width: u32,
    pub format: RenditionFormat,
    pub quality: u8,
}

impl RenditionSpec {
    /// The default quality per format, picked for similar visual quality:
    /// JPEG 82 is the newsroom norm; WebP and AVIF reach it at lower numbers.
    pub fn default_quality(format: RenditionFormat) -> u8 {
        match format {
            RenditionFormat::Jpeg => 82,
            RenditionFormat::Webp => 80,
            RenditionFormat::Avif => 60,
        }
    }

    /// The file name this spec gets, e.g. `1024w-q82-v3.jpg`: width,
    /// quality and the version of its format's files, so each spec has its
    /// own immutable URL.
    pub fn file_name(&self) -> String {
        self.file_name_of_version(current_files_version(self.format))
    }

    fn file_name_of_version(&self, version: u32) -> String {
        format!(
            "{}w-q{}-v{version}.{}",
            self.width,
            self.quality,
            self.format.extension()
        )
    }

    /// Reads a name made by [`RenditionSpec::file_name`] back, by this
    /// pipeline version or an earlier one (still stored until re-rendered).
    pub fn from_file_name(name: &str) -> Option<RenditionSpec> {
        Self::parse_file_name(name).map(|(spec, _)| spec)
    }

    /// The newest pipeline version a rendition's file name (or key) is as
    /// good as: that of the file, or a later one that left its format
    /// alone. `None` if it names no rendition.
    pub fn pipeline_version_of(key: &str) -> Option<u32> {
        let name = key.rsplit('/').next()?;
        let (spec, files_version) = Self::parse_file_name(name)?;
        newest_pipeline_with(&FORMAT_VERSIONS, spec.format, files_version)
    }

    /// Whether a rendition's key names a file the current pipeline would
    /// make the same.
    pub fn is_current(key: &str) -> bool {
        Self::pipeline_version_of(key) == Some(PIPELINE_VERSION)
    }

    fn parse_file_name(name: &str) -> Option<(RenditionSpec, u32)> {
        let (stem, extension) = name.rsplit_once('.')?;
        let format = RenditionFormat::parse(extension)?;
        let mut parts = stem.split('-');
        let width = parts.next()?.strip_suffix('w')?.parse().ok()?;
        let quality = parts.next()?.strip_prefix('q')?.parse().ok()?;
        let version: u32 = parts.next()?.strip_prefix('v')?.parse().ok()?;
        let spec = RenditionSpec {
            width,
            format,
            quality,
        };
        (parts.next().is_none()
            && (1..=current_files_version(format)).contains(&version)
            && spec.file_name_of_version(version) == name)
            .then_some((spec, version))
    }

    /// The standard ladder in one format for a photo `upright_width` wide:
    /// never upscaled, and a photo narrower than the smallest width gets one
    /// rendition at its own width. JPEG also gets the [`SHARING_WIDTH`].
    pub fn ladder(upright_width: u32, format: RenditionFormat) -> Vec<RenditionSpec> {
        let mut wanted = LADDER_WIDTHS.to_vec();
        if format == RenditionFormat::Jpeg {
            wanted.push(SHARING_WIDTH);
        }
        widths_for(upright_width, &wanted)
            .into_iter()
            .map(|width| RenditionSpec {
                width,
                format,
                quality: Self::default_quality(format),
            })
            .collect()
    }
}

/// The requested widths a photo can fill, without upscaling; its own width
/// stands in for all wider ones. Sorted and without repeats.
pub fn widths_for(upright_width: u32, wanted: &[u32]) -> Vec<u32> {
    let mut widths: Vec<u32> = wanted.iter().map(|&w| w.min(upright_width)).collect();
    widths.sort_unstable();
    widths.dedup();
    widths
}

/// Upright, 8-bit sRGB pixels, RGB or RGBA.
#[derive(Clone)]
pub struct Pixels {
    pub width: u32,
    pub height: u32,
    pub alpha: bool,
    pub data: Vec<u8>,
}

impl std::fmt::Debug for Pixels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Pixels({}×{}, alpha: {})",
            self.width, self.height, self.alpha
        )
    }
}

/// One encoded rendition.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub spec: RenditionSpec,
    pub width: u32,
    pub height: u32,
    pub bytes: Vec<u8>,
}

impl Pixels {
    /// Applies EXIF orientation `o` (1–8), so the pixels stand as the
    /// photographer held the camera.
    pub(crate) fn oriented(self, o: u8) -> Pixels {
        let Some(turn) = Turn::of(o, (self.width, self.height)) else {
            return self;
        };
        let mut data = vec![0u8; self.data.len()];
        turn.place(&self.data, 0, if self.alpha { 4 } else { 3 }, &mut data);
        let (width, height) = turn.upright();
        Pixels {
            width,
            height,
            alpha: self.alpha,
            data,
        }
    }

    /// Turned upright by EXIF orientation `o` (1: already upright) and
    /// shrunk to `width` upright pixels if given and narrower (aspect kept).
    /// The resize comes first, so only the smaller image is turned.
    pub(crate) fn upright_fitted(self, o: u8, width: Option<u32>) -> Result<Pixels, ImagingError> {
        let (upright_width, upright_height) = upright_size(self.width, self.height, o);
        let fitted = match width.filter(|&width| width < upright_width) {
            Some(width) => {
                let width = width.max(1);
                let height = scaled(upright_height, width, upright_width);
                let (stored_width, stored_height) = upright_size(width, height, o);
                self.shrunk_to(stored_width, stored_height)?
            }
            None => self,
        };
        Ok(fitted.oriented(o))
    }

    /// `resized_to`, taking the pixels: see [`shrink`].
    fn shrunk_to(mut self, width: u32, height: u32) -> Result<Pixels, ImagingError> {
        let size = (self.width, self.height);
        shrink(&mut self.data, size, self.alpha, (width, height))
    }

    /// Samples `size` large (RGB, or RGBA with `alpha`), lent by a decoder
    /// that keeps them, fitted to `width` if given and narrower (aspect
    /// kept; see [`shrink`]), else copied whole.
    pub(crate) fn fitted_from(
        samples: &mut [u8],
        size: (u32, u32),
        alpha: bool,
        width: Option<u32>,
    ) -> Result<Pixels, ImagingError> {
        match width.filter(|&width| width < size.0) {
            Some(width) => {
                let width = width.max(1);
                shrink(samples, size, alpha, (width, scaled(size.1, width, size.0)))
            }
            None => Ok(Pixels {
                width: size.0,
                height: size.1,
                alpha,
                data: samples.to_vec(),
            }),
        }
    }

    /// Resized to `width` (never wider than now), keeping the aspect ratio.
    pub fn resized(&self, width: u32) -> Result<Pixels, ImagingError> {
        let width = width.clamp(1, self.width);
        self.resized_to(width, scaled(self.height, width, self.width))
    }

    /// Shrunk so neither side exceeds `side` (never enlarged), keeping the
    /// aspect ratio: for the fingerprints, whatever the shape of the photo.
    pub(crate) fn fitted(&self, side: u32) -> Result<Pixels, ImagingError> {
        let longest = self.width.max(self.height);
        if longest <= side {
            return Ok(self.clone());
        }
        self.resized_to(
            scaled(self.width, side, longest),
            scaled(self.height, side, longest),
        )
    }

    /// Resized to exactly `width` × `height`.
    fn resized_to(&self, width: u32, height: u32) -> Result<Pixels, ImagingError> {
        if width == self.width && height == self.height {
            return Ok(self.clone());
        }
        resized_samples(
            &self.data,
            (self.width, self.height),
            self.alpha,
            (width, height),
        )
    }
}

/// Whether every pixel of RGB (or with `alpha` RGBA) `samples` is grey
/// (R = G = B), as a monochrome image comes out of a decoder that gives
/// RGB. A colour image is told at its first coloured pixel.
pub(crate) fn is_grey(samples: &[u8], alpha: bool) -> bool {
    let channels = if alpha { 4 } else { 3 };
    samples
        .chunks_exact(channels)
        .all(|p| p[0] == p[1] && p[1] == p[2])
}

/// RGB (or with `alpha` RGBA) `samples` `size` large resized to `target`.
fn resized_samples(
    samples: &[u8],
    size: (u32, u32),
    alpha: bool,
    target: (u32, u32),
) -> Result<Pixels, ImagingError> {
    let pixel_type = if alpha {
        PixelType::U8x4
    } else {
        PixelType::U8x3
    };
    let source = ImageRef::new(size.0, size.1, samples, pixel_type).map_err(resize_failed)?;
    let options = ResizeOptions::new().resize_alg(lanczos3());
    Ok(Pixels {
        width: target.0,
        height: target.1,
        alpha,
        data: lanczos(&source, &options, target)?,
    })
}

/// `resized_samples` for samples not needed again: alpha is premultiplied
/// where the samples lie rather than in the copy fast_image_resize would
/// make, so a large RGBA photo is held once.
fn shrink(
    samples: &mut [u8],
    size: (u32, u32),
    alpha: bool,
    target: (u32, u32),
) -> Result<Pixels, ImagingError> {
    if !alpha {
        return resized_samples(samples, size, alpha, target);
    }
    let multiply = MulDiv::default();
    let mut source =
        Image::from_slice_u8(size.0, size.1, samples, PixelType::U8x4).map_err(resize_failed)?;
    multiply
        .multiply_alpha_inplace(&mut source)
        .map_err(resize_failed)?;
    let mut shrunk = Image::new(target.0, target.1, PixelType::U8x4);
    Resizer::new()
        .resize(&source, &mut shrunk, &opaque_lanczos())
        .map_err(resize_failed)?;
    multiply
        .divide_alpha_inplace(&mut shrunk)
        .map_err(resize_failed)?;
    Ok(Pixels {
        width: target.0,
        height: target.1,
        alpha: true,
        data: shrunk.into_vec(),
    })
}

/// `rows` of `pixel_type` samples `size` large resized across to
/// `width`, into `dest`. Four channels are taken as CMYK here, not alpha.
pub(crate) fn resize_across(
    samples: &[u8],
    size: (u32, u32),
    pixel_type: PixelType,
    dest: &mut [u8],
    width: u32,
) -> Result<(), ImagingError> {
    let source = ImageRef::new(size.0, size.1, samples, pixel_type).map_err(resize_failed)?;
    let mut target =
        Image::from_slice_u8(width, size.1, dest, pixel_type).map_err(resize_failed)?;
    Resizer::new()
        .resize(&source, &mut target, &opaque_lanczos())
        .map_err(resize_failed)
}

/// Samples `size` large resized down into `dest` (same width, its height
/// given by its length), from the rows `top..top + span` (fractional) of
/// the source. The filter reads rows outside that span where the source
/// has them, as it would in one pass over the whole image.
pub(crate) fn resize_down_into(
    samples: &[u8],
    size: (u32, u32),
    pixel_type: PixelType,
    (top, span): (f64, f64),
    dest: &mut [u8],
) -> Result<(), ImagingError> {
    let source = ImageRef::new(size.0, size.1, samples, pixel_type).map_err(resize_failed)?;
    let row_bytes = size.0 as usize * pixel_type.size();
    let height = u32::try_from(dest.len() / row_bytes).map_err(resize_failed)?;
    let mut target =
        Image::from_slice_u8(size.0, height, dest, pixel_type).map_err(resize_failed)?;
    let options = opaque_lanczos().crop(0.0, top, f64::from(size.0), span);
    Resizer::new()
        .resize(&source, &mut target, &options)
        .map_err(resize_failed)
}

/// Lanczos3 with no channel treated as alpha.
fn opaque_lanczos() -> ResizeOptions {
    ResizeOptions::new().resize_alg(lanczos3()).use_alpha(false)
}

/// fir's Lanczos3, read from a table. fir works out the filter weights on
/// every call, and the streamed resize calls it once per chunk of rows:
/// computing them (two sines each) was 3 % of a render's CPU time.
fn lanczos3() -> ResizeAlg {
    let filter =
        Filter::new("Lanczos3, tabulated", lanczos3_weight, 3.0).expect("3 is a valid support");
    ResizeAlg::Convolution(FilterType::Custom(filter))
}

/// Samples of the kernel per unit of distance. Linear interpolation between
/// them is within 1e-6 of the formula, far below the 1/16384 steps of the
/// fixed-point weights fir convolves 8-bit samples with.
const LANCZOS3_STEPS: usize = 1024;

static LANCZOS3_TABLE: LazyLock<Vec<f64>> = LazyLock::new(|| {
    (0..=3 * LANCZOS3_STEPS + 1)
        .map(|i| lanczos3_exact(i as f64 / LANCZOS3_STEPS as f64))
        .collect()
});

fn lanczos3_weight(x: f64) -> f64 {
    let at = x.abs() * LANCZOS3_STEPS as f64;
    let i = at as usize;
    if i >= 3 * LANCZOS3_STEPS {
        return 0.0;
    }
    let table = &LANCZOS3_TABLE;
    let fraction = at - i as f64;
    table[i] + (table[i + 1] - table[i]) * fraction
}

/// sinc(x)·sinc(x/3) on (−3, 3).
fn lanczos3_exact(x: f64) -> f64 {
    if x == 0.0 {
        return 1.0;
    }
    if !(-3.0..3.0).contains(&x) {
        return 0.0;
    }
    let pi_x = std::f64::consts::PI * x;
    3.0 * pi_x.sin() * (pi_x / 3.0).sin() / (pi_x * pi_x)
}

/// `source` resized with `options` into a new buffer of `target` size.
fn lanczos(
    source: &ImageRef<'_>,
    options: &ResizeOptions,
    (width, height): (u32, u32),
) -> Result<Vec<u8>, ImagingError> {
    let mut target = Image::new(width, height, source.pixel_type());
    Resizer::new()
        .resize(source, &mut target, options)
        .map_err(resize_failed)?;
    Ok(target.into_vec())
}

fn resize_failed(err: impl std::fmt::Display) -> ImagingError {
    ImagingError::Corrupt(format!("resize: {err}"))
}

/// True if EXIF orientation `o` moves pixels; any other value means upright.
pub(crate) fn turns(o: u8) -> bool {
    (2..=8).contains(&o)
}

/// `value × numerator / denominator`, rounded, at least 1.
pub(crate) fn scaled(value: u32, numerator: u32, denominator: u32) -> u32 {
    ((u64::from(value) * u64::from(numerator) + u64::from(denominator) / 2)
        / u64::from(denominator))
    .max(1) as u32
}

/// Encodes `pixels` (already decoded and upright) to every spec. The
/// encodes, most of the work, share the cores, widest first; each width is
/// resized by the first job that needs it, so the widest encode starts at
/// once while smaller widths are still being made. The rights metadata of
/// `metadata` is embedded as `embed` allows.
pub fn render(
    pixels: &Pixels,
    specs: &[RenditionSpec],
    metadata: &PhotoMetadata,
    embed: EmbedOptions,
) -> Result<Vec<Rendered>, ImagingError> {
    let mut widths: Vec<u32> = specs.iter().map(|s| s.width).collect();
    widths.sort_unstable_by(|a, b| b.cmp(a));
    widths.dedup();
    let ladder = Ladder::new(pixels, widths);
    let jobs: Vec<(usize, &RenditionSpec)> = ladder
        .widths
        .iter()
        .enumerate()
        .flat_map(|(index, &width)| {
            specs
                .iter()
                .filter(move |s| s.width == width)
                .map(move |spec| (index, spec))
        })
        .collect();
    let mut out = on_every_core(&jobs, |&(index, spec)| {
        let resized = ladder.at(index)?;
        Ok(Rendered {
            spec: *spec,
            width: resized.width,
            height: resized.height,
            bytes: encode::encode(resized, spec, metadata, embed)?,
        })
    })?;
    out.sort_by_key(|r| (r.spec.width, r.spec.format));
    Ok(out)
}

/// The photo at each wanted width (widest first), each made once, on
/// demand, from the smallest wider one at least twice its width (else from
/// the decoded pixels): Lanczos keeps its quality at that ratio, and small
/// widths cost little.
struct Ladder<'a> {
    pixels: &'a Pixels,
    widths: Vec<u32>,
    /// Index of the width each one is resized from (`None`: the pixels).
    sources: Vec<Option<usize>>,
    made: Vec<OnceLock<Result<Cow<'a, Pixels>, ImagingError>>>,
}

impl<'a> Ladder<'a> {
    fn new(pixels: &'a Pixels, widths: Vec<u32>) -> Ladder<'a> {
        let sources = (0..widths.len())
            .map(|index| {
                (0..index)
                    .rev()
                    .find(|&wider| widths[wider] >= widths[index].saturating_mul(2))
            })
            .collect();
        let made = widths.iter().map(|_| OnceLock::new()).collect();
        Ladder {
            pixels,
            widths,
            sources,
            made,
        }
    }

    /// The pixels at `self.widths[index]`, made by the first caller; others
    /// wait for it.
    fn at(&self, index: usize) -> Result<&Pixels, ImagingError> {
        let made = self.made[index].get_or_init(|| {
            let width = self.widths[index];
            // The decoder usually delivers the widest width already.
            if width >= self.pixels.width {
                return Ok(Cow::Borrowed(self.pixels));
            }
            let source = match self.sources[index] {
                Some(wider) => self.at(wider)?,
                None => self.pixels,
            };
            source.resized(width).map(Cow::Owned)
        });
        made.as_ref().map(Cow::as_ref).map_err(Clone::clone)
    }
}

/// `work` done on each of `jobs`, taken in order by one thread per core.
fn on_every_core<J: Sync, T: Send>(
    jobs: &[J],
    work: impl Fn(&J) -> Result<T, ImagingError> + Sync,
) -> Result<Vec<T>, ImagingError> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let next = AtomicUsize::new(0);
    let take = || -> Vec<(usize, Result<T, ImagingError>)> {
        let mut done = Vec::new();
        loop {
            let index = next.fetch_add(1, Ordering::Relaxed);
            let Some(job) = jobs.get(index) else {
                return done;
            };
            done.push((index, work(job)));
        }
    };
    let mut done: Vec<(usize, Result<T, ImagingError>)> = std::thread::scope(|scope| {
        let helpers: Vec<_> = (1..cores.min(jobs.len()))
            .map(|_| scope.spawn(take))
            .collect();
        let mut done = take();
        for helper in helpers {
            done.extend(helper.join().expect("encoding thread panicked"));
        }
        done
    });
    done.sort_by_key(|(index, _)| *index);
    done.into_iter().map(|(_, result)| result).collect()
}

/// What to make of one photo.
pub struct Job<'a> {
    /// The renditions wanted, given the photo's upright width.
    pub specs: Box<dyn Fn(u32) -> Vec<RenditionSpec> + Sync + 'a>,
    /// Also compute the placeholder and the perceptual hash.
    pub fingerprints: bool,
    pub embed: EmbedOptions,
}

/// A photo checked, read and rendered.
#[derive(Debug, Clone)]
pub struct Processed {
    pub media_type: &'static str,
    /// Full upright size of the original.
    pub width: u32,
    pub height: u32,
    pub metadata: PhotoMetadata,
    /// What could not be read of the metadata ([`crate::read_metadata_and_problems`]).
    pub metadata_problems: Vec<String>,
    pub renditions: Vec<Rendered>,
    pub fingerprints: Option<Fingerprints>,
}

/// The whole pipeline for one photo: header checks within `limits`, the
/// metadata, one decode (shrunk on load to what the widest spec needs, which
/// still reads every byte, so a corrupt file fails here), then every spec.
pub fn process(
    bytes: bytes::Bytes,
    limits: DecodeLimits,
    job: &Job<'_>,
) -> Result<Processed, ImagingError> {
    let probed = crate::probe(&bytes, limits)?;
    let (metadata, metadata_problems) = crate::read_metadata_and_problems(bytes.clone());
    let orientation = if probed.oriented_by_container {
        1
    } else {
        metadata.orientation
    };
    let (width, height) = probed.upright(orientation);
    let specs = (job.specs)(width);
    // The fingerprints are taken from a 256-px copy.
    let needed = specs
        .iter()
        .map(|s| s.width)
        .chain(job.fingerprints.then_some(256))
        .max()
        .unwrap_or(1);
    // The widest JPEG can be encoded while the photo decodes.
    let early_spec = specs
        .iter()
        .position(|s| s.format == RenditionFormat::Jpeg && s.width >= needed);
    let (pixels, renditions) = std::thread::scope(|scope| {
        let (stream, early) = early_spec
            .map(|index| {
                let (stream, early) = EarlyJpeg::start(scope, specs[index].quality);
                (Some(stream), Some((index, early)))
            })
            .unwrap_or_default();
        let (pixels, streamed) =
            decode_upright_streamed(&bytes, limits, orientation, Some(needed), stream.as_ref())?;
        // Neither the original nor the stream's buffers are needed again.
        drop((bytes, stream));
        let (early, rest) = match early {
            Some((index, early)) if streamed => {
                let mut rest = specs.clone();
                (Some((rest.remove(index), early)), rest)
            }
            _ => (None, specs),
        };
        let mut renditions = render(&pixels, &rest, &metadata, job.embed)?;
        if let Some((spec, early)) = early {
            let jpeg = match early.finish() {
                Some(jpeg) => embed::into_jpeg(jpeg?, &metadata, job.embed),
                None => encode::encode(&pixels, &spec, &metadata, job.embed)?,
            };
            renditions.push(Rendered {
                spec,
                width: pixels.width,
                height: pixels.height,
                bytes: jpeg,
            });
            renditions.sort_by_key(|r| (r.spec.width, r.spec.format));
        }
        Ok::<_, ImagingError>((pixels, renditions))
    })?;
    let fingerprints = job.fingerprints.then(|| Fingerprints {
        placeholder: placeholder(&pixels),
        perceptual_hash: perceptual_hash(&pixels),
    });
    Ok(Processed {
        media_type: probed.media_type,
        width,
        height,
        metadata,
        metadata_problems,
        renditions,
        fingerprints,
    })
}

#[cfg(test)]
mod tests {
    use super::{lanczos3_exact, lanczos3_weight, newest_pipeline_with, on_every_core, Pixels};
    use super::{RenditionSpec, PIPELINE_VERSION};
    use crate::ImagingError;
    use photodesk_types::RenditionFormat::{Avif, Jpeg, Webp};

    #[test]
    fn a_pipeline_version_bumping_one_format_leaves_the_others_current() {
        // Today's versions, then a fourth that changes AVIF files only.
        let table = [[1, 1, 1], [2, 2, 2], [3, 3, 3], [3, 3, 4]];
        assert_eq!(newest_pipeline_with(&table, Jpeg, 3), Some(4));
        assert_eq!(newest_pipeline_with(&table, Webp, 3), Some(4));
        assert_eq!(newest_pipeline_with(&table, Avif, 3), Some(3));
        assert_eq!(newest_pipeline_with(&table, Avif, 4), Some(4));
        assert_eq!(newest_pipeline_with(&table, Jpeg, 2), Some(2));
        assert_eq!(newest_pipeline_with(&table, Jpeg, 5), None);

        // The real table: files named now are current, older ones are not,
        // and a version not made yet names nothing.
        for format in [Jpeg, Webp, Avif] {
            let spec = RenditionSpec {
                width: 640,
                format,
                quality: 70,
            };
            let name = spec.file_name();
            let key = format!("renditions/ab/abcd/{name}");
            assert!(RenditionSpec::is_current(&key), "{key}");
            assert_eq!(RenditionSpec::from_file_name(&name), Some(spec));
            let version = format!("-v{PIPELINE_VERSION}.");
            let older = key.replace(&version, &format!("-v{}.", PIPELINE_VERSION - 1));
            assert_eq!(
                RenditionSpec::pipeline_version_of(&older),
                Some(PIPELINE_VERSION - 1)
            );
            assert!(!RenditionSpec::is_current(&older));
            let newer = key.replace(&version, &format!("-v{}.", PIPELINE_VERSION + 1));
            assert_eq!(RenditionSpec::pipeline_version_of(&newer), None);
        }
    }

    /// Smooth colours, and alpha from opaque to fully transparent.
    fn sample_photo(alpha: bool) -> Pixels {
        let (width, height) = (301u32, 203u32);
        let data = (0..width * height)
            .flat_map(|i| {
                let (x, y) = (i % width, i / width);
                let rgb = [
                    x * 255 / width,
                    y * 255 / height,
                    (x + y) * 255 / (width + height),
                ]
                .map(|v| v as u8);
                let a = (255 - x * 255 / width) as u8;
                rgb.into_iter().chain(alpha.then_some(a))
            })
            .collect();
        Pixels {
            width,
            height,
            alpha,
            data,
        }
    }

    /// Colours weighted by alpha, as a page shows them over black.
    fn shown(pixels: &Pixels) -> Vec<i32> {
        let channels = if pixels.alpha { 4 } else { 3 };
        pixels
            .data
            .chunks_exact(channels)
            .flat_map(|p| {
                let a = if pixels.alpha { i32::from(p[3]) } else { 255 };
                [0, 1, 2]
                    .map(|i| i32::from(p[i]) * a / 255)
                    .into_iter()
                    .chain([a])
            })
            .collect()
    }

    #[test]
    fn fitted_before_turning_equals_turned_before_resizing() {
        for alpha in [false, true] {
            let photo = sample_photo(alpha);
            for o in 1..=8 {
                let fitted = photo.clone().upright_fitted(o, Some(120)).unwrap();
                let expected = photo.clone().oriented(o).resized(120).unwrap();
                assert_eq!(
                    (fitted.width, fitted.height, fitted.alpha),
                    (expected.width, expected.height, alpha),
                    "orientation {o}"
                );
                let worst = shown(&fitted)
                    .iter()
                    .zip(shown(&expected))
                    .map(|(a, b)| (a - b).abs())
                    .max();
                assert!(
                    worst <= Some(2),
                    "orientation {o}, alpha {alpha}: {worst:?}"
                );
            }
            // Narrower than asked for: turned, not resized.
            let whole = photo.clone().upright_fitted(6, Some(5000)).unwrap();
            assert_eq!((whole.width, whole.height), (203, 301));
            assert!(whole.data == photo.clone().oriented(6).data);
        }
    }

    #[test]
    fn tabulated_lanczos3_follows_the_textbook_formula() {
        let sinc = |x: f64| {
            let x = x * std::f64::consts::PI;
            x.sin() / x
        };
        // Off the table's grid (997 is prime), and past both ends.
        for step in -3100..=3100 {
            let x = f64::from(step) / 997.0 * 0.9999;
            let expected = match x {
                0.0 => 1.0,
                x if x.abs() >= 3.0 => 0.0,
                x => sinc(x) * sinc(x / 3.0),
            };
            assert!((lanczos3_exact(x) - expected).abs() < 1e-12, "{x}");
            assert!((lanczos3_weight(x) - expected).abs() < 1e-6, "{x}");
        }
    }

    #[test]
    fn work_shared_across_cores_keeps_job_order_and_errors() {
        let jobs: Vec<u32> = (0..50).collect();
        let doubled = on_every_core(&jobs, |&j| Ok(j * 2)).unwrap();
        assert_eq!(doubled, (0..50).map(|j| j * 2).collect::<Vec<_>>());
        let failed = on_every_core(&jobs, |&j| {
            if j == 37 {
                Err(ImagingError::Corrupt("job 37".into()))
            } else {
                Ok(j)
            }
        });
        assert!(matches!(failed, Err(ImagingError::Corrupt(m)) if m == "job 37"));
        assert!(on_every_core(&[] as &[u32], |&j| Ok(j)).unwrap().is_empty());
    }
}
