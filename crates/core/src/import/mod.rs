//! Making stories from outside material: the plain-text story form plus a
//! folder of photos.

pub mod text;

use crate::CoreError;
use std::path::{Path, PathBuf};

/// File endings taken as photos when a folder is imported; other files
/// (sidecars, notes, licences) are left alone.
pub const PHOTO_EXTENSIONS: &[&str] = &[
    "jpg", "jpeg", "jpe", "png", "webp", "gif", "tif", "tiff", "avif", "heic", "heif",
];

/// The photos in `dir` in natural file-name order (`2.jpg` before `10.jpg`).
/// Hidden files and files with other endings are skipped.
pub fn photos_in_folder(dir: &Path) -> Result<Vec<PathBuf>, CoreError> {
    Ok(folder_entries(dir)?
        .into_iter()
        .filter(|path| path.is_file() && is_photo_name(path))
        .collect())
}

/// The files `photodesk ingest` finds under one argument.
#[derive(Debug, Default)]
pub struct Found {
    pub photos: Vec<PathBuf>,
    /// Files in the folders not named as photos (sidecars, videos, raw
    /// files), left alone but reported: nobody should wonder where they went.
    pub skipped: Vec<PathBuf>,
}

/// What `photodesk ingest` takes from one argument: a file as given (so a
/// wrong file gets a clear error), or every photo under a folder, its
/// subfolders included, in natural order.
pub fn photos_under(path: &Path) -> Result<Found, CoreError> {
    let mut found = Found::default();
    if path.is_dir() {
        collect_photos(path, &mut found)?;
    } else {
        found.photos.push(path.to_owned());
    }
    Ok(found)
}

fn collect_photos(dir: &Path, found: &mut Found) -> Result<(), CoreError> {
    for entry in folder_entries(dir)? {
        if entry.is_dir() {
            collect_photos(&entry, found)?;
        } else if entry.is_file() && is_photo_name(&entry) {
            found.photos.push(entry);
        } else if entry.is_file() {
            found.skipped.push(entry);
        }
    }
    Ok(())
}

/// The entries of `dir` that are not hidden, in natural name order.
fn folder_entries(dir: &Path) -> Result<Vec<PathBuf>, CoreError> {
    let unreadable = |e: std::io::Error| {
        CoreError::Invalid(format!("cannot read photo folder {}: {e}", dir.display()))
    };
    let mut entries = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(unreadable)? {
        let entry = entry.map_err(unreadable)?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with('.') {
            entries.push((name, entry.path()));
        }
    }
    sort_by_name(&mut entries);
    Ok(entries.into_iter().map(|(_, path)| path).collect())
}

/// Natural file-name order (`2.jpg` before `10.jpg`), the order slides take.
pub fn sort_by_name<T>(items: &mut [(String, T)]) {
    items.sort_by(|(a, _), (b, _)| natord::compare(a, b).then_with(|| a.cmp(b)));
}

/// Whether a file name (not hidden) has a photo ending.
pub fn is_photo_file_name(name: &str) -> bool {
    !name.starts_with('.') && is_photo_name(Path::new(name))
}

fn is_photo_name(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| PHOTO_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_are_read_in_natural_order_and_only_photos_count() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "10.jpg",
            "2.JPG",
            "1.jpeg",
            "b.png",
            "a.webp",
            ".hidden.jpg",
            "notes.txt",
            "LICENSE",
        ] {
            std::fs::write(dir.path().join(name), b"x").unwrap();
        }
        std::fs::create_dir(dir.path().join("3.jpg")).unwrap();
        let names: Vec<String> = photos_in_folder(dir.path())
            .unwrap()
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["1.jpeg", "2.JPG", "10.jpg", "a.webp", "b.png"]);
    }

    #[test]
    fn ingest_walks_subfolders_and_keeps_named_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("day 2/.cache")).unwrap();
        for name in [
            "10.jpg",
            "2.jpg",
            "day 2/1.png",
            "day 2/.cache/x.jpg",
            "notes.txt",
        ] {
            std::fs::write(dir.path().join(name), b"x").unwrap();
        }
        let found = photos_under(dir.path()).unwrap();
        let relative = |paths: &[PathBuf]| -> Vec<String> {
            paths
                .iter()
                .map(|p| p.strip_prefix(dir.path()).unwrap().display().to_string())
                .collect()
        };
        assert_eq!(relative(&found.photos), ["2.jpg", "10.jpg", "day 2/1.png"]);
        assert_eq!(relative(&found.skipped), ["notes.txt"]);
        let named = dir.path().join("notes.txt");
        let found = photos_under(&named).unwrap();
        assert_eq!((found.photos, found.skipped), (vec![named], vec![]));
    }

    #[test]
    fn a_missing_folder_is_a_clear_error() {
        let err = photos_in_folder(Path::new("/definitely/not/here")).unwrap_err();
        assert!(err.to_string().contains("/definitely/not/here"), "{err}");
    }
}
