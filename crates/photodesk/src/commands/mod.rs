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
use photodesk_config::{Config, RawConfig};

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match &cli.command {
        Command::Serve(listen) => serve::run(config(&cli.settings, Some(listen))?).await,
        Command::Demo(listen) => demo::run(config(&cli.settings, Some(listen))?).await,
        Command::Ingest(args) => ingest::run(config(&cli.settings, None)?, args).await,
        Command::Import(args) => import::run(config(&cli.settings, None)?, args).await,
        Command::Render(args) => render(&cli.settings, args),
        Command::Export(args) => export::run(config(&cli.settings, None)?, args).await,
        Command::Check(args) => check::run(config(&cli.settings, None)?, args).await,
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
/// a progress bar; the server does the same in the background.
async fn complete_renditions(app: &photodesk_core::Photodesk) -> anyhow::Result<()> {
    let bar = ingest::progress_bar(0, "AVIF renditions");
    let made = app
        .complete_renditions(|done, remaining| {
            bar.set_length((done + remaining) as u64);
            bar.set_position(done as u64);
        })
        .await?;
    bar.finish_and_clear();
    if made > 0 {
        tracing::info!(photos = made, "AVIF renditions made");
    }
    Ok(())
}
