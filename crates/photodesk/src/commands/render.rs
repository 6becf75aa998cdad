//! `photodesk render`: the rendition pipeline as a stand-alone thumbnailer,
//! one decode per input for all widths. The benchmark drives this command,
//! so it measures the code ingest runs.

use crate::cli::Render;
use anyhow::{bail, Context};
use photodesk_config::Config;
use photodesk_imaging::render::{process, widths_for, EmbedOptions, Job, RenditionSpec};
use photodesk_imaging::DecodeLimits;
use photodesk_storage::write_whole;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

pub fn run(config: &Config, args: &Render) -> anyhow::Result<()> {
    refuse_shared_stems(&args.inputs)?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let limits = DecodeLimits {
        max_pixels: config.limits.max_pixels,
        max_file_bytes: config.limits.max_file_bytes,
    };
    let specs = |upright_width: u32| {
        let widths = widths_for(upright_width, &args.widths);
        args.format
            .iter()
            .flat_map(|&format| {
                let quality = args
                    .quality
                    .unwrap_or_else(|| RenditionSpec::default_quality(format));
                widths.iter().map(move |&width| RenditionSpec {
                    width,
                    format,
                    quality,
                })
            })
            .collect()
    };
    let job = Job {
        specs: Box::new(specs),
        fingerprints: false,
        embed: EmbedOptions {
            keep_location: config.keep_location,
        },
    };

    // One photo per core at a time; each worker takes the next input.
    let next = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::new());
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(args.inputs.len());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                while let Some(input) = args.inputs.get(next.fetch_add(1, Ordering::Relaxed)) {
                    if let Err(err) = render_one(input, &args.out, limits, &job) {
                        eprintln!("{}: {err:#}", input.display());
                        failures.lock().expect("no panics while held").push(input);
                    }
                }
            });
        }
    });
    let failed = failures.into_inner().expect("workers finished").len();
    if failed > 0 {
        bail!(
            "{failed} of {} photos could not be rendered",
            args.inputs.len()
        );
    }
    Ok(())
}

fn render_one(input: &Path, out: &Path, limits: DecodeLimits, job: &Job<'_>) -> anyhow::Result<()> {
    let bytes = photodesk_core::read_photo_file(input, limits.max_file_bytes)?;
    let processed = process(bytes.into(), limits, job)?;
    let stem = output_stem(input);
    for rendition in processed.renditions {
        let name = format!(
            "{stem}-{}.{}",
            rendition.width,
            rendition.spec.format.extension()
        );
        // Whole or not at all: an interrupted run leaves no truncated image.
        write_whole(out, &out.join(&name), &rendition.bytes, false)
            .with_context(|| format!("cannot write {name}"))?;
    }
    Ok(())
}

/// Renditions are named `{stem}-{width}.{format}`, like vipsthumbnail's
/// `%s`.
fn output_stem(input: &Path) -> String {
    input
        .file_stem()
        .map_or_else(|| "photo".into(), |s| s.to_string_lossy().into_owned())
}

/// Two inputs with one stem (`a.png`, `a.webp`) would silently overwrite
/// each other's renditions: refused before anything is written.
fn refuse_shared_stems(inputs: &[PathBuf]) -> anyhow::Result<()> {
    let mut seen = HashMap::new();
    for input in inputs {
        let stem = output_stem(input);
        if let Some(first) = seen.insert(stem.clone(), input) {
            bail!(
                "{} and {} would both be written as {stem}-<width>.<format>; \
                 render them into different --out folders",
                first.display(),
                input.display()
            );
        }
    }
    Ok(())
}
