//! Channels handed to an outside application (`Stasis(demo)` at 8003) and driven through the
//! admin API, with the event stream and the callers' audio as the oracles:
//! - one SIPp caller is rung, put in early media, answered, played two queued playbacks
//!   (paused, resumed, stopped), then continued to 8000, where it hears hello world;
//! - two callers sending different tones are put in a mixing bridge the application created
//!   (each hears the other's tone), moved to a holding bridge (neither hears a tone), and stay
//!   up when that bridge is destroyed, until the application hangs them up.
//!
//! Some of the commands go through `pbx ctl` (answer, play, playback, bridge), the rest
//! through the API directly. `Stasis(demo)` needs application `demo` registered: each test
//! holds an ARI WebSocket for it ([`hold_app`]), as an ARI application would.

mod common;

use std::time::{Duration, Instant};

use common::ari::{hold_app, ARI_USER};
use common::events::EventStream;
use common::{
    call_as_6001, tone_power, ulaw_samples, wait_until, Pbx, PbxOptions, RtpPeer, SippRun,
    ToneStream,
};
use serde_json::{json, Value};

/// Goertzel power (see `tone_power`) a tone heard at about -12 dBFS reaches easily; an absent
/// tone stays orders of magnitude below.
const HEARD: f64 = 1e-3;

/// A pbx with the ARI account of [`hold_app`].
fn start() -> Pbx {
    Pbx::start_with(PbxOptions {
        extra_config: ARI_USER.into(),
        ..PbxOptions::default()
    })
}

/// Waits for the `StasisStart` of application `demo` for a channel not in `known`; its id.
fn next_stasis_start(events: &mut EventStream, known: &[String]) -> String {
    let found = events.read_until(Duration::from_secs(10), |received| {
        received.iter().any(|e| is_new_start(e, known))
    });
    assert!(found, "no StasisStart: {:?}", events.received);
    let start = events
        .received
        .iter()
        .find(|e| is_new_start(e, known))
        .unwrap();
    start["channel"]["id"].as_str().unwrap().to_string()
}

fn is_new_start(event: &Value, known: &[String]) -> bool {
    event["type"] == "StasisStart"
        && event["application"] == "demo"
        && event["channel"]["id"]
            .as_str()
            .is_some_and(|id| !known.iter().any(|k| k == id))
}

/// Runs `pbx ctl ARGS`, which must succeed; its output.
fn ctl(pbx: &Pbx, args: &[&str]) -> String {
    let out = pbx.ctl(args);
    assert!(out.status.success(), "pbx ctl {args:?}: {out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn post(pbx: &Pbx, path: &str, body: Value) -> Value {
    pbx.post(path, body)
        .unwrap_or_else(|e| panic!("POST {path}: {e}\n{}", pbx.log()))
}

/// The power of `freq` in the mu-law audio `peer` received between `from` and `to`.
fn heard_power(peer: &RtpPeer, from: Instant, to: Instant, freq: f64) -> f64 {
    let payload: Vec<u8> = peer
        .packets()
        .iter()
        .filter(|p| p.payload_type == 0 && p.at >= from && p.at < to)
        .flat_map(|p| p.payload.iter().copied())
        .collect();
    let samples = ulaw_samples(&payload);
    assert!(
        samples.len() >= 8_000,
        "only {} samples heard between the marks",
        samples.len()
    );
    tone_power(&samples, 8_000, freq)
}

#[test]
fn an_application_rings_answers_plays_and_lets_a_channel_go() {
    let pbx = start();
    let _demo = hold_app(&pbx, "demo");
    let mut events = EventStream::connect(&pbx.api, None);
    let media = RtpPeer::start();
    let run = std::thread::scope(|s| {
        let caller =
            s.spawn(|| call_as_6001(&pbx, "sipp/uac_call.xml", "8003", media.port, &["-m", "1"]));
        let channel = next_stasis_start(&mut events, &[]);
        let path = |what: &str| format!("/api/channels/{channel}/{what}");
        assert!(
            pbx.post("/api/playbacks/none/control", json!({"operation": "pause"}))
                .unwrap_err()
                .starts_with("404"),
            "an unknown playback is not found"
        );
        post(&pbx, &path("ring"), json!({}));
        post(&pbx, &path("progress"), json!({}));
        assert_eq!(
            ctl(&pbx, &["answer", &channel]),
            format!("channel {channel} answered\n")
        );
        events.expect("the channel up", |e| {
            e["type"] == "ChannelStateChanged"
                && e["channel"]["id"] == channel.as_str()
                && e["channel"]["state"] == "Up"
        });
        let missing = pbx.post(&path("play"), json!({"media": ["sound:no-such-sound"]}));
        assert!(missing.unwrap_err().starts_with("409"), "unknown media");

        assert_eq!(
            ctl(
                &pbx,
                &["play", &channel, "sound:hello-world", "--id", "first"]
            ),
            "playback first playing sound:hello-world\n"
        );
        let first = pbx.get("/api/playbacks/first").unwrap();
        assert_eq!(first["target_uri"], format!("channel:{channel}"));
        let second = post(&pbx, &path("play"), json!({"media": ["goodbye"]}));
        assert_eq!(second["state"], "queued", "{second}");
        assert_eq!(second["media_uri"], json!(["sound:goodbye"]));
        let second_id = second["id"].as_str().unwrap().to_string();
        let again = pbx.post(
            &path("play"),
            json!({"media": ["goodbye"], "playback_id": "first"}),
        );
        assert!(again.unwrap_err().starts_with("409"), "ids are unique");
        let queued = pbx.post(
            &format!("/api/playbacks/{second_id}/control"),
            json!({"operation": "pause"}),
        );
        assert!(
            queued.unwrap_err().starts_with("409"),
            "a queued playback only stops"
        );

        events.expect("the first playback done", |e| {
            e["type"] == "PlaybackFinished"
                && e["playback"]["id"] == "first"
                && e["playback"]["state"] == "done"
        });
        events.expect("the second playback started", |e| {
            e["type"] == "PlaybackStarted" && e["playback"]["id"] == second_id.as_str()
        });
        let control = |operation: &str| {
            post(
                &pbx,
                &format!("/api/playbacks/{second_id}/control"),
                json!({ "operation": operation }),
            )
        };
        assert_eq!(
            ctl(&pbx, &["playback", "pause", &second_id]),
            format!("playback {second_id} paused sound:goodbye\n")
        );
        assert_eq!(
            pbx.get(&format!("/api/playbacks/{second_id}")).unwrap()["state"],
            "paused"
        );
        assert_eq!(control("unpause")["state"], "playing");
        let stopped = pbx.delete(&format!("/api/playbacks/{second_id}")).unwrap();
        assert_eq!(stopped["state"], "stopped", "{stopped}");
        events.expect("the second playback stopped", |e| {
            e["type"] == "PlaybackFinished"
                && e["playback"]["id"] == second_id.as_str()
                && e["playback"]["state"] == "stopped"
        });
        assert!(pbx
            .get(&format!("/api/playbacks/{second_id}"))
            .unwrap_err()
            .contains("404"));

        post(
            &pbx,
            &path("continue"),
            json!({"context": "internal", "exten": "8000"}),
        );
        events.expect("the application let go", |e| {
            e["type"] == "StasisEnd"
                && e["channel"]["id"] == channel.as_str()
                && e["application"] == "demo"
        });
        events.expect("the channel at 8000", |e| {
            e["type"] == "ChannelDialplan" && e["channel"]["dialplan"]["exten"] == "8000"
        });
        let outside = pbx.post(&path("answer"), json!({}));
        assert!(
            outside.is_err_and(|e| e.starts_with("409") || e.starts_with("404")),
            "application commands need Stasis"
        );
        caller.join().unwrap()
    });
    assert_eq!((run.successful, run.failed), (1, 0), "{}", pbx.log());
    assert!(
        media.heard_prompt("hello-world"),
        "the caller did not hear hello world\n{}",
        pbx.log()
    );
    common::assert_no_leftovers(&pbx);
}

#[test]
fn channels_in_an_applications_bridges_hear_each_other_or_nothing() {
    let pbx = start();
    let _demo = hold_app(&pbx, "demo");
    let mut events = EventStream::connect(&pbx.api, None);
    let (one, two) = (RtpPeer::start(), RtpPeer::start());
    let pbx_ref = &pbx;
    let (runs, hung_up): (Vec<SippRun>, Vec<String>) = std::thread::scope(|s| {
        let calls: Vec<_> = [&one, &two]
            .into_iter()
            .map(|peer| {
                s.spawn(move || {
                    call_as_6001(
                        pbx_ref,
                        "sipp/uac_call.xml",
                        "8003",
                        peer.port,
                        &["-m", "1"],
                    )
                })
            })
            .collect();
        let first = next_stasis_start(&mut events, &[]);
        let second = next_stasis_start(&mut events, std::slice::from_ref(&first));
        let channels = [first.clone(), second.clone()];
        for channel in &channels {
            post(&pbx, &format!("/api/channels/{channel}/answer"), json!({}));
        }
        let wrong = pbx.post("/api/bridges", json!({"type": "simple"}));
        assert!(
            wrong.unwrap_err().starts_with("400"),
            "simple is not created"
        );
        let mixing = post(
            &pbx,
            "/api/bridges",
            json!({"type": "mixing", "name": "talk", "id": "talk-1"}),
        );
        assert_eq!(mixing["bridge_type"], "mixing", "{mixing}");
        assert_eq!(mixing["id"], "talk-1", "{mixing}");
        let taken = pbx.post("/api/bridges", json!({"id": "talk-1"}));
        assert!(
            taken.unwrap_err().starts_with("409"),
            "bridge ids are unique"
        );
        let mixing = "talk-1".to_string();
        for channel in &channels {
            post(
                &pbx,
                &format!("/api/bridges/{mixing}/add"),
                json!({ "channel": channel }),
            );
        }
        let listed = pbx.get("/api/bridges").unwrap();
        let bridge = listed
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["id"] == mixing.as_str())
            .expect("the bridge is listed");
        assert_eq!(bridge["channels"].as_array().unwrap().len(), 2, "{bridge}");

        let tones = [(&one, 440.0), (&two, 1_000.0)].map(|(peer, freq)| {
            peer.stream_tone(ToneStream {
                freq,
                ptime_ms: 20,
                duration: Duration::from_secs(8),
                pause: None,
            })
        });
        std::thread::sleep(Duration::from_millis(1_500));
        let mixed_from = Instant::now();
        std::thread::sleep(Duration::from_millis(1_500));
        let mixed_to = Instant::now();
        for (peer, hears, own) in [(&one, 1_000.0, 440.0), (&two, 440.0, 1_000.0)] {
            let (other, itself) = (
                heard_power(peer, mixed_from, mixed_to, hears),
                heard_power(peer, mixed_from, mixed_to, own),
            );
            assert!(
                other > HEARD && itself * 100.0 < other,
                "in the mixing bridge: {hears} Hz {other:.2e}, own {own} Hz {itself:.2e}\n{}",
                pbx.log()
            );
        }

        let created = ctl(&pbx, &["bridge", "create", "--type", "holding"]);
        let holding = created.split(' ').next().unwrap().to_string();
        assert_eq!(created, format!("{holding} holding bridge created\n"));
        for channel in &channels {
            ctl(&pbx, &["bridge", "add", &holding, channel]);
            events.expect("left the mixing bridge", |e| {
                e["type"] == "ChannelLeftBridge"
                    && e["bridge"]["id"] == mixing.as_str()
                    && e["channel"]["id"] == channel.as_str()
            });
        }
        std::thread::sleep(Duration::from_millis(500));
        let held_from = Instant::now();
        std::thread::sleep(Duration::from_millis(1_500));
        let held_to = Instant::now();
        for (peer, other) in [(&one, 1_000.0), (&two, 440.0)] {
            let heard: Vec<u8> = peer
                .packets()
                .iter()
                .filter(|p| p.payload_type == 0 && p.at >= held_from && p.at < held_to)
                .flat_map(|p| p.payload.iter().copied())
                .collect();
            let power = tone_power(&ulaw_samples(&heard), 8_000, other);
            assert!(
                power < HEARD / 100.0,
                "held, {other} Hz is heard: {power:.2e}"
            );
        }

        post(
            &pbx,
            &format!("/api/bridges/{holding}/remove"),
            json!({ "channel": first }),
        );
        let not_in = pbx.post(
            &format!("/api/bridges/{mixing}/remove"),
            json!({ "channel": first }),
        );
        assert!(not_in.unwrap_err().starts_with("409"), "not in that bridge");
        assert_eq!(
            ctl(&pbx, &["bridge", "destroy", &holding]),
            format!("bridge {holding} destroyed\n")
        );
        events.expect("the holding bridge destroyed", |e| {
            e["type"] == "BridgeDestroyed" && e["bridge"]["id"] == holding.as_str()
        });
        assert!(pbx
            .delete(&format!("/api/bridges/{holding}"))
            .unwrap_err()
            .starts_with("404"));
        let up = wait_until(Duration::from_secs(2), || {
            pbx.get("/api/channels").unwrap().as_array().map(Vec::len) == Some(2)
        });
        assert!(up, "the channels outlive the bridge");
        assert!(pbx.delete(&format!("/api/bridges/{mixing}")).is_ok());
        for channel in &channels {
            post(&pbx, &format!("/api/channels/{channel}/hangup"), json!({}));
        }
        for tone in tones {
            tone.join().unwrap();
        }
        let runs = calls.into_iter().map(|c| c.join().unwrap()).collect();
        (runs, channels.to_vec())
    });
    for run in runs {
        assert_eq!((run.successful, run.failed), (1, 0), "{}", pbx.log());
    }
    for channel in hung_up {
        events.expect("the application's channel ended", |e| {
            e["type"] == "StasisEnd" && e["channel"]["id"] == channel.as_str()
        });
    }
    assert!(pbx
        .get("/api/bridges")
        .unwrap()
        .as_array()
        .unwrap()
        .is_empty());
    common::assert_no_leftovers(&pbx);
}
