//! The CLI commands AMI's `Command` action runs, sans-IO: a command line is read into a
//! [`CliCommand`], and the output lines are rendered from the facts the caller gathers, in the
//! shape Asterisk's CLI prints them (tools scrape them: `core show channels concise` is `!`
//! separated, `database show` is `/family/key : value`).

use std::time::Duration;

use crate::channel::ChannelSnapshot;

/// A CLI command pbx carries out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CliCommand {
    /// `core show version`.
    CoreShowVersion,
    /// `core show uptime [seconds]`.
    CoreShowUptime {
        /// Plain seconds instead of words.
        seconds: bool,
    },
    /// `core show channels [concise|count]`.
    CoreShowChannels {
        /// What to print.
        format: ChannelsFormat,
    },
    /// `dialplan reload`.
    DialplanReload,
    /// `database show [family]`.
    DatabaseShow {
        /// Only this family (or `family/subkey` prefix).
        family: Option<String>,
    },
    /// `database get FAMILY KEY`.
    DatabaseGet {
        /// The family.
        family: String,
        /// The key.
        key: String,
    },
    /// `database put FAMILY KEY VALUE`.
    DatabasePut {
        /// The family.
        family: String,
        /// The key.
        key: String,
        /// The value.
        value: String,
    },
    /// `database del FAMILY KEY`.
    DatabaseDel {
        /// The family.
        family: String,
        /// The key.
        key: String,
    },
}

/// How `core show channels` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelsFormat {
    /// The table with the counts under it.
    Table,
    /// One `!`-separated line per channel.
    Concise,
    /// The counts only.
    Count,
}

/// The CLI's answer to a command it does not know (the AMI response is then an error).
pub fn no_such_command(line: &str) -> String {
    format!("No such command '{line}' (type 'core show help {line}' for other possible commands)")
}

impl CliCommand {
    /// Reads `line` (words separated by blanks, any case for the command words); the CLI's
    /// error text when pbx does not know it.
    pub fn parse(line: &str) -> Result<CliCommand, String> {
        let words: Vec<&str> = line.split_whitespace().collect();
        let lower: Vec<String> = words.iter().map(|w| w.to_ascii_lowercase()).collect();
        let lower: Vec<&str> = lower.iter().map(String::as_str).collect();
        let owned = |n: usize| words[n].to_owned();
        Ok(match lower.as_slice() {
            ["core", "show", "version"] => CliCommand::CoreShowVersion,
            ["core", "show", "uptime"] => CliCommand::CoreShowUptime { seconds: false },
            ["core", "show", "uptime", "seconds"] => CliCommand::CoreShowUptime { seconds: true },
            ["core", "show", "channels"] => CliCommand::CoreShowChannels {
                format: ChannelsFormat::Table,
            },
            ["core", "show", "channels", "concise"] => CliCommand::CoreShowChannels {
                format: ChannelsFormat::Concise,
            },
            ["core", "show", "channels", "count"] => CliCommand::CoreShowChannels {
                format: ChannelsFormat::Count,
            },
            ["dialplan", "reload"] => CliCommand::DialplanReload,
            ["database", "show"] => CliCommand::DatabaseShow { family: None },
            ["database", "show", _] => CliCommand::DatabaseShow {
                family: Some(owned(2)),
            },
            ["database", "get", _, _] => CliCommand::DatabaseGet {
                family: owned(2),
                key: owned(3),
            },
            ["database", "put", _, _, _, ..] => CliCommand::DatabasePut {
                family: owned(2),
                key: owned(3),
                value: words[4..].join(" "),
            },
            ["database", "del", _, _] => CliCommand::DatabaseDel {
                family: owned(2),
                key: owned(3),
            },
            _ => return Err(no_such_command(line.trim())),
        })
    }
}

/// `core show version`.
pub fn version_line() -> String {
    concat!(
        "Asterisk pbx-",
        env!("CARGO_PKG_VERSION"),
        " (pbx, a Rust PBX)"
    )
    .to_owned()
}

/// `d` in the CLI's words: `1 hour, 2 minutes, 3 seconds`.
fn in_words(d: Duration) -> String {
    let total = d.as_secs();
    let parts = [
        (total / 86_400, "day"),
        (total / 3_600 % 24, "hour"),
        (total / 60 % 60, "minute"),
        (total % 60, "second"),
    ];
    let words: Vec<String> = parts
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, unit)| format!("{n} {unit}{}", if *n == 1 { "" } else { "s" }))
        .collect();
    if words.is_empty() {
        "0 seconds".into()
    } else {
        words.join(", ")
    }
}

/// `core show uptime [seconds]`: since start and since the last reload.
pub fn uptime_lines(up: Duration, since_reload: Duration, seconds: bool) -> Vec<String> {
    let show = |d: Duration| match seconds {
        true => d.as_secs().to_string(),
        false => in_words(d),
    };
    vec![
        format!("System uptime: {}", show(up)),
        format!("Last reload: {}", show(since_reload)),
    ]
}

fn counted(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

/// `core show channels [concise|count]`: `calls` calls up now, `processed` since start.
pub fn channel_lines(
    channels: &[ChannelSnapshot],
    bridge_of: impl Fn(&ChannelSnapshot) -> Option<String>,
    calls: usize,
    processed: u64,
    format: ChannelsFormat,
) -> Vec<String> {
    let application = |c: &ChannelSnapshot| {
        let app = &c.dialplan.app_name;
        match app.is_empty() {
            true => "(None)".to_owned(),
            false => format!("{app}({})", c.dialplan.app_data),
        }
    };
    let mut lines = Vec::new();
    match format {
        ChannelsFormat::Concise => {
            for c in channels {
                let d = &c.dialplan;
                lines.push(format!(
                    "{}!{}!{}!{}!{}!{}!{}!{}!!!3!{}!{}!{}",
                    c.name,
                    d.context,
                    d.exten,
                    d.priority,
                    c.state.as_str(),
                    d.app_name,
                    d.app_data,
                    c.caller.number,
                    c.duration_secs,
                    bridge_of(c).unwrap_or_else(|| "(None)".into()),
                    c.id
                ));
            }
            return lines;
        }
        ChannelsFormat::Table => {
            lines.push(format!(
                "{:<64} {:<32} {:<7} {}",
                "Channel", "Location", "State", "Application(Data)"
            ));
            for c in channels {
                let d = &c.dialplan;
                let location = format!("{}@{}:{}", d.exten, d.context, d.priority);
                lines.push(format!(
                    "{:<64} {:<32} {:<7} {}",
                    c.name,
                    location,
                    c.state.as_str(),
                    application(c)
                ));
            }
        }
        ChannelsFormat::Count => {}
    }
    lines.push(counted(channels.len(), "active channel"));
    lines.push(counted(calls, "active call"));
    lines.push(format!(
        "{processed} call{} processed",
        if processed == 1 { "" } else { "s" }
    ));
    lines
}

/// `database show`: `/family/key : value` lines and the count.
pub fn database_lines(entries: &[(String, String)]) -> Vec<String> {
    let mut lines: Vec<String> = entries
        .iter()
        .map(|(key, value)| format!("/{key:<50}: {value}"))
        .collect();
    lines.push(format!(
        "{} result{} found.",
        entries.len(),
        if entries.len() == 1 { "" } else { "s" }
    ));
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_read_in_any_case_and_unknown_ones_get_the_cli_error() {
        assert_eq!(
            CliCommand::parse("Core Show Channels concise"),
            Ok(CliCommand::CoreShowChannels {
                format: ChannelsFormat::Concise
            })
        );
        assert_eq!(
            CliCommand::parse("database put cidname 6001 Alice Smith"),
            Ok(CliCommand::DatabasePut {
                family: "cidname".into(),
                key: "6001".into(),
                value: "Alice Smith".into()
            })
        );
        assert_eq!(
            CliCommand::parse(" sip  show peers "),
            Err("No such command 'sip  show peers' (type 'core show help sip  show peers' for other possible commands)".into())
        );
    }

    #[test]
    fn uptime_reads_in_words_or_seconds() {
        let up = Duration::from_secs(3_723);
        assert_eq!(
            uptime_lines(up, Duration::from_secs(61), false),
            [
                "System uptime: 1 hour, 2 minutes, 3 seconds",
                "Last reload: 1 minute, 1 second"
            ]
        );
        assert_eq!(
            uptime_lines(up, Duration::ZERO, true),
            ["System uptime: 3723", "Last reload: 0"]
        );
    }

    #[test]
    fn channels_print_as_a_table_concisely_or_counted() {
        let channel = crate::ami::fields::tests::snapshot();
        let table = channel_lines(
            std::slice::from_ref(&channel),
            |_| None,
            1,
            7,
            ChannelsFormat::Table,
        );
        assert!(table[0].starts_with("Channel ") && table[0].ends_with("Application(Data)"));
        assert!(table[1].starts_with(&channel.name), "{table:?}");
        assert_eq!(
            &table[2..],
            ["1 active channel", "1 active call", "7 calls processed"]
        );
        let concise = channel_lines(
            std::slice::from_ref(&channel),
            |_| Some("b1".into()),
            1,
            7,
            ChannelsFormat::Concise,
        );
        let fields: Vec<&str> = concise[0].split('!').collect();
        assert_eq!(fields.len(), 14, "{concise:?}");
        assert_eq!(
            (fields[0], fields[12], fields[13]),
            (channel.name.as_str(), "b1", channel.id.0.as_str())
        );
        let count = channel_lines(&[], |_| None, 0, 1, ChannelsFormat::Count);
        assert_eq!(
            count,
            ["0 active channels", "0 active calls", "1 call processed"]
        );
    }

    #[test]
    fn the_database_lists_keys_and_counts_them() {
        let lines = database_lines(&[("cidname/6001".into(), "Alice".into())]);
        assert!(lines[0].starts_with("/cidname/6001 ") && lines[0].ends_with(": Alice"));
        assert_eq!(lines[1], "1 result found.");
    }
}
