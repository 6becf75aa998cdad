//! One module per command.

mod demo;
mod import;
mod serve;

use crate::cli::{Cli, Command, Listen, Settings};
use anyhow::Context;
use photodesk_config::{Config, RawConfig};

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match &cli.command {
        Command::Serve(listen) => serve::run(config(&cli.settings, Some(listen))?).await,
        Command::Demo(listen) => demo::run(config(&cli.settings, Some(listen))?).await,
        Command::Import(args) => import::run(config(&cli.settings, None)?, args).await,
    }
}

/// File, then environment and flags (already merged by clap), validated.
fn config(settings: &Settings, listen: Option<&Listen>) -> anyhow::Result<Config> {
    let file = match &settings.config {
        Some(path) => RawConfig::from_file(path)?,
        None => RawConfig::default(),
    };
    Config::from_raw(file.overlay(settings.raw(listen))).context("invalid settings")
}
