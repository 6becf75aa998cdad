//! Photodesk settings.
//!
//! Every setting can come from three places, later ones winning: an optional
//! TOML file, the environment (`PHOTODESK_*`) and command-line flags. The
//! binary parses environment and flags with clap into a [`RawConfig`]; this
//! crate reads the file into another, layers them with [`RawConfig::overlay`]
//! and validates the result into a [`Config`], whose errors name the key.

use ipnet::IpNet;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

pub const DEFAULT_DATA_DIR: &str = "./photodesk-data";
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// 100 megapixels: a 24 MP camera frame is far below, a decompression bomb far above.
pub const DEFAULT_MAX_PIXELS: u64 = 100_000_000;
/// 200 MB: larger than any camera or wire JPEG.
pub const DEFAULT_MAX_FILE_BYTES: u64 = 200_000_000;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path}: {source}")]
    Parse {
        path: PathBuf,
        source: Box<toml::de::Error>,
    },
    #[error("setting `{key}`: {message}")]
    Invalid { key: &'static str, message: String },
}

/// Settings as given, every one optional. Field names are the TOML keys; the
/// environment variable is `PHOTODESK_` plus the key in upper case.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct RawConfig {
    /// Folder holding the SQLite database and the blob store.
    pub data_dir: Option<PathBuf>,
    /// Address the web server binds, e.g. `127.0.0.1:8080`.
    pub listen: Option<String>,
    /// Public base URL (scheme and host) used in absolute links; when unset
    /// the server uses the `Host` of each request.
    pub base_url: Option<String>,
    /// Largest photo accepted, in pixels (width × height), checked from the
    /// header before any pixel is decoded.
    pub max_pixels: Option<u64>,
    /// Largest photo file accepted, in bytes.
    pub max_file_bytes: Option<u64>,
    /// Keep the GPS position in web renditions and in the photo metadata
    /// readers get from the API (default: dropped, as it can endanger
    /// sources; originals, for editors only, keep everything).
    pub keep_location: Option<bool>,
    /// Where originals and renditions live: `file://DIR` or
    /// `s3://BUCKET/PREFIX` (default: `blobs/` inside the data dir).
    pub blob_url: Option<String>,
    /// The database: `sqlite://PATH` (default: `photodesk.db` in the data
    /// dir) or `postgres://USER:PASSWORD@HOST:PORT/DATABASE`.
    pub database_url: Option<String>,
    /// Load balancers and proxies (addresses or CIDR blocks) whose
    /// `X-Forwarded-For` names the client; from anyone else it is ignored.
    pub trusted_proxies: Option<Vec<String>>,
}

impl RawConfig {
    /// Reads a TOML config file.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        toml::from_str(&text).map_err(|source| ConfigError::Parse {
            path: path.to_owned(),
            source: Box::new(source),
        })
    }

    /// Layers `top` over `self`: every setting `top` has wins.
    pub fn overlay(self, top: RawConfig) -> RawConfig {
        RawConfig {
            data_dir: top.data_dir.or(self.data_dir),
            listen: top.listen.or(self.listen),
            base_url: top.base_url.or(self.base_url),
            max_pixels: top.max_pixels.or(self.max_pixels),
            max_file_bytes: top.max_file_bytes.or(self.max_file_bytes),
            keep_location: top.keep_location.or(self.keep_location),
            blob_url: top.blob_url.or(self.blob_url),
            database_url: top.database_url.or(self.database_url),
            trusted_proxies: top.trusted_proxies.or(self.trusted_proxies),
        }
    }
}

/// Validated settings with defaults filled in.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    /// Without a trailing slash.
    pub base_url: Option<String>,
    pub limits: Limits,
    /// Keep GPS in web renditions.
    pub keep_location: bool,
    /// `file://…` or `s3://…`, the default filled in.
    pub blob_url: String,
    /// `sqlite://…` or `postgres://…`, the default filled in.
    pub database_url: String,
    /// Whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpNet>,
}

/// Bounds on what a photo may be, so hostile input cannot exhaust memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_pixels: u64,
    pub max_file_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_pixels: DEFAULT_MAX_PIXELS,
            max_file_bytes: DEFAULT_MAX_FILE_BYTES,
        }
    }
}

impl Config {
    pub fn from_raw(raw: RawConfig) -> Result<Config, ConfigError> {
        let listen_text = raw.listen.as_deref().unwrap_or(DEFAULT_LISTEN);
        let listen = listen_text.parse().map_err(|_| ConfigError::Invalid {
            key: "listen",
            message: format!("{listen_text:?} is not an address like 127.0.0.1:8080"),
        })?;
        let base_url = match raw.base_url {
            None => None,
            Some(url) => Some(origin_only(&url).ok_or_else(|| ConfigError::Invalid {
                key: "base_url",
                message: format!(
                    "{url:?} must be http:// or https:// and a host, without a path: \
                     the pages link from the root of their host (/stories/…)"
                ),
            })?),
        };
        let limits = Limits {
            max_pixels: positive("max_pixels", raw.max_pixels, DEFAULT_MAX_PIXELS)?,
            max_file_bytes: positive("max_file_bytes", raw.max_file_bytes, DEFAULT_MAX_FILE_BYTES)?,
        };
        let data_dir: PathBuf = raw.data_dir.unwrap_or_else(|| DEFAULT_DATA_DIR.into());
        let database_url = match raw.database_url {
            None => format!("sqlite://{}", data_dir.join("photodesk.db").display()),
            Some(url) if is_database_url(&url) => url,
            Some(url) => {
                return Err(ConfigError::Invalid {
                    key: "database_url",
                    message: format!(
                        "{url:?}: use sqlite://PATH or postgres://USER@HOST:PORT/DATABASE"
                    ),
                })
            }
        };
        let blob_url = match raw.blob_url {
            None => format!("file://{}", data_dir.join("blobs").display()),
            Some(url) if is_blob_url(&url) => url,
            Some(url) => {
                return Err(ConfigError::Invalid {
                    key: "blob_url",
                    message: format!("{url:?} must start with file:// or s3://"),
                })
            }
        };
        let trusted_proxies = raw
            .trusted_proxies
            .unwrap_or_default()
            .iter()
            .map(|text| {
                text.parse::<IpNet>()
                    .or_else(|_| text.parse::<std::net::IpAddr>().map(IpNet::from))
                    .map_err(|_| ConfigError::Invalid {
                        key: "trusted_proxies",
                        message: format!(
                            "{text:?} is not an address or CIDR block like 10.0.0.0/8"
                        ),
                    })
            })
            .collect::<Result<_, _>>()?;
        Ok(Config {
            trusted_proxies,
            database_url,
            data_dir,
            listen,
            base_url,
            limits,
            keep_location: raw.keep_location.unwrap_or(false),
            blob_url,
        })
    }
}

/// The blob store URLs Photodesk opens.
fn is_blob_url(url: &str) -> bool {
    url.starts_with("file://") || url.starts_with("s3://")
}

/// `scheme://host[:port]` without a trailing slash, if `url` is just that.
fn origin_only(url: &str) -> Option<String> {
    let url = url.trim_end_matches('/');
    let (scheme, host) = url.split_once("://")?;
    let plain_host = !host.is_empty() && !host.contains(['/', '?', '#', '@', ' ']);
    (matches!(scheme, "http" | "https") && plain_host).then(|| url.to_owned())
}

/// The database URLs Photodesk opens.
fn is_database_url(url: &str) -> bool {
    url.strip_prefix("sqlite://")
        .is_some_and(|path| !path.is_empty())
        || url.starts_with("postgres://")
        || url.starts_with("postgresql://")
}

fn positive(key: &'static str, value: Option<u64>, default: u64) -> Result<u64, ConfigError> {
    match value {
        Some(0) => Err(ConfigError::Invalid {
            key,
            message: "must be greater than zero".into(),
        }),
        Some(v) => Ok(v),
        None => Ok(default),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_apply_when_nothing_is_set() {
        let config = Config::from_raw(RawConfig::default()).unwrap();
        assert_eq!(config.data_dir, PathBuf::from(DEFAULT_DATA_DIR));
        assert_eq!(config.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(config.limits, Limits::default());
    }

    #[test]
    fn later_layers_win() {
        let file = RawConfig {
            listen: Some("127.0.0.1:1".into()),
            max_pixels: Some(5),
            ..Default::default()
        };
        let flags = RawConfig {
            listen: Some("127.0.0.1:2".into()),
            ..Default::default()
        };
        let merged = Config::from_raw(file.overlay(flags)).unwrap();
        assert_eq!(merged.listen.port(), 2);
        assert_eq!(merged.limits.max_pixels, 5);
    }

    #[test]
    fn file_is_parsed_and_unknown_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good.toml");
        std::fs::write(&good, "listen = \"0.0.0.0:9000\"\nmax_file_bytes = 10\n").unwrap();
        let raw = RawConfig::from_file(&good).unwrap();
        assert_eq!(raw.max_file_bytes, Some(10));

        let bad = dir.path().join("bad.toml");
        std::fs::write(&bad, "lisen = \"x\"\n").unwrap();
        let err = RawConfig::from_file(&bad).unwrap_err().to_string();
        assert!(err.contains("lisen"), "{err}");
    }

    #[test]
    fn a_base_url_is_an_origin() {
        for (url, origin) in [
            ("https://photos.example.org", "https://photos.example.org"),
            ("https://photos.example.org/", "https://photos.example.org"),
            ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ] {
            let raw = RawConfig {
                base_url: Some(url.into()),
                ..Default::default()
            };
            assert_eq!(
                Config::from_raw(raw).unwrap().base_url.as_deref(),
                Some(origin)
            );
        }
        for url in [
            "https://",
            "ftp://example.org",
            "https://a.example/b",
            "https://a.example?x",
        ] {
            let raw = RawConfig {
                base_url: Some(url.into()),
                ..Default::default()
            };
            assert!(Config::from_raw(raw).is_err(), "{url}");
        }
    }

    #[test]
    fn invalid_values_name_their_key() {
        for (raw, key) in [
            (
                RawConfig {
                    listen: Some("nowhere".into()),
                    ..Default::default()
                },
                "listen",
            ),
            (
                RawConfig {
                    base_url: Some("example.com".into()),
                    ..Default::default()
                },
                "base_url",
            ),
            (
                RawConfig {
                    base_url: Some("https://example.com/photos".into()),
                    ..Default::default()
                },
                "base_url",
            ),
            (
                RawConfig {
                    max_pixels: Some(0),
                    ..Default::default()
                },
                "max_pixels",
            ),
            (
                RawConfig {
                    blob_url: Some("/var/blobs".into()),
                    ..Default::default()
                },
                "blob_url",
            ),
            (
                RawConfig {
                    database_url: Some("mysql://localhost/photodesk".into()),
                    ..Default::default()
                },
                "database_url",
            ),
            (
                RawConfig {
                    trusted_proxies: Some(vec!["10.0.0.0/8".into(), "proxy.local".into()]),
                    ..Default::default()
                },
                "trusted_proxies",
            ),
        ] {
            let err = Config::from_raw(raw).unwrap_err().to_string();
            assert!(err.contains(key), "{err}");
        }
    }
}
