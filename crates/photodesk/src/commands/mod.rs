//! One module per command.

mod accounts;
mod check;
mod demo;
mod export;
mod import;
mod ingest;
mod migrate;
mod render;
mod serve;

use crate::cli::{Cli, Command, Listen, Settings};
use anyhow::Context;
use indicatif::ProgressBar;
use photodesk_config::{Config, RawConfig};
use photodesk_core::{PassReport, Photodesk};

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match &cli.command {
        Command::Serve(listen) => serve::run(config(&cli.settings, Some(listen))?).await,
        Command::Demo(listen) => demo::run(config(&cli.settings, Some(listen))?).await,
        Command::Ingest(args) => ingest::run(config(&cli.settings, None)?, args).await,
        Command::Import(args) => import::run(config(&cli.settings, None)?, args).await,
        Command::Render(args) => render(&cli.settings, args),
        Command::Export(args) => export::run(config(&cli.settings, None)?, args).await,
        Command::Check(args) => check::run(config(&cli.settings, None)?, args).await,
        Command::Rerender => rerender(config(&cli.settings, None)?).await,
        Command::MigrateStore(args) => migrate::run(config(&cli.settings, None)?, args).await,
        Command::User(command) => accounts::user(config(&cli.settings, None)?, command).await,
        Command::Token(command) => accounts::token(config(&cli.settings, None)?, command).await,
    }
}

/// `photodesk render`, which needs no async runtime.
pub fn render(settings: &Settings, args: &crate::cli::Render) -> anyhow::Result<()> {
    render::run(&config(settings, None)?, args)
}

/// File, then environment and flags (already merged by clap), validated.
fn config(settings: &Settings, listen: Option<&Listen>) -> anyhow::Result<Config> {
    let file = match &settings.config {
        Some(path) => RawConfig::from_file(path)?,
        None => RawConfig::default(),
    };
    Config::from_raw(file.overlay(settings.raw(listen))).context("invalid settings")
}

/// Makes the renditions left for later (AVIF) before a command exits, with
/// a progress bar; the server does the same in the background. Failures
/// are logged, each with its reason.
async fn complete_renditions(app: &Photodesk) -> anyhow::Result<PassReport> {
    let bar = ingest::progress_bar(0, "AVIF renditions");
    let report = until_none_elsewhere(|| app.complete_renditions(show_progress(&bar))).await?;
    bar.finish_and_clear();
    if report.done > 0 {
        tracing::info!(photos = report.done, "AVIF renditions made");
    }
    Ok(report)
}

/// `photodesk rerender`: tries every photo again, those waiting after a
/// failure too; fails if any photo could not be re-made (each is logged
/// with its reason).
async fn rerender(config: Config) -> anyhow::Result<()> {
    let app = Photodesk::open(&config).await?;
    let waited = app.retry_failed_renditions_now().await?;
    if waited > 0 {
        tracing::info!(photos = waited, "trying photos that failed before again");
    }
    let missing = complete_renditions(&app).await?;
    let bar = ingest::progress_bar(0, "re-making renditions");
    let PassReport { done, failed, .. } =
        until_none_elsewhere(|| app.refresh_stale_renditions(show_progress(&bar))).await?;
    bar.finish_and_clear();
    let failed = failed + missing.failed;
    println!("renditions re-made for {done} photos, failed {failed}");
    if failed > 0 {
        anyhow::bail!("{failed} photos could not be re-rendered (reasons above)");
    }
    Ok(())
}

/// Runs `pass` again, a second apart, while another process (a server on
/// the same database) holds some of its photos, so that a command ends
/// only when every photo is done; a photo whose holder died is taken over
/// when its lease runs out.
async fn until_none_elsewhere<F>(pass: impl Fn() -> F) -> anyhow::Result<PassReport>
where
    F: std::future::Future<Output = Result<PassReport, photodesk_core::CoreError>>,
{
    let mut total = PassReport::default();
    for round in 0.. {
        let report = pass().await?;
        total += PassReport {
            elsewhere: 0,
            ..report
        };
        if report.elsewhere == 0 {
            break;
        }
        if round == 0 {
            tracing::info!(
                photos = report.elsewhere,
                "waiting for another process making renditions of these"
            );
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
    Ok(total)
}

/// A progress callback, given (done, remaining), that moves `bar`.
fn show_progress(bar: &ProgressBar) -> impl Fn(usize, usize) + '_ {
    move |done, remaining| {
        bar.set_length((done + remaining) as u64);
        bar.set_position(done as u64);
    }
}
