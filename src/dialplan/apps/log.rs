//! `Log(level,message)`: writes the expanded message to the PBX log at Asterisk's level names:
//! ERROR -> error, WARNING -> warn, NOTICE and VERBOSE -> info, DEBUG and DTMF -> debug.

use super::{find_top, AppError, Application, Outcome};
use crate::dialplan::vars::{CallCtx, Template};

/// A log level as Asterisk names it, mapped onto tracing's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// ERROR.
    Error,
    /// WARNING.
    Warning,
    /// NOTICE or VERBOSE.
    Notice,
    /// DEBUG or DTMF.
    Debug,
}

/// The `Log` app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Log {
    /// Level of the log line.
    pub level: Level,
    /// The message (the rest of the arguments, commas included).
    pub message: Template,
}

impl Application for Log {
    const NAME: &'static str = "Log";
    const SYNTAX: &'static str = "Log(level,message)";
    const DOC: &'static str =
        "Logs the expanded message; level is ERROR, WARNING, NOTICE, VERBOSE, DEBUG or DTMF.";

    fn parse(text: &str) -> Result<Self, AppError> {
        let (level, message) = match find_top(text, ',') {
            Some(i) => (text[..i].trim(), text[i + 1..].trim()),
            None => (text.trim(), ""),
        };
        let level = match level.to_ascii_uppercase().as_str() {
            "ERROR" => Level::Error,
            "WARNING" => Level::Warning,
            "NOTICE" | "VERBOSE" => Level::Notice,
            "DEBUG" | "DTMF" => Level::Debug,
            _ => return Err(AppError::BadLogLevel(level.to_owned())),
        };
        Ok(Log {
            level,
            message: Template::parse(message)?,
        })
    }

    fn run(&self, ctx: &mut CallCtx) -> Outcome {
        let msg = ctx.expand(&self.message);
        let (context, exten) = (ctx.context(), ctx.exten());
        match self.level {
            Level::Error => tracing::error!(context, exten, "dialplan: {msg}"),
            Level::Warning => tracing::warn!(context, exten, "dialplan: {msg}"),
            Level::Notice => tracing::info!(context, exten, "dialplan: {msg}"),
            Level::Debug => tracing::debug!(context, exten, "dialplan: {msg}"),
        }
        Outcome::Next
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialplan::apps::tests::ctx;

    #[test]
    fn parse_and_run() {
        let log = Log::parse("notice, call from ${CALLERID(num)}, ok").unwrap();
        assert_eq!(log.level, Level::Notice);
        assert_eq!(log.message.as_str(), "call from ${CALLERID(num)}, ok");
        assert_eq!(log.run(&mut ctx()), Outcome::Next);
        assert_eq!(Log::parse("VERBOSE,x").unwrap().level, Level::Notice);
        assert_eq!(Log::parse("DTMF,x").unwrap().level, Level::Debug);
        assert_eq!(
            Log::parse("LOUD,x"),
            Err(AppError::BadLogLevel("LOUD".into()))
        );
    }
}
