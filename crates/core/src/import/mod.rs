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
    let entries = std::fs::read_dir(dir).map_err(|e| {
        CoreError::Invalid(format!("cannot read photo folder {}: {e}", dir.display()))
    })?;
    let mut photos = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| {
            CoreError::Invalid(format!("cannot read photo folder {}: {e}", dir.display()))
        })?;
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let is_photo = !name.starts_with('.')
            && path.is_file()
            && path
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| PHOTO_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()));
        if is_photo {
            photos.push((name, path));
        }
    }
    photos.sort_by(|(a, _), (b, _)| natord::compare(a, b).then_with(|| a.cmp(b)));
    Ok(photos.into_iter().map(|(_, path)| path).collect())
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
    fn a_missing_folder_is_a_clear_error() {
        let err = photos_in_folder(Path::new("/definitely/not/here")).unwrap_err();
        assert!(err.to_string().contains("/definitely/not/here"), "{err}");
    }
}
