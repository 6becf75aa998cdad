//! `photodesk export --out DIR`.

use super::ingest::progress_bar;
use crate::cli::Export;
use anyhow::Context;
use photodesk_config::Config;
use photodesk_core::Photodesk;
use photodesk_storage::StagedFolder;
use photodesk_web::AppState;

/// The file that marks a folder as an export, so the next one may replace it.
const MARKER: &str = ".photodesk-export";

/// Writes the public site into a folder beside `--out`, then swaps it in:
/// a web server serving `--out` never sees a partial site, and an error or
/// Ctrl-C leaves the previous export as it was. Renditions the previous
/// export already holds are linked from it, not fetched from the blob
/// store again: their names fix their content, and they are nearly all of
/// a site's bytes.
pub async fn run(config: Config, args: &Export) -> anyhow::Result<()> {
    let base_url = config.base_url.clone().context(
        "an export needs the site's public address for its feeds, sitemap and sharing tags: \
         give --base-url https://… (or base_url in the config)",
    )?;
    let staged = StagedFolder::beside(&args.out, MARKER)
        .with_context(|| format!("cannot export to {}", args.out.display()))?;
    let app = Photodesk::open(&config).await?;
    let export = photodesk_web::Export::new(AppState::new(app.clone(), Some(base_url.clone())));
    let write_all = async {
        // The AVIF left for later are made first, so the pages offer them.
        super::complete_renditions(&app).await?;
        let paths = export.paths().await?;
        let bar = progress_bar(paths.len() as u64, "exporting");
        let (mut bytes, mut reused) = (0, 0);
        for path in &paths {
            let file_path = photodesk_web::export_file_path(&path.url)?;
            let kept = match path.immutable_size {
                Some(size) => staged
                    .reuse(&file_path, size)
                    .with_context(|| format!("cannot take {file_path} from the previous export"))?
                    .then_some(size),
                None => None,
            };
            if let Some(size) = kept {
                bytes += size as usize;
                reused += 1;
            } else {
                let file = export.fetch(&path.url).await?;
                staged
                    .write(&file.path, &file.bytes)
                    .with_context(|| format!("cannot write {}", file.path))?;
                bytes += file.bytes.len();
            }
            bar.inc(1);
        }
        let not_found = export.not_found_page().await?;
        staged.write(&not_found.path, &not_found.bytes)?;
        bar.finish_and_clear();
        anyhow::Ok((paths.len() + 1, bytes + not_found.bytes.len(), reused))
    };
    let (files, bytes, reused) = tokio::select! {
        written = write_all => written?,
        _ = tokio::signal::ctrl_c() => anyhow::bail!("interrupted: {} is as it was", args.out.display()),
    };
    staged
        .replace_target(&format!(
            "Made by photodesk export for {base_url}; the next export replaces this folder.\n"
        ))
        .with_context(|| format!("cannot put the export in {}", args.out.display()))?;
    println!(
        "exported {files} files ({:.1} MB) to {}; {reused} renditions kept from the previous export",
        bytes as f64 / 1e6,
        args.out.display()
    );
    Ok(())
}
