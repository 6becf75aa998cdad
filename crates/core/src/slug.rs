//! URL names for stories.

/// Longest slug we make; long headlines are cut at a word boundary.
const MAX_LEN: usize = 80;

/// An ASCII, lower-case, hyphenated slug for a headline. Non-Latin scripts
/// are transliterated (deunicode), symbols dropped, apostrophes vanish rather than split a
/// word ("China's" → "chinas"), and an empty result falls back to "story".
pub fn slugify(headline: &str) -> String {
    // Only letters and digits are transliterated: emoji and symbols would
    // otherwise turn into their names ("slight-smile").
    let words: String = headline
        .chars()
        .filter(|c| !matches!(c, '\'' | '’' | 'ʼ'))
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect();
    let ascii = deunicode::deunicode(&words);
    let mut slug = String::with_capacity(ascii.len());
    for word in ascii
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        let needed = word.len() + usize::from(!slug.is_empty());
        if slug.len() + needed > MAX_LEN {
            if slug.is_empty() {
                slug.push_str(&word[..MAX_LEN].to_ascii_lowercase());
            }
            break;
        }
        if !slug.is_empty() {
            slug.push('-');
        }
        slug.push_str(&word.to_ascii_lowercase());
    }
    if slug.is_empty() {
        "story".to_owned()
    } else {
        slug
    }
}

#[cfg(test)]
mod tests {
    use super::slugify;

    #[test]
    fn slugs_are_ascii_and_readable() {
        for (headline, slug) in [
            (
                "Photos: Putin Visits China's Harbin",
                "photos-putin-visits-chinas-harbin",
            ),
            ("Фото: Путин в Харбине", "foto-putin-v-kharbine"),
            ("  Crème brûlée -- à la carte!  ", "creme-brulee-a-la-carte"),
            ("北京", "bei-jing"),
            ("🙂🙂", "story"),
            ("", "story"),
        ] {
            assert_eq!(slugify(headline), slug, "{headline:?}");
        }
    }

    #[test]
    fn long_headlines_are_cut_at_a_word() {
        let slug = slugify(&"word ".repeat(50));
        assert!(slug.len() <= 80 && slug.ends_with("word"), "{slug}");
        let slug = slugify(&"x".repeat(500));
        assert_eq!(slug.len(), 80);
    }
}
