//! Making stories from outside material: the plain-text story form plus a
//! folder of photos.

pub mod text;

use crate::CoreError;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// File endings of the formats Photodesk reads.
const PHOTO_EXTENSIONS: &[&str] = &[
    "jpg", "jpeg", "jpe", "png", "webp", "gif", "tif", "tiff", "avif", "heic", "heif",
];

/// Endings of image formats Photodesk does not read: taken from folders
/// all the same, so that each is reported as an unsupported format rather
/// than passed over.
const OTHER_IMAGE_EXTENSIONS: &[&str] = &[
    "bmp", "dib", "psd", "psb", "jp2", "j2k", "jpf", "jpx", "jxl", "jxr", "wdp", "hdp", "ico",
    "tga", "pcx", "ppm", "pgm", "pbm", "pnm", "exr", "hdr", "dds", "qoi", "svg", "eps",
];

/// Endings of camera raw files, which cameras write beside a JPEG of the
/// same frame.
const CAMERA_RAW_EXTENSIONS: &[&str] = &[
    "dng", "cr2", "cr3", "crw", "nef", "nrw", "arw", "srf", "sr2", "orf", "rw2", "raf", "pef",
    "srw", "x3f", "3fr", "erf", "kdc", "dcr", "mos", "mef", "mrw", "iiq", "rwl", "gpr",
];

/// What a file's name says it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Named {
    Photo,
    /// An image in a format Photodesk does not read.
    OtherImage,
    CameraRaw,
    /// Sidecars, notes, licences, videos.
    Other,
}

fn named(path: &Path) -> Named {
    let Some(extension) = path.extension().and_then(|e| e.to_str()) else {
        return Named::Other;
    };
    let extension = extension.to_ascii_lowercase();
    let is = |list: &[&str]| list.contains(&extension.as_str());
    if is(PHOTO_EXTENSIONS) {
        Named::Photo
    } else if is(OTHER_IMAGE_EXTENSIONS) {
        Named::OtherImage
    } else if is(CAMERA_RAW_EXTENSIONS) {
        Named::CameraRaw
    } else {
        Named::Other
    }
}

/// The slide photos in `dir` in natural file-name order (`2.jpg` before
/// `10.jpg`). Hidden files, camera raw files (the JPEG beside one is the
/// slide) and files that are not images are skipped; images in formats
/// Photodesk does not read are kept, to fail by name.
pub fn photos_in_folder(dir: &Path) -> Result<Vec<PathBuf>, CoreError> {
    Ok(folder_entries(dir)?
        .into_iter()
        .filter(|path| path.is_file() && is_slide_photo(path))
        .collect())
}

/// The files `photodesk ingest` finds under one argument.
#[derive(Debug, Default)]
pub struct Found {
    pub photos: Vec<PathBuf>,
    /// Files in the folders left alone, each with the reason, reported:
    /// nobody should wonder where they went.
    pub skipped: Vec<(PathBuf, &'static str)>,
}

/// Why a file that is not an image was skipped.
pub const NOT_A_PHOTO: &str = "not a photo file name";

/// Why a camera raw file beside a photo of the same name was skipped.
pub const RAW_BESIDE_PHOTO: &str =
    "camera raw file beside a photo of the same name, which is taken";

/// What `photodesk ingest` takes from one argument: a file as given (so a
/// wrong file gets a clear error), or every photo under a folder, its
/// subfolders included, in natural order. Images Photodesk cannot read,
/// and camera raw files without a photo of the same name beside them, are
/// taken too, so that each fails with its reason.
pub fn photos_under(path: &Path) -> Result<Found, CoreError> {
    let mut found = Found::default();
    if path.is_dir() {
        collect_photos(path, &mut HashSet::new(), &mut found)?;
    } else {
        found.photos.push(path.to_owned());
    }
    Ok(found)
}

/// Why a folder reached through a link was not searched again.
pub const FOLDER_SEEN: &str = "folder already searched (reached again through a link)";

/// Why a pipe, socket or device in a folder was skipped: reading one could
/// block or never end.
pub const NOT_A_FILE: &str = "not a regular file (a pipe, socket or device)";

/// `searched` holds the real paths of the folders entered so far, so a
/// link back up the tree (or to a folder searched already) is followed once.
fn collect_photos(
    dir: &Path,
    searched: &mut HashSet<PathBuf>,
    found: &mut Found,
) -> Result<(), CoreError> {
    let real = std::fs::canonicalize(dir).map_err(|e| unreadable_folder(dir, e))?;
    if !searched.insert(real) {
        found.skipped.push((dir.to_owned(), FOLDER_SEEN));
        return Ok(());
    }
    let entries = folder_entries(dir)?;
    let photo_stems: Vec<&std::ffi::OsStr> = entries
        .iter()
        .filter(|entry| named(entry) == Named::Photo)
        .filter_map(|entry| entry.file_stem())
        .collect();
    for entry in &entries {
        // A link is followed; a broken one is taken by its name, to fail
        // as unreadable if it is named as a photo.
        match std::fs::metadata(entry) {
            Ok(meta) if meta.is_dir() => {
                collect_photos(entry, searched, found)?;
                continue;
            }
            Ok(meta) if !meta.is_file() => {
                found.skipped.push((entry.clone(), NOT_A_FILE));
                continue;
            }
            _ => {}
        }
        match named(entry) {
            Named::Photo | Named::OtherImage => found.photos.push(entry.clone()),
            Named::CameraRaw
                if entry
                    .file_stem()
                    .is_some_and(|stem| photo_stems.contains(&stem)) =>
            {
                found.skipped.push((entry.clone(), RAW_BESIDE_PHOTO))
            }
            Named::CameraRaw => found.photos.push(entry.clone()),
            Named::Other => found.skipped.push((entry.clone(), NOT_A_PHOTO)),
        }
    }
    Ok(())
}

fn unreadable_folder(dir: &Path, e: std::io::Error) -> CoreError {
    CoreError::Invalid(format!("cannot read photo folder {}: {e}", dir.display()))
}

/// The entries of `dir` that are not hidden, in natural name order.
fn folder_entries(dir: &Path) -> Result<Vec<PathBuf>, CoreError> {
    let unreadable = |e| unreadable_folder(dir, e);
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

/// Whether a file (not hidden) is taken as a slide photo, by its name:
/// as [`photos_in_folder`] decides.
pub fn is_photo_file_name(name: &str) -> bool {
    !name.starts_with('.') && is_slide_photo(Path::new(name))
}

fn is_slide_photo(path: &Path) -> bool {
    matches!(named(path), Named::Photo | Named::OtherImage)
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
            "b.NEF",
            "c.bmp",
        ] {
            std::fs::write(dir.path().join(name), b"x").unwrap();
        }
        std::fs::create_dir(dir.path().join("3.jpg")).unwrap();
        let names: Vec<String> = photos_in_folder(dir.path())
            .unwrap()
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        // The raw file's photo is the JPEG beside it; the BMP is a photo
        // that will fail as unsupported, not a slide that goes missing.
        assert_eq!(
            names,
            ["1.jpeg", "2.JPG", "10.jpg", "a.webp", "b.png", "c.bmp"]
        );
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
            "scan.bmp",
            "DSC_7.NEF",
            "DSC_7.JPG",
            "day 2/DSC_7.dng",
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
        // An image Photodesk cannot read is taken, to fail as such; so is
        // a raw file with no photo of its name beside it.
        assert_eq!(
            relative(&found.photos),
            [
                "2.jpg",
                "10.jpg",
                "DSC_7.JPG",
                "day 2/1.png",
                "day 2/DSC_7.dng",
                "scan.bmp"
            ]
        );
        let skipped: Vec<PathBuf> = found.skipped.iter().map(|(p, _)| p.clone()).collect();
        assert_eq!(relative(&skipped), ["DSC_7.NEF", "notes.txt"]);
        let reasons: Vec<&str> = found.skipped.iter().map(|(_, r)| *r).collect();
        assert_eq!(reasons, [RAW_BESIDE_PHOTO, NOT_A_PHOTO]);
        let named = dir.path().join("notes.txt");
        let found = photos_under(&named).unwrap();
        assert_eq!((found.photos, found.skipped), (vec![named], vec![]));
    }

    #[test]
    fn ingest_searches_each_folder_once_and_skips_pipes() {
        let dir = tempfile::tempdir().unwrap();
        let day = dir.path().join("day");
        std::fs::create_dir(&day).unwrap();
        std::fs::write(day.join("1.jpg"), b"x").unwrap();
        std::fs::write(dir.path().join("2.jpg"), b"x").unwrap();
        // A link back up the tree, a second way into a folder, a link to
        // nowhere named as a photo, and a pipe named as one.
        std::os::unix::fs::symlink("..", day.join("up")).unwrap();
        std::os::unix::fs::symlink(&day, dir.path().join("day again")).unwrap();
        std::os::unix::fs::symlink("gone.jpg", dir.path().join("3.jpg")).unwrap();
        let fifo = dir.path().join("4.jpg");
        photodesk_testkit::make_fifo(&fifo);

        let found = photos_under(dir.path()).unwrap();
        let relative = |paths: Vec<&PathBuf>| -> Vec<String> {
            paths
                .iter()
                .map(|p| p.strip_prefix(dir.path()).unwrap().display().to_string())
                .collect()
        };
        assert_eq!(
            relative(found.photos.iter().collect()),
            ["2.jpg", "3.jpg", "day/1.jpg"]
        );
        let skipped: Vec<(String, &str)> = found
            .skipped
            .iter()
            .map(|(path, why)| (relative(vec![path]).remove(0), *why))
            .collect();
        assert_eq!(
            skipped,
            [
                ("4.jpg".to_owned(), NOT_A_FILE),
                ("day/up".to_owned(), FOLDER_SEEN),
                ("day again".to_owned(), FOLDER_SEEN),
            ]
        );
    }

    #[test]
    fn a_missing_folder_is_a_clear_error() {
        let err = photos_in_folder(Path::new("/definitely/not/here")).unwrap_err();
        assert!(err.to_string().contains("/definitely/not/here"), "{err}");
    }
}
