//! AGI result lines, worded as Asterisk's `res_agi.c` writes them: `200 result=N`, optionally
//! with `(data)` and `endpos=N`; `510 Invalid or unknown command`; `511 Command Not Permitted
//! on a dead channel or intercept routine`; and the three-part `520` usage answer.

use std::fmt;

/// The text of the 510 answer (also AGIExecEnd's `Result` for it).
pub const INVALID_COMMAND: &str = "Invalid or unknown command";
/// The text of the 511 answer.
pub const DEAD_CHANNEL: &str = "Command Not Permitted on a dead channel or intercept routine";

/// One answer to an AGI command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgiReply {
    /// `200 result=<result>[ (<data>)][ endpos=<endpos>]`.
    Success {
        /// The result: a number (`0`, `-1`, a key's ASCII code) or collected digits.
        result: String,
        /// Data in parentheses (a variable's value, `timeout`).
        data: Option<String>,
        /// Where playback stopped, in samples.
        endpos: Option<u64>,
    },
    /// `510 Invalid or unknown command`.
    InvalidCommand,
    /// `511 Command Not Permitted on a dead channel or intercept routine`.
    DeadChannel,
    /// `520-Invalid command syntax.  Proper usage follows:` / usage / `520 End of proper usage.`
    Usage(&'static str),
}

impl AgiReply {
    /// `200 result=<n>`.
    pub fn result(n: i64) -> AgiReply {
        AgiReply::Success {
            result: n.to_string(),
            data: None,
            endpos: None,
        }
    }

    /// `200 result=<n> (<data>)`.
    pub fn with_data(n: i64, data: impl Into<String>) -> AgiReply {
        AgiReply::Success {
            result: n.to_string(),
            data: Some(data.into()),
            endpos: None,
        }
    }

    /// `200 result=<text>[ (<data>)]`: GET DATA's collected keys.
    pub fn result_text(text: String, data: Option<&str>) -> AgiReply {
        AgiReply::Success {
            result: text,
            data: data.map(str::to_owned),
            endpos: None,
        }
    }

    /// `200 result=<n> endpos=<endpos>`.
    pub fn with_endpos(n: i64, endpos: u64) -> AgiReply {
        AgiReply::Success {
            result: n.to_string(),
            data: None,
            endpos: Some(endpos),
        }
    }

    /// `200 result=<n> (<data>) endpos=<endpos>`: RECORD FILE's answer.
    pub fn with_data_and_endpos(n: i64, data: &str, endpos: u64) -> AgiReply {
        AgiReply::Success {
            result: n.to_string(),
            data: Some(data.to_owned()),
            endpos: Some(endpos),
        }
    }

    /// The status code: 200, 510, 511 or 520 (AGIExecEnd's `ResultCode`).
    pub fn code(&self) -> u16 {
        match self {
            AgiReply::Success { .. } => 200,
            AgiReply::InvalidCommand => 510,
            AgiReply::DeadChannel => 511,
            AgiReply::Usage(_) => 520,
        }
    }

    /// AGIExecEnd's `Result` text.
    pub fn summary(&self) -> &'static str {
        match self {
            AgiReply::Success { .. } => "Success",
            AgiReply::InvalidCommand => INVALID_COMMAND,
            AgiReply::DeadChannel => DEAD_CHANNEL,
            AgiReply::Usage(_) => "Usage",
        }
    }
}

impl fmt::Display for AgiReply {
    /// The reply as sent, every line ended by LF.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AgiReply::Success {
                result,
                data,
                endpos,
            } => {
                write!(f, "200 result={result}")?;
                if let Some(data) = data {
                    write!(f, " ({data})")?;
                }
                if let Some(endpos) = endpos {
                    write!(f, " endpos={endpos}")?;
                }
                writeln!(f)
            }
            AgiReply::InvalidCommand => writeln!(f, "510 {INVALID_COMMAND}"),
            AgiReply::DeadChannel => writeln!(f, "511 {DEAD_CHANNEL}"),
            AgiReply::Usage(usage) => {
                writeln!(f, "520-Invalid command syntax.  Proper usage follows:")?;
                writeln!(f, "{usage}")?;
                writeln!(f, "520 End of proper usage.")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_as_asterisk_writes_them() {
        assert_eq!(AgiReply::result(0).to_string(), "200 result=0\n");
        assert_eq!(
            AgiReply::with_data(1, "6001").to_string(),
            "200 result=1 (6001)\n"
        );
        assert_eq!(
            AgiReply::with_endpos(49, 8000).to_string(),
            "200 result=49 endpos=8000\n"
        );
        assert_eq!(
            AgiReply::Success {
                result: "12".into(),
                data: Some("timeout".into()),
                endpos: None
            }
            .to_string(),
            "200 result=12 (timeout)\n"
        );
        assert_eq!(
            AgiReply::InvalidCommand.to_string(),
            "510 Invalid or unknown command\n"
        );
        assert_eq!(
            AgiReply::DeadChannel.to_string(),
            "511 Command Not Permitted on a dead channel or intercept routine\n"
        );
        assert_eq!(
            AgiReply::Usage(" Usage: ANSWER").to_string(),
            "520-Invalid command syntax.  Proper usage follows:\n Usage: ANSWER\n520 End of proper usage.\n"
        );
        assert_eq!(AgiReply::Usage("x").code(), 520);
    }
}
