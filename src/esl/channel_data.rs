//! The headers FreeSWITCH puts on every channel event and on the `connect` reply (sans-IO):
//! `Event-*` stamps, `Channel-*` state, `Unique-ID`, the caller profile as `Caller-*`
//! (its times in microseconds since the epoch, 0 when it has not happened) and the
//! channel's variables as `variable_NAME`, built from what the PBX knows of the channel.

use crate::channel::ChannelState;

/// The core's identity, as `Core-UUID` and `FreeSWITCH-*` headers give it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Core {
    /// `Core-UUID`: this process's id.
    pub uuid: String,
    /// `FreeSWITCH-Hostname` and `-Switchname`.
    pub hostname: String,
}

/// Where a channel is in its life, as FreeSWITCH's channel states name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Created, not answered (`CS_EXECUTE`, call state RINGING or EARLY).
    Ringing,
    /// Answered (`CS_EXECUTE`, ACTIVE).
    Active,
    /// Hung up (`CS_HANGUP`, HANGUP).
    Hangup,
    /// Gone (`CS_REPORTING`): the last events of a channel.
    Reported,
}

/// What the headers are built from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelFacts {
    /// `Unique-ID`.
    pub uuid: String,
    /// `Channel-Name`.
    pub name: String,
    /// The PBX's own channel state.
    pub state: ChannelState,
    /// Whether it has hung up or is gone.
    pub phase: Phase,
    /// `Caller-Caller-ID-Number`.
    pub caller_number: String,
    /// `Caller-Caller-ID-Name`.
    pub caller_name: String,
    /// `Caller-Destination-Number`.
    pub destination: String,
    /// `Caller-Context`.
    pub context: String,
    /// Microseconds since the epoch: created, answered, hung up (0: not yet).
    pub times: Times,
    /// The channel's variables (the `variable_*` headers), in order.
    pub variables: Vec<(String, String)>,
}

/// A channel's times, microseconds since the epoch (0: it did not happen).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Times {
    /// Created.
    pub created: u64,
    /// Answered.
    pub answered: u64,
    /// Hung up.
    pub hangup: u64,
}

impl ChannelFacts {
    /// The variables FreeSWITCH always has on a channel and clients read: `uuid`,
    /// `call_uuid`, `direction`, `channel_name`, `caller_id_*`, `destination_number`,
    /// `context`, before the channel's own.
    pub fn standard_variables(&self) -> Vec<(String, String)> {
        let mut vars: Vec<(String, String)> = [
            ("direction", "inbound"),
            ("uuid", self.uuid.as_str()),
            ("session_id", self.uuid.as_str()),
            ("call_uuid", self.uuid.as_str()),
            ("channel_name", self.name.as_str()),
            ("caller_id_number", self.caller_number.as_str()),
            ("caller_id_name", self.caller_name.as_str()),
            ("destination_number", self.destination.as_str()),
            ("context", self.context.as_str()),
        ]
        .into_iter()
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .collect();
        for (name, value) in &self.variables {
            match vars.iter_mut().find(|(n, _)| n == name) {
                Some((_, v)) => *v = value.clone(),
                None => vars.push((name.clone(), value.clone())),
            }
        }
        vars
    }

    /// The `Channel-*`, `Unique-ID`, `Caller-*` and `variable_*` headers.
    pub fn headers(&self) -> Vec<(String, String)> {
        let (state, number, call_state, answer_state) = match (self.phase, self.state) {
            (Phase::Hangup, _) => ("CS_HANGUP", 10, "HANGUP", "hangup"),
            (Phase::Reported, _) => ("CS_REPORTING", 11, "HANGUP", "hangup"),
            (_, ChannelState::Up) => ("CS_EXECUTE", 4, "ACTIVE", "answered"),
            (_, ChannelState::Ringing) => ("CS_EXECUTE", 4, "EARLY", "early"),
            _ => ("CS_EXECUTE", 4, "RINGING", "ringing"),
        };
        let mut out: Vec<(String, String)> = vec![
            ("Channel-State", state.to_owned()),
            ("Channel-Call-State", call_state.to_owned()),
            ("Channel-State-Number", number.to_string()),
            ("Channel-Name", self.name.clone()),
            ("Unique-ID", self.uuid.clone()),
            ("Call-Direction", "inbound".to_owned()),
            ("Presence-Call-Direction", "inbound".to_owned()),
            ("Channel-HIT-Dialplan", "true".to_owned()),
            ("Channel-Call-UUID", self.uuid.clone()),
            ("Answer-State", answer_state.to_owned()),
            ("Caller-Direction", "inbound".to_owned()),
            ("Caller-Logical-Direction", "inbound".to_owned()),
            ("Caller-Username", self.caller_number.clone()),
            ("Caller-Dialplan", "XML".to_owned()),
            ("Caller-Caller-ID-Name", self.caller_name.clone()),
            ("Caller-Caller-ID-Number", self.caller_number.clone()),
            ("Caller-Orig-Caller-ID-Name", self.caller_name.clone()),
            ("Caller-Orig-Caller-ID-Number", self.caller_number.clone()),
            ("Caller-ANI", self.caller_number.clone()),
            ("Caller-Destination-Number", self.destination.clone()),
            ("Caller-Unique-ID", self.uuid.clone()),
            ("Caller-Source", "mod_sofia".to_owned()),
            ("Caller-Context", self.context.clone()),
            ("Caller-Channel-Name", self.name.clone()),
            ("Caller-Profile-Index", "1".to_owned()),
            (
                "Caller-Profile-Created-Time",
                self.times.created.to_string(),
            ),
            (
                "Caller-Channel-Created-Time",
                self.times.created.to_string(),
            ),
            (
                "Caller-Channel-Answered-Time",
                self.times.answered.to_string(),
            ),
            ("Caller-Channel-Progress-Time", "0".to_owned()),
            ("Caller-Channel-Progress-Media-Time", "0".to_owned()),
            ("Caller-Channel-Hangup-Time", self.times.hangup.to_string()),
            ("Caller-Channel-Transfer-Time", "0".to_owned()),
            ("Caller-Channel-Resurrect-Time", "0".to_owned()),
            ("Caller-Channel-Bridged-Time", "0".to_owned()),
            ("Caller-Channel-Last-Hold", "0".to_owned()),
            ("Caller-Channel-Hold-Accum", "0".to_owned()),
            ("Caller-Screen-Bit", "true".to_owned()),
            ("Caller-Privacy-Hide-Name", "false".to_owned()),
            ("Caller-Privacy-Hide-Number", "false".to_owned()),
        ]
        .into_iter()
        .map(|(n, v)| (n.to_owned(), v))
        .collect();
        for (name, value) in self.standard_variables() {
            if !value.is_empty() {
                out.push((format!("variable_{name}"), value));
            }
        }
        out
    }
}

/// The `Event-*` and core headers every event starts with, after `Event-Name`.
pub fn stamp_headers(core: &Core, now_micros: u64, sequence: u64) -> Vec<(String, String)> {
    let wall = std::time::UNIX_EPOCH + std::time::Duration::from_micros(now_micros);
    let iso = crate::events::iso8601(wall);
    let local = iso.get(..19).unwrap_or(&iso).replace('T', " ");
    vec![
        ("Core-UUID".to_owned(), core.uuid.clone()),
        ("FreeSWITCH-Hostname".to_owned(), core.hostname.clone()),
        ("FreeSWITCH-Switchname".to_owned(), core.hostname.clone()),
        ("FreeSWITCH-IPv4".to_owned(), "127.0.0.1".to_owned()),
        ("Event-Date-Local".to_owned(), local),
        ("Event-Date-Timestamp".to_owned(), now_micros.to_string()),
        ("Event-Calling-File".to_owned(), "pbx".to_owned()),
        ("Event-Sequence".to_owned(), sequence.to_string()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> ChannelFacts {
        ChannelFacts {
            uuid: "1700000000.1".into(),
            name: "PJSIP/provider-00000000".into(),
            state: ChannelState::Up,
            phase: Phase::Active,
            caller_number: "15551230000".into(),
            caller_name: "Alice".into(),
            destination: "15550001111".into(),
            context: "from-trunk".into(),
            times: Times {
                created: 1_700_000_000_000_000,
                answered: 1_700_000_001_000_000,
                hangup: 0,
            },
            variables: vec![
                ("tts_engine".into(), "flite".into()),
                ("caller_id_name".into(), "A".into()),
            ],
        }
    }

    #[test]
    fn the_header_set_carries_the_profile_and_variables() {
        let headers = facts().headers();
        let get = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
                .unwrap_or_else(|| panic!("no {name}"))
        };
        assert_eq!(get("Channel-Call-State"), "ACTIVE");
        assert_eq!(get("Answer-State"), "answered");
        assert_eq!(get("Unique-ID"), "1700000000.1");
        assert_eq!(get("Caller-Caller-ID-Number"), "15551230000");
        assert_eq!(get("Caller-Destination-Number"), "15550001111");
        assert_eq!(get("Caller-Channel-Answered-Time"), "1700000001000000");
        assert_eq!(get("variable_call_uuid"), "1700000000.1");
        assert_eq!(get("variable_caller_id_number"), "15551230000");
        assert_eq!(get("variable_destination_number"), "15550001111");
        assert_eq!(get("variable_tts_engine"), "flite");
        assert_eq!(get("variable_caller_id_name"), "A");
    }

    #[test]
    fn a_hung_up_channel_says_so() {
        let mut f = facts();
        f.phase = Phase::Hangup;
        let headers = f.headers();
        assert!(headers.contains(&("Channel-State".into(), "CS_HANGUP".into())));
        assert!(headers.contains(&("Answer-State".into(), "hangup".into())));
    }

    #[test]
    fn stamps_name_the_core_and_the_time() {
        let core = Core {
            uuid: "c".into(),
            hostname: "h".into(),
        };
        let stamps = stamp_headers(&core, 1_700_000_000_000_000, 7);
        assert!(stamps.contains(&("Event-Date-Local".into(), "2023-11-14 22:13:20".into())));
        assert!(stamps.contains(&("Event-Sequence".into(), "7".into())));
    }
}
