//! A public text response made once and served many times: validators
//! (ETag, Last-Modified) for 304s, and gzip/brotli bodies compressed once
//! per representation rather than once per request.

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

pub struct Representation {
    content_type: &'static str,
    cache_control: &'static str,
    body: Bytes,
    /// Strong validator, quoted: a digest of the body.
    etag: String,
    last_modified: Option<SystemTime>,
    gzip: OnceLock<Bytes>,
    brotli: OnceLock<Bytes>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Identity,
    Gzip,
    Brotli,
}

impl Representation {
    pub fn new(
        content_type: &'static str,
        cache_control: &'static str,
        body: impl Into<Bytes>,
        last_modified: Option<DateTime<Utc>>,
    ) -> Self {
        let body = body.into();
        let digest = Sha256::digest(&body);
        Representation {
            content_type,
            cache_control,
            etag: format!("\"{}\"", hex::encode(&digest[..12])),
            // HTTP dates have whole seconds; so must the comparison.
            last_modified: last_modified.map(|at| {
                SystemTime::UNIX_EPOCH + Duration::from_secs(at.timestamp().max(0) as u64)
            }),
            body,
            gzip: OnceLock::new(),
            brotli: OnceLock::new(),
        }
    }

    /// The short digest of the body (without quotes), for content-addressed URLs.
    pub fn digest(&self) -> &str {
        self.etag.trim_matches('"')
    }

    /// Roughly the memory it takes with its compressed bodies, for cache bounds.
    pub fn weight(&self) -> usize {
        self.body.len() * 3 / 2 + 256
    }

    /// Every encoding made now rather than on first request (static assets).
    pub fn precompressed(self) -> Self {
        self.encoded(Encoding::Gzip);
        self.encoded(Encoding::Brotli);
        self
    }

    /// The response to a GET with these request headers: 304 when the
    /// client's copy is current, else the body in the best encoding it accepts.
    pub fn respond(&self, request: &HeaderMap) -> Response {
        let mut response = if self.not_modified(request) {
            StatusCode::NOT_MODIFIED.into_response()
        } else {
            let encoding = preferred_encoding(request);
            let mut response = Body::from(self.encoded(encoding)).into_response();
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(self.content_type),
            );
            match encoding {
                Encoding::Identity => {}
                Encoding::Gzip => {
                    headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
                }
                Encoding::Brotli => {
                    headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("br"));
                }
            }
            response
        };
        let headers = response.headers_mut();
        headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static(self.cache_control),
        );
        headers.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
        if let Ok(etag) = HeaderValue::from_str(&self.etag) {
            headers.insert(header::ETAG, etag);
        }
        if let Some(at) = self.last_modified {
            if let Ok(date) = HeaderValue::from_str(&httpdate::fmt_http_date(at)) {
                headers.insert(header::LAST_MODIFIED, date);
            }
        }
        response
    }

    /// RFC 9110 §13.2.2: If-None-Match wins; If-Modified-Since only without it.
    fn not_modified(&self, request: &HeaderMap) -> bool {
        if let Some(tags) = request.get(header::IF_NONE_MATCH) {
            let tags = tags.to_str().unwrap_or_default();
            return tags
                .split(',')
                .map(str::trim)
                .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == self.etag);
        }
        match (self.last_modified, request.get(header::IF_MODIFIED_SINCE)) {
            (Some(modified), Some(since)) => since
                .to_str()
                .ok()
                .and_then(|text| httpdate::parse_http_date(text).ok())
                .is_some_and(|since| modified <= since),
            _ => false,
        }
    }

    fn encoded(&self, encoding: Encoding) -> Bytes {
        match encoding {
            Encoding::Identity => self.body.clone(),
            Encoding::Gzip => self.gzip.get_or_init(|| gzip(&self.body)).clone(),
            Encoding::Brotli => self.brotli.get_or_init(|| brotli(&self.body)).clone(),
        }
    }
}

/// Brotli when accepted (smaller), else gzip, else none; `q=0` refuses.
fn preferred_encoding(request: &HeaderMap) -> Encoding {
    let Some(accepted) = request
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
    else {
        return Encoding::Identity;
    };
    let accepts = |name: &str| {
        accepted.split(',').any(|item| {
            let mut parts = item.split(';');
            let coding = parts.next().unwrap_or_default().trim();
            let refused = parts.any(|param| {
                param
                    .trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            coding.eq_ignore_ascii_case(name) && !refused
        })
    };
    if accepts("br") {
        Encoding::Brotli
    } else if accepts("gzip") {
        Encoding::Gzip
    } else {
        Encoding::Identity
    }
}

fn gzip(body: &[u8]) -> Bytes {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    // Writing to a Vec cannot fail.
    let _ = encoder.write_all(body);
    encoder.finish().unwrap_or_default().into()
}

fn brotli(body: &[u8]) -> Bytes {
    let mut out = Vec::new();
    let params = brotli::enc::BrotliEncoderParams {
        quality: 9,
        lgwin: 22,
        ..Default::default()
    };
    let _ = brotli::BrotliCompress(&mut &body[..], &mut out, &params);
    out.into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(name, value)| (name.clone(), HeaderValue::from_str(value).unwrap()))
            .collect()
    }

    fn page() -> Representation {
        let at = DateTime::parse_from_rfc3339("2026-11-26T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        Representation::new(
            "text/html; charset=utf-8",
            "public, max-age=60",
            "<p>".repeat(1000),
            Some(at),
        )
    }

    async fn body(response: Response) -> Vec<u8> {
        axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap()
            .to_vec()
    }

    #[tokio::test]
    async fn validators_give_304s() {
        let page = page();
        let first = page.respond(&HeaderMap::new());
        assert_eq!(first.status(), StatusCode::OK);
        let etag = first.headers()[header::ETAG].to_str().unwrap().to_owned();
        let modified = first.headers()[header::LAST_MODIFIED]
            .to_str()
            .unwrap()
            .to_owned();
        assert_eq!(modified, "Thu, 26 Nov 2026 10:00:00 GMT");
        for request in [
            headers(&[(header::IF_NONE_MATCH, &etag)]),
            headers(&[(header::IF_NONE_MATCH, &format!("\"x\", W/{etag}"))]),
            headers(&[(header::IF_NONE_MATCH, "*")]),
            headers(&[(header::IF_MODIFIED_SINCE, &modified)]),
            headers(&[(header::IF_MODIFIED_SINCE, "Fri, 27 Nov 2026 10:00:00 GMT")]),
        ] {
            let response = page.respond(&request);
            assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
            assert_eq!(response.headers()[header::ETAG], etag.as_str());
            assert!(body(response).await.is_empty());
        }
        for request in [
            headers(&[(header::IF_NONE_MATCH, "\"stale\"")]),
            // An ETag that does not match overrides a date that would.
            headers(&[
                (header::IF_NONE_MATCH, "\"stale\""),
                (header::IF_MODIFIED_SINCE, &modified),
            ]),
            headers(&[(header::IF_MODIFIED_SINCE, "Wed, 25 Nov 2026 10:00:00 GMT")]),
            headers(&[(header::IF_MODIFIED_SINCE, "yesterday")]),
        ] {
            assert_eq!(page.respond(&request).status(), StatusCode::OK);
        }
    }

    #[tokio::test]
    async fn bodies_are_compressed_as_the_client_prefers() {
        let page = page();
        let plain = "<p>".repeat(1000).into_bytes();

        let response = page.respond(&headers(&[(header::ACCEPT_ENCODING, "gzip, deflate, br")]));
        assert_eq!(response.headers()[header::CONTENT_ENCODING], "br");
        assert_eq!(response.headers()[header::VARY], "Accept-Encoding");
        let compressed = body(response).await;
        assert!(compressed.len() < plain.len() / 10);
        let mut decoded = Vec::new();
        brotli::BrotliDecompress(&mut &compressed[..], &mut decoded).unwrap();
        assert_eq!(decoded, plain);

        let response = page.respond(&headers(&[(header::ACCEPT_ENCODING, "br;q=0, gzip")]));
        assert_eq!(response.headers()[header::CONTENT_ENCODING], "gzip");
        let mut decoded = Vec::new();
        flate2::read::GzDecoder::new(&body(response).await[..])
            .read_to_end(&mut decoded)
            .unwrap();
        assert_eq!(decoded, plain);

        for accept in ["identity", "compress", "gzip;q=0"] {
            let response = page.respond(&headers(&[(header::ACCEPT_ENCODING, accept)]));
            assert!(response.headers().get(header::CONTENT_ENCODING).is_none());
            assert_eq!(body(response).await, plain);
        }
    }
}
