//! The answers that describe the PBX (sans-IO): CoreSettings and CoreStatus as single
//! responses, and CoreShowChannels and Status as event lists.
//!
//! An event list is Asterisk's way of answering with many items: a `Response: Success` with
//! `EventList: start` and a `Message: ... will follow`, one event per item, then an
//! `<Name>Complete` event with `EventList: Complete` and `ListItems: N`. Every message of
//! the list carries the action's `ActionID`, which is how clients (panoramisk among them)
//! gather the list and know it ended.
//!
//! CoreStatus's dates and times are UTC (the PBX keeps no time zone database).

use std::time::SystemTime;

use super::class::Class;
use super::fields::{self, Side};
use super::message::Message;
use super::session::AMI_VERSION;
use crate::channel::ChannelSnapshot;
use crate::events::{iso8601, BridgeSnapshot};

/// What CoreStatus reports.
#[derive(Debug, Clone, Copy)]
pub struct CoreFacts {
    /// When the PBX started.
    pub started: SystemTime,
    /// When the dialplan was last (re)loaded.
    pub reloaded: SystemTime,
    /// Calls in progress.
    pub current_calls: usize,
}

fn date_and_time(time: SystemTime) -> (String, String) {
    let text = iso8601(time);
    let (date, rest) = text.split_once('T').unwrap_or((&text, ""));
    (date.to_string(), rest.get(..8).unwrap_or(rest).to_string())
}

/// CoreSettings.
pub fn core_settings(action_id: Option<&str>) -> Message {
    Message::response("Success", action_id)
        .with("AMIversion", AMI_VERSION)
        .with(
            "AsteriskVersion",
            concat!("pbx-", env!("CARGO_PKG_VERSION")),
        )
        .with("SystemName", "")
        .with("CoreMaxCalls", "0")
        .with("CoreMaxLoadAvg", "0.000000")
        .with("CoreRunUser", "")
        .with("CoreRunGroup", "")
        .with("CoreMaxFilehandles", "0")
        .with("CoreRealTimeEnabled", "No")
        .with("CoreCDRenabled", "No")
        .with("CoreHTTPenabled", "Yes")
        .with("SoundsSearchCustomDir", "No")
}

/// CoreStatus.
pub fn core_status(facts: CoreFacts, action_id: Option<&str>) -> Message {
    let (start_date, start_time) = date_and_time(facts.started);
    let (reload_date, reload_time) = date_and_time(facts.reloaded);
    Message::response("Success", action_id)
        .with("CoreStartupDate", start_date)
        .with("CoreStartupTime", start_time)
        .with("CoreReloadDate", reload_date)
        .with("CoreReloadTime", reload_time)
        .with("CoreCurrentCalls", facts.current_calls.to_string())
}

fn bridge_of<'a>(channel: &ChannelSnapshot, bridges: &'a [BridgeSnapshot]) -> &'a str {
    bridges
        .iter()
        .find(|b| b.channels.contains(&channel.id))
        .map_or("", |b| b.id.as_str())
}

pub(super) fn list(
    action_id: Option<&str>,
    will_follow: &str,
    items: impl Iterator<Item = Message>,
    complete: &str,
) -> Vec<Message> {
    let mut out = vec![Message::response("Success", action_id)
        .with("EventList", "start")
        .with("Message", will_follow)];
    out.extend(items);
    let count = (out.len() - 1).to_string();
    out.push(
        Message::event(complete)
            .with_action_id(action_id)
            .with("EventList", "Complete")
            .with("ListItems", count),
    );
    out
}

/// DBGet's answer: a `DBGetResponse` event in a list ended by `DBGetComplete`.
pub fn db_get(family: &str, key: &str, value: &str, action_id: Option<&str>) -> Vec<Message> {
    let item = Message::event("DBGetResponse")
        .with("Family", family)
        .with("Key", key)
        .with("Val", value)
        .with_action_id(action_id);
    list(
        action_id,
        "Result will follow",
        std::iter::once(item),
        "DBGetComplete",
    )
}

/// DBGetTree's answer: a `DBGetTreeResponse` per entry (`Key: /family/key`), then
/// `DBGetTreeComplete`.
pub fn db_get_tree(entries: &[(String, String)], action_id: Option<&str>) -> Vec<Message> {
    let items = entries.iter().map(|(key, value)| {
        Message::event("DBGetTreeResponse")
            .with("Key", format!("/{key}"))
            .with("Val", value.as_str())
            .with_action_id(action_id)
    });
    list(action_id, "Result will follow", items, "DBGetTreeComplete")
}

/// One endpoint as PJSIPShowEndpoints lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointItem {
    /// The endpoint's (and its AOR's) name.
    pub name: String,
    /// Its registered contact URIs.
    pub contacts: Vec<String>,
    /// Its live channels.
    pub active_channels: usize,
}

/// PJSIPShowEndpoints: an `EndpointList` event per endpoint; `None` when there is none
/// (answered with an error, as Asterisk does).
pub fn endpoint_list(endpoints: &[EndpointItem], action_id: Option<&str>) -> Option<Vec<Message>> {
    if endpoints.is_empty() {
        return None;
    }
    let items = endpoints.iter().map(|e| {
        let state = match (e.contacts.is_empty(), e.active_channels) {
            (true, _) => "Unavailable",
            (false, 0) => "Not in use",
            (false, _) => "In use",
        };
        let contacts: String = e
            .contacts
            .iter()
            .map(|uri| format!("{}/{uri},", e.name))
            .collect();
        Message::event("EndpointList")
            .with_action_id(action_id)
            .with("ObjectType", "endpoint")
            .with("ObjectName", e.name.clone())
            .with("Transport", "")
            .with("Aor", e.name.clone())
            .with("Auths", e.name.clone())
            .with("OutboundAuths", "")
            .with("Contacts", contacts)
            .with("DeviceState", state)
            .with("ActiveChannels", e.active_channels.to_string())
    });
    Some(list(
        action_id,
        "A listing of Endpoints follows, presented as EndpointList events",
        items,
        "EndpointListComplete",
    ))
}

/// ConfbridgeList: a `ConfbridgeList` event per member of conference `room`.
pub fn confbridge_list(
    room: &str,
    members: &[ChannelSnapshot],
    muted: &[bool],
    action_id: Option<&str>,
) -> Vec<Message> {
    let items = members.iter().zip(muted).map(|(c, muted)| {
        let mut m = Message::event("ConfbridgeList").with_action_id(action_id);
        fields::channel(&mut m, Side::Plain, c);
        m.push("Conference", room);
        for (flag, set) in [
            ("Admin", false),
            ("MarkedUser", false),
            ("WaitMarked", false),
            ("EndMarked", false),
            ("EndMarkedAny", false),
            ("Waiting", false),
            ("Muted", *muted),
            ("Talking", false),
        ] {
            m.push(flag, if set { "Yes" } else { "No" });
        }
        m.push("AnsweredTime", c.duration_secs.to_string());
        m
    });
    list(
        action_id,
        "Confbridge user list will follow",
        items,
        "ConfbridgeListComplete",
    )
}

/// BridgeList: a `BridgeListItem` event per bridge, of technology `technology` if given.
pub fn bridge_list(
    bridges: &[BridgeSnapshot],
    technology: Option<&str>,
    action_id: Option<&str>,
) -> Vec<Message> {
    let items = bridges
        .iter()
        .filter(|b| technology.is_none_or(|t| fields::bridge_kind(&b.bridge_type).1 == t))
        .map(|b| {
            let mut m = Message::event("BridgeListItem").with_action_id(action_id);
            fields::bridge(&mut m, b);
            m
        });
    list(
        action_id,
        "Bridge listing will follow",
        items,
        "BridgeListComplete",
    )
}

/// BridgeInfo: a `BridgeInfoChannel` event per member, then `BridgeInfoComplete` carrying
/// the bridge's own fields.
pub fn bridge_info(
    bridge: &BridgeSnapshot,
    members: &[ChannelSnapshot],
    action_id: Option<&str>,
) -> Vec<Message> {
    let items = members.iter().map(|c| {
        let mut m = Message::event("BridgeInfoChannel").with_action_id(action_id);
        fields::channel(&mut m, Side::Plain, c);
        m
    });
    let mut out = list(
        action_id,
        "Bridge channel listing will follow",
        items,
        "BridgeInfoComplete",
    );
    if let Some(complete) = out.last_mut() {
        fields::bridge(complete, bridge);
    }
    out
}

/// CoreShowChannels: a `CoreShowChannel` event per channel.
pub fn core_show_channels(
    channels: &[ChannelSnapshot],
    bridges: &[BridgeSnapshot],
    action_id: Option<&str>,
) -> Vec<Message> {
    let items = channels.iter().map(|c| {
        let mut m = Message::event("CoreShowChannel").with_action_id(action_id);
        fields::channel(&mut m, Side::Plain, c);
        m.push("Application", c.dialplan.app_name.clone());
        m.push("ApplicationData", c.dialplan.app_data.clone());
        m.push("Duration", fields::hms(c.duration_secs));
        m.push("BridgeId", bridge_of(c, bridges).to_string());
        m
    });
    list(
        action_id,
        "Channels will follow",
        items,
        "CoreShowChannelsComplete",
    )
}

/// Status: a `Status` event per channel.
pub fn status(
    channels: &[ChannelSnapshot],
    bridges: &[BridgeSnapshot],
    action_id: Option<&str>,
) -> Vec<Message> {
    let items = channels.iter().map(|c| {
        let mut m = Message::event("Status")
            .with("Privilege", Class::Call.privilege())
            .with_action_id(action_id);
        fields::channel(&mut m, Side::Plain, c);
        let format = fields::format_name(c.codec.as_deref());
        m.push("Type", "PJSIP");
        m.push("DNID", c.dialplan.exten.clone());
        m.push("EffectiveConnectedLineNum", "<unknown>");
        m.push("EffectiveConnectedLineName", "<unknown>");
        m.push("TimeToHangup", "0");
        m.push("BridgeID", bridge_of(c, bridges).to_string());
        m.push("Application", c.dialplan.app_name.clone());
        m.push("Data", c.dialplan.app_data.clone());
        m.push("Nativeformats", format!("({format})"));
        m.push("Readformat", format);
        m.push("Readtrans", "");
        m.push("Writeformat", format);
        m.push("Writetrans", "");
        m.push("Callgroup", "0");
        m.push("Pickupgroup", "0");
        m.push("Seconds", c.duration_secs.to_string());
        m
    });
    let mut out = list(
        action_id,
        "Channel status will follow",
        items,
        "StatusComplete",
    );
    if let Some(last) = out.last_mut() {
        let items = last.get("ListItems").unwrap_or("0").to_string();
        last.push("Items", items);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ami::fields::tests::snapshot;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn endpoints_list_with_contacts_and_device_state() {
        let endpoints = [
            EndpointItem {
                name: "6001".into(),
                contacts: vec!["sip:6001@127.0.0.1:5062".into()],
                active_channels: 1,
            },
            EndpointItem {
                name: "6002".into(),
                contacts: vec![],
                active_channels: 0,
            },
        ];
        let listed = endpoint_list(&endpoints, None).unwrap();
        assert_eq!(listed.len(), 4);
        assert_eq!(
            listed[1].get("Contacts"),
            Some("6001/sip:6001@127.0.0.1:5062,")
        );
        assert_eq!(listed[1].get("DeviceState"), Some("In use"));
        assert_eq!(listed[2].get("DeviceState"), Some("Unavailable"));
        assert_eq!(listed[3].get("Event"), Some("EndpointListComplete"));
        assert!(endpoint_list(&[], None).is_none());
    }

    #[test]
    fn bridge_list_filters_by_technology_and_bridge_info_lists_members() {
        let bridge = |id: &str, kind: &str| BridgeSnapshot {
            id: id.into(),
            bridge_type: kind.into(),
            name: "8002".into(),
            channels: vec![snapshot().id],
            creationtime: String::new(),
        };
        let bridges = [bridge("b-1", "mixing"), bridge("b-2", "simple")];
        let all = bridge_list(&bridges, None, Some("x"));
        assert_eq!(all.len(), 4);
        assert_eq!(all[0].get("Message"), Some("Bridge listing will follow"));
        assert_eq!(all[1].get("BridgeTechnology"), Some("softmix"));
        assert_eq!(all[3].get("ListItems"), Some("2"));
        let mixing = bridge_list(&bridges, Some("softmix"), None);
        assert_eq!(mixing.len(), 3);
        assert_eq!(mixing[1].get("BridgeUniqueid"), Some("b-1"));
        let info = bridge_info(&bridges[0], &[snapshot()], Some("y"));
        assert_eq!(info[1].get("Event"), Some("BridgeInfoChannel"));
        assert_eq!(info[1].get("Channel"), Some("PJSIP/6001-00000003"));
        assert_eq!(info[2].get("Event"), Some("BridgeInfoComplete"));
        assert_eq!(info[2].get("BridgeUniqueid"), Some("b-1"));
        assert_eq!(info[2].get("ActionID"), Some("y"));
    }

    #[test]
    fn core_show_channels_is_an_event_list_with_the_action_id_everywhere() {
        let bridge = BridgeSnapshot {
            id: "b-1".into(),
            bridge_type: "simple".into(),
            name: String::new(),
            channels: vec![snapshot().id],
            creationtime: String::new(),
        };
        let out = core_show_channels(&[snapshot()], &[bridge], Some("a1"));
        assert_eq!(out.len(), 3);
        assert_eq!(
            out[0].render(),
            b"Response: Success\r\nActionID: a1\r\nEventList: start\r\nMessage: Channels will follow\r\n\r\n"
        );
        assert_eq!(out[1].get("Event"), Some("CoreShowChannel"));
        assert_eq!(out[1].headers()[1].1, "a1");
        assert_eq!(out[1].get("Duration"), Some("00:01:05"));
        assert_eq!(out[1].get("BridgeId"), Some("b-1"));
        assert_eq!(
            out[2].render(),
            b"Event: CoreShowChannelsComplete\r\nActionID: a1\r\nEventList: Complete\r\nListItems: 1\r\n\r\n"
        );
    }

    #[test]
    fn an_empty_status_list_still_starts_and_completes() {
        let out = status(&[], &[], None);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].get("Message"), Some("Channel status will follow"));
        assert_eq!(out[1].get("Event"), Some("StatusComplete"));
        assert_eq!(out[1].get("ListItems"), Some("0"));
        assert_eq!(out[1].get("Items"), Some("0"));
    }

    #[test]
    fn core_status_writes_utc_dates_and_times() {
        let facts = CoreFacts {
            started: UNIX_EPOCH + Duration::from_secs(1_700_000_000),
            reloaded: UNIX_EPOCH + Duration::from_secs(1_700_000_060),
            current_calls: 2,
        };
        let m = core_status(facts, Some("s"));
        assert_eq!(m.get("CoreStartupDate"), Some("2023-11-14"));
        assert_eq!(m.get("CoreStartupTime"), Some("22:13:20"));
        assert_eq!(m.get("CoreReloadTime"), Some("22:14:20"));
        assert_eq!(m.get("CoreCurrentCalls"), Some("2"));
        assert_eq!(core_settings(None).get("AMIversion"), Some("9.0.0"));
    }
}
