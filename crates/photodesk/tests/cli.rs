//! The binary as a user runs it: exit codes, messages, and a live server.

use assert_cmd::Command;
use photodesk_testkit::{photo_jpeg, story_text, with_broken_xmp, write_photos, SEED_STORY};
use predicates::prelude::*;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Stdio};

fn photodesk(data_dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("photodesk").unwrap();
    cmd.env_clear()
        .env("PHOTODESK_LOG", "warn")
        .arg("--data-dir")
        .arg(data_dir);
    cmd
}

/// `photodesk import STORY --photos DIR` on the given data dir.
fn import(data_dir: &Path, story: &Path, photos: &Path) -> Command {
    let mut cmd = photodesk(data_dir);
    cmd.arg("import").arg(story).arg("--photos").arg(photos);
    cmd
}

/// A site in `dir/data` on the default backends, with one draft story of
/// `slides` generated photos imported; returns its data dir.
fn imported_site(dir: &Path, headline: &str, slides: usize) -> std::path::PathBuf {
    let (data, photos, story) = (dir.join("data"), dir.join("photos"), dir.join("story.txt"));
    write_photos(&photos, slides);
    std::fs::write(&story, story_text(headline, slides)).unwrap();
    import(&data, &story, &photos).assert().success();
    data
}

/// Files under a folder of the blob store (`originals`, `renditions`).
fn blob_files(data_dir: &Path, kind: &str) -> usize {
    fn walk(dir: &Path) -> usize {
        std::fs::read_dir(dir).map_or(0, |entries| {
            entries
                .flatten()
                .map(|e| {
                    let path = e.path();
                    if path.is_dir() {
                        if path.ends_with(".tmp") {
                            0
                        } else {
                            walk(&path)
                        }
                    } else {
                        1
                    }
                })
                .sum()
        })
    }
    walk(&data_dir.join("blobs").join(kind))
}

#[test]
fn import_succeeds_and_reports_the_story() {
    let dir = tempfile::tempdir().unwrap();
    let story = dir.path().join("story.txt");
    std::fs::write(&story, SEED_STORY).unwrap();
    write_photos(&dir.path().join("photos"), 12);
    import(&dir.path().join("data"), &story, &dir.path().join("photos"))
        .arg("--publish")
        .assert()
        .success()
        .stdout(predicate::str::contains("12 slides, published"))
        .stdout(predicate::str::contains(
            "/stories/photos-putin-visits-chinas-harbin",
        ));
    assert_eq!(blob_files(&dir.path().join("data"), "originals"), 12);
    // Each test photo is narrower than 320 px: one JPEG, WebP and AVIF each.
    assert_eq!(blob_files(&dir.path().join("data"), "renditions"), 36);
}

#[test]
fn bad_imports_fail_clearly_and_store_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let photos = dir.path().join("photos");
    write_photos(&photos, 3);
    let cases: Vec<(String, &str)> = vec![
        (story_text("Two slides", 2), "the story has 2 slides but"),
        (
            "Headline\n1 / 3\nA\n3 / 3\nC\n".into(),
            "line 4: counter 3 / 3 is out of sequence",
        ),
        (
            "Headline\n1 / 3\nA\n2 / 4\nB\n".into(),
            "line 4: counter 2 / 4 disagrees",
        ),
        (
            "Headline\n\nLead.\n".into(),
            "line 3: the story has no slides",
        ),
        (
            "Headline\n1 / 3\n\n2 / 3\nB\n3 / 3\nC".into(),
            "line 2: slide 1 has an empty caption",
        ),
        ("".into(), "line 1: the story is empty"),
    ];
    for (text, message) in cases {
        let story = dir.path().join("story.txt");
        std::fs::write(&story, &text).unwrap();
        import(&data, &story, &photos)
            .assert()
            .failure()
            .stderr(predicate::str::contains(message))
            .stderr(predicate::str::contains("story.txt not imported"));
    }
    // A corrupt photo is named with its slide.
    std::fs::write(photos.join("3.jpg"), b"\xFF\xD8\xFF\xE0 not really").unwrap();
    let story = dir.path().join("story.txt");
    std::fs::write(&story, story_text("Three", 3)).unwrap();
    import(&data, &story, &photos)
        .assert()
        .failure()
        .stderr(predicate::str::contains("3.jpg for slide 3"));
    assert_eq!(blob_files(&data, "originals"), 0);
    assert_eq!(blob_files(&data, "renditions"), 0);

    photodesk(&data)
        .args(["import", "/no/such/story.txt", "--photos"])
        .arg(&photos)
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "cannot read story /no/such/story.txt",
        ));
    // An endless input stops at the text limit instead of filling memory.
    photodesk(&data)
        .args(["import", "/dev/zero", "--photos"])
        .arg(&photos)
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "a story text may have at most 1048576",
        ));
    photodesk(&data)
        .arg("import")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--photos"));
}

#[test]
fn invalid_settings_name_the_setting() {
    let dir = tempfile::tempdir().unwrap();
    photodesk(dir.path())
        .args(["serve", "--listen", "not-an-address"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("setting `listen`"));
    let config = dir.path().join("photodesk.toml");
    std::fs::write(&config, "max_pixels = \"many\"\n").unwrap();
    photodesk(dir.path())
        .arg("--config")
        .arg(&config)
        .arg("serve")
        .assert()
        .failure()
        .stderr(predicate::str::contains("max_pixels"));
    // A database that cannot be reached is named, its password is not.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    photodesk(dir.path())
        .arg("--database-url")
        .arg(format!("postgres://desk:hunter2@127.0.0.1:{port}/site"))
        .arg("check")
        .assert()
        .failure()
        .stderr(predicate::str::contains(format!(
            "cannot connect to PostgreSQL at 127.0.0.1:{port}/site"
        )))
        .stderr(predicate::str::contains("hunter2").not());
    photodesk(dir.path())
        .args(["--trusted-proxies", "10.0.0.0/8,not-a-proxy", "check"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("setting `trusted_proxies`"));
}

/// A running `photodesk` process, stopped with SIGTERM when dropped.
struct Server {
    child: Child,
    base: String,
    first_line: String,
}

impl Server {
    fn start(data_dir: &Path, command: &str) -> Server {
        Server::start_with(data_dir, command, &[])
    }

    /// Starts with extra environment variables (the backends' settings).
    fn start_with(data_dir: &Path, command: &str, env: &[(&str, String)]) -> Server {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_photodesk"))
            .env("PHOTODESK_LOG", "warn")
            .envs(env.iter().map(|(k, v)| (k, v)))
            .arg("--data-dir")
            .arg(data_dir)
            .args([command, "--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut first_line = String::new();
        let url = loop {
            let line = lines.next().expect("server printed its address").unwrap();
            if first_line.is_empty() {
                first_line = line.clone();
            }
            if let Some(at) = line.find("http://") {
                break line[at..].to_owned();
            }
        };
        let base = url["http://".len()..].split('/').next().unwrap().to_owned();
        Server {
            child,
            base,
            first_line,
        }
    }

    /// An HTTP/1.0 request: status code, head and body.
    fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> (u16, String, Vec<u8>) {
        let mut stream = TcpStream::connect(&self.base).unwrap();
        let mut head = format!(
            "{method} {path} HTTP/1.0\r\nHost: {}\r\nContent-Length: {}\r\n",
            self.base,
            body.len()
        );
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes()).unwrap();
        stream.write_all(body).unwrap();
        let mut response = Vec::new();
        stream.read_to_end(&mut response).unwrap();
        let split = response
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("a complete response");
        let head = String::from_utf8(response[..split].to_vec()).unwrap();
        let status = head[9..12].parse().unwrap();
        (status, head, response[split + 4..].to_vec())
    }

    /// A JSON API call with a token: status and parsed body.
    fn api(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: &serde_json::Value,
    ) -> (u16, serde_json::Value) {
        let bearer = format!("Bearer {token}");
        let text = body.to_string();
        let (status, _, reply) = self.request(
            method,
            path,
            &[
                ("Authorization", &bearer),
                ("Content-Type", "application/json"),
            ],
            text.as_bytes(),
        );
        let json = if reply.is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::from_slice(&reply).unwrap()
        };
        (status, json)
    }

    fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// A plain HTTP/1.0 GET: status line and body.
    fn get(&self, path: &str) -> (String, String) {
        let mut stream = TcpStream::connect(&self.base).unwrap();
        write!(stream, "GET {path} HTTP/1.0\r\nHost: {}\r\n\r\n", self.base).unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let (head, body) = response.split_once("\r\n\r\n").unwrap();
        (head.lines().next().unwrap().to_owned(), body.to_owned())
    }

    fn stop(mut self) -> std::process::ExitStatus {
        std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        self.child.wait().unwrap()
    }
}

#[test]
fn demo_imports_once_serves_the_story_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start(&data, "demo");
    assert!(
        server.first_line.starts_with("Imported the demo story"),
        "{}",
        server.first_line
    );
    let (status, html) = server.get("/stories/photos-putin-visits-chinas-harbin");
    assert!(status.contains("200"), "{status}");
    assert_eq!(html.matches("<figure").count(), 12);
    assert!(html.contains("Chinese Honor guard at the wreath-laying ceremony in Harbin."));
    // Credits and alt text come from the bundled photos' IPTC/XMP.
    assert!(html.contains("Sander Klootwijk / CC BY-SA 4.0"), "{html}");
    assert!(html.contains(
        "alt=\"Steel cables of a bridge crossing a blue sky above a flat, sandy estuary.\""
    ));
    assert_eq!(html.matches("class=\"credit\"").count(), 12);
    let (status, _) = server.get("/stories/photos-putin-visits-chinas-harbin/12");
    assert!(status.contains("200"), "{status}");
    let (status, _) = server.get("/stories/photos-putin-visits-chinas-harbin/13");
    assert!(status.contains("404"), "{status}");
    assert!(server.stop().success(), "graceful shutdown exits 0");

    // A second run reuses the data dir: no second import.
    let server = Server::start(&data, "demo");
    assert!(
        server.first_line.contains("serving"),
        "{}",
        server.first_line
    );
    let (_, home) = server.get("/");
    assert_eq!(home.matches("class=\"teaser\"").count(), 1);
    assert!(server.stop().success());
}

#[test]
fn serve_answers_on_an_empty_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), "serve");
    let (status, home) = server.get("/");
    assert!(status.contains("200"), "{status}");
    assert!(home.contains("No galleries are published yet."));
    assert!(server.stop().success());
}

#[test]
fn ingest_reports_added_duplicates_near_duplicates_and_failures() {
    let dir = tempfile::tempdir().unwrap();
    let inbox = dir.path().join("inbox");
    std::fs::create_dir_all(inbox.join("day2")).unwrap();
    std::fs::write(inbox.join("a.jpg"), photo_jpeg(600, 400, 1)).unwrap();
    std::fs::write(inbox.join("day2/b.jpg"), photo_jpeg(600, 400, 4)).unwrap();
    std::fs::write(inbox.join("day2/a-again.jpg"), photo_jpeg(600, 400, 1)).unwrap();
    std::fs::write(inbox.join("a-small.jpg"), photo_jpeg(300, 200, 1)).unwrap();
    std::fs::write(inbox.join("broken.jpg"), b"not a photo at all").unwrap();
    std::fs::write(inbox.join("notes.txt"), b"skipped: not a photo name").unwrap();
    // The camera's raw twin of a.jpg is passed over; a BMP fails as such.
    std::fs::write(inbox.join("a.NEF"), b"raw sensor data").unwrap();
    std::fs::write(inbox.join("scan.bmp"), b"BM\0\0\0\0\0\0\0\0\0\0\0\0").unwrap();
    // A link back up the tree is followed once, not until paths overflow.
    std::os::unix::fs::symlink("..", inbox.join("day2/back")).unwrap();
    let data = dir.path().join("data");
    let (a, a_small) = (inbox.join("a.jpg"), inbox.join("a-small.jpg"));
    let output = photodesk(&data)
        .arg("ingest")
        .arg(&inbox)
        .assert()
        .failure()
        .stdout(predicate::str::contains(
            "added 3, duplicates 1, near-duplicates 1, failed 2, skipped 3",
        ))
        .stderr(predicate::str::contains(format!(
            "skipped: {}: folder already searched",
            inbox.join("day2/back").display()
        )))
        .stderr(predicate::str::contains("broken.jpg"))
        .stderr(predicate::str::contains("not a JPEG"))
        .stderr(predicate::str::contains(format!(
            "failed: {}: unsupported format: BMP image; Photodesk takes a JPEG",
            inbox.join("scan.bmp").display()
        )))
        .stderr(predicate::str::contains(format!(
            "skipped: {}: camera raw file beside a photo of the same name",
            inbox.join("a.NEF").display()
        )))
        .stderr(predicate::str::contains(format!(
            "skipped: {}: not a photo file name",
            inbox.join("notes.txt").display()
        )))
        .get_output()
        .clone();
    // The near-duplicate is named with the file it looks like: the small
    // copy and the big one (a.jpg or its duplicate, whichever was stored
    // first), in either order.
    let stdout = String::from_utf8(output.stdout).unwrap();
    let near: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("near-duplicate: "))
        .collect();
    let small = a_small.display().to_string();
    let named = |first: &str, second: &str| {
        near == [format!("near-duplicate: {first} looks like {second}")]
    };
    assert!(
        [&a, &inbox.join("day2/a-again.jpg")]
            .map(|big| big.display().to_string())
            .iter()
            .any(|big| named(&small, big) || named(big, &small)),
        "{stdout}"
    );
    // The good photos stayed, with their renditions (AVIF included).
    assert_eq!(blob_files(&data, "originals"), 3);
    // a.jpg: 320 and 600 wide, b.jpg likewise, a-small.jpg 300 wide; × 3 formats.
    assert_eq!(blob_files(&data, "renditions"), (2 + 2 + 1) * 3);
    photodesk(&data)
        .arg("ingest")
        .arg(inbox.join("a.jpg"))
        .assert()
        .success()
        .stdout(predicate::str::contains("added 0, duplicates 1"));
    // A near-duplicate of a photo from an earlier run is named by its hash.
    let later = dir.path().join("later.jpg");
    std::fs::write(&later, photo_jpeg(450, 300, 1)).unwrap();
    let like = |file: &Path| {
        use sha2::{Digest, Sha256};
        let sha = format!("{:x}", Sha256::digest(std::fs::read(file).unwrap()));
        predicate::str::contains(format!(
            "near-duplicate: {} looks like photo {} in the library",
            later.display(),
            &sha[..12]
        ))
    };
    photodesk(&data)
        .arg("ingest")
        .arg(&later)
        .assert()
        .success()
        .stdout(like(&a).or(like(&a_small)));
    // An empty file (a failed copy) says so.
    let empty = dir.path().join("empty.jpg");
    std::fs::write(&empty, b"").unwrap();
    photodesk(&data)
        .arg("ingest")
        .arg(&empty)
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "empty.jpg: image is corrupt or truncated: the file is empty",
        ));
    // A photo whose XMP is damaged is added, with a warning that its
    // caption and credit may be missing.
    let damaged = dir.path().join("damaged.jpg");
    std::fs::write(&damaged, with_broken_xmp(&photo_jpeg(300, 200, 6))).unwrap();
    photodesk(&data)
        .env("PHOTODESK_LOG", "info")
        .arg("ingest")
        .arg(&damaged)
        .assert()
        .success()
        .stdout(predicate::str::contains("added 1, duplicates 0"))
        .stderr(predicate::str::contains(format!(
            "warning: {}: its XMP metadata is not well-formed XML (",
            damaged.display()
        )))
        // The log is written without a terminal's colour codes.
        .stderr(predicate::str::contains("AVIF renditions made"))
        .stderr(predicate::str::contains('\u{1b}').not());
}

#[test]
fn render_makes_each_width_and_refuses_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let photo = dir.path().join("photo.jpg");
    std::fs::write(&photo, photo_jpeg(300, 200, 2)).unwrap();
    let out = dir.path().join("out");
    photodesk(&dir.path().join("unused"))
        .args(["render", "--widths", "2048,64", "--format", "webp", "--out"])
        .arg(&out)
        .arg(&photo)
        .assert()
        .success();
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    // Never upscaled: 2048 becomes the photo's own 300.
    assert_eq!(names, ["photo-300.webp", "photo-64.webp"]);
    // Readable like any new file (written whole through a temporary one).
    use std::os::unix::fs::PermissionsExt;
    let mode = |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode();
    assert_eq!(mode(&out.join("photo-64.webp")), mode(&photo));

    // Two inputs with one stem would overwrite each other: refused before
    // anything is written.
    let twin = dir.path().join("photo.jpeg");
    std::fs::write(&twin, photo_jpeg(40, 30, 3)).unwrap();
    let twins_out = dir.path().join("twins");
    photodesk(&dir.path().join("unused"))
        .args(["render", "--out"])
        .arg(&twins_out)
        .args([&photo, &twin])
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "would both be written as photo-<width>.<format>",
        ));
    assert!(!twins_out.exists());

    let junk = dir.path().join("junk.jpg");
    std::fs::write(&junk, b"junk").unwrap();
    photodesk(&dir.path().join("unused"))
        .args(["render", "--out"])
        .arg(&out)
        .arg(&junk)
        .assert()
        .failure()
        .stderr(predicate::str::contains("junk.jpg: unsupported format"));
    photodesk(&dir.path().join("unused"))
        .args(["render", "--format", "gif", "--out"])
        .arg(&out)
        .arg(&photo)
        .assert()
        .failure()
        .stderr(predicate::str::contains("use jpeg, webp or avif"));
    // A width of 0 would make a 1-pixel image.
    photodesk(&dir.path().join("unused"))
        .args(["render", "--widths", "400,0", "--out"])
        .arg(&out)
        .arg(&photo)
        .assert()
        .failure()
        .stderr(predicate::str::contains("0 is not in 1.."));
}

#[test]
fn users_and_tokens_are_managed_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let run = |args: &[&str], password: Option<&str>| {
        let mut cmd = photodesk(data);
        cmd.args(args);
        if let Some(password) = password {
            cmd.env("PHOTODESK_PASSWORD", password);
        }
        cmd.write_stdin("").assert()
    };
    run(
        &["user", "add", "anna", "--role", "admin"],
        Some("a long passphrase"),
    )
    .success()
    .stdout(predicate::str::contains("Added anna (admin)"));
    run(
        &["user", "add", "bert", "--role", "editor"],
        Some("another passphrase"),
    )
    .success();
    // Taken names, weak passwords, bad roles and no password are refused.
    run(
        &["user", "add", "anna", "--role", "editor"],
        Some("a long passphrase"),
    )
    .failure()
    .stderr(predicate::str::contains("exists already"));
    run(&["user", "add", "carl", "--role", "editor"], Some("short"))
        .failure()
        .stderr(predicate::str::contains("8 to 1024 characters"));
    run(
        &["user", "add", "carl", "--role", "owner"],
        Some("a long passphrase"),
    )
    .failure()
    .stderr(predicate::str::contains("unknown role"));
    run(&["user", "add", "carl", "--role", "editor"], None)
        .failure()
        .stderr(predicate::str::contains("PHOTODESK_PASSWORD"));
    run(&["user", "disable", "bert"], None).success();
    run(&["user", "disable", "nobody"], None)
        .failure()
        .stderr(predicate::str::contains("no user named"));
    run(&["user", "list"], None)
        .success()
        .stdout("anna\tadmin\tactive\nbert\teditor\tdisabled\n");
    run(
        &["user", "set-password", "anna"],
        Some("a new long passphrase"),
    )
    .success();

    let created = run(&["token", "create", "wire feed", "--user", "anna"], None).success();
    let out = String::from_utf8(created.get_output().stdout.clone()).unwrap();
    let token = out.split_whitespace().last().unwrap();
    assert!(token.starts_with("pd_") && token.len() > 40, "{out}");
    run(&["token", "create", "x", "--user", "nobody"], None).failure();
    run(&["token", "list"], None)
        .success()
        .stdout(predicate::str::contains("1\tanna\twire feed\tactive"))
        .stdout(predicate::str::contains(token).not());
    run(&["token", "revoke", "1"], None).success();
    run(&["token", "revoke", "1"], None)
        .failure()
        .stderr(predicate::str::contains("no active token 1"));
    run(&["token", "list"], None)
        .success()
        .stdout(predicate::str::contains("1\tanna\twire feed\trevoked"));
}

#[test]
fn check_finds_missing_damaged_and_orphaned_blobs() {
    let dir = tempfile::tempdir().unwrap();
    let data = imported_site(dir.path(), "Checked", 2);
    photodesk(&data)
        .arg("check")
        .assert()
        .success()
        .stdout(predicate::str::contains("missing 0, damaged 0, orphans 0"));

    // Damage the store three ways.
    let blobs = data.join("blobs");
    let originals: Vec<_> = walk_files(&blobs.join("originals"));
    std::fs::write(&originals[0], b"not the original").unwrap();
    let renditions = walk_files(&blobs.join("renditions"));
    std::fs::remove_file(&renditions[0]).unwrap();
    std::fs::create_dir_all(blobs.join("originals/ff")).unwrap();
    std::fs::write(blobs.join("originals/ff/ff00"), b"stray").unwrap();

    let failed = photodesk(&data).arg("check").assert().failure();
    let stderr = String::from_utf8(failed.get_output().stderr.clone()).unwrap();
    assert!(
        stderr.contains("damaged: originals/") && stderr.contains("its content hashes to"),
        "{stderr}"
    );
    assert!(stderr.contains("missing: renditions/"), "{stderr}");
    assert!(stderr.contains("orphan: originals/ff/ff00"), "{stderr}");
    photodesk(&data)
        .args(["check", "--remove-orphans"])
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "removed orphan: originals/ff/ff00",
        ));
    assert!(!blobs.join("originals/ff/ff00").exists());
}

/// Renames every rendition of the site at `data` to the pipeline version
/// before the current one, files and rows, as an older Photodesk left them.
fn make_renditions_stale(data: &Path) {
    use photodesk_db::Database;
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let db = site_database(data).await;
        // A version after the current one: every photo with all renditions.
        for photo in db
            .photos_with_renditions_before(u32::MAX, chrono::Utc::now(), 0, 100)
            .await
            .unwrap()
        {
            let mut renditions = photo.renditions.clone();
            for rendition in &mut renditions {
                let file = data.join("blobs").join(&rendition.key);
                let (stem, rest) = rendition.key.rsplit_once("-v").unwrap();
                let (version, extension) = rest.split_once('.').unwrap();
                let earlier = version.parse::<u32>().unwrap() - 1;
                rendition.key = format!("{stem}-v{earlier}.{extension}");
                std::fs::rename(&file, data.join("blobs").join(&rendition.key)).unwrap();
            }
            let earlier = photodesk_imaging::render::PIPELINE_VERSION - 1;
            db.replace_renditions(&photo.sha256, renditions, Some(earlier))
                .await
                .unwrap();
        }
        db.close().await;
    });
}

/// Leases the first photo to another process, as if it were making its
/// renditions, for `time`.
fn hold_first_photo(data: &Path, time: chrono::TimeDelta) {
    use photodesk_db::Database;
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let db = site_database(data).await;
        let photo = db.photo_by_id(1).await.unwrap().unwrap();
        let now = chrono::Utc::now();
        assert_eq!(
            db.lease_photo(photo.id, "another", now, now + time)
                .await
                .unwrap(),
            photodesk_db::PhotoLease::Taken { failures: 0 }
        );
        db.close().await;
    });
}

async fn site_database(data: &Path) -> photodesk_db::SqlDatabase {
    let url = format!("sqlite://{}", data.join("photodesk.db").display());
    photodesk_db::SqlDatabase::connect(&url).await.unwrap()
}

/// A command on the SQLite file another process is writing to waits for
/// its lock (the busy timeout), without failing and without warning of
/// slow statements.
#[test]
fn a_command_waits_for_another_writer_on_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let data = imported_site(dir.path(), "Shared", 1);
    let url = format!("sqlite://{}", data.join("photodesk.db").display());
    let (locked, lock_taken) = std::sync::mpsc::channel();
    let writer = std::thread::spawn(move || {
        use sqlx::Connection;
        tokio::runtime::Runtime::new().unwrap().block_on(async {
            let mut connection = sqlx::SqliteConnection::connect(&url).await.unwrap();
            for statement in [
                "BEGIN IMMEDIATE",
                "INSERT INTO login_attempts VALUES ('k', '2026-01-01T00:00:00Z', 1)",
            ] {
                sqlx::query(statement)
                    .execute(&mut connection)
                    .await
                    .unwrap();
            }
            locked.send(()).unwrap();
            tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
            sqlx::query("COMMIT")
                .execute(&mut connection)
                .await
                .unwrap();
        })
    });
    lock_taken.recv().unwrap();
    let photo = dir.path().join("new.jpg");
    std::fs::write(&photo, photo_jpeg(320, 240, 77)).unwrap();
    photodesk(&data)
        .arg("ingest")
        .arg(&photo)
        .assert()
        .success()
        .stdout(predicate::str::contains("added 1,"))
        .stderr(predicate::str::contains("slow statement").not());
    writer.join().unwrap();
}

#[test]
fn rerender_remakes_renditions_of_an_earlier_version() {
    let dir = tempfile::tempdir().unwrap();
    let data = imported_site(dir.path(), "Remade", 2);
    let renditions = blob_files(&data, "renditions");
    make_renditions_stale(&data);
    // A process that died holding a photo: the command waits for its lease
    // to run out, then does that photo too.
    hold_first_photo(&data, chrono::TimeDelta::seconds(2));
    photodesk(&data)
        .arg("rerender")
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "renditions re-made for 2 photos, failed 0",
        ));
    // The old files stay for pages already out, as orphans.
    assert_eq!(blob_files(&data, "renditions"), 2 * renditions);
    photodesk(&data)
        .arg("check")
        .assert()
        .success()
        .stdout(predicate::str::contains(format!(
            "missing 0, damaged 0, orphans {renditions}"
        )));
    photodesk(&data)
        .arg("rerender")
        .assert()
        .success()
        .stdout(predicate::str::contains("re-made for 0 photos, failed 0"));

    // An original that no longer decodes: reported, the exit code says so.
    make_renditions_stale(&data);
    let original = &walk_files(&data.join("blobs/originals"))[0];
    std::fs::write(original, b"not a photo").unwrap();
    photodesk(&data)
        .arg("rerender")
        .assert()
        .failure()
        .stdout(predicate::str::contains("re-made for 1 photos, failed 1"))
        .stderr(predicate::str::contains(
            "1 photos could not be re-rendered",
        ));
    // The failure is kept (a server waits before trying the photo again),
    // but the command ends the wait and tries it at once.
    photodesk(&data)
        .arg("rerender")
        .assert()
        .failure()
        .stdout(predicate::str::contains("re-made for 0 photos, failed 1"));
    // `check` names it with its tries and reason, beside the damage.
    let sha256 = original.file_name().unwrap().to_str().unwrap();
    photodesk(&data)
        .arg("check")
        .assert()
        .failure()
        .stdout(
            predicate::str::contains("damaged 1,").and(predicate::str::contains(
                "database problems 0, photos whose renditions failed 1",
            )),
        )
        .stderr(predicate::str::contains(format!(
            "renditions failed: {sha256} (2 tries, next at "
        )))
        .stderr(predicate::str::contains("): unsupported format"));
}

fn walk_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk_files(&path));
        } else {
            files.push(path);
        }
    }
    files.sort();
    files
}

#[test]
fn a_site_can_keep_its_photos_in_an_s3_bucket() {
    let s3 = photodesk_testkit::SeaweedFs::start();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let photos = dir.path().join("photos");
    write_photos(&photos, 2);
    let story = dir.path().join("story.txt");
    std::fs::write(&story, story_text("In the bucket", 2)).unwrap();
    let blob_url = format!("s3://{}/site", s3.bucket);
    let database = dir.path().join("elsewhere").join("site.db");
    std::fs::create_dir_all(database.parent().unwrap()).unwrap();
    let database_url = format!("sqlite://{}", database.display());
    let with_s3 = |mut cmd: Command| {
        cmd.envs(s3.env())
            .args(["--blob-url", &blob_url, "--database-url", &database_url]);
        cmd
    };
    with_s3(import(&data, &story, &photos))
        .arg("--publish")
        .assert()
        .success();
    assert!(database.exists());
    assert!(!data.exists(), "nothing of the site in the data dir");
    let mut check = with_s3(photodesk(&data));
    check
        .arg("check")
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "checked 8 blobs: missing 0, damaged 0, orphans 0",
        ));
    // The static export reads the renditions from the bucket.
    let site = dir.path().join("site");
    let mut export = with_s3(photodesk(&data));
    export
        .args(["--base-url", "https://news.example", "export", "--out"])
        .arg(&site)
        .assert()
        .success();
    let exported = walk_files(&site.join("renditions"));
    // 2 photos × JPEG, WebP and the AVIF made before the export.
    assert_eq!(exported.len(), 6);
    assert!(exported
        .iter()
        .all(|f| std::fs::metadata(f).unwrap().len() > 100));
    // The rows point at the bucket: without it, every blob is missing.
    photodesk(&data)
        .args(["--database-url", &database_url, "check"])
        .assert()
        .failure()
        .stdout(predicate::str::contains("missing 8"));
}

/// Every file under `dir` by relative path, with its SHA-256.
fn file_hashes(dir: &Path) -> Vec<(std::path::PathBuf, String)> {
    use sha2::{Digest, Sha256};
    walk_files(dir)
        .into_iter()
        .filter(|path| !path.components().any(|c| c.as_os_str() == ".tmp"))
        .map(|path| {
            let hash = format!("{:x}", Sha256::digest(std::fs::read(&path).unwrap()));
            (path.strip_prefix(dir).unwrap().to_owned(), hash)
        })
        .collect()
}

/// Every table's rows and every story as the database returns them.
fn database_snapshot(url: &str) -> (Vec<photodesk_db::TableDigest>, Vec<String>) {
    use photodesk_db::{Database, Visibility};
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let db = photodesk_db::SqlDatabase::connect(url).await.unwrap();
        let mut stories = Vec::new();
        for summary in db.list_stories(Visibility::All, "", 100, 0).await.unwrap() {
            let story = db.story_by_slug(&summary.slug).await.unwrap().unwrap();
            stories.push(format!("{story:?}"));
        }
        let digests = db.table_digests().await.unwrap();
        db.close().await;
        (digests, stories)
    })
}

#[test]
fn migrate_store_round_trips_sqlite_and_files_through_postgres_and_s3() {
    let s3 = photodesk_testkit::SeaweedFs::start();
    let pg = photodesk_testkit::Postgres::start();
    let pg_url = pg.create_database();
    let s3_url = format!("s3://{}/newsroom", s3.bucket);
    let dir = tempfile::tempdir().unwrap();
    let (first, back) = (dir.path().join("first"), dir.path().join("back"));
    let photos = dir.path().join("photos");
    write_photos(&photos, 3);
    let story = dir.path().join("story.txt");
    std::fs::write(&story, story_text("Ледяной город — 冰城", 3)).unwrap();
    import(&first, &story, &photos)
        .arg("--publish")
        .assert()
        .success();
    photodesk(&first)
        .args(["user", "add", "anna", "--role", "admin"])
        .env("PHOTODESK_PASSWORD", "a long passphrase")
        .assert()
        .success();
    photodesk(&first)
        .args(["token", "create", "wire", "--user", "anna"])
        .assert()
        .success();
    let migrate = |from: &Path, extra: &[&str]| {
        let mut cmd = photodesk(from);
        cmd.envs(s3.env()).arg("migrate-store").args(extra);
        cmd
    };

    // Interrupted at some point, then run again: it goes on and verifies.
    let mut interrupted = std::process::Command::new(env!("CARGO_BIN_EXE_photodesk"))
        .envs(s3.env())
        .arg("--data-dir")
        .arg(&first)
        .args([
            "migrate-store",
            "--to-database",
            &pg_url,
            "--to-blob",
            &s3_url,
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(400));
    let _ = interrupted.kill();
    interrupted.wait().unwrap();
    migrate(&first, &["--to-database", &pg_url, "--to-blob", &s3_url])
        .assert()
        .success()
        .stdout(predicate::str::contains("stories: 1 rows"))
        .stdout(predicate::str::contains("slides: 3 rows"))
        .stdout(predicate::str::contains("photos: 3 rows"))
        .stdout(predicate::str::contains("verified"));
    // Again: nothing left to copy.
    migrate(&first, &["--to-database", &pg_url, "--to-blob", &s3_url])
        .assert()
        .success()
        .stdout(predicate::str::contains("stories: 1 rows, 0 copied now"))
        .stdout(predicate::str::contains("0 copied now, "));
    // The new site checks clean.
    photodesk(&back)
        .envs(s3.env())
        .args(["--database-url", &pg_url, "--blob-url", &s3_url, "check"])
        .assert()
        .success();

    // And back to SQLite and files.
    let back_db = format!("sqlite://{}", back.join("photodesk.db").display());
    let back_blobs = format!("file://{}", back.join("blobs").display());
    migrate(
        &back,
        &[
            "--from-database",
            &pg_url,
            "--from-blob",
            &s3_url,
            "--to-database",
            &back_db,
            "--to-blob",
            &back_blobs,
        ],
    )
    .assert()
    .success();
    let first_db = format!("sqlite://{}", first.join("photodesk.db").display());
    let original = database_snapshot(&first_db);
    assert_eq!(original.1.len(), 1);
    assert_eq!(database_snapshot(&pg_url), original);
    assert_eq!(database_snapshot(&back_db), original);
    let blobs = file_hashes(&first.join("blobs"));
    assert!(blobs.len() >= 3 * 4, "{} blobs", blobs.len());
    assert_eq!(file_hashes(&back.join("blobs")), blobs);
    photodesk(&back).arg("check").assert().success();

    // A source that does not exist is not copied as an empty site.
    let nowhere = dir.path().join("nowhere");
    migrate(
        &nowhere,
        &["--to-database", &back_db, "--to-blob", &back_blobs],
    )
    .assert()
    .failure()
    .stderr(predicate::str::contains("there is no site at sqlite://"));
    assert!(!nowhere.exists());

    // A destination holding another site is refused before anything is
    // written, not merged.
    let other = dir.path().join("other");
    std::fs::write(&story, story_text("Another story", 1)).unwrap();
    write_photos(&dir.path().join("one"), 1);
    import(&other, &story, &dir.path().join("one"))
        .assert()
        .success();
    let other_db = format!("sqlite://{}", other.join("photodesk.db").display());
    let other_blobs = format!("file://{}", other.join("blobs").display());
    let before = (
        database_snapshot(&other_db),
        file_hashes(&other.join("blobs")),
    );
    migrate(
        &first,
        &["--to-database", &other_db, "--to-blob", &other_blobs],
    )
    .assert()
    .failure()
    .stderr(predicate::str::contains("holds rows the source does not"));
    assert_eq!(
        (
            database_snapshot(&other_db),
            file_hashes(&other.join("blobs"))
        ),
        before
    );
}

#[test]
fn two_instances_on_postgres_and_s3_behave_as_one_site() {
    let s3 = photodesk_testkit::SeaweedFs::start();
    let pg = photodesk_testkit::Postgres::start();
    let mut env: Vec<(&str, String)> = s3.env().to_vec();
    env.push(("PHOTODESK_DATABASE_URL", pg.create_database()));
    env.push(("PHOTODESK_BLOB_URL", format!("s3://{}/newsroom", s3.bucket)));
    let dir = tempfile::tempdir().unwrap();
    let (dir_a, dir_b) = (dir.path().join("a"), dir.path().join("b"));
    let cli = |data: &Path| {
        let mut cmd = photodesk(data);
        cmd.envs(env.iter().map(|(k, v)| (k, v)));
        cmd
    };
    cli(&dir_a)
        .args(["user", "add", "edna", "--role", "editor"])
        .env("PHOTODESK_PASSWORD", "editor passphrase")
        .assert()
        .success();
    let created = cli(&dir_a)
        .args(["token", "create", "desk", "--user", "edna"])
        .assert()
        .success();
    let output = String::from_utf8(created.get_output().stdout.clone()).unwrap();
    let token = output.split_whitespace().last().unwrap().to_owned();
    let a = Server::start_with(&dir_a, "serve", &env);
    let b = Server::start_with(&dir_b, "serve", &env);

    // Upload and publish through A…
    let jpeg = photo_jpeg(900, 600, 7);
    let bearer = format!("Bearer {token}");
    let upload = |server: &Server, bytes: &[u8]| {
        server.request(
            "POST",
            "/api/v1/photos",
            &[("Authorization", &bearer), ("Content-Type", "image/jpeg")],
            bytes,
        )
    };
    let (status, _, body) = upload(&a, &jpeg);
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
    let photo: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let (status, story) = a.api(
        "POST",
        "/api/v1/stories",
        &token,
        &serde_json::json!({"headline": "Two desks, one site", "lead": ["Lead."]}),
    );
    assert_eq!(status, 201, "{story}");
    let id = story["id"].as_i64().unwrap();
    let (status, _) = a.api(
        "POST",
        &format!("/api/v1/stories/{id}/slides"),
        &token,
        &serde_json::json!({"photo_id": photo["id"], "caption": "Вид с моста", "alt_text": "A bridge", "credit": "Photo: Desk"}),
    );
    assert_eq!(status, 201);
    let (status, published) = a.api(
        "POST",
        &format!("/api/v1/stories/{id}/publish"),
        &token,
        &serde_json::json!({}),
    );
    assert_eq!(status, 200, "{published}");
    let slug = published["slug"].as_str().unwrap().to_owned();

    // … and read it through B: page, JSON, renditions, original.
    let (status, page) = b.get(&format!("/stories/{slug}"));
    assert!(status.contains("200"), "{status}");
    assert!(page.contains("Вид с моста"));
    let (_, json) = b.api(
        "GET",
        &format!("/api/v1/stories/{slug}"),
        &token,
        &serde_json::Value::Null,
    );
    let renditions = json["slides"][0]["photo"]["renditions"]
        .as_array()
        .unwrap()
        .clone();
    assert!(renditions.len() >= 4, "{renditions:?}");
    for rendition in &renditions {
        let url = rendition["url"].as_str().unwrap();
        let path = &url[url.find("/renditions/").unwrap()..];
        let (status, _, bytes) = b.request("GET", path, &[], &[]);
        assert_eq!(status, 200, "{path}");
        assert_eq!(bytes.len() as u64, rendition["byte_size"].as_u64().unwrap());
    }

    // A browser session opened on A works on B.
    let form = "name=edna&password=editor+passphrase&next=%2Fedit";
    let (status, head, _) = a.request(
        "POST",
        "/login",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        form.as_bytes(),
    );
    assert_eq!(status, 303, "{head}");
    let cookie = head
        .lines()
        .find_map(|line| line.strip_prefix("set-cookie: "))
        .and_then(|value| value.split(';').next())
        .unwrap()
        .to_owned();
    let (status, _, editor) = b.request("GET", "/edit", &[("Cookie", &cookie)], &[]);
    assert_eq!(status, 200);
    assert!(String::from_utf8_lossy(&editor).contains("Two desks, one site"));

    // Login limits count attempts on both together.
    let wrong = "name=ghost&password=wrong+password";
    let attempt = |server: &Server| {
        server
            .request(
                "POST",
                "/login",
                &[("Content-Type", "application/x-www-form-urlencoded")],
                wrong.as_bytes(),
            )
            .0
    };
    for server in [&a, &b, &a, &b, &a] {
        assert_eq!(attempt(server), 401);
    }
    assert_eq!(attempt(&b), 429);

    // A story scheduled through B is published once, by whichever instance
    // gets there first.
    let (_, second) = b.api(
        "POST",
        "/api/v1/stories",
        &token,
        &serde_json::json!({"headline": "Scheduled"}),
    );
    let second_id = second["id"].as_i64().unwrap();
    b.api(
        "POST",
        &format!("/api/v1/stories/{second_id}/slides"),
        &token,
        &serde_json::json!({"photo_id": photo["id"], "caption": "Again", "alt_text": "A bridge", "credit": "Photo: Desk"}),
    );
    let at = (chrono::Utc::now() + chrono::Duration::seconds(2)).to_rfc3339();
    let (status, scheduled) = b.api(
        "POST",
        &format!("/api/v1/stories/{second_id}/schedule"),
        &token,
        &serde_json::json!({"at": at}),
    );
    assert_eq!(status, 200, "{scheduled}");
    let version = scheduled["version"].as_u64().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let story = loop {
        let (_, story) = a.api(
            "GET",
            &format!("/api/v1/stories/{second_id}"),
            &token,
            &serde_json::Value::Null,
        );
        if story["status"] == "published" {
            break story;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not published: {story}"
        );
        std::thread::sleep(std::time::Duration::from_millis(250));
    };
    std::thread::sleep(std::time::Duration::from_secs(6));
    let (_, later) = b.api(
        "GET",
        &format!("/api/v1/stories/{second_id}"),
        &token,
        &serde_json::Value::Null,
    );
    assert_eq!(story["version"].as_u64(), Some(version + 1));
    assert_eq!(later["version"], story["version"]);

    // Both instances make AVIF renditions in the background; the one
    // rendition set that results is sound.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let (_, json) = a.api(
            "GET",
            &format!("/api/v1/photos/{}", photo["id"]),
            &token,
            &serde_json::Value::Null,
        );
        if json["renditions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["format"] == "avif")
        {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no AVIF: {json}");
        std::thread::sleep(std::time::Duration::from_millis(250));
    }

    // A is killed half-way through receiving an upload, then C is killed
    // while it works on a large one it has received.
    let (_, before) = b.api("GET", "/api/v1/photos", &token, &serde_json::Value::Null);
    let big = photo_jpeg(3000, 2000, 9);
    let mut stream = TcpStream::connect(&a.base).unwrap();
    write!(
        stream,
        "POST /api/v1/photos HTTP/1.0\r\nHost: {}\r\nAuthorization: {bearer}\r\nContent-Type: image/jpeg\r\nContent-Length: {}\r\n\r\n",
        a.base,
        big.len()
    )
    .unwrap();
    stream.write_all(&big[..big.len() / 2]).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    a.kill();
    let c = Server::start_with(&dir_a, "serve", &env);
    let mut stream = TcpStream::connect(&c.base).unwrap();
    write!(
        stream,
        "POST /api/v1/photos HTTP/1.0\r\nHost: {}\r\nAuthorization: {bearer}\r\nContent-Type: image/jpeg\r\nContent-Length: {}\r\n\r\n",
        c.base,
        big.len()
    )
    .unwrap();
    stream.write_all(&big).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(150));
    c.kill();

    // Nothing half-written is visible: the library lists what it listed or,
    // if C finished in time, the photo whole; the store checks clean.
    let (_, after) = b.api("GET", "/api/v1/photos", &token, &serde_json::Value::Null);
    let (before, after) = (
        before["photos"].as_array().unwrap(),
        after["photos"].as_array().unwrap(),
    );
    assert!(
        after.len() == before.len() || after.len() == before.len() + 1,
        "{after:?}"
    );
    for listed in after {
        let (status, _, _) = b.request(
            "GET",
            listed["original_url"]
                .as_str()
                .map(|u| &u[u.find("/originals/").unwrap()..])
                .unwrap(),
            &[("Authorization", &bearer)],
            &[],
        );
        assert_eq!(status, 200);
    }
    b.stop();
    cli(&dir_b)
        .arg("check")
        .assert()
        .success()
        .stdout(predicate::str::contains("missing 0, damaged 0"));
    // Neither instance kept anything of the site on its own disk.
    assert!(!dir_a.exists() && !dir_b.exists());
}

/// The site-relative URLs a page or feed refers to (`href`, `src`,
/// `srcset`, `content`, `url` attributes and sitemap `loc`s), with the
/// site's own origin taken off absolute ones; other sites' URLs are left out.
fn site_references(text: &str, origin: &str) -> Vec<String> {
    let mut values = Vec::new();
    for opening in [
        "href=\"",
        "src=\"",
        "srcset=\"",
        "content=\"",
        "url=\"",
        "<loc>",
        "<image:loc>",
    ] {
        let closing = if opening.starts_with('<') { "<" } else { "\"" };
        for (at, _) in text.match_indices(opening) {
            let rest = &text[at + opening.len()..];
            let value = &rest[..rest.find(closing).unwrap()];
            // srcset: "URL 640w, URL 1024w"
            values.extend(
                value
                    .split(", ")
                    .map(|c| c.split(' ').next().unwrap().to_owned()),
            );
        }
    }
    values
        .into_iter()
        .map(|v| v.replace("&amp;", "&"))
        .filter_map(|v| match v.strip_prefix(origin) {
            Some(path) => Some(if path.is_empty() {
                "/".to_owned()
            } else {
                path.to_owned()
            }),
            None => (v.starts_with('/') && !v.starts_with("//")).then_some(v),
        })
        .collect()
}

#[test]
fn export_writes_the_public_site_as_files_and_replaces_it_whole() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let story = dir.path().join("story.txt");
    std::fs::write(&story, SEED_STORY).unwrap();
    write_photos(&dir.path().join("photos"), 12);
    import(&data, &story, &dir.path().join("photos"))
        .arg("--publish")
        .assert()
        .success();
    let others = dir.path().join("others");
    write_photos(&others, 2);
    let mut slugs = Vec::new();
    for (headline, publish) in [("Зимний фестиваль", true), ("Draft only", false)] {
        let text = dir.path().join("other.txt");
        std::fs::write(&text, story_text(headline, 2)).unwrap();
        let mut cmd = import(&data, &text, &others);
        if publish {
            cmd.arg("--publish");
        }
        let output = cmd.assert().success().get_output().stdout.clone();
        let output = String::from_utf8(output).unwrap();
        slugs.push(
            output
                .trim_end()
                .rsplit("/stories/")
                .next()
                .unwrap()
                .to_owned(),
        );
    }
    let [cyrillic, draft] = &slugs[..] else {
        unreachable!()
    };
    let site = dir.path().join("www").join("site");
    let origin = "https://news.example";

    // Feeds and sharing tags need the public address.
    photodesk(&data)
        .args(["export", "--out"])
        .arg(&site)
        .assert()
        .failure()
        .stderr(predicate::str::contains("--base-url"));
    assert!(!site.exists());
    // Pages link from the root of the host: a sub-path would break every link.
    photodesk(&data)
        .args([
            "--base-url",
            "https://news.example/photos",
            "export",
            "--out",
        ])
        .arg(&site)
        .assert()
        .failure()
        .stderr(predicate::str::contains("setting `base_url`"))
        .stderr(predicate::str::contains("without a path"));
    assert!(!site.exists());

    photodesk(&data)
        .args(["--base-url", origin, "export", "--out"])
        .arg(&site)
        .assert()
        .success()
        .stdout(predicate::str::contains("exported"));
    let seed = site.join("stories/photos-putin-visits-chinas-harbin");
    for page in [
        "index.html",
        "404.html",
        "feed.rss",
        "feed.atom",
        "sitemap.xml",
        "robots.txt",
    ] {
        assert!(site.join(page).is_file(), "{page}");
    }
    for n in 1..=12 {
        assert!(seed.join(format!("{n}/index.html")).is_file(), "slide {n}");
    }
    assert!(site
        .join(format!("stories/{cyrillic}/2/index.html"))
        .is_file());
    assert!(!site.join(format!("stories/{draft}")).exists());
    assert!(!seed.join("13").exists());
    // The pages are the served pages, with absolute links to the public address.
    let page = std::fs::read_to_string(seed.join("5/index.html")).unwrap();
    assert!(page.contains(r#"id="slide-5""#));
    assert!(page.contains(&format!(
        r#"<link rel="canonical" href="{origin}/stories/photos-putin-visits-chinas-harbin">"#
    )));
    assert!(!std::fs::read_to_string(site.join("sitemap.xml"))
        .unwrap()
        .contains(draft.as_str()));

    // Every site URL any page or feed names is a file of the export.
    let files = walk_files(&site);
    let mut checked = 0;
    for file in files.iter().filter(|f| {
        f.extension()
            .is_some_and(|e| ["html", "rss", "atom", "xml", "txt"].contains(&e.to_str().unwrap()))
    }) {
        let text = std::fs::read_to_string(file).unwrap();
        for url in site_references(&text, origin) {
            let path = url
                .split(['#', '?'])
                .next()
                .unwrap()
                .trim_start_matches('/');
            let last = path.rsplit('/').next().unwrap();
            let target = if last.contains('.') {
                site.join(path)
            } else {
                site.join(path).join("index.html")
            };
            assert!(
                target.is_file(),
                "{} names {url}, not exported",
                file.display()
            );
            checked += 1;
        }
    }
    assert!(checked > 500, "only {checked} references");
    let renditions: Vec<_> = files
        .iter()
        .filter(|f| f.starts_with(site.join("renditions")))
        .collect();
    // 12 photos (the other stories' two are the seed's first two, stored
    // once), one width each: JPEG, WebP, and the AVIF made before the export.
    assert_eq!(renditions.len(), 12 * 3);
    assert!(renditions.iter().any(|f| f.extension().unwrap() == "avif"));
    // Readable by a web server running as another user.
    use std::os::unix::fs::PermissionsExt;
    for path in [&site, &seed, &files[0]] {
        let mode = std::fs::metadata(path).unwrap().permissions().mode();
        assert_eq!(mode & 0o004, 0o004, "{}", path.display());
    }

    // A second export replaces the first whole: a file it did not write is
    // gone. It keeps the renditions it finds whole, and fetches a damaged
    // one again.
    let first_renditions = file_hashes(&site.join("renditions"));
    std::fs::write(seed.join("stale.html"), "old").unwrap();
    let damaged = renditions[0];
    let whole = std::fs::read(damaged).unwrap();
    std::fs::write(damaged, &whole[..whole.len() / 2]).unwrap();
    photodesk(&data)
        .args(["--base-url", origin, "export", "--out"])
        .arg(&site)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "35 renditions kept from the previous export",
        ));
    assert!(!seed.join("stale.html").exists());
    assert!(seed.join("12/index.html").is_file());
    assert_eq!(std::fs::read(damaged).unwrap(), whole);
    assert_eq!(file_hashes(&site.join("renditions")), first_renditions);
    // Nothing is left beside it.
    let beside: Vec<_> = std::fs::read_dir(site.parent().unwrap()).unwrap().collect();
    assert_eq!(beside.len(), 1);

    // A folder of other files, or a file, is never replaced.
    let mine = dir.path().join("mine");
    std::fs::create_dir(&mine).unwrap();
    std::fs::write(mine.join("notes.txt"), "keep me").unwrap();
    for out in [&mine, &story] {
        photodesk(&data)
            .args(["--base-url", origin, "export", "--out"])
            .arg(out)
            .assert()
            .failure()
            .stderr(predicate::str::contains("give a new or empty folder"));
    }
    assert_eq!(
        std::fs::read_to_string(mine.join("notes.txt")).unwrap(),
        "keep me"
    );
    assert_eq!(std::fs::read_dir(&mine).unwrap().count(), 1);
}
