//! Which prompts saying digits, numbers and letters takes (AGI's `SAY NUMBER`, `SAY DIGITS`,
//! `SAY ALPHA`; the `digits:`, `number:` and `characters:` media URIs), with Asterisk's English
//! file names (`digits/20`, `digits/hundred`, `letters/a`, `phonetic/a_p`, ...), all built in.
//! A sounds directory may replace any of them.

/// One prompt per decimal digit of `text` (other characters are skipped).
pub fn digits(text: &str) -> Vec<String> {
    text.chars()
        .filter(char::is_ascii_digit)
        .map(|d| format!("digits/{d}"))
        .collect()
}

/// `SAY ALPHA`: `digits/N` for digits, `letters/x` for letters, and Asterisk's names for the
/// few symbols it says; other characters are skipped.
pub fn alpha(text: &str) -> Vec<String> {
    text.chars()
        .filter_map(|c| match c.to_ascii_lowercase() {
            d @ '0'..='9' => Some(format!("digits/{d}")),
            l @ 'a'..='z' => Some(format!("letters/{l}")),
            '*' => Some("letters/asterisk".to_owned()),
            '#' => Some("letters/pound".to_owned()),
            '-' => Some("letters/dash".to_owned()),
            '.' => Some("letters/dot".to_owned()),
            '@' => Some("letters/at".to_owned()),
            _ => None,
        })
        .collect()
}

/// `SAY PHONETIC`: letters in the ICAO spelling alphabet (`phonetic/a_p` is "alfa"), the
/// rest as [`alpha`] says it.
pub fn phonetic(text: &str) -> Vec<String> {
    text.chars()
        .flat_map(|c| match c.to_ascii_lowercase() {
            l @ 'a'..='z' => vec![format!("phonetic/{l}_p")],
            other => alpha(&other.to_string()),
        })
        .collect()
}

/// `SAY NUMBER` in English words: `digits/minus`, `digits/1`-`digits/19`, tens
/// (`digits/20`...), `digits/hundred`, `digits/thousand`, `digits/million`, `digits/billion`.
pub fn number(n: i64) -> Vec<String> {
    let mut out = Vec::new();
    if n < 0 {
        out.push("digits/minus".to_owned());
    }
    let mut n = n.unsigned_abs();
    if n == 0 {
        out.push("digits/0".to_owned());
        return out;
    }
    for (scale, name) in [
        (1_000_000_000, "billion"),
        (1_000_000, "million"),
        (1_000, "thousand"),
    ] {
        if n >= scale {
            below_thousand(n / scale, &mut out);
            out.push(format!("digits/{name}"));
            n %= scale;
        }
    }
    below_thousand(n, &mut out);
    out
}

/// Words for `n` (at most 999 unless it is a count of billions), nothing for 0.
fn below_thousand(n: u64, out: &mut Vec<String>) {
    let mut n = n;
    if n >= 100 {
        below_thousand(n / 100, out);
        out.push("digits/hundred".to_owned());
        n %= 100;
    }
    if n >= 20 {
        out.push(format!("digits/{}", n / 10 * 10));
        n %= 10;
    }
    if n > 0 {
        out.push(format!("digits/{n}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_in_words() {
        assert_eq!(number(0), ["digits/0"]);
        assert_eq!(number(42), ["digits/40", "digits/2"]);
        assert_eq!(number(-7), ["digits/minus", "digits/7"]);
        assert_eq!(
            number(1_215),
            [
                "digits/1",
                "digits/thousand",
                "digits/2",
                "digits/hundred",
                "digits/15"
            ]
        );
        assert_eq!(number(2_000_000), ["digits/2", "digits/million"]);
        assert!(!number(i64::MIN).is_empty());
    }

    #[test]
    fn digits_and_letters() {
        assert_eq!(digits("1a2"), ["digits/1", "digits/2"]);
        assert_eq!(alpha("B1#"), ["letters/b", "digits/1", "letters/pound"]);
        assert_eq!(
            phonetic("Ab1"),
            ["phonetic/a_p", "phonetic/b_p", "digits/1"]
        );
    }

    #[test]
    fn every_prompt_said_is_built_in() {
        let library = crate::media::prompts::PromptLibrary::new(None);
        let text = "abcdefghijklmnopqrstuvwxyz0123456789*#-.@";
        let names = alpha(text)
            .into_iter()
            .chain(phonetic(text))
            .chain([-1_234_567_891_011, 19, 90].into_iter().flat_map(number));
        for name in names {
            assert!(library.get(&name).is_ok(), "{name} is not built in");
        }
    }
}
