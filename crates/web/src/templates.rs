//! HTML templates (minijinja): auto-escaping is on for every `.html`
//! template, so untrusted captions and metadata are always escaped.

use minijinja::{escape_formatter, AutoEscape, Environment, Error, Output, State, Value};

pub struct Templates {
    env: Environment<'static>,
}

impl Templates {
    /// `globals` are values every template sees (asset URLs, site name).
    pub fn new(globals: &[(&'static str, Value)]) -> Self {
        let mut env = Environment::new();
        env.set_formatter(html_formatter);
        // HTML and every XML flavour (feeds, sitemap) escape the same five
        // characters; `&#x27;` is valid XML too.
        env.set_auto_escape_callback(|name| {
            if [".html", ".xml", ".rss", ".atom"]
                .iter()
                .any(|extension| name.ends_with(extension))
            {
                AutoEscape::Html
            } else {
                AutoEscape::None
            }
        });
        for (name, value) in globals {
            env.add_global(*name, value.clone());
        }
        for (name, source) in [
            ("base.html", include_str!("../templates/base.html")),
            ("home.html", include_str!("../templates/home.html")),
            ("story.html", include_str!("../templates/story.html")),
            ("error.html", include_str!("../templates/error.html")),
            ("picture.html", include_str!("../templates/picture.html")),
            ("feed.rss", include_str!("../templates/feed.rss")),
            ("feed.atom", include_str!("../templates/feed.atom")),
            ("media.xml", include_str!("../templates/media.xml")),
            ("sitemap.xml", include_str!("../templates/sitemap.xml")),
            ("login.html", include_str!("../templates/login.html")),
            (
                "edit/stories.html",
                include_str!("../templates/edit/stories.html"),
            ),
            (
                "edit/story.html",
                include_str!("../templates/edit/story.html"),
            ),
            (
                "edit/history.html",
                include_str!("../templates/edit/history.html"),
            ),
        ] {
            env.add_template(name, source)
                .unwrap_or_else(|e| panic!("built-in template {name} is broken: {e}"));
        }
        Templates { env }
    }

    pub fn render(
        &self,
        name: &str,
        context: impl serde::Serialize,
    ) -> Result<String, minijinja::Error> {
        self.env.get_template(name)?.render(context)
    }
}

/// minijinja's default HTML escaping also turns `/` into `&#x2f;`, which
/// bloats every URL and helps nothing inside quoted attributes or text. This
/// formatter escapes exactly the five characters that matter (`& < > " '`)
/// and leaves everything else to the default.
fn html_formatter(out: &mut Output, state: &State, value: &Value) -> Result<(), Error> {
    if state.auto_escape() != AutoEscape::Html
        || value.is_safe()
        || value.is_none()
        || value.is_undefined()
    {
        return escape_formatter(out, state, value);
    }
    let text = match value.as_str() {
        Some(text) => std::borrow::Cow::Borrowed(text),
        None => std::borrow::Cow::Owned(value.to_string()),
    };
    let mut rest = text.as_ref();
    while let Some(at) = rest.find(['&', '<', '>', '"', '\'']) {
        out.write_str(&rest[..at])?;
        out.write_str(match rest.as_bytes()[at] {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            _ => "&#x27;",
        })?;
        rest = &rest[at + 1..];
    }
    out.write_str(rest)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn untrusted_text_is_escaped_but_urls_stay_readable() {
        let mut env = Environment::new();
        env.set_formatter(html_formatter);
        env.add_template(
            "t.html",
            "<a href=\"{{ url }}\" title='{{ t }}'>{{ t }}</a>{{ n }}{{ missing }}",
        )
        .unwrap();
        let html = env
            .get_template("t.html")
            .unwrap()
            .render(minijinja::context! { url => "/stories/a/1", t => "<script>\"x\" & 'y'</script>", n => 3 })
            .unwrap();
        assert_eq!(
            html,
            "<a href=\"/stories/a/1\" title='&lt;script&gt;&quot;x&quot; &amp; &#x27;y&#x27;&lt;/script&gt;'>\
             &lt;script&gt;&quot;x&quot; &amp; &#x27;y&#x27;&lt;/script&gt;</a>3"
        );
    }
}
