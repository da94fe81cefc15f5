//! How an engine is run (sans-IO): which configured command a requested engine name means
//! (FreeSWITCH applications ask for `flite`, mod_flite's name, and get the configured
//! engine), which voice, and the argument list, built from a template with `{voice}`,
//! `{text}` and `{out}` replaced inside single arguments, so the text is never parsed by a
//! shell or split into several arguments.

use std::path::Path;

/// FreeSWITCH's own engine name, which always means the configured engine.
pub const FREESWITCH_ENGINE: &str = "flite";

/// Why a request names no usable engine.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    /// `[tts] engine` is empty.
    #[error("text to speech is off: set [tts] engine (e.g. \"espeak-ng\") in pbx.toml")]
    NotConfigured,
    /// The request names an engine other than the configured one or `flite`.
    #[error("TTS engine {requested:?} is not configured (the configured engine is {configured:?}; \"flite\" also means it)")]
    Unknown {
        /// What was asked for.
        requested: String,
        /// What is configured.
        configured: String,
    },
}

/// One engine run: the command, the voice, and its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    /// The configured command.
    pub program: String,
    /// The voice used.
    pub voice: String,
    /// The arguments.
    pub args: Vec<String>,
}

/// The engine's short name: its file name without directories.
pub fn short_name(program: &str) -> &str {
    Path::new(program)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or(program)
}

/// The run for `text`: `requested` engine and `voice` (either may be empty), against the
/// configured `program`, default `voice` and argument `template`.
pub fn invocation(
    program: &str,
    default_voice: &str,
    template: &[String],
    requested: &str,
    voice: &str,
    text: &str,
    out: &str,
) -> Result<Invocation, EngineError> {
    if program.trim().is_empty() {
        return Err(EngineError::NotConfigured);
    }
    let short = short_name(program);
    let requested = requested.trim();
    let aliased = requested.eq_ignore_ascii_case(FREESWITCH_ENGINE) && short != FREESWITCH_ENGINE;
    if !requested.is_empty() && !aliased && requested != program && requested != short {
        return Err(EngineError::Unknown {
            requested: requested.to_owned(),
            configured: program.to_owned(),
        });
    }
    // A FreeSWITCH voice (kal, slt, rms, awb) is flite's: another engine uses its own.
    let voice = match (voice.trim(), aliased) {
        (v, false) if !v.is_empty() => v.to_owned(),
        _ if !default_voice.is_empty() => default_voice.to_owned(),
        _ => default_voice_of(short).to_owned(),
    };
    let template = match template.is_empty() {
        true => default_template(short),
        false => template.to_vec(),
    };
    let args = template
        .iter()
        .map(|arg| {
            arg.replace("{voice}", &voice)
                .replace("{out}", out)
                .replace("{text}", text)
        })
        .collect();
    Ok(Invocation {
        program: program.to_owned(),
        voice,
        args,
    })
}

fn default_voice_of(short: &str) -> &'static str {
    match short {
        "flite" => "kal",
        _ => "en",
    }
}

/// The arguments of the engines known by name; any other engine is run as espeak-ng is.
fn default_template(short: &str) -> Vec<String> {
    let args: &[&str] = match short {
        "flite" => &["-voice", "{voice}", "-o", "{out}", "-t", "{text}"],
        _ => &["-v", "{voice}", "-w", "{out}", "--", "{text}"],
    };
    args.iter().map(|a| (*a).to_owned()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flite_means_the_configured_engine_and_its_voice() {
        let run = invocation(
            "espeak-ng",
            "",
            &[],
            "flite",
            "kal",
            "Hello; rm -rf /",
            "o.wav",
        )
        .unwrap();
        assert_eq!(run.program, "espeak-ng");
        assert_eq!(run.voice, "en");
        assert_eq!(
            run.args,
            ["-v", "en", "-w", "o.wav", "--", "Hello; rm -rf /"]
        );
    }

    #[test]
    fn the_engine_by_its_own_name_keeps_the_voice_asked_for() {
        let run = invocation(
            "/usr/bin/espeak-ng",
            "en-us",
            &[],
            "espeak-ng",
            "en-gb",
            "Hi",
            "o",
        )
        .unwrap();
        assert_eq!(run.voice, "en-gb");
        let run = invocation("flite", "", &[], "", "", "Hi", "o").unwrap();
        assert_eq!(run.args, ["-voice", "kal", "-o", "o", "-t", "Hi"]);
    }

    #[test]
    fn a_template_is_filled_one_argument_at_a_time() {
        let template = vec!["--say={text}".to_owned(), "{out}".to_owned()];
        let run = invocation("mytts", "v", &template, "", "", "a b {voice}", "o.wav").unwrap();
        assert_eq!(run.args, ["--say=a b {voice}", "o.wav"]);
    }

    #[test]
    fn no_engine_or_another_engine_is_an_error() {
        assert_eq!(
            invocation("", "", &[], "", "", "x", "o"),
            Err(EngineError::NotConfigured)
        );
        assert!(matches!(
            invocation("espeak-ng", "", &[], "cepstral", "", "x", "o"),
            Err(EngineError::Unknown { .. })
        ));
    }
}
