//! Media URIs (sans-IO): what applications ask a channel or a bridge to play, as ARI names it
//! (`sound:hello-world`, `recording:greeting`, `digits:123`, `number:42`, `characters:abc`,
//! `tone:ring;tonezone=de`, `tone:440+480/2000,0/4000`). A bare name is a sound.
//!
//! Parsing only: the [`super::prompts::PromptLibrary`] turns a parsed URI into sounds
//! (prompts, stored recordings, spoken digits and numbers, rendered tones).

use thiserror::Error;

use super::indications::{self, IndicationError, DEFAULT_ZONE};
use super::say;

/// One media URI, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaUri {
    /// `sound:NAME` or a bare `NAME`: a prompt.
    Sound(String),
    /// `recording:NAME`: a stored recording.
    Recording(String),
    /// `digits:1234`: each digit (and `*`, `#`, `-`) said in turn.
    Digits(String),
    /// `number:42`: the number said in words.
    Number(i64),
    /// `characters:abc`: each character spelled.
    Characters(String),
    /// `tone:NAME` or `tone:INDICATION`, with an optional `;tonezone=ZONE`, as an indication
    /// string.
    Tone(String),
}

/// Why a media URI cannot be played.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MediaUriError {
    /// A scheme pbx does not play.
    #[error(
        "unsupported media scheme in {0:?} (sound, recording, digits, number, characters, tone)"
    )]
    UnknownScheme(String),
    /// `digits:` with something other than digits, `*`, `#` or `-`.
    #[error("digits: takes 0-9, '*', '#' and '-', not {0:?}")]
    BadDigits(String),
    /// `number:` without an integer.
    #[error("number: takes an integer, not {0:?}")]
    BadNumber(String),
    /// Nothing after the scheme.
    #[error("nothing to play in {0:?}")]
    Empty(String),
    /// A `tone:` that is neither a tone name of its zone nor an indication string.
    #[error("tone: {0}")]
    Tone(#[from] IndicationError),
}

impl MediaUri {
    /// Parses `uri`.
    pub fn parse(uri: &str) -> Result<MediaUri, MediaUriError> {
        let Some((scheme, rest)) = uri.split_once(':') else {
            return Ok(MediaUri::Sound(uri.to_owned()));
        };
        if rest.is_empty() {
            return Err(MediaUriError::Empty(uri.to_owned()));
        }
        match scheme {
            "sound" => Ok(MediaUri::Sound(rest.to_owned())),
            "recording" => Ok(MediaUri::Recording(rest.to_owned())),
            "digits"
                if rest
                    .chars()
                    .all(|c| c.is_ascii_digit() || "*#-".contains(c)) =>
            {
                Ok(MediaUri::Digits(rest.to_owned()))
            }
            "digits" => Err(MediaUriError::BadDigits(rest.to_owned())),
            "number" => rest
                .parse()
                .map(MediaUri::Number)
                .map_err(|_| MediaUriError::BadNumber(rest.to_owned())),
            "characters" => Ok(MediaUri::Characters(rest.to_owned())),
            "tone" => tone(rest).map(MediaUri::Tone),
            _ => Err(MediaUriError::UnknownScheme(uri.to_owned())),
        }
    }

    /// The prompt names a spoken URI plays, in order (`None` for sounds, recordings and
    /// tones). `number:` is said in words; [`say::number`] documents the prompts it needs.
    pub fn spoken(&self) -> Option<Vec<String>> {
        match self {
            MediaUri::Digits(digits) => Some(say::alpha(digits)),
            MediaUri::Number(n) => Some(say::number(*n)),
            MediaUri::Characters(text) => Some(say::alpha(text)),
            MediaUri::Sound(_) | MediaUri::Recording(_) | MediaUri::Tone(_) => None,
        }
    }
}

/// The indication string of `tone:NAME[;tonezone=ZONE]` or `tone:INDICATION[;...]`.
fn tone(spec: &str) -> Result<String, MediaUriError> {
    let mut fields = spec.split(';');
    let tone = fields.next().unwrap_or_default().trim();
    let zone = fields
        .filter_map(|f| f.split_once('='))
        .find(|(key, _)| key.trim() == "tonezone")
        .map_or(DEFAULT_ZONE, |(_, zone)| zone.trim());
    let indication = match indications::named(zone, tone)? {
        Some(indication) => indication.to_owned(),
        None => tone.to_owned(),
    };
    indications::render(&indication)?;
    Ok(indication)
}

/// A media URI as events show it: `sound:NAME` for a bare `NAME`, others as given.
pub fn display(uri: &str) -> String {
    match uri.contains(':') {
        true => uri.to_owned(),
        false => format!("sound:{uri}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scheme_parses() {
        let cases = [
            ("hello-world", MediaUri::Sound("hello-world".into())),
            ("sound:digits/4", MediaUri::Sound("digits/4".into())),
            (
                "recording:msgs/6001",
                MediaUri::Recording("msgs/6001".into()),
            ),
            ("digits:12*#", MediaUri::Digits("12*#".into())),
            ("number:-42", MediaUri::Number(-42)),
            ("characters:ab1", MediaUri::Characters("ab1".into())),
            ("tone:ring", MediaUri::Tone("440+480/2000,0/4000".into())),
            (
                "tone:ring;tonezone=de",
                MediaUri::Tone("425/1000,0/4000".into()),
            ),
            ("tone:!1000/100", MediaUri::Tone("!1000/100".into())),
        ];
        for (uri, parsed) in cases {
            assert_eq!(MediaUri::parse(uri), Ok(parsed), "{uri}");
        }
    }

    #[test]
    fn bad_uris_say_what_is_wrong() {
        assert!(matches!(
            MediaUri::parse("video:x"),
            Err(MediaUriError::UnknownScheme(_))
        ));
        assert!(matches!(
            MediaUri::parse("digits:12a"),
            Err(MediaUriError::BadDigits(_))
        ));
        assert!(matches!(
            MediaUri::parse("number:4x"),
            Err(MediaUriError::BadNumber(_))
        ));
        assert!(matches!(
            MediaUri::parse("sound:"),
            Err(MediaUriError::Empty(_))
        ));
        assert!(matches!(
            MediaUri::parse("tone:nosuch"),
            Err(MediaUriError::Tone(IndicationError::BadPart(_)))
        ));
        assert!(matches!(
            MediaUri::parse("tone:ring;tonezone=xx"),
            Err(MediaUriError::Tone(IndicationError::UnknownZone(_)))
        ));
    }

    #[test]
    fn spoken_uris_name_their_prompts() {
        let digits = MediaUri::parse("digits:42#").unwrap();
        assert_eq!(
            digits.spoken().unwrap(),
            ["digits/4", "digits/2", "letters/pound"]
        );
        let number = MediaUri::parse("number:21").unwrap();
        assert_eq!(number.spoken().unwrap(), ["digits/20", "digits/1"]);
        assert_eq!(MediaUri::parse("tone:busy").unwrap().spoken(), None);
    }

    #[test]
    fn events_show_bare_names_as_sounds() {
        assert_eq!(display("hello-world"), "sound:hello-world");
        assert_eq!(display("tone:ring"), "tone:ring");
    }
}
