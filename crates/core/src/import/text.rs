//! The plain-text story form: what a reader of a gallery sees as text.
//!
//! ```text
//! Headline                      ← first non-empty line
//! Lead paragraph, one per line  ← up to the first counter
//! 1 / 12                        ← a counter line starts each slide
//! Caption, possibly over several lines
//! 2 / 12
//! …
//! ```
//!
//! Text is kept as written: lines are only split (CRLF or LF), and blank
//! lines and surrounding white space around paragraphs and captions dropped.

use std::fmt;

/// Bounds that keep a hostile file from turning into a huge story.
pub const MAX_TEXT_BYTES: usize = 1 << 20;
pub const MAX_SLIDES: usize = 1000;
pub const MAX_HEADLINE_CHARS: usize = 300;
pub const MAX_PARAGRAPH_CHARS: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoryText {
    pub headline: String,
    pub lead: Vec<String>,
    pub slides: Vec<SlideText>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlideText {
    pub caption: String,
    /// 1-based line of the slide's counter, for messages about the slide.
    pub line: usize,
}

/// Why a story text was refused, and on which 1-based line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextError {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for TextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for TextError {}

fn error(line: usize, message: impl Into<String>) -> TextError {
    TextError {
        line,
        message: message.into(),
    }
}

/// A counter line `N / M` (spaces optional), as `(N, M)`.
fn counter(line: &str) -> Option<(usize, usize)> {
    let (n, m) = line.trim().split_once('/')?;
    let (n, m) = (n.trim(), m.trim());
    let digits = |s: &str| !s.is_empty() && s.len() <= 9 && s.bytes().all(|b| b.is_ascii_digit());
    (digits(n) && digits(m)).then(|| (n.parse().unwrap(), m.parse().unwrap()))
}

/// Decodes and parses a story file.
pub fn parse_bytes(bytes: &[u8]) -> Result<StoryText, TextError> {
    if bytes.len() > MAX_TEXT_BYTES {
        return Err(error(
            1,
            format!(
                "file is {} bytes; a story text may have at most {MAX_TEXT_BYTES}",
                bytes.len()
            ),
        ));
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let line = 1 + bytes[..e.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        error(line, "text is not valid UTF-8")
    })?;
    parse(text)
}

pub fn parse(text: &str) -> Result<StoryText, TextError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut headline: Option<String> = None;
    let mut lead = Vec::new();
    let mut total: Option<(usize, usize)> = None; // (M, line where M was declared)
    let mut slides: Vec<SlideText> = Vec::new();
    let mut caption_lines: Vec<&str> = Vec::new();

    let finish_caption = |slides: &mut Vec<SlideText>, lines: &mut Vec<&str>| {
        if let Some(slide) = slides.last_mut() {
            slide.caption = lines.join("\n").trim().to_owned();
        }
        lines.clear();
    };

    // The last line with text, where "the story ends" errors point.
    let mut last_line = 1;
    for (index, raw) in text.split('\n').enumerate() {
        let number = index + 1;
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if !line.trim().is_empty() {
            last_line = number;
        }
        if let Some(bad) = line.chars().find(|c| c.is_control() && *c != '\t') {
            return Err(error(
                number,
                format!("control character U+{:04X} is not allowed", bad as u32),
            ));
        }
        if let Some((n, m)) = counter(line) {
            if headline.is_none() {
                return Err(error(
                    number,
                    "the story has no headline before its first slide",
                ));
            }
            match total {
                None => {
                    if m == 0 {
                        return Err(error(number, format!("counter {n} / {m}: a story needs at least one slide")));
                    }
                    if m > MAX_SLIDES {
                        return Err(error(number, format!("counter {n} / {m}: at most {MAX_SLIDES} slides are allowed")));
                    }
                    total = Some((m, number));
                }
                Some((declared, declared_at)) if declared != m => {
                    return Err(error(
                        number,
                        format!("counter {n} / {m} disagrees with the total {declared} given on line {declared_at}"),
                    ))
                }
                Some(_) => {}
            }
            finish_caption(&mut slides, &mut caption_lines);
            if let Some(previous) = slides.last() {
                if previous.caption.is_empty() {
                    return Err(error(
                        previous.line,
                        format!("slide {} has an empty caption", slides.len()),
                    ));
                }
            }
            let expected = slides.len() + 1;
            if n != expected {
                return Err(error(
                    number,
                    format!("counter {n} / {m} is out of sequence: expected {expected} / {m}"),
                ));
            }
            slides.push(SlideText {
                caption: String::new(),
                line: number,
            });
            continue;
        }
        if !slides.is_empty() {
            caption_lines.push(line);
            continue;
        }
        let trimmed = line.trim();
        if trimmed.is_empty() {
            continue;
        }
        if headline.is_none() {
            if trimmed.chars().count() > MAX_HEADLINE_CHARS {
                return Err(error(
                    number,
                    format!("headline is longer than {MAX_HEADLINE_CHARS} characters"),
                ));
            }
            headline = Some(trimmed.to_owned());
        } else {
            check_length(trimmed, number, "lead paragraph")?;
            lead.push(trimmed.to_owned());
        }
    }
    finish_caption(&mut slides, &mut caption_lines);

    let Some(headline) = headline else {
        return Err(error(1, "the story is empty: no headline found"));
    };
    let Some((declared, declared_at)) = total else {
        return Err(error(
            last_line,
            "the story has no slides: each slide starts with a counter line such as `1 / 12`",
        ));
    };
    if let Some(slide) = slides.iter().find(|s| s.caption.is_empty()) {
        let n = slides.iter().position(|s| s.line == slide.line).unwrap() + 1;
        return Err(error(slide.line, format!("slide {n} has an empty caption")));
    }
    for (n, slide) in slides.iter().enumerate() {
        check_length(
            &slide.caption,
            slide.line,
            &format!("caption of slide {}", n + 1),
        )?;
    }
    if slides.len() != declared {
        return Err(error(
            last_line,
            format!(
                "the story ends after slide {} but line {declared_at} announces {declared} slides",
                slides.len()
            ),
        ));
    }
    Ok(StoryText {
        headline,
        lead,
        slides,
    })
}

fn check_length(text: &str, line: usize, what: &str) -> Result<(), TextError> {
    if text.chars().count() > MAX_PARAGRAPH_CHARS {
        Err(error(
            line,
            format!("{what} is longer than {MAX_PARAGRAPH_CHARS} characters"),
        ))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests;
