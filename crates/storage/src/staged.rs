//! A folder built beside its final place and then swapped in whole, for
//! files that a web server serves straight from disk (the static export):
//! the server sees the old folder or the new one, never a half-written one.

use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// A folder being filled; dropped unfinished (an error), it is removed.
pub struct StagedFolder {
    dir: tempfile::TempDir,
    target: PathBuf,
    marker: &'static str,
}

impl StagedFolder {
    /// Starts a folder that will replace `target`. `target` may be missing,
    /// empty, or one of ours, known by the file `marker` in it: replacing
    /// means deleting, and a folder of someone else's files (a home folder
    /// given by mistake) must never be.
    pub fn beside(target: &Path, marker: &'static str) -> io::Result<StagedFolder> {
        let refuse = |why: &str| {
            io::Error::other(format!(
                "{} {why}; give a new or empty folder, or one an earlier export made",
                target.display()
            ))
        };
        match std::fs::symlink_metadata(target) {
            Err(err) if err.kind() == io::ErrorKind::NotFound => {}
            Err(err) => return Err(err),
            Ok(meta) if !meta.is_dir() => return Err(refuse("is not a folder")),
            Ok(_) => {
                let ours = target.join(marker).is_file();
                if !ours && std::fs::read_dir(target)?.next().is_some() {
                    return Err(refuse("has files that no export made"));
                }
            }
        }
        let name = target
            .file_name()
            .ok_or_else(|| refuse("names no folder"))?;
        let parent = match target.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        std::fs::create_dir_all(parent)?;
        let dir = tempfile::Builder::new()
            .prefix(&format!(".{}.staged-", name.to_string_lossy()))
            // As any new folder (under the umask), not a temporary's 0700:
            // the web server may run as another user.
            .permissions(std::fs::Permissions::from_mode(0o777))
            .tempdir_in(parent)?;
        Ok(StagedFolder {
            dir,
            target: target.to_owned(),
            marker,
        })
    }

    /// Writes `bytes` at `relative` (`/`-separated, already checked by the
    /// caller to stay inside), making the folders on the way.
    pub fn write(&self, relative: &str, bytes: &[u8]) -> io::Result<()> {
        let path = self.dir.path().join(relative);
        if let Some(folder) = path.parent() {
            std::fs::create_dir_all(folder)?;
        }
        std::fs::write(path, bytes)
    }

    /// Takes the file at `relative` from the folder being replaced, if it
    /// is there with `size` bytes: hard-linked, or copied where the file
    /// system refuses links. False if it is not there (or is something
    /// else), and the caller writes it.
    pub fn reuse(&self, relative: &str, size: u64) -> io::Result<bool> {
        let old = self.target.join(relative);
        match std::fs::symlink_metadata(&old) {
            Ok(meta) if meta.is_file() && meta.len() == size => {}
            Ok(_) => return Ok(false),
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(false),
            Err(err) => return Err(err),
        }
        let new = self.dir.path().join(relative);
        if let Some(folder) = new.parent() {
            std::fs::create_dir_all(folder)?;
        }
        if std::fs::hard_link(&old, &new).is_err() {
            std::fs::copy(&old, &new)?;
        }
        Ok(true)
    }

    /// Puts the folder in `target`'s place: one atomic exchange where the
    /// file system offers it, else two renames a moment apart. The old
    /// folder is then deleted.
    pub fn replace_target(self, marker_text: &str) -> io::Result<()> {
        self.write(self.marker, marker_text.as_bytes())?;
        let staged = self.dir.keep();
        let swapped = swap(&staged, &self.target);
        // After an exchange `staged` holds the old folder; after a failure,
        // the unfinished new one. Either way it goes.
        let removed = match std::fs::remove_dir_all(&staged) {
            Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(()),
            other => other,
        };
        swapped.and(removed)
    }
}

fn swap(staged: &Path, target: &Path) -> io::Result<()> {
    if !target.exists() {
        return std::fs::rename(staged, target);
    }
    let exchanged = rustix::fs::renameat_with(
        rustix::fs::CWD,
        staged,
        rustix::fs::CWD,
        target,
        rustix::fs::RenameFlags::EXCHANGE,
    );
    if exchanged.is_err() {
        let mut old = staged.as_os_str().to_owned();
        old.push("-old");
        std::fs::rename(target, &old)?;
        std::fs::rename(staged, target)?;
        std::fs::remove_dir_all(old)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::StagedFolder;
    use std::os::unix::fs::PermissionsExt;

    const MARKER: &str = ".made-by-test";

    #[test]
    fn a_staged_folder_replaces_an_earlier_one_whole() {
        let root = tempfile::tempdir().unwrap();
        let target = root.path().join("site");
        let first = StagedFolder::beside(&target, MARKER).unwrap();
        first.write("a/b/index.html", b"one").unwrap();
        first.write("gone.txt", b"old").unwrap();
        // Nothing shows in the target before the swap.
        assert!(!target.exists());
        first.replace_target("made by a test").unwrap();
        assert_eq!(
            std::fs::read(target.join("a/b/index.html")).unwrap(),
            b"one"
        );

        let second = StagedFolder::beside(&target, MARKER).unwrap();
        second.write("a/b/index.html", b"two").unwrap();
        assert_eq!(std::fs::read(target.join("gone.txt")).unwrap(), b"old");
        second.replace_target("made by a test").unwrap();
        assert_eq!(
            std::fs::read(target.join("a/b/index.html")).unwrap(),
            b"two"
        );
        assert!(!target.join("gone.txt").exists());
        // Only the target is left: no staged or old folder beside it.
        let names: Vec<_> = std::fs::read_dir(root.path()).unwrap().collect();
        assert_eq!(names.len(), 1);
        // Readable by others, like a folder made with mkdir.
        let plain = root.path().join("plain");
        std::fs::create_dir(&plain).unwrap();
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode();
        assert_eq!(mode(&target), mode(&plain));
    }

    #[test]
    fn files_of_the_folder_replaced_are_reused_only_when_whole() {
        let root = tempfile::tempdir().unwrap();
        let target = root.path().join("site");
        let first = StagedFolder::beside(&target, MARKER).unwrap();
        first.write("r/a.jpg", b"0123456789").unwrap();
        first.write("r/dir/x", b"x").unwrap();
        first.replace_target("made by a test").unwrap();
        std::os::unix::fs::symlink("/etc/hostname", target.join("r/link.jpg")).unwrap();

        let second = StagedFolder::beside(&target, MARKER).unwrap();
        assert!(second.reuse("r/a.jpg", 10).unwrap());
        // A different size, a folder, a link or nothing: the caller writes it.
        assert!(!second.reuse("r/a.jpg", 11).unwrap());
        assert!(!second.reuse("r/dir", 1).unwrap());
        assert!(!second.reuse("r/link.jpg", 0).unwrap());
        assert!(!second.reuse("r/missing.jpg", 1).unwrap());
        second.replace_target("made by a test").unwrap();
        assert_eq!(
            std::fs::read(target.join("r/a.jpg")).unwrap(),
            b"0123456789"
        );
        assert!(!target.join("r/dir").exists());
        assert!(!target.join("r/link.jpg").exists());

        // Nothing to reuse in a first export.
        let fresh = StagedFolder::beside(&root.path().join("new"), MARKER).unwrap();
        assert!(!fresh.reuse("r/a.jpg", 10).unwrap());
    }

    #[test]
    fn an_unfinished_folder_leaves_nothing_behind() {
        let root = tempfile::tempdir().unwrap();
        let staged = StagedFolder::beside(&root.path().join("site"), MARKER).unwrap();
        staged.write("index.html", b"half").unwrap();
        drop(staged);
        assert_eq!(std::fs::read_dir(root.path()).unwrap().count(), 0);
    }

    #[test]
    fn folders_with_other_files_and_files_are_never_replaced() {
        let root = tempfile::tempdir().unwrap();
        let home = root.path().join("home");
        std::fs::create_dir(&home).unwrap();
        std::fs::write(home.join("thesis.txt"), b"precious").unwrap();
        let err = StagedFolder::beside(&home, MARKER).err().unwrap();
        assert!(
            err.to_string().contains("has files that no export made"),
            "{err}"
        );
        let file = root.path().join("file");
        std::fs::write(&file, b"x").unwrap();
        let err = StagedFolder::beside(&file, MARKER).err().unwrap();
        assert!(err.to_string().contains("is not a folder"), "{err}");
        // An empty folder is fine.
        let empty = root.path().join("empty");
        std::fs::create_dir(&empty).unwrap();
        StagedFolder::beside(&empty, MARKER)
            .unwrap()
            .replace_target("made by a test")
            .unwrap();
        assert!(empty.join(MARKER).is_file());
        assert_eq!(std::fs::read(home.join("thesis.txt")).unwrap(), b"precious");
    }
}
