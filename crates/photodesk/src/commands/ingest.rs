//! `photodesk ingest PATH...`: photos into the library with a progress bar
//! and a summary. Good photos stay ingested when others fail; the exit code
//! says whether any failed.

use crate::cli::Ingest;
use anyhow::bail;
use indicatif::{ProgressBar, ProgressStyle};
use photodesk_config::Config;
use photodesk_core::import::photos_under;
use photodesk_core::{IngestOutcome, PhotoInput, Photodesk};
use std::collections::HashMap;
use std::path::PathBuf;
use tokio::task::JoinSet;

pub async fn run(config: Config, args: &Ingest) -> anyhow::Result<()> {
    let app = Photodesk::open(&config).await?;
    let mut failed: Vec<(PathBuf, String)> = Vec::new();
    let (mut files, mut skipped) = (Vec::new(), Vec::new());
    for path in &args.paths {
        match photos_under(path) {
            Ok(found) => {
                files.extend(found.photos);
                skipped.extend(found.skipped);
            }
            Err(err) => failed.push((path.clone(), err.to_string())),
        }
    }

    let bar = progress_bar(files.len() as u64, "ingesting");
    let mut tasks = JoinSet::new();
    for path in files {
        let app = app.clone();
        // Decoding is bounded inside Photodesk (one photo per core).
        tasks.spawn(async move {
            let outcome = app.ingest(PhotoInput::File(path.clone())).await;
            (path, outcome)
        });
    }
    let (mut added, mut duplicates, mut near) = (0usize, 0usize, Vec::new());
    let mut warnings = Vec::new();
    // A file of this run holding each photo (the first by name, whatever
    // order they finished in), to name near-duplicates by.
    let mut first_files: HashMap<String, PathBuf> = HashMap::new();
    while let Some(joined) = tasks.join_next().await {
        let (path, outcome) = joined?;
        bar.set_message(path.display().to_string());
        bar.inc(1);
        let ingested = match outcome {
            Ok(ingested) => ingested,
            Err(err) => {
                failed.push((path, err.to_string()));
                continue;
            }
        };
        warnings.extend(ingested.warnings.into_iter().map(|w| (path.clone(), w)));
        first_files
            .entry(ingested.photo.sha256.clone())
            .and_modify(|first| *first = first.clone().min(path.clone()))
            .or_insert_with(|| path.clone());
        match ingested.outcome {
            IngestOutcome::Added => added += 1,
            IngestOutcome::Duplicate => duplicates += 1,
            IngestOutcome::NearDuplicate { of } => {
                added += 1;
                near.push((path, of));
            }
        }
    }
    bar.finish_and_clear();

    super::complete_renditions(&app).await?;

    println!(
        "added {added}, duplicates {duplicates}, near-duplicates {}, failed {}, skipped {}",
        near.len(),
        failed.len(),
        skipped.len()
    );
    // By file, not in the order the photos happened to finish.
    near.sort();
    failed.sort();
    for (path, of) in &near {
        let like = match first_files.get(of) {
            Some(file) => file.display().to_string(),
            None => format!("photo {} in the library", &of[..of.len().min(12)]),
        };
        println!("near-duplicate: {} looks like {like}", path.display());
    }
    // Added all the same: the pixels are fine, only the metadata is not.
    for (path, warning) in &warnings {
        eprintln!("warning: {}: {warning}", path.display());
    }
    // Named: a folder of raw files or videos should not look like an
    // empty one. A card dump can hold hundreds, hence the limit.
    const SKIPPED_SHOWN: usize = 10;
    for (path, reason) in skipped.iter().take(SKIPPED_SHOWN) {
        eprintln!("skipped: {}: {reason}", path.display());
    }
    if skipped.len() > SKIPPED_SHOWN {
        eprintln!("skipped: … and {} more", skipped.len() - SKIPPED_SHOWN);
    }
    for (path, reason) in &failed {
        eprintln!("failed: {}: {reason}", path.display());
    }
    if !failed.is_empty() {
        bail!("{} of the photos could not be ingested", failed.len());
    }
    Ok(())
}

pub(super) fn progress_bar(length: u64, what: &'static str) -> ProgressBar {
    let bar = ProgressBar::new(length).with_prefix(what);
    bar.set_style(
        ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {wide_msg}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar
}
