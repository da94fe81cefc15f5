//! The event stream (`GET /api/events`, a WebSocket read here with tungstenite): a call's
//! channel life comes out in order with sequence numbers that only go up; a reader that
//! disconnects and reconnects with `?since=` receives every event it missed exactly once, in
//! order; a reader that fell behind the window is told how many events it lost; `pbx ctl
//! events --since` prints the same events as JSON lines.

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::events::{channel_of, count, EventStream};
use common::{call_as_6001, Pbx, PbxOptions, RtpPeer};

/// Calls 8000 (answer, hello world, hang up) as 6001 and checks SIPp saw it through.
fn call_8000(pbx: &Pbx) {
    let media = RtpPeer::start();
    let run = call_as_6001(pbx, "sipp/uac_call.xml", "8000", media.port, &["-m", "1"]);
    run.assert_succeeded(1, pbx);
}

fn types_of<'a>(events: &'a [serde_json::Value], channel: &str) -> Vec<&'a str> {
    events
        .iter()
        .filter(|e| {
            channel_of(e) == Some(channel)
                || e["playback"]["target_uri"] == format!("channel:{channel}")
        })
        .map(|e| e["type"].as_str().unwrap())
        .collect()
}

#[test]
fn a_calls_channel_life_is_published_in_order() {
    let pbx = Pbx::start();
    let mut stream = EventStream::connect(&pbx.api, None);
    call_8000(&pbx);
    assert!(
        stream.read_until(Duration::from_secs(10), |e| count(e, "ChannelDestroyed")
            == 1),
        "{:#?}",
        stream.received
    );
    let seqs = stream.seqs();
    assert!(!seqs.is_empty());
    assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "{seqs:?}");
    let created = &stream.received[0];
    assert_eq!(created["type"], "ChannelCreated", "{created}");
    let channel = channel_of(created).unwrap().to_string();
    assert!(channel.contains('.'), "id {channel} is not <epoch>.<n>");
    assert!(
        created["channel"]["name"]
            .as_str()
            .unwrap()
            .starts_with("PJSIP/6001-"),
        "{created}"
    );
    assert_eq!(created["channel"]["state"], "Ring");
    assert_eq!(created["channel"]["caller"]["number"], "6001");
    assert!(!created["channel"]["sip_call_id"]
        .as_str()
        .unwrap()
        .is_empty());
    assert_eq!(
        types_of(&stream.received, &channel),
        [
            "ChannelCreated",
            "ChannelDialplan",
            "ChannelStateChanged",
            "ChannelDialplan",
            "PlaybackStarted",
            "PlaybackFinished",
            "ChannelDialplan",
            "ChannelHangupRequest",
            "ChannelDestroyed",
        ]
    );
    let steps: Vec<(String, u64)> = stream
        .received
        .iter()
        .filter(|e| e["type"] == "ChannelDialplan")
        .map(|e| {
            let d = &e["channel"]["dialplan"];
            (
                format!(
                    "{}({})",
                    d["app_name"].as_str().unwrap(),
                    d["app_data"].as_str().unwrap()
                ),
                d["priority"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            ("Answer()".to_string(), 1),
            ("Playback(hello-world)".to_string(), 2),
            ("Hangup()".to_string(), 3)
        ]
    );
    let up = stream
        .received
        .iter()
        .find(|e| e["type"] == "ChannelStateChanged")
        .unwrap();
    assert_eq!(up["channel"]["state"], "Up");
    let finished = stream
        .received
        .iter()
        .find(|e| e["type"] == "PlaybackFinished")
        .unwrap();
    assert_eq!(finished["playback"]["state"], "done");
    assert_eq!(finished["playback"]["media_uri"][0], "sound:hello-world");
    let destroyed = stream.received.last().unwrap();
    assert_eq!(destroyed["cause"], 16, "{destroyed}");
    assert_eq!(destroyed["cause_txt"], "Normal Clearing");
    assert!(destroyed["timestamp"].as_str().unwrap().ends_with('Z'));
}

#[test]
fn a_reader_that_reconnects_with_since_gets_every_missed_event_once_in_order() {
    let pbx = Pbx::start();
    // The reference reads everything from the start without interruption.
    let mut reference = EventStream::connect(&pbx.api, Some(0));
    let mut reader = EventStream::connect(&pbx.api, None);
    call_8000(&pbx);
    assert!(
        reader.read_until(Duration::from_secs(10), |e| count(e, "ChannelDestroyed")
            == 1)
    );
    let seen = reader.last_seq();
    drop(reader);

    call_8000(&pbx);
    call_8000(&pbx);
    assert!(
        reference.read_until(Duration::from_secs(10), |e| count(e, "ChannelDestroyed")
            == 3)
    );
    let last = reference.last_seq();
    assert!(last > seen + 10, "too few events: {seen} then {last}");

    let mut again = EventStream::connect(&pbx.api, Some(seen));
    assert!(
        again.read_until(Duration::from_secs(10), |e| e
            .last()
            .is_some_and(|e| e["seq"] == last)),
        "caught up to {} of {last}",
        again.last_seq()
    );
    let expected: Vec<u64> = (seen + 1..=last).collect();
    assert_eq!(again.seqs(), expected);
    let reference_part: Vec<&serde_json::Value> = reference
        .received
        .iter()
        .filter(|e| e["seq"].as_u64().is_some_and(|s| s > seen))
        .collect();
    let replayed: Vec<&serde_json::Value> = again.received.iter().collect();
    assert_eq!(
        replayed, reference_part,
        "the replay differs from what happened"
    );
    assert_eq!(again.count("ChannelDestroyed"), 2);
}

#[test]
fn a_reader_behind_the_window_is_told_how_many_events_it_lost() {
    let pbx = Pbx::start_with(PbxOptions {
        extra_config: "[events]\nwindow = 8\n".into(),
        ..PbxOptions::default()
    });
    let mut live = EventStream::connect(&pbx.api, None);
    call_8000(&pbx);
    assert!(
        live.read_until(Duration::from_secs(10), |e| count(e, "ChannelDestroyed")
            == 1)
    );
    let last = live.last_seq();
    assert!(last > 8, "{last} events");

    let mut late = EventStream::connect(&pbx.api, Some(0));
    assert!(late.read_until(Duration::from_secs(5), |e| e.len() == 9));
    assert_eq!(
        late.received[0]["type"], "EventsLost",
        "{:?}",
        late.received
    );
    assert_eq!(late.received[0]["count"], last - 8);
    assert_eq!(late.seqs(), (last - 7..=last).collect::<Vec<u64>>());
}

#[test]
fn ctl_events_since_prints_the_replayed_events_as_json_lines() {
    let pbx = Pbx::start();
    call_8000(&pbx);
    let mut live = EventStream::connect(&pbx.api, Some(0));
    assert!(
        live.read_until(Duration::from_secs(10), |e| count(e, "ChannelDestroyed")
            == 1)
    );
    let mut ctl = Command::new(env!("CARGO_BIN_EXE_pbx"))
        .args(["ctl", "--api", &pbx.api, "events", "--since", "2"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = ctl.stdout.take().unwrap();
    let wanted = live.received.len() - 2;
    let reader = std::thread::spawn(move || {
        use std::io::BufRead;
        std::io::BufReader::new(stdout)
            .lines()
            .take(wanted)
            .map(|l| serde_json::from_str::<serde_json::Value>(&l.unwrap()).unwrap())
            .collect::<Vec<_>>()
    });
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !reader.is_finished() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = ctl.kill();
    let _ = ctl.wait();
    let lines = reader.join().unwrap();
    assert_eq!(lines.as_slice(), &live.received[2..]);
}
