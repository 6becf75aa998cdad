use super::*;

const SEED: &str = include_str!("../../../../../examples/harbin/story.txt");

#[test]
fn the_seed_story_gives_twelve_slides_with_the_file_s_captions() {
    let story = parse(SEED).unwrap();
    assert_eq!(story.headline, "Photos: Putin Visits China's Harbin");
    assert_eq!(story.lead.len(), 6);
    assert_eq!(story.lead[5], "Explore Sputnik's gallery for a sneak peek!");
    assert!(
        story.lead[1].contains("carried paid an official visit"),
        "no spelling fixes"
    );
    assert_eq!(story.slides.len(), 12);
    assert_eq!(
        story.slides[0].caption,
        "Motorcade of the Russian President at the wreath-laying ceremony at the Monument to \
         the Soviet soldiers who died in the battles for the liberation of China’s northeast \
         from Japanese invaders."
    );
    assert_eq!(
        story.slides[3].caption,
        "The Russian leader visits the Eastern Orthodox Church of the Intercession of the Mother of God in Harbin."
    );
    assert_eq!(
        story.slides[11].caption,
        "Chinese students attend the meeting with the Russian president."
    );
    for slide in &story.slides {
        assert!(
            SEED.lines().any(|l| l == slide.caption),
            "{:?}",
            slide.caption
        );
    }
    let counter_lines: Vec<usize> = story.slides.iter().map(|s| s.line).collect();
    assert_eq!(counter_lines[0], 10);
}

#[test]
fn crlf_bom_and_multi_line_captions_are_accepted() {
    let text = "\u{feff}Заголовок\r\n\r\nПервый абзац.\r\n1 / 2\r\nLine one\r\n  indented line two\r\n\r\n2/2\r\n中文说明\r\n";
    let story = parse(text).unwrap();
    assert_eq!(story.headline, "Заголовок");
    assert_eq!(story.lead, ["Первый абзац."]);
    assert_eq!(story.slides[0].caption, "Line one\n  indented line two");
    assert_eq!(story.slides[1].caption, "中文说明");
    assert_eq!(parse(&text.replace("\r\n", "\n")).unwrap(), story);
}

#[test]
fn a_story_without_lead_is_fine() {
    let story = parse("Headline\n1 / 1\nOnly caption").unwrap();
    assert!(story.lead.is_empty());
    assert_eq!(story.slides[0].caption, "Only caption");
}

#[test]
fn a_line_with_more_than_a_counter_is_caption_text() {
    let story = parse("H\n1 / 1\n3 / 4 of the residents left\n").unwrap();
    assert_eq!(story.slides[0].caption, "3 / 4 of the residents left");
}

#[test]
fn malformed_stories_are_refused_with_their_line() {
    let cases: &[(&str, usize, &str)] = &[
        ("", 1, "empty"),
        ("\n\n   \n", 1, "empty"),
        ("Headline\nLead only\n", 2, "no slides"),
        ("1 / 1\nCaption", 1, "no headline"),
        ("H\n1 / 2\nA\n3 / 2\nC\n", 4, "out of sequence"),
        ("H\n2 / 2\nA\n", 2, "out of sequence"),
        (
            "H\n1 / 2\nA\n2 / 3\nB\n",
            4,
            "disagrees with the total 2 given on line 2",
        ),
        ("H\n1 / 2\nA\n", 3, "announces 2 slides"),
        ("H\n1 / 2\n\n2 / 2\nB\n", 2, "slide 1 has an empty caption"),
        ("H\n1 / 2\nA\n2 / 2\n \n", 4, "slide 2 has an empty caption"),
        ("H\n0 / 0\n", 2, "at least one slide"),
        ("H\n1 / 5000\nA\n", 2, "at most 1000 slides"),
        ("H\n1 / 1\nA\u{0}B\n", 3, "control character U+0000"),
    ];
    for (text, line, needle) in cases {
        let err = parse(text).unwrap_err();
        assert_eq!(err.line, *line, "{text:?}: {err}");
        assert!(err.to_string().contains(needle), "{text:?}: {err}");
    }
}

#[test]
fn huge_fields_and_bad_encodings_are_refused() {
    let long_headline = format!("{}\n1 / 1\nA\n", "H".repeat(MAX_HEADLINE_CHARS + 1));
    assert_eq!(parse(&long_headline).unwrap_err().line, 1);

    let long_caption = format!("H\n1 / 1\n{}\n", "c".repeat(MAX_PARAGRAPH_CHARS + 1));
    let err = parse(&long_caption).unwrap_err();
    assert_eq!(err.line, 2);
    assert!(err.message.contains("caption of slide 1"), "{err}");

    let too_big = vec![b'a'; MAX_TEXT_BYTES + 1];
    assert!(parse_bytes(&too_big).unwrap_err().message.contains("bytes"));

    let latin1 = b"Headline\n1 / 1\nCaf\xe9\n";
    let err = parse_bytes(latin1).unwrap_err();
    assert_eq!(
        (err.line, err.message.as_str()),
        (3, "text is not valid UTF-8")
    );
}

#[test]
fn arbitrary_bytes_never_panic() {
    // A cheap deterministic fuzz: mutate the seed byte by byte and make sure
    // the parser only ever answers Ok or a TextError with a real line number.
    let seed = SEED.as_bytes();
    let mut state = 0x2545_f491_4f6c_dd1du64;
    for _ in 0..2000 {
        let mut bytes = seed.to_vec();
        for _ in 0..8 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let at = (state as usize) % bytes.len();
            bytes[at] = (state >> 32) as u8;
        }
        if let Err(err) = parse_bytes(&bytes) {
            let lines = bytes.iter().filter(|&&b| b == b'\n').count() + 1;
            assert!(err.line >= 1 && err.line <= lines, "{err}");
        }
    }
}
