//! The AGI environment: the `agi_name: value` lines a session starts with, ended by a blank
//! line, in Asterisk's order (`agi_request` first, the arguments last). AsyncAGI sends the same
//! block URL-encoded in `AsyncAGIStart`'s `Env` header.

use std::fmt::Write;

/// The version reported in `agi_version`.
pub const AGI_VERSION: &str = concat!("pbx-", env!("CARGO_PKG_VERSION"));

/// What an AGI program learns about the channel when its session starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgiEnvironment {
    /// `agi_request`: the AGI target as written (`agi://host/script`, `agi:async`, a program).
    pub request: String,
    /// `agi_channel`: the channel's name (`PJSIP/6001-00000001`).
    pub channel: String,
    /// `agi_language`.
    pub language: String,
    /// `agi_type`: the channel technology (`PJSIP`).
    pub channel_type: String,
    /// `agi_uniqueid`: the channel's id.
    pub unique_id: String,
    /// `agi_callerid`: caller number (`unknown` when empty).
    pub caller_num: String,
    /// `agi_calleridname`: caller name (`unknown` when empty).
    pub caller_name: String,
    /// `agi_dnid`: the dialled number (`unknown` when empty).
    pub dnid: String,
    /// `agi_rdnis`: the redirecting number (`unknown` when empty).
    pub rdnis: String,
    /// `agi_context`, `agi_extension`, `agi_priority`: where the `AGI` step is.
    pub context: String,
    /// See [`AgiEnvironment::context`].
    pub extension: String,
    /// See [`AgiEnvironment::context`].
    pub priority: usize,
    /// `agi_accountcode`.
    pub account_code: String,
    /// `agi_threadid`: a number identifying the session (the call's id here).
    pub thread_id: u64,
    /// `agi_arg_1`...: the `AGI(...)` arguments after the target.
    pub args: Vec<String>,
}

impl AgiEnvironment {
    /// The environment block: one `agi_name: value` line each, then a blank line.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(512);
        for (name, value) in self.pairs() {
            let _ = writeln!(out, "{name}: {value}");
        }
        out.push('\n');
        out
    }

    /// The block URL-encoded, as `AsyncAGIStart`'s `Env` carries it.
    pub fn url_encoded(&self) -> String {
        url_encode(&self.render())
    }

    fn pairs(&self) -> Vec<(String, String)> {
        let or_unknown = |s: &str| match s.is_empty() {
            true => "unknown".to_owned(),
            false => s.to_owned(),
        };
        let mut pairs: Vec<(String, String)> = [
            ("agi_request", self.request.clone()),
            ("agi_channel", self.channel.clone()),
            ("agi_language", self.language.clone()),
            ("agi_type", self.channel_type.clone()),
            ("agi_uniqueid", self.unique_id.clone()),
            ("agi_version", AGI_VERSION.to_owned()),
            ("agi_callerid", or_unknown(&self.caller_num)),
            ("agi_calleridname", or_unknown(&self.caller_name)),
            ("agi_callingpres", "0".to_owned()),
            ("agi_callingani2", "0".to_owned()),
            ("agi_callington", "0".to_owned()),
            ("agi_callingtns", "0".to_owned()),
            ("agi_dnid", or_unknown(&self.dnid)),
            ("agi_rdnis", or_unknown(&self.rdnis)),
            ("agi_context", self.context.clone()),
            ("agi_extension", self.extension.clone()),
            ("agi_priority", self.priority.to_string()),
            ("agi_enhanced", "0.0".to_owned()),
            ("agi_accountcode", self.account_code.clone()),
            ("agi_threadid", self.thread_id.to_string()),
        ]
        .into_iter()
        .map(|(n, v)| (n.to_owned(), v))
        .collect();
        for (i, arg) in self.args.iter().enumerate() {
            pairs.push((format!("agi_arg_{}", i + 1), arg.clone()));
        }
        pairs
    }
}

/// Percent-encodes everything but unreserved characters (RFC 3986 §2.3), as Asterisk's
/// `ast_uri_encode` does for AsyncAGI.
pub fn url_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> AgiEnvironment {
        AgiEnvironment {
            request: "agi://127.0.0.1/hello?x=1".into(),
            channel: "PJSIP/6001-00000001".into(),
            language: "en".into(),
            channel_type: "PJSIP".into(),
            unique_id: "1700000000.1".into(),
            caller_num: "6001".into(),
            caller_name: String::new(),
            dnid: "8010".into(),
            rdnis: String::new(),
            context: "internal".into(),
            extension: "8010".into(),
            priority: 2,
            account_code: String::new(),
            thread_id: 7,
            args: vec!["one".into(), "two words".into()],
        }
    }

    #[test]
    fn renders_in_asterisk_order_ending_with_a_blank_line() {
        let text = env().render();
        let lines: Vec<&str> = text.split('\n').collect();
        assert_eq!(lines[0], "agi_request: agi://127.0.0.1/hello?x=1");
        assert_eq!(lines[1], "agi_channel: PJSIP/6001-00000001");
        assert!(lines.contains(&"agi_calleridname: unknown"));
        assert!(lines.contains(&"agi_rdnis: unknown"));
        assert!(lines.contains(&"agi_priority: 2"));
        assert!(lines.contains(&"agi_enhanced: 0.0"));
        assert!(lines.contains(&"agi_accountcode: "));
        assert_eq!(lines[lines.len() - 4], "agi_arg_1: one");
        assert_eq!(lines[lines.len() - 3], "agi_arg_2: two words");
        assert!(text.ends_with("two words\n\n"));
    }

    #[test]
    fn url_encoding_keeps_unreserved_characters_only() {
        assert_eq!(url_encode("agi_x: a/b\n"), "agi_x%3A%20a%2Fb%0A");
        assert!(env().url_encoded().ends_with("%0A%0A"));
    }
}
