//! A throwaway PostgreSQL server (Debian's `postgresql` package, installed
//! by `scripts/test`): `initdb` in a temp dir, `postgres` on 127.0.0.1 only.
//! `initdb` refuses to run as root, so under root both run as the
//! `postgres` system user.

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// A PostgreSQL server with trust authentication on loopback; stopped and
/// deleted when dropped.
pub struct Postgres {
    child: Child,
    bin: PathBuf,
    /// Kept for its lifetime: the cluster lives in it.
    dir: tempfile::TempDir,
    pub port: u16,
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where the server programs are: `PHOTODESK_PG_BIN`, else the newest
/// `/usr/lib/postgresql/*/bin` (Debian's layout), else `PATH`.
fn bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("PHOTODESK_PG_BIN") {
        return dir.into();
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            Some((version, entry.path().join("bin")))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, dir)| dir).unwrap_or_default()
}

/// The `postgres` system user's uid and gid, when we are root.
fn server_user() -> Option<(u32, u32)> {
    let id = |flag: &str| -> Option<u32> {
        let out = Command::new("id").args([flag, "postgres"]).output().ok()?;
        String::from_utf8(out.stdout).ok()?.trim().parse().ok()
    };
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| out.stdout.starts_with(b"0\n"));
    if !root {
        return None;
    }
    Some((
        id("-u").expect("a `postgres` user (Debian's postgresql package makes it)"),
        id("-g").expect("a `postgres` group"),
    ))
}

fn command(bin: &std::path::Path, program: &str, user: Option<(u32, u32)>) -> Command {
    let mut command = Command::new(bin.join(program));
    if let Some((uid, gid)) = user {
        command.uid(uid).gid(gid);
    }
    command
}

impl Postgres {
    /// Makes a cluster and starts the server; ready when this returns.
    pub fn start() -> Postgres {
        let bin = bin_dir();
        let user = server_user();
        let mut dir = tempfile::tempdir().unwrap();
        if let Some((uid, gid)) = user {
            std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid)).unwrap();
        }
        let data = dir.path().join("data");
        let status = command(&bin, "initdb", user)
            .arg("-D")
            .arg(&data)
            .args(["-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"])
            .arg("--locale=C.UTF-8")
            .stdout(Stdio::null())
            .status()
            .unwrap_or_else(|e| {
                panic!("cannot run initdb in {bin:?} (./scripts/test installs PostgreSQL): {e}")
            });
        assert!(status.success(), "initdb failed: {status}");
        // The port is free when picked; should another process take it
        // before the server binds it, the server exits and another is tried.
        for _ in 0..3 {
            let port = crate::free_port();
            let child = command(&bin, "postgres", user)
                .arg("-D")
                .arg(&data)
                .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-k"])
                .arg(dir.path())
                // A test database need not survive a crash of the machine.
                .args(["-c", "fsync=off", "-c", "synchronous_commit=off"])
                .args(["-c", "full_page_writes=off", "-c", "max_connections=200"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("postgres starts");
            let mut server = Postgres {
                child,
                bin: bin.clone(),
                dir,
                port,
            };
            let deadline = Instant::now() + Duration::from_secs(60);
            loop {
                if server.accepts_connections() {
                    return server;
                }
                if server.child.try_wait().ok().flatten().is_some() {
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "PostgreSQL did not come up in 60 s"
                );
                std::thread::sleep(Duration::from_millis(100));
            }
            dir = std::mem::replace(&mut server.dir, tempfile::tempdir().unwrap());
        }
        panic!("PostgreSQL exited three times on start (ports taken?)");
    }

    fn accepts_connections(&self) -> bool {
        Command::new(self.bin.join("pg_isready"))
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-q"])
            .status()
            .is_ok_and(|status| status.success())
    }

    /// The URL of `database` on this server.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// Creates a new, empty database and returns its URL.
    pub fn create_database(&self) -> String {
        static NEXT: AtomicU32 = AtomicU32::new(1);
        let name = format!("photodesk_{}", NEXT.fetch_add(1, Ordering::Relaxed));
        let status = Command::new(self.bin.join("createdb"))
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
            ])
            .arg(&name)
            .status()
            .expect("createdb runs");
        assert!(status.success(), "createdb {name} failed");
        self.url(&name)
    }
}
