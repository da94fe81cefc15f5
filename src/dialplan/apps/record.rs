//! `Record(name.format[,silence[,maxduration[,options]]])`: records what the caller says into
//! the recordings directory, as Asterisk's `Record` does. A beep first (unless `q`), then
//! recording until `#` is pressed, `silence` seconds of silence follow the last sound,
//! `maxduration` seconds have passed (0 or empty: no limit), or the caller hangs up (then the
//! file is removed unless `k`). An existing recording of that name is replaced. Answers an
//! unanswered call first unless `n`; with `s` an unanswered call is skipped instead.
//! `${RECORD_STATUS}` says how it ended: `DTMF`, `SILENCE`, `TIMEOUT`, `HANGUP`, `SKIP` or
//! `ERROR`. The only format is `wav` (8 kHz mono 16-bit). Options: `k` keep on hangup, `n`
//! do not answer, `q` no beep, `s` skip when unanswered, `t` `*` ends instead of `#`, `x`
//! keys do not end it, `y` any key ends it. Asterisk's `a` (append) and `%d` in the name
//! are not supported.

use std::time::Duration;

use super::{args, bad_seconds, missing, seconds, AppError, Application, Outcome, Param};
use crate::dialplan::vars::{CallCtx, Template};

/// The keys that end a recording by default.
const DEFAULT_TERMINATORS: &str = "#";
/// Every DTMF key, for option `y`.
const ANY_KEY: &str = "0123456789*#ABCD";

/// What the interpreter needs to carry out one Record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordRequest {
    /// The recording's name (`greeting`, `msgs/6001`), without the format; checked by the
    /// call task, which records `ERROR` for a name that would leave the directory.
    pub name: String,
    /// Silence after the last sound that ends the recording.
    pub max_silence: Option<Duration>,
    /// The longest it may last.
    pub max_duration: Option<Duration>,
    /// Keys that end it.
    pub terminators: String,
    /// Play a beep first.
    pub beep: bool,
    /// Keep the file when the caller hangs up.
    pub keep_on_hangup: bool,
}

/// The `Record` app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The name, format stripped, as written.
    pub name: Template,
    /// Silence that ends it; `None` or zero: silence does not end it.
    pub silence: Option<Param<Duration>>,
    /// Longest duration; `None` or zero: no limit.
    pub max_duration: Option<Param<Duration>>,
    /// Options as written.
    pub options: String,
}

impl Application for Record {
    const NAME: &'static str = "Record";
    const SYNTAX: &'static str = "Record(name.wav[,silence[,maxduration[,options]]])";
    const DOC: &'static str = "Beeps, then records the caller into the recordings directory \
        until #, silence seconds of silence, maxduration seconds or hangup; sets \
        RECORD_STATUS. Options k n q s t x y.";

    fn parse(text: &str) -> Result<Self, AppError> {
        let parts = args::<Self>(text, 4)?;
        let given = |i: usize| parts.get(i).copied().filter(|p| !p.is_empty());
        let file = given(0).ok_or_else(|| missing::<Self>("a file name with its format"))?;
        let name = match file.rsplit_once('.') {
            Some((name, format)) if !name.is_empty() && format.eq_ignore_ascii_case("wav") => name,
            _ => return Err(AppError::BadRecording(file.to_owned())),
        };
        let duration = |i: usize, what: &'static str| {
            given(i)
                .map(|p| Param::parse(p, seconds, || bad_seconds(what, p)))
                .transpose()
        };
        let options = given(3).unwrap_or_default();
        if let Some(bad) = options.chars().find(|c| !"knqstxy".contains(*c)) {
            return Err(AppError::BadOption {
                app: Self::NAME,
                option: bad.to_string(),
            });
        }
        Ok(Record {
            name: Template::parse(name)?,
            silence: duration(1, "Record silence")?,
            max_duration: duration(2, "Record maxduration")?,
            options: options.to_owned(),
        })
    }

    fn run(&self, ctx: &mut CallCtx) -> Outcome {
        let limit = |param: &Option<Param<Duration>>| {
            param
                .as_ref()
                .and_then(|p| p.resolve(ctx, seconds))
                .filter(|d| !d.is_zero())
        };
        let has = |option: char| self.options.contains(option);
        let terminators = if has('x') {
            String::new()
        } else if has('y') {
            ANY_KEY.to_owned()
        } else if has('t') {
            "*".to_owned()
        } else {
            DEFAULT_TERMINATORS.to_owned()
        };
        Outcome::Record {
            request: RecordRequest {
                name: ctx.expand(&self.name),
                max_silence: limit(&self.silence),
                max_duration: limit(&self.max_duration),
                terminators,
                beep: !has('q'),
                keep_on_hangup: has('k'),
            },
            answer: !has('n'),
            skip_unanswered: has('s'),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialplan::apps::tests::ctx;

    fn request(outcome: Outcome) -> (RecordRequest, bool, bool) {
        let Outcome::Record {
            request,
            answer,
            skip_unanswered,
        } = outcome
        else {
            panic!("Record must record: {outcome:?}");
        };
        (request, answer, skip_unanswered)
    }

    #[test]
    fn parse_and_run() {
        let mut c = ctx();
        let (r, answer, skip) = request(
            Record::parse("msg-${EXTEN}.wav, 3, 20")
                .unwrap()
                .run(&mut c),
        );
        assert_eq!(
            r,
            RecordRequest {
                name: format!("msg-{}", c.get("EXTEN").unwrap()),
                max_silence: Some(Duration::from_secs(3)),
                max_duration: Some(Duration::from_secs(20)),
                terminators: "#".into(),
                beep: true,
                keep_on_hangup: false,
            }
        );
        assert!(answer && !skip);
        let (r, answer, skip) = request(Record::parse("a.WAV,0,,qknsy").unwrap().run(&mut c));
        assert_eq!((r.max_silence, r.max_duration), (None, None));
        assert_eq!(r.terminators, ANY_KEY);
        assert!(!r.beep && r.keep_on_hangup && !answer && skip);
        let (r, ..) = request(Record::parse("a.wav,,,x").unwrap().run(&mut c));
        assert_eq!(r.terminators, "");
        let (r, ..) = request(Record::parse("a.wav,,,t").unwrap().run(&mut c));
        assert_eq!(r.terminators, "*");
    }

    #[test]
    fn a_name_without_wav_or_a_bad_option_is_refused_at_load() {
        for bad in ["greeting", "greeting.gsm", ".wav"] {
            assert!(
                matches!(Record::parse(bad), Err(AppError::BadRecording(_))),
                "{bad}"
            );
        }
        assert!(matches!(
            Record::parse("a.wav,,,z"),
            Err(AppError::BadOption { .. })
        ));
        assert!(matches!(
            Record::parse(""),
            Err(AppError::MissingArgument { .. })
        ));
        assert!(matches!(
            Record::parse("a.wav,forever"),
            Err(AppError::BadNumber { .. })
        ));
    }
}
