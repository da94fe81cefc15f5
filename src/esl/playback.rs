//! What `playback` (and the prompts of `play_and_get_digits` and `read`) can play, written
//! as FreeSWITCH writes it (sans-IO): a prompt name or a path (`ivr/ivr-welcome.wav`,
//! `/var/sounds/x.wav`), `say:'text'` spoken through text to speech, `silence_stream://MS`,
//! `tone_stream://%(ON,OFF,FREQ[,FREQ2])[;loops=N]` and `file_string://a!b!c` (each part
//! any of these).

use std::time::Duration;

/// The most a silence or a tone pattern may last.
pub const MAX_GENERATED: Duration = Duration::from_secs(600);

/// One thing to play.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Media {
    /// A prompt from the prompt library (name without `.wav`, such as `ivr/ivr-welcome`).
    Prompt(String),
    /// A WAV file by absolute path (8 kHz mono, as every prompt).
    File(String),
    /// Text for the TTS engine.
    Say(String),
    /// Silence this long.
    Silence(Duration),
    /// A tone pattern.
    Tone(Tone),
}

/// `%(ON,OFF,FREQ[,FREQ2])` repeated `loops` times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tone {
    /// Milliseconds of tone.
    pub on_ms: u32,
    /// Milliseconds of silence after it.
    pub off_ms: u32,
    /// One or two frequencies, in Hz.
    pub frequencies: Vec<u32>,
    /// How many times the pattern plays.
    pub loops: u32,
}

/// Why a playback target is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlaybackError {
    /// Nothing to play.
    #[error("nothing to play")]
    Empty,
    /// A `silence_stream://` without a usable duration.
    #[error("bad silence_stream {0:?}: use silence_stream://MILLISECONDS")]
    BadSilence(String),
    /// A `tone_stream://` this parser does not read.
    #[error("bad tone_stream {0:?}: use tone_stream://%(ON,OFF,FREQ[,FREQ2])[;loops=N]")]
    BadTone(String),
    /// A prompt name that climbs out of the sounds (`..`).
    #[error("bad sound name {0:?}")]
    BadName(String),
}

/// The media of `target`, in order.
pub fn parse(target: &str) -> Result<Vec<Media>, PlaybackError> {
    let target = target.trim();
    if target.is_empty() {
        return Err(PlaybackError::Empty);
    }
    match target.strip_prefix("file_string://") {
        Some(list) => list
            .split('!')
            .filter(|p| !p.trim().is_empty())
            .map(one)
            .collect::<Result<Vec<_>, _>>()
            .and_then(|m| match m.is_empty() {
                true => Err(PlaybackError::Empty),
                false => Ok(m),
            }),
        None => Ok(vec![one(target)?]),
    }
}

fn one(text: &str) -> Result<Media, PlaybackError> {
    let text = text.trim();
    if let Some(said) = text.strip_prefix("say:") {
        let said = said.trim();
        let said = said
            .strip_prefix('\'')
            .and_then(|s| s.strip_suffix('\''))
            .unwrap_or(said);
        return Ok(Media::Say(said.to_owned()));
    }
    if let Some(ms) = text.strip_prefix("silence_stream://") {
        let ms: u64 = ms
            .split(',')
            .next()
            .and_then(|m| m.trim().parse().ok())
            .ok_or_else(|| PlaybackError::BadSilence(text.to_owned()))?;
        let duration = Duration::from_millis(ms);
        if duration > MAX_GENERATED {
            return Err(PlaybackError::BadSilence(text.to_owned()));
        }
        return Ok(Media::Silence(duration));
    }
    if let Some(spec) = text.strip_prefix("tone_stream://") {
        return tone(spec).ok_or_else(|| PlaybackError::BadTone(text.to_owned()));
    }
    let name = text.strip_suffix(".wav").unwrap_or(text);
    if name.split('/').any(|part| part == "..") {
        return Err(PlaybackError::BadName(text.to_owned()));
    }
    match text.starts_with('/') {
        true => Ok(Media::File(text.to_owned())),
        false => Ok(Media::Prompt(name.to_owned())),
    }
}

fn tone(spec: &str) -> Option<Media> {
    let (pattern, options) = match spec.split_once(';') {
        Some((pattern, options)) => (pattern, options),
        None => (spec, ""),
    };
    let inner = pattern.trim().strip_prefix("%(")?.strip_suffix(')')?;
    let numbers: Vec<u32> = inner
        .split(',')
        .map(|n| n.trim().parse().ok())
        .collect::<Option<_>>()?;
    let [on_ms, off_ms, frequencies @ ..] = numbers.as_slice() else {
        return None;
    };
    if frequencies.is_empty() || frequencies.len() > 2 || frequencies.iter().any(|f| *f > 4000) {
        return None;
    }
    let mut loops = 1;
    for option in options.split(';').filter(|o| !o.trim().is_empty()) {
        let (name, value) = option.split_once('=')?;
        match name.trim() {
            "loops" | "L" => loops = value.trim().parse().ok()?,
            _ => return None,
        }
    }
    let total = u64::from(on_ms + off_ms) * u64::from(loops);
    if loops == 0 || Duration::from_millis(total) > MAX_GENERATED {
        return None;
    }
    Some(Media::Tone(Tone {
        on_ms: *on_ms,
        off_ms: *off_ms,
        frequencies: frequencies.to_vec(),
        loops,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompts_paths_and_speech() {
        assert_eq!(
            parse("hello-world").unwrap(),
            [Media::Prompt("hello-world".into())]
        );
        assert_eq!(
            parse("ivr/ivr-welcome.wav").unwrap(),
            [Media::Prompt("ivr/ivr-welcome".into())]
        );
        assert_eq!(
            parse("/tmp/x.wav").unwrap(),
            [Media::File("/tmp/x.wav".into())]
        );
        assert_eq!(
            parse("say:'Hello, caller'").unwrap(),
            [Media::Say("Hello, caller".into())]
        );
        assert_eq!(
            parse("say:plain words").unwrap(),
            [Media::Say("plain words".into())]
        );
        assert!(matches!(
            parse("../../etc/passwd"),
            Err(PlaybackError::BadName(_))
        ));
        assert_eq!(parse("  "), Err(PlaybackError::Empty));
    }

    #[test]
    fn generated_media_and_lists() {
        assert_eq!(
            parse("file_string://silence_stream://500!hello-world!say:'bye'").unwrap(),
            [
                Media::Silence(Duration::from_millis(500)),
                Media::Prompt("hello-world".into()),
                Media::Say("bye".into())
            ]
        );
        assert_eq!(
            parse("tone_stream://%(250,50,440,480);loops=3").unwrap(),
            [Media::Tone(Tone {
                on_ms: 250,
                off_ms: 50,
                frequencies: vec![440, 480],
                loops: 3
            })]
        );
        assert!(parse("tone_stream://v=-7;%(100,0,941.0,1477.0)").is_err());
        assert!(parse("silence_stream://forever").is_err());
        assert!(parse("silence_stream://999999999").is_err());
        assert_eq!(parse("file_string://!"), Err(PlaybackError::Empty));
    }
}
