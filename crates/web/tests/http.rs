//! The site driven through its router, as a browser or API client would.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use photodesk_testkit::{html_escaped, story_text, TestApp, SEED_STORY};
use photodesk_web::{app, AppState};
use tower::ServiceExt;

const SLUG: &str = "photos-putin-visits-chinas-harbin";

struct Reply {
    status: StatusCode,
    content_type: String,
    cache_control: String,
    headers: header::HeaderMap,
    body: Vec<u8>,
}

impl Reply {
    fn text(&self) -> String {
        String::from_utf8(self.body.clone()).unwrap()
    }
    fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

async fn get(t: &TestApp, uri: &str) -> Reply {
    get_with(t, uri, &[]).await
}

/// A GET with request headers, through a fresh router (so no page cache
/// carries over between requests of a test).
async fn get_with(t: &TestApp, uri: &str, headers: &[(header::HeaderName, &str)]) -> Reply {
    let mut request = Request::get(uri);
    for (name, value) in headers {
        request = request.header(name, *value);
    }
    let response = app(AppState::new(t.app.clone(), None))
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let header_text = |name| {
        response
            .headers()
            .get(name)
            .map(|v: &header::HeaderValue| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    };
    let content_type = header_text(header::CONTENT_TYPE);
    let cache_control = header_text(header::CACHE_CONTROL);
    let status = response.status();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    Reply {
        status,
        content_type,
        cache_control,
        headers,
        body,
    }
}

#[tokio::test]
async fn home_lists_published_stories_only() {
    let t = TestApp::new().await.with_seed_story().await;
    let photos = t.photo_folder("draft-photos", 1);
    t.app
        .import_story(story_text("Secret draft", 1).as_bytes(), &photos, false)
        .await
        .unwrap();
    let home = get(&t, "/").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.content_type.starts_with("text/html"));
    let html = home.text();
    assert!(
        html.contains("Photos: Putin Visits China&#x27;s Harbin"),
        "{html}"
    );
    assert!(html.contains(&format!("href=\"/stories/{SLUG}\"")));
    assert!(html.contains("12 photos"));
    assert!(!html.contains("Secret draft"));
}

#[tokio::test]
async fn home_pages_after_the_first_have_paths_of_their_own() {
    let t = TestApp::new().await;
    let photos = t.photo_folder("photos", 1);
    // One story more than a page holds.
    for n in 0..=photodesk_web::PAGE_SIZE {
        t.app
            .import_story(
                story_text(&format!("Gallery {n}"), 1).as_bytes(),
                &photos,
                true,
            )
            .await
            .unwrap();
    }
    let first = get(&t, "/").await.text();
    assert!(
        first.contains(r#"<a rel="next" href="/page/2">"#),
        "{first}"
    );
    assert!(!first.contains(r#"rel="prev""#));
    let second = get(&t, "/page/2").await;
    assert_eq!(second.status, StatusCode::OK);
    let second = second.text();
    assert!(second.contains(r#"<a rel="prev" href="/">"#), "{second}");
    assert!(!second.contains(r#"rel="next""#));
    // Newest first: the first story made is the one left for page 2.
    assert!(second.contains(">Gallery 0</h2>") && !first.contains(">Gallery 0</h2>"));
    assert_eq!(get(&t, "/page/3").await.status, StatusCode::NOT_FOUND);
    // Earlier links with a query still work.
    assert_eq!(get(&t, "/?page=2").await.text(), second);
    assert_eq!(get(&t, "/?page=1").await.text(), first);
}

#[tokio::test]
async fn the_story_page_shows_every_slide_as_a_figure() {
    let t = TestApp::new().await.with_seed_story().await;
    let page = get(&t, &format!("/stories/{SLUG}")).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert_eq!(html.matches("<figure").count(), 12);
    assert_eq!(html.matches("<figcaption>").count(), 12);
    let story = photodesk_core::import::text::parse(SEED_STORY).unwrap();
    for (n, slide) in story.slides.iter().enumerate() {
        assert!(
            html.contains(&html_escaped(&slide.caption)),
            "caption {}",
            n + 1
        );
        assert!(
            html.contains(&format!("{} / 12</a>", n + 1)),
            "counter {}",
            n + 1
        );
    }
    for paragraph in &story.lead {
        assert!(html.contains(&html_escaped(paragraph)));
    }
    // Figures appear in slide order.
    let first = html.find("Motorcade of the Russian President").unwrap();
    let last = html.find("Chinese students attend the meeting").unwrap();
    assert!(first < last);
    assert!(
        !html.contains("autofocus"),
        "no slide is singled out on the story page"
    );
}

#[tokio::test]
async fn a_slide_url_opens_the_story_at_that_slide() {
    let t = TestApp::new().await.with_seed_story().await;
    let page = get(&t, &format!("/stories/{SLUG}/5")).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert_eq!(html.matches("<figure").count(), 12);
    let tag = figure_tag(&html, 5);
    assert!(tag.contains("class=\"slide is-current\""), "{tag}");
    assert!(
        tag.contains("tabindex=\"-1\" autofocus"),
        "slide 5 is focused on load"
    );
    assert_eq!(html.matches("autofocus").count(), 1);
    assert!(!figure_tag(&html, 1).contains("is-current"));
    let current = html.find("id=\"slide-5\"").unwrap();
    let figure = html[current..].split("</figure>").next().unwrap();
    assert!(figure.contains("The venue of the 8th Russia-China EXPO"));
    // The slide page is a view of the story: search engines index the story.
    assert!(html.contains(&format!(
        "<link rel=\"canonical\" href=\"http://localhost/stories/{SLUG}\">"
    )));
    assert!(
        html.contains("<title>Photos: Putin Visits China&#x27;s Harbin (photo 5 of 12)</title>")
    );
    // Previous and next lead to the neighbouring slide pages, also without script.
    assert!(html.contains(&format!(
        "class=\"slideshow-prev\" href=\"/stories/{SLUG}/4\""
    )));
    assert!(html.contains(&format!(
        "class=\"slideshow-next\" href=\"/stories/{SLUG}/6\""
    )));
}

/// The page's JSON-LD, parsed.
fn json_ld(html: &str) -> serde_json::Value {
    let script = html
        .split("<script type=\"application/ld+json\">")
        .nth(1)
        .expect("a JSON-LD script")
        .split("</script>")
        .next()
        .unwrap();
    serde_json::from_str(script).unwrap()
}

/// The start tag of slide `n` (the carousel group around its `<figure>`).
fn figure_tag(html: &str, n: usize) -> &str {
    let start = html.find("<div class=\"slide").unwrap();
    let at = html[start..]
        .match_indices("<div class=\"slide")
        .map(|(i, _)| start + i)
        .find(|&i| {
            html[i..]
                .split('>')
                .next()
                .unwrap()
                .contains(&format!("id=\"slide-{n}\""))
        })
        .unwrap_or_else(|| panic!("no figure for slide {n}"));
    html[at..].split_inclusive('>').next().unwrap()
}

#[tokio::test]
async fn unknown_stories_slides_and_drafts_are_404_pages() {
    let t = TestApp::new().await.with_seed_story().await;
    let photos = t.photo_folder("draft-photos", 1);
    t.app
        .import_story(story_text("Draft story", 1).as_bytes(), &photos, false)
        .await
        .unwrap();
    for uri in [
        "/stories/no-such-story".to_owned(),
        format!("/stories/{SLUG}/13"),
        format!("/stories/{SLUG}/0"),
        format!("/stories/{SLUG}/abc"),
        format!("/stories/{SLUG}/-1"),
        "/stories/draft-story".to_owned(),
        "/stories/draft-story/1".to_owned(),
        "/nowhere".to_owned(),
        "/originals/../../etc/passwd".to_owned(),
        "/?page=0".to_owned(),
        "/?page=2".to_owned(),
        "/?page=x".to_owned(),
        "/page/0".to_owned(),
        "/page/1".to_owned(),
        "/page/2".to_owned(),
        "/page/x".to_owned(),
    ] {
        let reply = get(&t, &uri).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{uri}");
        assert!(reply.content_type.starts_with("text/html"), "{uri}");
        assert!(reply.text().contains("Page not found"), "{uri}");
    }
}

#[tokio::test]
async fn images_are_served_with_immutable_caching() {
    let t = TestApp::new().await.with_seed_story().await;
    let json = get(&t, &format!("/api/v1/stories/{SLUG}")).await.json();
    let rendition = json["slides"][0]["photo"]["renditions"][0]["url"]
        .as_str()
        .unwrap()
        .to_owned();
    let image = get(&t, &rendition).await;
    assert_eq!(image.status, StatusCode::OK);
    assert_eq!(image.content_type, "image/jpeg");
    assert!(image.cache_control.contains("immutable"));
    assert_eq!(&image.body[..2], &[0xFF, 0xD8]);
    // Pages use renditions, never the original, which is for editors
    // only: readers get a page saying so, whether or not it exists.
    let original = json["slides"][0]["photo"]["original_url"]
        .as_str()
        .unwrap()
        .to_owned();
    let html = get(&t, &format!("/stories/{SLUG}")).await.text();
    assert!(!html.contains(&original));
    for uri in [original, format!("/originals/{}", "0".repeat(64))] {
        let refused = get(&t, &uri).await;
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{uri}");
        assert!(refused.content_type.starts_with("text/html"), "{uri}");
        assert!(refused.text().contains("for editors"), "{uri}");
    }
}

#[tokio::test]
async fn pages_and_api_offer_renditions_as_picture_sources() {
    let t = TestApp::new().await.with_seed_story().await;
    let json = get(&t, &format!("/api/v1/stories/{SLUG}")).await.json();
    let photo = &json["slides"][0]["photo"];
    let renditions = photo["renditions"].as_array().unwrap();
    // 48-px test photos: one width, JPEG and WebP at ingest (AVIF comes later).
    let formats: Vec<&str> = renditions
        .iter()
        .map(|r| r["format"].as_str().unwrap())
        .collect();
    assert_eq!(formats, ["jpeg", "webp"]);
    assert!(photo["placeholder"].as_str().is_some_and(|p| !p.is_empty()));
    let html = get(&t, &format!("/stories/{SLUG}")).await.text();
    assert_eq!(html.matches("<picture>").count(), 12);
    for (rendition, media_type, magic) in [
        (&renditions[0], "image/jpeg", &b"\xFF\xD8"[..]),
        (&renditions[1], "image/webp", &b"RIFF"[..]),
    ] {
        assert_eq!(rendition["width"], 48);
        assert_eq!(rendition["height"], 32);
        let url = rendition["url"].as_str().unwrap();
        assert!(
            html.contains(&format!("{url} 48w")),
            "{url} not in a srcset"
        );
        let reply = get(&t, url).await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.content_type, media_type);
        assert!(reply.cache_control.contains("immutable"));
        assert!(reply.body.starts_with(magic));
        assert_eq!(
            reply.body.len() as u64,
            rendition["byte_size"].as_u64().unwrap()
        );
    }
    assert!(html.contains("<source type=\"image/webp\" srcset=\"/renditions/"));
    // Unknown renditions are 404 pages.
    let sha = photo["sha256"].as_str().unwrap();
    for bad in [
        "9999w-q82-v1.jpg",
        "..%2F..%2Fphotodesk.db",
        "48w-q82-v1.exe",
    ] {
        let reply = get(&t, &format!("/renditions/{sha}/{bad}")).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{bad}");
    }
}

#[tokio::test]
async fn the_api_lists_and_returns_published_stories() {
    let t = TestApp::new().await.with_seed_story().await;
    let list = get(&t, "/api/v1/stories").await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(list.content_type, "application/json");
    let list = list.json();
    assert_eq!(list["stories"][0]["slug"], SLUG);
    assert_eq!(
        list["stories"][0]["headline"],
        "Photos: Putin Visits China's Harbin"
    );
    assert!(list["stories"][0]["published_at"].is_string());

    let story = get(&t, &format!("/api/v1/stories/{SLUG}")).await.json();
    assert_eq!(story["headline"], "Photos: Putin Visits China's Harbin");
    assert_eq!(story["lead"].as_array().unwrap().len(), 6);
    let slides = story["slides"].as_array().unwrap();
    assert_eq!(slides.len(), 12);
    for (n, slide) in slides.iter().enumerate() {
        assert_eq!(slide["position"], n + 1);
        assert!(slide["caption"].as_str().unwrap().len() > 10);
        assert!(slide["alt_text"].is_string() && slide["credit"].is_string());
        assert!(slide["photo"]["id"].is_i64());
        assert_eq!(slide["photo"]["width"], 48);
        assert_eq!(slide["photo"]["height"], 32);
    }
    assert_eq!(
        slides[3]["caption"],
        "The Russian leader visits the Eastern Orthodox Church of the Intercession of the Mother of God in Harbin."
    );
}

#[tokio::test]
async fn api_errors_are_json_with_a_stable_code() {
    let t = TestApp::new().await.with_seed_story().await;
    let missing = get(&t, "/api/v1/stories/nope").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.json()["code"], "not-found");
    let bad = get(&t, "/api/v1/stories?limit=lots").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.json()["code"], "bad-request");
    assert!(bad.json()["message"].as_str().unwrap().contains("limit"));
    let paged = get(&t, "/api/v1/stories?limit=1&offset=1").await.json();
    assert_eq!(paged["stories"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn captions_with_markup_are_escaped() {
    let t = TestApp::new().await;
    let photos = t.photo_folder("photos", 1);
    let text = "<script>alert('headline')</script>\n\n<b>lead</b>\n1 / 1\n<img src=x onerror=alert(1)> & more\n";
    t.app
        .import_story(text.as_bytes(), &photos, true)
        .await
        .unwrap();
    let html = get(&t, "/stories/script-alert-headline-script")
        .await
        .text();
    assert!(!html.contains("<script>alert"), "{html}");
    assert!(!html.contains("<img src=x"), "{html}");
    assert!(
        html.contains("&lt;img src=x onerror=alert(1)&gt; &amp; more"),
        "{html}"
    );
    assert!(html.contains("&lt;b&gt;lead&lt;/b&gt;"));
    let home = get(&t, "/").await.text();
    assert!(!home.contains("<script>alert"));
}

#[tokio::test]
async fn markup_in_captions_cannot_break_out_of_json_ld_or_feeds() {
    let t = TestApp::new().await;
    let photos = t.photo_folder("photos", 1);
    let caption = "</script><script>alert(1)</script> & \"quoted\" ]]> <!--";
    let text = format!("Hostile captions\n\nLead.\n1 / 1\n{caption}\n");
    t.app
        .import_story(text.as_bytes(), &photos, true)
        .await
        .unwrap();
    let html = get(&t, "/stories/hostile-captions").await.text();
    assert_eq!(
        html.matches("<script").count(),
        3,
        "the head's three scripts only"
    );
    let data = json_ld(&html);
    assert_eq!(data["hasPart"]["associatedMedia"][0]["caption"], caption);
    for feed in ["/feed.rss", "/feed.atom", "/sitemap.xml"] {
        let xml = get(&t, feed).await.text();
        assert!(!xml.contains("<script>"), "{feed}");
        assert!(!xml.contains(" & "), "{feed}: a bare ampersand");
    }
    let rss = get(&t, "/feed.rss").await.text();
    assert!(rss.contains(
        "<media:description type=\"plain\">&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quoted&quot; ]]&gt; &lt;!--</media:description>"
    ));
}

#[tokio::test]
async fn pages_answer_conditional_requests_and_compress() {
    let t = TestApp::new().await.with_seed_story().await;
    let uri = format!("/stories/{SLUG}");
    let first = get(&t, &uri).await;
    let etag = first.headers[header::ETAG].to_str().unwrap().to_owned();
    let modified = first.headers[header::LAST_MODIFIED]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(etag.starts_with('"') && etag.len() > 10);
    assert_eq!(first.cache_control, "public, max-age=60");
    for conditional in [
        (header::IF_NONE_MATCH, etag.as_str()),
        (header::IF_MODIFIED_SINCE, modified.as_str()),
    ] {
        let again = get_with(&t, &uri, &[conditional]).await;
        assert_eq!(again.status, StatusCode::NOT_MODIFIED);
        assert!(again.body.is_empty());
    }
    let changed = get_with(&t, &uri, &[(header::IF_NONE_MATCH, "\"other\"")]).await;
    assert_eq!(changed.status, StatusCode::OK);

    for (accept, encoding) in [("gzip, br", "br"), ("gzip", "gzip")] {
        let reply = get_with(&t, &uri, &[(header::ACCEPT_ENCODING, accept)]).await;
        assert_eq!(reply.headers[header::CONTENT_ENCODING], encoding);
        assert!(reply.body.len() * 4 < first.body.len());
    }
    // Feeds, the JSON API and assets are compressed too.
    for path in ["/feed.rss", "/api/v1/stories", "/sitemap.xml"] {
        let reply = get_with(&t, path, &[(header::ACCEPT_ENCODING, "gzip")]).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}");
        assert_eq!(reply.headers[header::CONTENT_ENCODING], "gzip", "{path}");
    }
    let css = first
        .text()
        .split("href=\"/assets/site.")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let asset = get(&t, &format!("/assets/site.{css}")).await;
    assert_eq!(asset.status, StatusCode::OK);
    assert_eq!(asset.content_type, "text/css; charset=utf-8");
    assert!(asset.cache_control.contains("immutable"));
    assert_eq!(
        get(&t, "/assets/site.css").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn sharing_tags_feeds_and_sitemap_use_absolute_urls() {
    let t = TestApp::new().await.with_seed_story().await;
    let host = [(header::HOST, "photos.example.org")];
    let html = get_with(&t, &format!("/stories/{SLUG}/3"), &host)
        .await
        .text();
    let origin = "http://photos.example.org";
    assert!(html.contains(&format!(
        "<link rel=\"canonical\" href=\"{origin}/stories/{SLUG}\">"
    )));
    assert!(html.contains("<meta name=\"robots\" content=\"max-image-preview:large\">"));
    assert!(html.contains("<meta name=\"twitter:card\" content=\"summary_large_image\">"));
    // A shared slide link previews that slide's photo.
    let story = get(&t, &format!("/api/v1/stories/{SLUG}")).await.json();
    let third = story["slides"][2]["photo"]["sha256"].as_str().unwrap();
    assert!(html.contains(&format!(
        "<meta property=\"og:image\" content=\"{origin}/renditions/{third}/"
    )));
    let data = json_ld(&html);
    assert_eq!(data["@type"], "NewsArticle");
    assert_eq!(data["headline"], "Photos: Putin Visits China's Harbin");
    let images = data["hasPart"]["associatedMedia"].as_array().unwrap();
    assert_eq!(images.len(), 12);
    assert!(images[0]["contentUrl"]
        .as_str()
        .unwrap()
        .starts_with(origin));

    let rss = get_with(&t, "/feed.rss", &host).await;
    assert_eq!(rss.content_type, "application/rss+xml; charset=utf-8");
    let rss = rss.text();
    assert!(rss.contains(&format!("<link>{origin}/stories/{SLUG}</link>")));
    assert_eq!(rss.matches("<media:content ").count(), 12);
    let atom = get_with(&t, "/feed.atom", &host).await;
    assert_eq!(atom.content_type, "application/atom+xml; charset=utf-8");
    assert_eq!(atom.text().matches("<entry>").count(), 1);
    let sitemap = get_with(&t, "/sitemap.xml", &host).await.text();
    assert!(sitemap.contains(&format!("<loc>{origin}/stories/{SLUG}</loc>")));
    assert_eq!(sitemap.matches("<image:loc>").count(), 12);
    let robots = get_with(&t, "/robots.txt", &host).await.text();
    assert!(robots.contains(&format!("Sitemap: {origin}/sitemap.xml")));

    // A Host that is not a host name is not echoed into links.
    let hostile = get_with(&t, "/robots.txt", &[(header::HOST, "evil\"><script>")]).await;
    assert!(hostile
        .text()
        .contains("Sitemap: http://localhost/sitemap.xml"));
}

#[tokio::test]
async fn the_story_text_is_marked_with_its_language() {
    let t = TestApp::new().await;
    let photos = t.photo_folder("photos", 2);
    for (text, slug, tag, rtl) in [
        (
            "Фото: Путин посетил Харбин\n\nПрезидент России прибыл в Харбин после переговоров в Пекине.\n1 / 2\nКортеж президента у памятника советским воинам.\n2 / 2\nПочётный караул на церемонии возложения венков.\n",
            "foto-putin-posetil-kharbin",
            "ru",
            false,
        ),
        (
            "图片：普京访问哈尔滨\n\n俄罗斯总统普京在北京会谈后抵达哈尔滨进行访问。\n1 / 2\n俄罗斯总统车队抵达苏联红军烈士纪念碑。\n2 / 2\n中国仪仗队在哈尔滨献花仪式上。\n",
            "",
            "zh",
            false,
        ),
        (
            "صور: بوتين يزور هاربين\n\nوصل الرئيس الروسي إلى مدينة هاربين بعد محادثات في بكين.\n1 / 2\nموكب الرئيس الروسي عند النصب التذكاري للجنود السوفييت.\n2 / 2\nحرس الشرف الصيني خلال مراسم وضع إكليل الزهور.\n",
            "",
            "ar",
            true,
        ),
    ] {
        let story = t
            .app
            .import_story(text.as_bytes(), &photos, true)
            .await
            .unwrap();
        if !slug.is_empty() {
            assert_eq!(story.story.slug, slug);
        }
        let html = get(&t, &format!("/stories/{}", story.story.slug)).await.text();
        let marked = if rtl {
            format!("lang=\"{tag}\" dir=\"rtl\"")
        } else {
            format!("lang=\"{tag}\">")
        };
        assert!(html.contains(&format!("<header {marked}")), "{tag}: headline and lead");
        assert!(
            html.contains(&format!("<div class=\"slides\" id=\"slides\" {marked}")),
            "{tag}: captions"
        );
        assert!(html.contains("<html lang=\"en\">"), "the site's own words stay English");
        assert!(html.contains(&format!("\"inLanguage\":\"{tag}\"")));
    }
}
