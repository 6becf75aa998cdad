//! The editing API through the router: authorization, CSRF, uploads,
//! stories and slides, conflicts, publication and history.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use photodesk_config::RawConfig;
use photodesk_testkit::{html_escaped, photo_jpeg, with_broken_xmp, TestApp};
use photodesk_types::Role;
use photodesk_web::{app, AppState};
use serde_json::{json, Value};
use std::process::Command;
use tower::ServiceExt;

struct Site {
    t: TestApp,
    router: Router,
    token: String,
}

struct Reply {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Value,
}

impl Site {
    async fn new() -> Site {
        Site::with_settings(RawConfig::default()).await
    }

    async fn with_settings(settings: RawConfig) -> Site {
        let t = TestApp::with_settings(settings).await;
        t.app
            .add_user("edna", Role::Editor, "editor passphrase")
            .await
            .unwrap();
        let (_, token) = t.app.create_api_token("edna", "tests").await.unwrap();
        let router = app(AppState::new(t.app.clone(), None));
        Site { t, router, token }
    }

    async fn send(&self, request: Request<Body>) -> Reply {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
        };
        Reply {
            status,
            headers,
            body,
        }
    }

    fn request(&self, method: Method, uri: &str) -> axum::http::request::Builder {
        Request::builder()
            .method(method)
            .uri(uri)
            .header(header::AUTHORIZATION, format!("Bearer {}", self.token))
    }

    async fn call(&self, method: Method, uri: &str, body: Option<Value>) -> Reply {
        let builder = self.request(method, uri);
        let request = match body {
            Some(json) => builder
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(json.to_string())),
            None => builder.body(Body::empty()),
        };
        self.send(request.unwrap()).await
    }

    async fn upload(&self, name: &str, bytes: Vec<u8>) -> Reply {
        let boundary = "photodesk-test-boundary";
        let mut body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: image/jpeg\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(&bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let request = self
            .request(Method::POST, "/api/v1/photos")
            .header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(Body::from(body))
            .unwrap();
        self.send(request).await
    }
}

/// A photo with IPTC caption, credit and alt text, tagged by ExifTool.
fn tagged_photo(
    dir: &std::path::Path,
    seed: u32,
    caption: &str,
    alt: &str,
    credit: &str,
) -> Vec<u8> {
    let path = dir.join(format!("tagged-{seed}.jpg"));
    std::fs::write(&path, photo_jpeg(400, 300, seed)).unwrap();
    let status = Command::new("exiftool")
        .args([
            "-q",
            "-overwrite_original",
            "-charset",
            "iptc=UTF8",
            "-codedcharacterset=utf8",
        ])
        .arg(format!("-IPTC:Caption-Abstract={caption}"))
        .arg(format!("-XMP-dc:Description={caption}"))
        .arg(format!("-XMP-iptcCore:AltTextAccessibility={alt}"))
        .arg(format!("-IPTC:Credit={credit}"))
        .arg(format!("-XMP-photoshop:Credit={credit}"))
        .arg(&path)
        .status()
        .expect("exiftool runs (scripts/test installs it)");
    assert!(status.success());
    std::fs::read(&path).unwrap()
}

#[tokio::test]
async fn a_story_is_built_reordered_and_published_through_the_api() {
    let site = Site::new().await;
    let created = site
        .call(
            Method::POST,
            "/api/v1/stories",
            Some(json!({"headline": "Photos: Harbin in winter", "lead": ["Ice and snow."]})),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let id = created.body["id"].as_i64().unwrap();
    assert_eq!(created.body["slug"], "photos-harbin-in-winter");
    assert_eq!(created.body["version"], 1);
    assert_eq!(created.body["status"], "draft");
    assert_eq!(
        created.headers[header::LOCATION],
        format!("/api/v1/stories/{id}")
    );

    // Drafts: editors see them, readers do not.
    let anonymous = Request::get(format!("/api/v1/stories/{id}"))
        .body(Body::empty())
        .unwrap();
    assert_eq!(site.send(anonymous).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        site.call(Method::GET, &format!("/api/v1/stories/{id}"), None)
            .await
            .status,
        StatusCode::OK
    );

    let dir = site.t.dir.path();
    let captions = [
        "Скульптуры изо льда на фестивале.",
        "冰雪大世界的夜景。",
        "Skaters on the Songhua river.",
    ];
    let mut photo_ids = Vec::new();
    for (n, caption) in captions.iter().enumerate() {
        let bytes = tagged_photo(
            dir,
            n as u32 + 1,
            caption,
            &format!("Alt {n}"),
            &format!("Agency {n}"),
        );
        let uploaded = site.upload(&format!("{n}.jpg"), bytes).await;
        assert_eq!(uploaded.status, StatusCode::CREATED, "{:?}", uploaded.body);
        assert_eq!(uploaded.body["outcome"], "added");
        assert_eq!(uploaded.body["metadata"]["caption"], *caption);
        assert!(uploaded.body["renditions"].as_array().unwrap().len() >= 2);
        photo_ids.push(uploaded.body["id"].as_i64().unwrap());
    }
    // The raw-body form of upload works too, and the same bytes are one photo.
    let raw = site
        .send(
            site.request(Method::POST, "/api/v1/photos")
                .header(header::CONTENT_TYPE, "image/jpeg")
                .body(Body::from(tagged_photo(
                    dir,
                    1,
                    captions[0],
                    "Alt 0",
                    "Agency 0",
                )))
                .unwrap(),
        )
        .await;
    assert_eq!(raw.status, StatusCode::CREATED);
    assert_eq!(raw.body["outcome"], "duplicate");
    assert_eq!(raw.body["warnings"], serde_json::json!([]));
    // A damaged XMP packet: the photo is added, and the editor is told why
    // its caption is empty.
    let damaged = site
        .upload("damaged.jpg", with_broken_xmp(&photo_jpeg(200, 100, 5)))
        .await;
    assert_eq!(damaged.status, StatusCode::CREATED);
    assert_eq!(damaged.body["outcome"], "added");
    assert_eq!(damaged.body["metadata"]["caption"], serde_json::Value::Null);
    let warnings = damaged.body["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1);
    assert!(warnings[0]
        .as_str()
        .unwrap()
        .contains("XMP metadata is not well-formed"));
    assert_eq!(raw.body["id"].as_i64().unwrap(), photo_ids[0]);

    // Slides default their text from the photo's IPTC; given fields win.
    let mut slide_ids = Vec::new();
    for (n, photo_id) in photo_ids.iter().enumerate() {
        let body = if n == 2 {
            json!({"photo_id": photo_id, "caption": "Given caption"})
        } else {
            json!({"photo_id": photo_id})
        };
        let slide = site
            .call(
                Method::POST,
                &format!("/api/v1/stories/{id}/slides"),
                Some(body),
            )
            .await;
        assert_eq!(slide.status, StatusCode::CREATED, "{:?}", slide.body);
        assert_eq!(slide.body["position"], n + 1);
        assert_eq!(slide.body["alt_text"], format!("Alt {n}"));
        assert_eq!(slide.body["credit"], format!("Agency {n}"));
        let expected_caption = if n == 2 { "Given caption" } else { captions[n] };
        assert_eq!(slide.body["caption"], expected_caption);
        slide_ids.push(slide.body["id"].as_i64().unwrap());
    }
    // Search the library by caption.
    let found = site
        .call(Method::GET, "/api/v1/photos?q=%E5%86%B0%E9%9B%AA", None)
        .await;
    assert_eq!(found.body["photos"].as_array().unwrap().len(), 1);
    assert_eq!(
        found.body["photos"][0]["id"].as_i64().unwrap(),
        photo_ids[1]
    );

    // Edit one slide's text: the photo's own metadata stays as it was.
    let patched = site
        .call(
            Method::PATCH,
            &format!("/api/v1/stories/{id}/slides/{}", slide_ids[0]),
            Some(json!({"caption": "Ice sculptures at the <b>festival</b>."})),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{:?}", patched.body);
    assert_eq!(
        patched.body["caption"],
        "Ice sculptures at the <b>festival</b>."
    );
    let photo = site
        .call(
            Method::GET,
            &format!("/api/v1/photos/{}", photo_ids[0]),
            None,
        )
        .await;
    assert_eq!(photo.body["metadata"]["caption"], captions[0]);

    // Reorder: 3, 1, 2; ids stay.
    let order = vec![slide_ids[2], slide_ids[0], slide_ids[1]];
    let reordered = site
        .call(
            Method::PUT,
            &format!("/api/v1/stories/{id}/slides/order"),
            Some(json!({"slide_ids": order})),
        )
        .await;
    assert_eq!(reordered.status, StatusCode::OK, "{:?}", reordered.body);
    let ids: Vec<i64> = reordered.body["slides"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, order);
    let bad_order = site
        .call(
            Method::PUT,
            &format!("/api/v1/stories/{id}/slides/order"),
            Some(json!({"slide_ids": [slide_ids[0]]})),
        )
        .await;
    assert_eq!(bad_order.status, StatusCode::UNPROCESSABLE_ENTITY);

    let published = site
        .call(Method::POST, &format!("/api/v1/stories/{id}/publish"), None)
        .await;
    assert_eq!(published.status, StatusCode::OK, "{:?}", published.body);
    assert_eq!(published.body["status"], "published");

    // Readers now see it, in the new order, with the edited caption escaped.
    let page = site
        .send(
            Request::get("/stories/photos-harbin-in-winter")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    let html = page.body.as_str().unwrap().to_owned();
    let first = html.find("Given caption").unwrap();
    let second = html
        .find("Ice sculptures at the &lt;b&gt;festival&lt;/b&gt;.")
        .unwrap();
    assert!(first < second);
    let home = site
        .send(Request::get("/").body(Body::empty()).unwrap())
        .await;
    assert!(home
        .body
        .as_str()
        .unwrap()
        .contains("Photos: Harbin in winter"));

    // Removing a slide; unpublishing hides the story again.
    let removed = site
        .call(
            Method::DELETE,
            &format!("/api/v1/stories/{id}/slides/{}", slide_ids[1]),
            None,
        )
        .await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    let unpublished = site
        .call(
            Method::POST,
            &format!("/api/v1/stories/{id}/unpublish"),
            None,
        )
        .await;
    assert_eq!(unpublished.body["status"], "draft");
    assert_eq!(unpublished.body["slides"].as_array().unwrap().len(), 2);
    let gone = site
        .send(
            Request::get(format!("/api/v1/stories/{id}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert_eq!(
        site.call(Method::DELETE, &format!("/api/v1/stories/{id}"), None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        site.call(Method::GET, &format!("/api/v1/stories/{id}"), None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

/// A story with one slide whose alt text is empty.
async fn story_with_slide(site: &Site, alt: &str) -> (i64, i64) {
    let story = site
        .call(
            Method::POST,
            "/api/v1/stories",
            Some(json!({"headline": "Draft"})),
        )
        .await;
    let id = story.body["id"].as_i64().unwrap();
    let photo = site.upload("p.jpg", photo_jpeg(200, 100, 7)).await;
    let slide = site
        .call(
            Method::POST,
            &format!("/api/v1/stories/{id}/slides"),
            Some(json!({"photo_id": photo.body["id"], "caption": "A caption", "alt_text": alt, "credit": "Agency"})),
        )
        .await;
    (id, slide.body["id"].as_i64().unwrap())
}

#[tokio::test]
async fn publishing_is_refused_with_each_missing_field_named() {
    let site = Site::new().await;
    let empty = site
        .call(
            Method::POST,
            "/api/v1/stories",
            Some(json!({"headline": "Empty"})),
        )
        .await;
    let refused = site
        .call(
            Method::POST,
            &format!("/api/v1/stories/{}/publish", empty.body["id"]),
            None,
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.body["problems"][0]["field"], "slides");

    let (id, slide) = story_with_slide(&site, "").await;
    let refused = site
        .call(Method::POST, &format!("/api/v1/stories/{id}/publish"), None)
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.body["code"], "incomplete");
    assert_eq!(
        refused.body["problems"],
        json!([{"slide_id": slide, "position": 1, "field": "alt_text", "message": "slide 1 has no alt text"}])
    );
    assert!(refused.body["message"]
        .as_str()
        .unwrap()
        .contains("slide 1 has no alt text"));
    let story = site
        .call(Method::GET, &format!("/api/v1/stories/{id}"), None)
        .await;
    assert_eq!(story.body["status"], "draft");
}

#[tokio::test]
async fn a_second_save_of_the_same_version_is_a_conflict() {
    let site = Site::new().await;
    let (id, slide) = story_with_slide(&site, "Alt").await;
    let version = site
        .call(Method::GET, &format!("/api/v1/stories/{id}"), None)
        .await
        .body["version"]
        .as_u64()
        .unwrap();
    let first = site
        .call(
            Method::PATCH,
            &format!("/api/v1/stories/{id}"),
            Some(json!({"headline": "First editor", "version": version})),
        )
        .await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(first.body["version"].as_u64().unwrap(), version + 1);
    let second = site
        .call(
            Method::PATCH,
            &format!("/api/v1/stories/{id}/slides/{slide}"),
            Some(json!({"caption": "Second editor", "version": version})),
        )
        .await;
    assert_eq!(second.status, StatusCode::CONFLICT);
    assert_eq!(second.body["code"], "conflict");
    assert!(second.body["message"]
        .as_str()
        .unwrap()
        .contains("changed by someone else"));
    let story = site
        .call(Method::GET, &format!("/api/v1/stories/{id}"), None)
        .await;
    assert_eq!(story.body["headline"], "First editor");
    assert_eq!(story.body["slides"][0]["caption"], "A caption");

    // Every save is a revision, with who saved it; an old one can be restored.
    let history = site
        .call(
            Method::GET,
            &format!("/api/v1/stories/{id}/revisions"),
            None,
        )
        .await;
    let revisions = history.body["revisions"].as_array().unwrap();
    assert_eq!(revisions[0]["version"].as_u64().unwrap(), version + 1);
    assert!(revisions.iter().all(|r| r["user"] == "edna"));
    let old = site
        .call(
            Method::GET,
            &format!("/api/v1/stories/{id}/revisions/1"),
            None,
        )
        .await;
    assert_eq!(old.body["headline"], "Draft");
    let restored = site
        .call(
            Method::POST,
            &format!("/api/v1/stories/{id}/revisions/1/restore"),
            None,
        )
        .await;
    assert_eq!(restored.status, StatusCode::OK);
    assert_eq!(restored.body["headline"], "Draft");
    assert_eq!(
        restored.body["slides"].as_array().unwrap().len(),
        0,
        "revision 1 had no slides"
    );
}

#[tokio::test]
async fn a_scheduled_story_is_published_once_when_due() {
    let site = Site::new().await;
    let (id, _) = story_with_slide(&site, "Alt").await;
    let past = site
        .call(
            Method::POST,
            &format!("/api/v1/stories/{id}/schedule"),
            Some(json!({"at": "2020-01-01T00:00:00Z"})),
        )
        .await;
    assert_eq!(past.status, StatusCode::UNPROCESSABLE_ENTITY);
    let at = chrono::Utc::now() + chrono::Duration::milliseconds(1500);
    let scheduled = site
        .call(
            Method::POST,
            &format!("/api/v1/stories/{id}/schedule"),
            Some(json!({"at": at.to_rfc3339()})),
        )
        .await;
    assert_eq!(scheduled.status, StatusCode::OK, "{:?}", scheduled.body);
    assert_eq!(scheduled.body["status"], "scheduled");
    assert!(
        site.t.app.publish_due().await.unwrap().is_empty(),
        "not yet"
    );
    let page = || {
        site.send(
            Request::get("/api/v1/stories/draft")
                .body(Body::empty())
                .unwrap(),
        )
    };
    assert_eq!(page().await.status, StatusCode::NOT_FOUND);
    tokio::time::sleep(std::time::Duration::from_millis(1600)).await;
    // Two schedulers (two instances) racing: the story is published once.
    let (a, b) = tokio::join!(site.t.app.publish_due(), site.t.app.publish_due());
    let mut published = a.unwrap();
    published.extend(b.unwrap());
    assert_eq!(published, ["draft"]);
    assert!(site.t.app.publish_due().await.unwrap().is_empty());
    assert_eq!(page().await.status, StatusCode::OK);
}

#[tokio::test]
async fn unauthorised_and_malformed_requests_get_clear_json_errors() {
    let site = Site::with_settings(RawConfig {
        max_file_bytes: Some(50_000),
        ..Default::default()
    })
    .await;
    let (id, _) = story_with_slide(&site, "Alt").await;
    let anonymous = |method: Method, uri: &str| {
        Request::builder()
            .method(method)
            .uri(uri)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from("{}"))
            .unwrap()
    };
    for (method, uri) in [
        (Method::POST, "/api/v1/stories".to_owned()),
        (Method::POST, "/api/v1/photos".to_owned()),
        (Method::GET, "/api/v1/photos".to_owned()),
        (Method::PATCH, format!("/api/v1/stories/{id}")),
        (Method::DELETE, format!("/api/v1/stories/{id}")),
        (Method::POST, format!("/api/v1/stories/{id}/publish")),
        (Method::PUT, format!("/api/v1/stories/{id}/slides/order")),
    ] {
        let reply = site.send(anonymous(method.clone(), &uri)).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{method} {uri}");
        assert_eq!(reply.body["code"], "unauthorized");
    }
    // A wrong, a malformed and a revoked token.
    for auth in ["Bearer pd_wrong", "Basic ZWRuYTp4", "Bearer "] {
        let reply = site
            .send(
                Request::post("/api/v1/stories")
                    .header(header::AUTHORIZATION, auth)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{auth}");
    }
    site.t.app.revoke_api_token(1).await.unwrap();
    assert_eq!(
        site.call(Method::GET, "/api/v1/photos", None).await.status,
        StatusCode::UNAUTHORIZED
    );
    let (_, token) = site.t.app.create_api_token("edna", "again").await.unwrap();
    let site = Site { token, ..site };

    let text = site
        .send(
            site.request(Method::POST, "/api/v1/stories")
                .header(header::CONTENT_TYPE, "text/plain")
                .body(Body::from("headline"))
                .unwrap(),
        )
        .await;
    assert_eq!(text.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(text.body["code"], "unsupported-media-type");
    let broken = site
        .send(
            site.request(Method::POST, "/api/v1/stories")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from("{\"headline\":"))
                .unwrap(),
        )
        .await;
    assert_eq!(broken.status, StatusCode::BAD_REQUEST);
    assert_eq!(broken.body["code"], "bad-json");
    for body in [
        json!({"headline": 5}),
        json!({"headline": "x", "extra": true}),
        json!({"lead": []}),
        json!({"headline": "  "}),
        json!({"headline": "x".repeat(301)}),
    ] {
        let reply = site
            .call(Method::POST, "/api/v1/stories", Some(body.clone()))
            .await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(reply.body["message"].is_string());
    }
    let missing_photo = site
        .call(
            Method::POST,
            &format!("/api/v1/stories/{id}/slides"),
            Some(json!({"photo_id": 999})),
        )
        .await;
    assert_eq!(missing_photo.status, StatusCode::NOT_FOUND);
    assert_eq!(
        site.call(Method::PATCH, "/api/v1/stories/abc", Some(json!({})))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        site.call(
            Method::PATCH,
            &format!("/api/v1/stories/{id}/slides/999"),
            Some(json!({"caption": "x"}))
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );

    // Uploads: too large, not an image, the wrong content type, empty.
    let large = site.upload("big.jpg", photo_jpeg(1600, 1200, 3)).await;
    assert_eq!(
        large.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{:?}",
        large.body
    );
    assert_eq!(large.body["code"], "too-large");
    let raw_large = site
        .send(
            site.request(Method::POST, "/api/v1/photos")
                .header(header::CONTENT_TYPE, "image/jpeg")
                .body(Body::from(vec![0u8; 60_000]))
                .unwrap(),
        )
        .await;
    assert_eq!(raw_large.status, StatusCode::PAYLOAD_TOO_LARGE);
    let garbage = site
        .upload("fake.jpg", b"<?php echo 'not a photo'; ?>".to_vec())
        .await;
    assert_eq!(
        garbage.status,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "{:?}",
        garbage.body
    );
    let truncated = site
        .upload("cut.jpg", photo_jpeg(200, 100, 4)[..300].to_vec())
        .await;
    assert!(truncated.status.is_client_error(), "{:?}", truncated.body);
    let wrong_type = site
        .send(
            site.request(Method::POST, "/api/v1/photos")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from("{}"))
                .unwrap(),
        )
        .await;
    assert_eq!(wrong_type.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let empty = site
        .send(
            site.request(Method::POST, "/api/v1/photos")
                .header(header::CONTENT_TYPE, "image/png")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    // Nothing of the refused uploads was kept.
    assert_eq!(site.t.app.database().counts().await.unwrap().photos, 1);
}

/// Logs in through the form; returns the session cookie (`name=value`).
async fn log_in(site: &Site, name: &str, password: &str) -> Reply {
    let form = format!(
        "name={name}&password={}&next=%2Fedit",
        password.replace(' ', "+")
    );
    site.send(
        Request::post("/login")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(form))
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn browser_sessions_log_in_and_need_the_csrf_token_to_change_anything() {
    let site = Site::new().await;
    // Anonymous editors are sent to the login page.
    let edit = site
        .send(Request::get("/edit").body(Body::empty()).unwrap())
        .await;
    assert_eq!(edit.status, StatusCode::SEE_OTHER);
    assert_eq!(edit.headers[header::LOCATION], "/login?next=/edit");

    let wrong = log_in(&site, "edna", "wrong password").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong
        .body
        .as_str()
        .unwrap()
        .contains("Wrong user name or password."));
    assert!(wrong.headers.get(header::SET_COOKIE).is_none());

    let ok = log_in(&site, "edna", "editor passphrase").await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    assert_eq!(ok.headers[header::LOCATION], "/edit");
    let set_cookie = ok.headers[header::SET_COOKIE].to_str().unwrap().to_owned();
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=1209600"] {
        assert!(set_cookie.contains(attribute), "{set_cookie}");
    }
    let cookie = set_cookie.split(';').next().unwrap().to_owned();

    // The editor's list page shows drafts and carries the CSRF token.
    let list = site
        .send(
            Request::get("/edit")
                .header(header::COOKIE, &cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(list.headers[header::CACHE_CONTROL], "no-store");
    let html = list.body.as_str().unwrap().to_owned();
    let csrf = html
        .split("name=\"csrf_token\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    assert!(csrf.len() >= 40);

    let create = |csrf: Option<&str>| {
        let mut request = Request::post("/api/v1/stories")
            .header(header::COOKIE, &cookie)
            .header(header::CONTENT_TYPE, "application/json");
        if let Some(csrf) = csrf {
            request = request.header("x-csrf-token", csrf);
        }
        request
            .body(Body::from(r#"{"headline": "From the browser"}"#))
            .unwrap()
    };
    let refused = site.send(create(None)).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(refused.body["code"], "csrf");
    assert_eq!(
        site.send(create(Some("forged"))).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        site.send(create(Some(&csrf))).await.status,
        StatusCode::CREATED
    );
    let drafts = site
        .send(
            Request::get("/edit?q=browser")
                .header(header::COOKIE, &cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert!(drafts.body.as_str().unwrap().contains("From the browser"));

    // Logging out needs the token too, then the cookie is worthless.
    let logout = |token: &str| {
        Request::post("/logout")
            .header(header::COOKIE, &cookie)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(format!("csrf_token={token}")))
            .unwrap()
    };
    assert_eq!(
        site.send(logout("forged")).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(site.send(logout(&csrf)).await.status, StatusCode::SEE_OTHER);
    assert_eq!(
        site.send(create(Some(&csrf))).await.status,
        StatusCode::UNAUTHORIZED
    );

    // A login form posted from another site is refused.
    let foreign = site
        .send(
            Request::post("/login")
                .header(header::ORIGIN, "https://evil.example")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from("name=edna&password=editor+passphrase"))
                .unwrap(),
        )
        .await;
    assert_eq!(foreign.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn login_attempts_are_limited_and_disabled_users_cannot_log_in() {
    let site = Site::new().await;
    for _ in 0..5 {
        assert_eq!(
            log_in(&site, "edna", "guess guess").await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    let limited = log_in(&site, "edna", "editor passphrase").await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(limited.body.as_str().unwrap().contains("Too many attempts"));

    site.t
        .app
        .add_user("olga", Role::Editor, "olga passphrase")
        .await
        .unwrap();
    site.t.app.set_user_disabled("olga", true).await.unwrap();
    assert_eq!(
        log_in(&site, "olga", "olga passphrase").await.status,
        StatusCode::UNAUTHORIZED
    );
    site.t.app.set_user_disabled("olga", false).await.unwrap();
    assert_eq!(
        log_in(&site, "olga", "olga passphrase").await.status,
        StatusCode::SEE_OTHER
    );
    // Redirects after login stay on this site.
    let form = "name=olga&password=olga+passphrase&next=%2F%2Fevil.example";
    let away = site
        .send(
            Request::post("/login")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(form))
                .unwrap(),
        )
        .await;
    assert_eq!(away.headers[header::LOCATION], "/edit");
}

#[tokio::test]
async fn the_openapi_document_describes_every_route() {
    let site = Site::new().await;
    let doc = site
        .send(
            Request::get("/api/v1/openapi.json")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(doc.status, StatusCode::OK);
    assert!(doc.body["openapi"].as_str().unwrap().starts_with("3.1"));
    let paths = &doc.body["paths"];
    for (method, path) in [
        ("get", "/stories"),
        ("post", "/stories"),
        ("get", "/stories/{reference}"),
        ("patch", "/stories/{id}"),
        ("delete", "/stories/{id}"),
        ("post", "/photos"),
        ("get", "/photos"),
        ("get", "/photos/{id}"),
        ("post", "/stories/{id}/slides"),
        ("patch", "/stories/{id}/slides/{slide_id}"),
        ("delete", "/stories/{id}/slides/{slide_id}"),
        ("put", "/stories/{id}/slides/order"),
        ("post", "/stories/{id}/publish"),
        ("post", "/stories/{id}/schedule"),
        ("post", "/stories/{id}/unpublish"),
        ("get", "/stories/{id}/revisions"),
        ("post", "/stories/{id}/revisions/{version}/restore"),
    ] {
        assert!(
            paths[path][method].is_object(),
            "{method} {path} is not documented"
        );
    }
    let schemas = &doc.body["components"]["schemas"];
    for schema in [
        "StoryBody",
        "SlideBody",
        "PhotoBody",
        "PhotoMetadata",
        "ErrorBody",
        "NewSlideRequest",
    ] {
        assert!(schemas[schema].is_object(), "schema {schema}");
    }
    assert_eq!(
        paths["/stories/{id}/publish"]["post"]["responses"]["422"]["description"],
        "what is missing, in `problems`"
    );
    assert!(doc.body["components"]["securitySchemes"]["token"].is_object());
}

/// A logged-in session: its cookie and CSRF token.
async fn session(site: &Site) -> (String, String) {
    let ok = log_in(site, "edna", "editor passphrase").await;
    let cookie = ok.headers[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let list = site
        .send(
            Request::get("/edit")
                .header(header::COOKIE, &cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    let html = list.body.as_str().unwrap().to_owned();
    let csrf = html
        .split("name=\"csrf_token\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    (cookie, csrf)
}

fn multipart(fields: &[(&str, Option<&str>, Vec<u8>)]) -> (String, Vec<u8>) {
    let boundary = "import-boundary";
    let mut body = Vec::new();
    for (name, file, bytes) in fields {
        let disposition = match file {
            Some(file) => format!(
                "form-data; name=\"{name}\"; filename=\"{file}\"\r\nContent-Type: image/jpeg"
            ),
            None => format!("form-data; name=\"{name}\""),
        };
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n").as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[tokio::test]
async fn the_editor_imports_a_text_story_with_its_photos() {
    let site = Site::new().await;
    let (cookie, csrf) = session(&site).await;
    let text = "Photos: Imported\n\nA lead.\n1 / 2\nFirst caption.\n2 / 2\nSecond caption.\n";
    let post = |fields: Vec<(&str, Option<&str>, Vec<u8>)>| {
        let (content_type, body) = multipart(&fields);
        Request::post("/edit/import")
            .header(header::COOKIE, &cookie)
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(body))
            .unwrap()
    };
    // Photos in natural name order: 2.jpg before 10.jpg, whatever the sending order.
    let imported = site
        .send(post(vec![
            ("csrf_token", None, csrf.clone().into_bytes()),
            ("story", None, text.as_bytes().to_vec()),
            ("photos", Some("10.jpg"), photo_jpeg(300, 200, 10)),
            ("photos", Some("2.jpg"), photo_jpeg(200, 300, 2)),
            ("photos", Some("notes.txt"), b"not a photo".to_vec()),
        ]))
        .await;
    assert_eq!(
        imported.status,
        StatusCode::SEE_OTHER,
        "{:?}",
        imported.body
    );
    let location = imported.headers[header::LOCATION]
        .to_str()
        .unwrap()
        .to_owned();
    let id = location.rsplit('/').next().unwrap();
    let story = site
        .call(Method::GET, &format!("/api/v1/stories/{id}"), None)
        .await;
    assert_eq!(story.body["status"], "draft");
    assert_eq!(story.body["slides"][0]["caption"], "First caption.");
    assert_eq!(
        story.body["slides"][0]["photo"]["width"], 200,
        "2.jpg is the first slide"
    );

    let photos_before = site.t.app.database().counts().await.unwrap();
    let wrong_count = site
        .send(post(vec![
            ("csrf_token", None, csrf.clone().into_bytes()),
            ("story", None, text.as_bytes().to_vec()),
            ("photos", Some("1.jpg"), photo_jpeg(300, 200, 11)),
        ]))
        .await;
    assert_eq!(wrong_count.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong_count
        .body
        .as_str()
        .unwrap()
        .contains("needs one photo per slide"));
    let forged = site
        .send(post(vec![
            ("csrf_token", None, b"forged".to_vec()),
            ("story", None, text.as_bytes().to_vec()),
            ("photos", Some("1.jpg"), photo_jpeg(300, 200, 12)),
            ("photos", Some("2.jpg"), photo_jpeg(300, 200, 13)),
        ]))
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(
        site.t.app.database().counts().await.unwrap(),
        photos_before,
        "nothing half-written"
    );
}

#[tokio::test]
async fn only_admins_manage_users() {
    let site = Site::new().await;
    // Edna is an editor: she may edit stories but not manage people.
    let refused = site.call(Method::GET, "/api/v1/users", None).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(refused.body["code"], "forbidden");
    let refused = site
        .call(
            Method::POST,
            "/api/v1/users",
            Some(json!({"name": "mallory", "role": "admin", "password": "a long passphrase"})),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);

    site.t
        .app
        .add_user("ada", Role::Admin, "admin passphrase")
        .await
        .unwrap();
    let (_, token) = site.t.app.create_api_token("ada", "admin").await.unwrap();
    let admin = Site { token, ..site };
    let added = admin
        .call(
            Method::POST,
            "/api/v1/users",
            Some(json!({"name": "fred", "role": "editor", "password": "fred passphrase"})),
        )
        .await;
    assert_eq!(added.status, StatusCode::CREATED, "{:?}", added.body);
    assert_eq!(added.body["role"], "editor");
    assert!(added.body.get("password_hash").is_none());
    let taken = admin
        .call(
            Method::POST,
            "/api/v1/users",
            Some(json!({"name": "fred", "role": "editor", "password": "fred passphrase"})),
        )
        .await;
    assert_eq!(taken.status, StatusCode::CONFLICT);
    let weak = admin
        .call(
            Method::POST,
            "/api/v1/users",
            Some(json!({"name": "gina", "role": "editor", "password": "short"})),
        )
        .await;
    assert_eq!(weak.status, StatusCode::UNPROCESSABLE_ENTITY);
    let users = admin.call(Method::GET, "/api/v1/users", None).await;
    let names: Vec<&str> = users.body["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["ada", "edna", "fred"]);

    // Disabling Edna stops her token at once.
    assert_eq!(
        admin
            .call(Method::POST, "/api/v1/users/edna/disable", None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        admin
            .call(Method::POST, "/api/v1/users/ada/disable", None)
            .await
            .status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let (_, edna_token) = admin.t.app.create_api_token("edna", "later").await.unwrap();
    let edna = Site {
        token: edna_token,
        ..admin
    };
    assert_eq!(
        edna.call(Method::GET, "/api/v1/photos", None).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn editors_list_drafts_and_search_headlines_readers_see_published_only() {
    let site = Site::new().await;
    for headline in [
        "Floods in the north",
        "Harbin ice festival",
        "Harbin by night",
    ] {
        site.call(
            Method::POST,
            "/api/v1/stories",
            Some(json!({"headline": headline})),
        )
        .await;
    }
    let all = site
        .call(Method::GET, "/api/v1/stories?q=harbin&limit=1", None)
        .await;
    assert_eq!(
        all.body["stories"][0]["headline"], "Harbin by night",
        "newest first"
    );
    assert_eq!(all.body["stories"][0]["status"], "draft");
    assert_eq!(all.body["next_offset"], 1);
    let page2 = site
        .call(
            Method::GET,
            "/api/v1/stories?q=harbin&limit=1&offset=1",
            None,
        )
        .await;
    assert_eq!(page2.body["stories"][0]["headline"], "Harbin ice festival");
    assert!(page2.body["next_offset"].is_null());
    let readers = site
        .send(Request::get("/api/v1/stories").body(Body::empty()).unwrap())
        .await;
    assert_eq!(readers.body["stories"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn session_cookies_are_secure_behind_https() {
    let t = TestApp::new().await;
    t.app
        .add_user("edna", Role::Editor, "editor passphrase")
        .await
        .unwrap();
    let router = app(AppState::new(
        t.app.clone(),
        Some("https://photos.example.org".into()),
    ));
    let response = router
        .oneshot(
            Request::post("/login")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::ORIGIN, "https://photos.example.org")
                .body(Body::from("name=edna&password=editor+passphrase"))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let cookie = response.headers()[header::SET_COOKIE].to_str().unwrap();
    assert!(cookie.contains("Secure"), "{cookie}");
}

#[tokio::test]
async fn readers_get_neither_originals_nor_the_gps_position_unless_kept() {
    for keep_location in [false, true] {
        let site = Site::with_settings(RawConfig {
            keep_location: Some(keep_location),
            ..RawConfig::default()
        })
        .await;
        let folder = site.t.photo_folder("located", 1);
        let photo = std::fs::read_dir(&folder).unwrap().next().unwrap().unwrap();
        let status = Command::new("exiftool")
            .args([
                "-q",
                "-overwrite_original",
                "-GPSLatitude=45.75",
                "-GPSLatitudeRef=N",
            ])
            .args(["-GPSLongitude=126.65", "-GPSLongitudeRef=E"])
            .arg(photo.path())
            .status()
            .expect("exiftool runs (scripts/test installs it)");
        assert!(status.success());
        let text = "Photos: Located\n\nLead.\n\n1 / 1\n\nA caption.\n";
        let story = site
            .t
            .app
            .import_story(text.as_bytes(), &folder, true)
            .await
            .unwrap();
        let uri = format!("/api/v1/stories/{}", story.story.slug);

        let anonymous = |uri: &str| Request::get(uri).body(Body::empty()).unwrap();
        let read = site.send(anonymous(&uri)).await;
        let gps = &read.body["slides"][0]["photo"]["metadata"]["gps"];
        assert_eq!(gps.is_object(), keep_location, "{gps}");
        let original = read.body["slides"][0]["photo"]["original_url"]
            .as_str()
            .unwrap()
            .to_owned();
        let refused = site.send(anonymous(&original)).await;
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED);

        // Editors see everything, the original too (privately cached).
        let edited = site.call(Method::GET, &uri, None).await;
        let gps = &edited.body["slides"][0]["photo"]["metadata"]["gps"];
        assert!((gps["latitude"].as_f64().unwrap() - 45.75).abs() < 1e-6);
        let request = site.request(Method::GET, &original).body(Body::empty());
        let fetched = site.router.clone().oneshot(request.unwrap()).await.unwrap();
        assert_eq!(fetched.status(), StatusCode::OK);
        assert!(fetched.headers()[header::CACHE_CONTROL]
            .to_str()
            .unwrap()
            .starts_with("private"));
        let bytes = fetched.into_body().collect().await.unwrap().to_bytes();
        assert!(
            bytes == std::fs::read(photo.path()).unwrap(),
            "byte for byte"
        );
    }
}

/// A photo whose renditions failed in the background is flagged on its
/// slide, listed above the stories and described in the editors' API, with
/// the reason, the tries and the next try, all escaped; once made, the flag
/// is gone.
#[tokio::test]
async fn editors_see_which_photos_failed_to_render_and_why() {
    let site = Site::new().await;
    let (story, _) = story_with_slide(&site, "Alt").await;
    let app = &site.t.app;
    let photo = app.story_by_id(story).await.unwrap().slides[0]
        .photo
        .clone();
    let original = site.t.damage_original(&photo.sha256).await;
    assert_eq!(app.complete_renditions(|_, _| {}).await.unwrap().failed, 1);
    let failure = app.rendition_failures(None, 10).await.unwrap().remove(0);
    let api = site
        .call(Method::GET, &format!("/api/v1/photos/{}", photo.id), None)
        .await;
    assert_eq!(api.status, StatusCode::OK);
    assert_eq!(api.body["rendition_failure"]["failures"], 1);
    assert_eq!(api.body["rendition_failure"]["error"], failure.error);
    assert!(api.body["rendition_failure"]["retry_at"].is_string());

    let (cookie, _) = session(&site).await;
    let page = |uri: String| {
        let cookie = cookie.clone();
        let site = &site;
        async move {
            let reply = site
                .send(
                    Request::get(uri)
                        .header(header::COOKIE, cookie)
                        .body(Body::empty())
                        .unwrap(),
                )
                .await;
            assert_eq!(reply.status, StatusCode::OK);
            reply.body.as_str().unwrap().to_owned()
        }
    };
    let error = html_escaped(&failure.error);
    let next = failure.retry_at.format("%-d %b %Y %H:%M UTC").to_string();
    let edit = page(format!("/edit/stories/{story}")).await;
    let flag = edit
        .split("could not be made")
        .nth(1)
        .expect("the slide is flagged");
    assert!(
        flag.starts_with(&format!(" (1 try): {error}. Next try {next}.")),
        "{flag}"
    );
    let list = page("/edit".into()).await;
    assert!(list.contains(&format!("href=\"/originals/{}\"", photo.sha256)));
    assert!(
        list.contains(&format!("{error} (1 try; next try {next})")),
        "{list}"
    );

    // Markup in an error is text.
    let db = app.database();
    let now = chrono::Utc::now();
    db.end_failure_waits(now).await.unwrap();
    db.lease_photo(photo.id, "test", now, now).await.unwrap();
    db.fail_photo_lease(photo.id, "test", "<img src=x onerror=alert(1)>", now)
        .await
        .unwrap();
    let list = page("/edit".into()).await;
    assert!(
        list.contains("&lt;img src=x onerror=alert(1)&gt; (2 tries;"),
        "{list}"
    );
    assert!(!list.contains("<img src=x"));

    site.t.restore_original(&photo.sha256, original).await;
    assert_eq!(app.complete_renditions(|_, _| {}).await.unwrap().done, 1);
    assert!(!page(format!("/edit/stories/{story}"))
        .await
        .contains("could not be made"));
    assert!(!page("/edit".into()).await.contains("could not be made"));
    let api = site
        .call(Method::GET, &format!("/api/v1/photos/{}", photo.id), None)
        .await;
    assert!(api.body.get("rendition_failure").is_none(), "{}", api.body);
}
