//! The `photodesk` binary: parses settings and commands, opens the
//! application and hands over to a command. `anyhow` lives only here.

mod cli;
mod commands;

use clap::Parser;
use std::io::IsTerminal;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("PHOTODESK_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        // Colour codes only for a person at a terminal, not in log files.
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let result = match &cli.command {
        // The thumbnailer is synchronous, and is started once per photo by
        // scripts: it skips starting the async runtime's threads.
        cli::Command::Render(args) => commands::render(&cli.settings, args),
        _ => match tokio::runtime::Runtime::new() {
            Ok(runtime) => runtime.block_on(commands::run(cli)),
            Err(err) => Err(anyhow::anyhow!("cannot start the runtime: {err}")),
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
