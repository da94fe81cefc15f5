//! `[node] name`: a node of a cluster names itself in every event (`node`), in its channel
//! ids (`NAME-<epoch>.<n>`) and in every log line (the `node` span), so the streams of
//! several nodes can be merged; a single box (no name) has none of these.

mod common;

use std::time::Duration;

use common::events::EventStream;
use common::{call_as_6001, Pbx, PbxOptions, RtpPeer};

#[test]
fn a_named_node_names_itself_in_events_channel_ids_and_logs() {
    let pbx = Pbx::start_with(PbxOptions {
        extra_config: "[node]\nname = \"edge-1\"\n".into(),
        ..PbxOptions::default()
    });
    let mut events = EventStream::connect(&pbx.api, None);
    let media = RtpPeer::start();
    let run = call_as_6001(&pbx, "sipp/uac_call.xml", "8000", media.port, &["-m", "1"]);
    run.assert_succeeded(1, &pbx);
    assert!(
        events.read_until(Duration::from_secs(5), |e| e
            .iter()
            .any(|e| e["type"] == "ChannelDestroyed")),
        "{:?}",
        events.received
    );
    for event in &events.received {
        assert_eq!(event["node"], "edge-1", "{event}");
    }
    let created = events
        .received
        .iter()
        .find(|e| e["type"] == "ChannelCreated")
        .expect("a ChannelCreated event");
    let id = created["channel"]["id"].as_str().unwrap();
    assert!(id.starts_with("edge-1-"), "channel id {id}");
    let log = pbx.log();
    let call_lines: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("pbx::call::task"))
        .collect();
    assert!(!call_lines.is_empty(), "no call log lines:\n{log}");
    for line in log.lines().filter(|l| l.contains(" pbx::")) {
        assert!(
            line.contains("node{node=edge-1}"),
            "a log line without the node: {line}"
        );
    }
}
