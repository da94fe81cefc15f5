//! Originate: `pbx ctl originate` calls a baresip phone (auto-answer) and on answer runs the
//! dialplan there: at 8000 the phone records hello world and the event stream shows the
//! channel's life in order; at 6002 it connects the two phones, which hear each other's
//! tones; with `--app` the answered channel is handed to an application, which plays to it
//! and hangs it up, or puts it in a holding bridge and plays to the bridge (its members hear
//! it; a bridge playback can be stopped), or plays it music on hold until it stops it. An
//! unreachable endpoint, a missing extension and a malformed endpoint are
//! refused with the API status and a clear message.

mod common;

use std::time::Duration;

use common::events::{count, EventStream};
use common::{
    heard_recording, prompt_ulaw, read_wav, tone_file, tone_share, wait_until, Baresip, Pbx,
};

fn phone(pbx: &Pbx, user: &str, source: Option<&std::path::Path>, secs: u32) -> Baresip {
    Baresip::answering(pbx, user, "", source, secs)
}

fn rms(samples: &[i16]) -> f64 {
    let sum: f64 = samples.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
    (sum / samples.len().max(1) as f64).sqrt() / 32768.0
}

/// A pbx with an ARI account and application `demo` registered while the socket lives.
fn start_with_demo() -> (Pbx, tungstenite::WebSocket<std::net::TcpStream>) {
    let pbx = Pbx::start_with(common::PbxOptions {
        extra_config: common::ari::ARI_USER.into(),
        ..common::PbxOptions::default()
    });
    let demo = common::ari::hold_app(&pbx, "demo");
    (pbx, demo)
}

/// Originates to 6001 into application `demo`; the channel's id once `StasisStart` says the
/// application has it.
fn originate_into_demo(pbx: &Pbx, events: &mut EventStream) -> String {
    let out = pbx.ctl(&["--json", "originate", "endpoint/6001", "--app", "demo"]);
    assert!(out.status.success(), "{out:?}\n{}", pbx.log());
    let ringing: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let channel = ringing["id"].as_str().unwrap().to_string();
    events.expect("StasisStart", |e| {
        e["type"] == "StasisStart" && e["channel"]["id"] == channel.as_str()
    });
    channel
}

#[test]
fn originate_to_a_phone_runs_8000_and_the_phone_hears_hello_world() {
    let pbx = Pbx::start();
    let mut phone = phone(&pbx, "6001", None, 12);
    let mut events = EventStream::connect(&pbx.api, None);
    let out = pbx.ctl(&[
        "--json",
        "originate",
        "endpoint/6001",
        "--context",
        "internal",
        "--exten",
        "8000",
    ]);
    assert!(out.status.success(), "{out:?}\n{}", pbx.log());
    let ringing: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let channel = ringing["id"].as_str().unwrap().to_string();
    assert!(
        ringing["name"].as_str().unwrap().starts_with("PJSIP/6001-"),
        "{ringing}"
    );
    assert!(
        events.read_until(Duration::from_secs(20), |e| count(e, "ChannelDestroyed")
            == 1),
        "{:#?}\n{}",
        events.received,
        pbx.log()
    );
    let life: Vec<String> = events
        .received
        .iter()
        .filter(|e| {
            e["channel"]["id"] == channel.as_str()
                || e["playback"]["target_uri"] == format!("channel:{channel}")
        })
        .map(|e| match e["type"].as_str().unwrap() {
            "ChannelStateChanged" => format!("State {}", e["channel"]["state"].as_str().unwrap()),
            "ChannelDialplan" => format!(
                "Dialplan {}",
                e["channel"]["dialplan"]["app_name"].as_str().unwrap()
            ),
            other => other.to_string(),
        })
        .collect();
    assert_eq!(
        life,
        [
            "ChannelCreated",
            "State Ringing",
            "State Up",
            "Dialplan Answer",
            "Dialplan Playback",
            "PlaybackStarted",
            "PlaybackFinished",
            "Dialplan Hangup",
            "ChannelHangupRequest",
            "ChannelDestroyed",
        ],
        "{:#?}",
        events.received
    );
    assert!(phone.wait_exit(Duration::from_secs(15)), "{}", phone.log());
    let recording = heard_recording(&phone)
        .unwrap_or_else(|| panic!("the phone recorded nothing\n{}", phone.log()));
    let (samples, rate) = read_wav(&recording);
    let expected = prompt_ulaw("hello-world").len() as f64 / 8000.0;
    let heard = samples.len() as f64 / f64::from(rate);
    assert!(
        heard >= expected * 0.9 && heard <= expected + 1.5,
        "recorded {heard:.2} s, the prompt lasts {expected:.2} s"
    );
    assert!(rms(&samples) > 0.02, "not speech: RMS {}", rms(&samples));
    common::assert_no_leftovers(&pbx);
}

#[test]
fn originate_to_another_phones_extension_connects_the_two_phones() {
    let pbx = Pbx::start();
    let tones = tempfile::tempdir().unwrap();
    let (low, high) = (tone_file(tones.path(), 440), tone_file(tones.path(), 1000));
    let mut first = phone(&pbx, "6001", Some(&low), 10);
    let mut second = phone(&pbx, "6002", Some(&high), 10);
    let out = pbx.ctl(&["originate", "endpoint/6001", "--exten", "6002"]);
    assert!(out.status.success(), "{out:?}\n{}", pbx.log());
    let bridged = wait_until(Duration::from_secs(10), || {
        pbx.get("/api/bridges")
            .unwrap()
            .as_array()
            .is_some_and(|b| b.len() == 1 && b[0]["channels"].as_array().unwrap().len() == 2)
    });
    assert!(bridged, "{}", pbx.log());
    assert!(first.wait_exit(Duration::from_secs(20)), "{}", first.log());
    assert!(
        second.wait_exit(Duration::from_secs(20)),
        "{}",
        second.log()
    );
    for (phone, hears, own) in [(&first, 1000.0, 440.0), (&second, 440.0, 1000.0)] {
        let recording = heard_recording(phone)
            .unwrap_or_else(|| panic!("nothing recorded\n{}\n{}", phone.log(), pbx.log()));
        let (samples, rate) = read_wav(&recording);
        let share = tone_share(&samples, rate, hears, own);
        assert!(share > 0.5, "heard {hears} Hz in {:.0} %", share * 100.0);
    }
    common::assert_no_leftovers(&pbx);
}

#[test]
fn originate_into_an_application_hands_the_answered_channel_to_it() {
    let (pbx, _demo) = start_with_demo();
    let mut phone = phone(&pbx, "6001", None, 12);
    let mut events = EventStream::connect(&pbx.api, None);
    let out = pbx.ctl(&[
        "--json",
        "originate",
        "endpoint/6001",
        "--app",
        "demo",
        "--app-arg",
        "first",
        "--app-arg",
        "second",
    ]);
    assert!(out.status.success(), "{out:?}\n{}", pbx.log());
    let ringing: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let channel = ringing["id"].as_str().unwrap().to_string();
    events.expect("the application gets the answered channel", |e| {
        e["type"] == "StasisStart"
            && e["application"] == "demo"
            && e["args"] == serde_json::json!(["first", "second"])
            && e["channel"]["id"] == channel.as_str()
            && e["channel"]["state"] == "Up"
    });
    let path = format!("/api/channels/{channel}/play");
    let media = serde_json::json!({"media": ["sound:hello-world"], "playback_id": "greeting"});
    pbx.post(&path, media)
        .unwrap_or_else(|e| panic!("{e}\n{}", pbx.log()));
    assert!(
        events.read_until(Duration::from_secs(15), |e| count(e, "PlaybackFinished")
            == 1),
        "{:#?}",
        events.received
    );
    let hangup = pbx.ctl(&["hangup", &channel]);
    assert!(hangup.status.success(), "{hangup:?}");
    events.expect("the application lost the channel", |e| {
        e["type"] == "StasisEnd" && e["channel"]["id"] == channel.as_str()
    });
    events.expect("the channel ended", |e| {
        e["type"] == "ChannelDestroyed" && e["channel"]["id"] == channel.as_str()
    });
    assert!(phone.wait_exit(Duration::from_secs(15)), "{}", phone.log());
    let recording = heard_recording(&phone)
        .unwrap_or_else(|| panic!("the phone recorded nothing\n{}", phone.log()));
    let (samples, _) = read_wav(&recording);
    assert!(rms(&samples) > 0.02, "not speech: RMS {}", rms(&samples));
    common::assert_no_leftovers(&pbx);
}

#[test]
fn a_playback_to_a_bridge_reaches_its_members() {
    let (pbx, _demo) = start_with_demo();
    let mut phone = phone(&pbx, "6001", None, 14);
    let mut events = EventStream::connect(&pbx.api, None);
    let channel = originate_into_demo(&pbx, &mut events);
    let post = |path: &str, body: serde_json::Value| {
        pbx.post(path, body)
            .unwrap_or_else(|e| panic!("POST {path}: {e}\n{}", pbx.log()))
    };
    post(
        "/api/bridges",
        serde_json::json!({"type": "holding", "id": "b1"}),
    );
    post(
        "/api/bridges/b1/add",
        serde_json::json!({"channel": channel}),
    );
    let media = serde_json::json!({"media": ["sound:hello-world"], "playback_id": "bp"});
    let playing = post("/api/bridges/b1/play", media);
    assert_eq!(playing["target_uri"], "bridge:b1", "{playing}");
    assert_eq!(pbx.get("/api/playbacks/bp").unwrap()["state"], "playing");
    events.expect("the bridge's playback played to its end", |e| {
        e["type"] == "PlaybackFinished"
            && e["playback"]["id"] == "bp"
            && e["playback"]["state"] == "done"
    });
    assert!(
        pbx.get("/api/playbacks/bp").is_err(),
        "a finished playback is gone"
    );
    let media = serde_json::json!({"media": ["sound:ivr-menu"], "playback_id": "bp2"});
    post("/api/bridges/b1/play", media);
    events.expect("the second playback started", |e| {
        e["type"] == "PlaybackStarted" && e["playback"]["id"] == "bp2"
    });
    let missing = pbx.post(
        "/api/bridges/nope/play",
        serde_json::json!({"media": ["hello-world"]}),
    );
    assert!(missing.is_err_and(|e| e.contains("404")));
    pbx.delete("/api/playbacks/bp2").unwrap();
    events.expect("the stopped playback", |e| {
        e["type"] == "PlaybackFinished"
            && e["playback"]["id"] == "bp2"
            && e["playback"]["state"] == "stopped"
    });
    assert!(pbx.ctl(&["hangup", &channel]).status.success());
    assert!(phone.wait_exit(Duration::from_secs(20)), "{}", phone.log());
    let recording = heard_recording(&phone)
        .unwrap_or_else(|| panic!("the phone recorded nothing\n{}", phone.log()));
    let (samples, _) = read_wav(&recording);
    assert!(
        rms(&samples) > 0.02,
        "the holding bridge played nothing: RMS {}",
        rms(&samples)
    );
    pbx.delete("/api/bridges/b1").unwrap();
    common::assert_no_leftovers(&pbx);
}

#[test]
fn an_application_plays_music_on_hold_until_it_stops_it() {
    let (pbx, _demo) = start_with_demo();
    let mut phone = phone(&pbx, "6001", None, 14);
    let mut events = EventStream::connect(&pbx.api, None);
    let channel = originate_into_demo(&pbx, &mut events);
    let moh = format!("/api/channels/{channel}/moh");
    pbx.post(&moh, serde_json::json!({}))
        .unwrap_or_else(|e| panic!("{e}\n{}", pbx.log()));
    events.expect("ChannelMohStart", |e| e["type"] == "ChannelMohStart");
    std::thread::sleep(Duration::from_secs(3));
    pbx.delete(&moh).unwrap();
    events.expect("ChannelMohStop", |e| e["type"] == "ChannelMohStop");
    std::thread::sleep(Duration::from_secs(3));
    assert!(pbx.ctl(&["hangup", &channel]).status.success());
    assert!(phone.wait_exit(Duration::from_secs(20)), "{}", phone.log());
    let recording = heard_recording(&phone)
        .unwrap_or_else(|| panic!("the phone recorded nothing\n{}", phone.log()));
    let (samples, rate) = read_wav(&recording);
    // The phone records what it receives: music for the 3 s it played, nothing after.
    let windows: Vec<f64> = samples.chunks(rate as usize / 2).map(rms).collect();
    let loud = windows.iter().filter(|&&level| level > 0.02).count();
    assert!(
        (5..=8).contains(&loud) && windows.len() <= 9,
        "music in {loud} of {} half-seconds: {windows:.3?}",
        windows.len()
    );
    common::assert_no_leftovers(&pbx);
}

#[test]
fn originate_refuses_what_cannot_be_called() {
    let pbx = Pbx::start();
    let unregistered = pbx.ctl(&["originate", "endpoint/6001", "--exten", "8000"]);
    assert_eq!(unregistered.status.code(), Some(1), "{unregistered:?}");
    let text = String::from_utf8_lossy(&unregistered.stderr);
    assert!(
        text.contains("404") && text.contains("not reachable"),
        "{text}"
    );
    let malformed = pbx.ctl(&["originate", "6001", "--exten", "8000"]);
    assert!(
        String::from_utf8_lossy(&malformed.stderr).contains("400"),
        "{malformed:?}"
    );
    let _phone = phone(&pbx, "6001", None, 10);
    let missing = pbx.ctl(&["originate", "endpoint/6001", "--exten", "4711"]);
    let text = String::from_utf8_lossy(&missing.stderr);
    assert!(text.contains("404") && text.contains("4711"), "{text}");
    let no_app = pbx.ctl(&["originate", "endpoint/6001", "--app", "nobody"]);
    let text = String::from_utf8_lossy(&no_app.stderr);
    assert!(
        text.contains("nobody") && text.contains("not registered"),
        "{text}"
    );
    assert_eq!(pbx.get("/api/stats").unwrap()["channels_active"], 0);
}
