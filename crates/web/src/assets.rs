//! The stylesheet, the slideshow script and the icon, built into the binary and served
//! under names carrying their digest (`/assets/site.<digest>.css`), so they
//! can be cached for a year and still change with each release.

use crate::public::Representation;
use minijinja::{context, Value};

const IMMUTABLE: &str = "public, max-age=31536000, immutable";

struct Asset {
    file: String,
    representation: Representation,
}

pub struct Assets {
    css: Asset,
    js: Asset,
    editor: Asset,
    icon: Asset,
}

impl Asset {
    fn new(stem: &str, extension: &str, content_type: &'static str, text: &'static str) -> Self {
        let representation =
            Representation::new(content_type, IMMUTABLE, text, None).precompressed();
        Asset {
            file: format!("{stem}.{}.{extension}", &representation.digest()[..12]),
            representation,
        }
    }

    fn url(&self) -> String {
        format!("/assets/{}", self.file)
    }
}

impl Assets {
    pub fn new() -> Self {
        Assets {
            css: Asset::new(
                "site",
                "css",
                "text/css; charset=utf-8",
                include_str!("../assets/site.css"),
            ),
            js: Asset::new(
                "slideshow",
                "js",
                "text/javascript; charset=utf-8",
                include_str!("../assets/slideshow.js"),
            ),
            editor: Asset::new(
                "editor",
                "js",
                "text/javascript; charset=utf-8",
                include_str!("../assets/editor.js"),
            ),
            icon: Asset::new(
                "icon",
                "svg",
                "image/svg+xml",
                include_str!("../assets/icon.svg"),
            ),
        }
    }

    /// Their URLs, for templates.
    pub fn urls(&self) -> Value {
        context! {
            css => self.css.url(),
            js => self.js.url(),
            editor => self.editor.url(),
            icon => self.icon.url(),
        }
    }

    /// The URLs readers' pages use (not the editor's script).
    pub fn public_urls(&self) -> [String; 3] {
        [&self.css, &self.js, &self.icon].map(Asset::url)
    }

    /// The asset with this file name, if it is one of ours.
    pub fn find(&self, file: &str) -> Option<&Representation> {
        [&self.css, &self.js, &self.editor, &self.icon]
            .into_iter()
            .find(|asset| asset.file == file)
            .map(|asset| &asset.representation)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{header, HeaderMap, HeaderValue};

    /// The README promises a slideshow under 8 KB gzipped, as served.
    #[tokio::test]
    async fn the_slideshow_script_stays_within_its_size_budget() {
        let assets = Assets::new();
        let file = assets.js.file.clone();
        assert!(file.starts_with("slideshow.") && file.ends_with(".js"));
        let mut request = HeaderMap::new();
        request.insert(header::ACCEPT_ENCODING, HeaderValue::from_static("gzip"));
        let response = assets.find(&file).unwrap().respond(&request);
        assert_eq!(response.headers()[header::CONTENT_ENCODING], "gzip");
        assert_eq!(response.headers()[header::CACHE_CONTROL], IMMUTABLE);
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        assert!(
            body.len() < 8 * 1024,
            "slideshow.js is {} bytes gzipped",
            body.len()
        );
        assert!(
            assets.find("slideshow.js").is_none(),
            "only digest names are served"
        );
    }
}
