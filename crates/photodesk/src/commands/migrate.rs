//! `photodesk migrate-store`.

use super::ingest::progress_bar;
use crate::cli::MigrateStore;
use photodesk_config::Config;
use photodesk_core::migrate::{migrate_store, MigrationStep, Site};

/// Copies, verifies, and prints what was copied per table and for blobs.
pub async fn run(config: Config, args: &MigrateStore) -> anyhow::Result<()> {
    let from = Site::open_existing(
        args.from_database
            .as_deref()
            .unwrap_or(&config.database_url),
        args.from_blob.as_deref().unwrap_or(&config.blob_url),
    )
    .await?;
    let to = Site::open(&args.to_database, &args.to_blob).await?;
    let bar = progress_bar(0, "blobs");
    let report = migrate_store(&from, &to, |step, done, total| {
        let what = match step {
            MigrationStep::Blobs => "copying blobs".to_owned(),
            MigrationStep::Rows(table) => format!("copying {table}"),
            MigrationStep::Verify => "verifying blobs".to_owned(),
        };
        bar.set_prefix(what);
        bar.set_length(total);
        bar.set_position(done);
    })
    .await;
    bar.finish_and_clear();
    let report = report?;
    for table in &report.tables {
        println!(
            "{}: {} rows, {} copied now",
            table.table, table.rows, table.copied
        );
    }
    println!(
        "blobs: {} referenced, {} copied now, {} verified; rows verified by count and SHA-256 per table",
        report.blobs, report.blobs_copied, report.blobs_verified
    );
    from.database.close().await;
    to.database.close().await;
    Ok(())
}
