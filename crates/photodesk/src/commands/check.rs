//! `photodesk check [--remove-orphans]`.

use super::ingest::progress_bar;
use crate::cli::Check;
use photodesk_config::Config;
use photodesk_core::Photodesk;

/// Photos with failed renditions listed at most, the most often failed first.
const FAILURES_LISTED: u32 = 1000;

/// Prints what is wrong, one line each, and a summary; fails if the store
/// or the database has a problem.
pub async fn run(config: Config, args: &Check) -> anyhow::Result<()> {
    let app = Photodesk::open(&config).await?;
    let bar = progress_bar(0, "checking blobs");
    let report = app
        .check_store(args.remove_orphans, |done, total| {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        })
        .await?;
    bar.finish_and_clear();
    for problem in &report.database {
        eprintln!("database: {problem}");
    }
    for key in &report.missing {
        eprintln!("missing: {key}");
    }
    for problem in &report.damaged {
        eprintln!("damaged: {problem}");
    }
    let verb = if args.remove_orphans {
        "removed orphan"
    } else {
        "orphan"
    };
    for key in &report.orphans {
        eprintln!("{verb}: {key}");
    }
    // Not a fault of the store by itself (a transient error may have
    // caused it), so reported without failing the check.
    let failures = app.rendition_failures(None, FAILURES_LISTED).await?;
    for failure in &failures {
        eprintln!(
            "renditions failed: {} ({} tries, next at {}): {}",
            failure.sha256,
            failure.failures,
            failure.retry_at.format("%Y-%m-%d %H:%M:%S UTC"),
            failure.error
        );
    }
    println!(
        "checked {} blobs: missing {}, damaged {}, orphans {} (removed {}), database problems {}, \
         photos whose renditions failed {}",
        report.checked,
        report.missing.len(),
        report.damaged.len(),
        report.orphans.len(),
        report.removed,
        report.database.len(),
        failures.len()
    );
    if report.is_clean() {
        Ok(())
    } else {
        anyhow::bail!("the store has problems (see above)")
    }
}
