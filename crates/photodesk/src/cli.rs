//! Command-line interface. Every setting is a flag with a `PHOTODESK_*`
//! environment variable; an optional TOML file (`--config`) sits beneath both.

use clap::{Args, Parser, Subcommand};
use photodesk_config::RawConfig;
use photodesk_types::{RenditionFormat, Role};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "photodesk",
    version,
    about = "Newsroom photo galleries: ingest, compose, publish."
)]
pub struct Cli {
    #[command(flatten)]
    pub settings: Settings,
    #[command(subcommand)]
    pub command: Command,
}

/// Settings shared by every command.
#[derive(Debug, Args)]
pub struct Settings {
    /// TOML file with settings; flags and environment override it.
    #[arg(long, global = true, env = "PHOTODESK_CONFIG")]
    pub config: Option<PathBuf>,
    /// Folder for the database and stored photos [default: ./photodesk-data].
    #[arg(long, global = true, env = "PHOTODESK_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Public base URL used in absolute links, e.g. https://photos.example.com.
    #[arg(long, global = true, env = "PHOTODESK_BASE_URL")]
    pub base_url: Option<String>,
    /// Largest photo accepted, in pixels [default: 100000000].
    #[arg(long, global = true, env = "PHOTODESK_MAX_PIXELS")]
    pub max_pixels: Option<u64>,
    /// Largest photo file accepted, in bytes [default: 200000000].
    #[arg(long, global = true, env = "PHOTODESK_MAX_FILE_BYTES")]
    pub max_file_bytes: Option<u64>,
    /// Keep the GPS position in web renditions and readers' JSON [default: false].
    #[arg(long, global = true, env = "PHOTODESK_KEEP_LOCATION")]
    pub keep_location: Option<bool>,
    /// Blob store: file://DIR or s3://BUCKET/PREFIX (endpoint and keys from AWS_* variables) [default: DATA_DIR/blobs].
    #[arg(long, global = true, env = "PHOTODESK_BLOB_URL")]
    pub blob_url: Option<String>,
    /// Load balancers whose X-Forwarded-For names the client, comma-separated addresses or CIDR blocks.
    #[arg(
        long,
        global = true,
        env = "PHOTODESK_TRUSTED_PROXIES",
        value_delimiter = ','
    )]
    pub trusted_proxies: Option<Vec<String>>,
    /// Database: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DATABASE [default: DATA_DIR/photodesk.db].
    #[arg(long, global = true, env = "PHOTODESK_DATABASE_URL")]
    pub database_url: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the site.
    Serve(Listen),
    /// Add photos to the library: files, or folders searched recursively.
    Ingest(Ingest),
    /// Import a plain-text story with one photo per slide.
    Import(Import),
    /// Import the bundled demo story (first run only) and serve the site.
    Demo(Listen),
    /// Make renditions of photo files into a folder, storing nothing (like vipsthumbnail).
    Render(Render),
    /// Write the public site as static files (pages, feeds, sitemap, renditions) into a folder.
    Export(Export),
    /// Verify the store: referenced blobs present and intact, orphans, database integrity; list failed renditions.
    Check(Check),
    /// Make missing renditions, and re-make those of an earlier Photodesk version (the server does both in the background).
    Rerender,
    /// Copy the whole site (rows and blobs) to other backends, resumably, then verify the copy.
    MigrateStore(MigrateStore),
    /// Manage the people who edit.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage API tokens for automation.
    #[command(subcommand)]
    Token(TokenCommand),
}

/// Needs the site's public address (--base-url) for absolute links.
#[derive(Debug, Args)]
pub struct Export {
    /// Folder for the site: new, empty, or an earlier export (replaced whole).
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct Check {
    /// Delete blobs nothing refers to (run while no import is under way).
    #[arg(long)]
    pub remove_orphans: bool,
}

/// Stop the instances (or keep the site read-only) while this runs; run it
/// again after an interruption and it goes on where it stopped.
#[derive(Debug, Args)]
pub struct MigrateStore {
    /// Database to copy from [default: the site's, --database-url].
    #[arg(long)]
    pub from_database: Option<String>,
    /// Blob store to copy from [default: the site's, --blob-url].
    #[arg(long)]
    pub from_blob: Option<String>,
    /// Database to copy into: sqlite://PATH or postgres://… (new or empty).
    #[arg(long)]
    pub to_database: String,
    /// Blob store to copy into: file://DIR or s3://BUCKET/PREFIX.
    #[arg(long)]
    pub to_blob: String,
}

/// Passwords come from `PHOTODESK_PASSWORD` or, in a terminal, a prompt;
/// never from a flag (flags end up in shell history and `ps`).
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user.
    Add {
        name: String,
        #[arg(long, value_parser = parse_role)]
        role: Role,
    },
    /// List users with role and state.
    List,
    /// Set a user's password (their open sessions end).
    SetPassword { name: String },
    /// Disable a user: no login, sessions ended, API tokens stop working.
    Disable { name: String },
    /// Enable a disabled user again.
    Enable { name: String },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token acting for a user; prints it once, as the last word.
    Create {
        /// What the token is for, e.g. "wire feed".
        name: String,
        #[arg(long)]
        user: String,
    },
    /// List tokens (never their secrets).
    List,
    /// Revoke a token by its id (see `token list`).
    Revoke { id: i64 },
}

fn parse_role(name: &str) -> Result<Role, String> {
    name.parse()
}

#[derive(Debug, Args)]
pub struct Render {
    /// Photo files (JPEG, PNG, WebP, HEIC, AVIF, GIF, TIFF).
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// Widths to make, comma-separated; never upscaled.
    #[arg(long, value_delimiter = ',', default_value = "2048",
          value_parser = clap::value_parser!(u32).range(1..))]
    pub widths: Vec<u32>,
    /// Output formats, comma-separated: jpeg, webp, avif (one decode serves all).
    #[arg(long, value_delimiter = ',', default_value = "jpeg", value_parser = parse_format)]
    pub format: Vec<RenditionFormat>,
    /// Encoder quality 1–100 for every format [default: jpeg 82, webp 80, avif 60].
    #[arg(long, value_parser = clap::value_parser!(u8).range(1..=100))]
    pub quality: Option<u8>,
    /// Folder for the results, named NAME-WIDTH.EXT.
    #[arg(long)]
    pub out: PathBuf,
}

fn parse_format(name: &str) -> Result<RenditionFormat, String> {
    RenditionFormat::parse(name)
        .ok_or_else(|| format!("unknown format {name:?}: use jpeg, webp or avif"))
}

#[derive(Debug, Args)]
pub struct Listen {
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "PHOTODESK_LISTEN")]
    pub listen: Option<String>,
}

#[derive(Debug, Args)]
pub struct Ingest {
    /// Photo files and folders.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct Import {
    /// The story as text: headline, lead paragraphs, then `N / M` counters each followed by a caption.
    pub story: PathBuf,
    /// Folder with one photo per slide, taken in natural file-name order.
    #[arg(long)]
    pub photos: PathBuf,
    /// Publish the story at once instead of keeping it as a draft.
    #[arg(long)]
    pub publish: bool,
}

impl Settings {
    /// These settings as the top configuration layer.
    pub fn raw(&self, listen: Option<&Listen>) -> RawConfig {
        RawConfig {
            data_dir: self.data_dir.clone(),
            listen: listen.and_then(|l| l.listen.clone()),
            base_url: self.base_url.clone(),
            max_pixels: self.max_pixels,
            max_file_bytes: self.max_file_bytes,
            keep_location: self.keep_location,
            blob_url: self.blob_url.clone(),
            database_url: self.database_url.clone(),
            trusted_proxies: self.trusted_proxies.clone(),
        }
    }
}
