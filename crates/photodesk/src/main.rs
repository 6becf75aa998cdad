//! The `photodesk` binary: parses settings and commands, opens the
//! application and hands over to a command. `anyhow` lives only here.

mod cli;
mod commands;

use clap::Parser;
use std::io::IsTerminal;
use std::process::ExitCode;

/// jemalloc, for Rust and (unprefixed) for the C codecs too. glibc's malloc
/// let a long ingest grow without bound: each thread's arena kept the
/// freed multi-megabyte pixel buffers (its mmap threshold rises to the
/// largest block freed), 0.86 GB for 8 photos and 1.2 GB for 30; jemalloc
/// (freed pages handed back at once, `.cargo/config.toml`) stays near
/// 0.35 GB however many. Speed is the same (`bench/`).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

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
