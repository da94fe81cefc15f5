//! The media URIs an ARI application plays to a channel, each checked as the audio the caller
//! hears: `tone:busy` (480+620 Hz in the US cadence, looping until the application stops it),
//! `tone:ring;tonezone=fr` (440 Hz), `digits:` and `number:` (the digit prompts, back to
//! back, for as long as they last) and `recording:` (a WAV made by sox in the recordings
//! directory). Unplayable URIs are refused with the status ARI clients expect.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::ari::{hold_app, ARI_USER};
use common::events::EventStream;
use common::{
    call_as_6001, read_wav, require_program, tone_power, ulaw_rms_dbfs, ulaw_samples, Pbx,
    PbxOptions, RtpPeer,
};
use serde_json::Value;

/// Goertzel power (see `tone_power`) a tone heard at about -15 dBFS reaches easily; an absent
/// tone stays orders of magnitude below.
const HEARD: f64 = 1e-3;

/// A pbx with the ARI account of [`hold_app`], storing recordings in `<dir>/recordings`.
fn start() -> (Pbx, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let recordings = dir.path().join("recordings");
    std::fs::create_dir_all(&recordings).unwrap();
    let extra_config = format!(
        "[dialplan]\nrecordings_dir = \"{}\"\n\n{ARI_USER}",
        recordings.display()
    );
    let pbx = Pbx::start_in(
        dir,
        PbxOptions {
            extra_config,
            ..PbxOptions::default()
        },
    );
    (pbx, recordings)
}

/// An ARI request as application `app` would make it; the status and the JSON body.
fn ari(pbx: &Pbx, method: &str, path_and_query: &str) -> (u16, Value) {
    let separator = if path_and_query.contains('?') {
        '&'
    } else {
        '?'
    };
    let url = format!(
        "{}/ari{path_and_query}{separator}api_key=app:secret",
        pbx.api
    );
    let response = match ureq::request(method, &url)
        .timeout(Duration::from_secs(5))
        .call()
    {
        Ok(response) => response,
        Err(ureq::Error::Status(_, response)) => response,
        Err(error) => panic!("{method} {path_and_query}: {error}"),
    };
    let status = response.status();
    let body = response.into_string().unwrap_or_default();
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

/// Starts playing `media` to `channel` (a comma-separated `media=`, as the client libraries
/// send lists); the playback id.
fn play(pbx: &Pbx, channel: &str, media: &[&str]) -> String {
    let (status, playback) = ari(
        pbx,
        "POST",
        &format!("/channels/{channel}/play?media={}", media.join(",")),
    );
    assert_eq!(status, 201, "play {media:?}: {playback}");
    playback["id"].as_str().unwrap().to_owned()
}

/// The mu-law samples `peer` received between `from` and `to`, one slice per packet.
fn heard(peer: &RtpPeer, from: Instant, to: Instant) -> Vec<Vec<u8>> {
    peer.packets()
        .iter()
        .filter(|p| p.payload_type == 0 && p.at >= from && p.at < to)
        .map(|p| p.payload.clone())
        .collect()
}

/// How long the non-silent packets `peer` received since `from` span, start to end.
fn audible_span(peer: &RtpPeer, from: Instant) -> Duration {
    let loud: Vec<Instant> = peer
        .packets()
        .iter()
        .filter(|p| p.payload_type == 0 && p.at >= from && ulaw_rms_dbfs(&p.payload) > -50.0)
        .map(|p| p.at)
        .collect();
    match (loud.first(), loud.last()) {
        (Some(first), Some(last)) => *last - *first,
        _ => Duration::ZERO,
    }
}

/// Waits for playback `id` to finish as `state`.
fn expect_finished(events: &mut EventStream, id: &str, state: &str) {
    events.expect(&format!("playback {id} {state}"), |e| {
        e["type"] == "PlaybackFinished"
            && e["playback"]["id"] == id
            && e["playback"]["state"] == state
    });
}

/// The length of built-in prompt `name` (a WAV under `sounds/en/`).
fn prompt_length(name: &str) -> Duration {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("sounds/en/{name}.wav"));
    let (samples, rate) = read_wav(&path);
    Duration::from_secs_f64(samples.len() as f64 / f64::from(rate))
}

#[test]
fn an_application_plays_tones_digits_numbers_and_recordings() {
    let (pbx, recordings) = start();
    let made = Command::new(require_program("sox"))
        .args(["-n", "-r", "8000", "-c", "1", "-b", "16"])
        .arg(recordings.join("tone1k.wav"))
        .args(["synth", "1.5", "sine", "1000", "vol", "0.3"])
        .status()
        .expect("run sox");
    assert!(made.success());
    let _demo = hold_app(&pbx, "demo");
    let mut events = EventStream::connect(&pbx.api, None);
    let media = RtpPeer::start();
    let run = std::thread::scope(|s| {
        let caller =
            s.spawn(|| call_as_6001(&pbx, "sipp/uac_call.xml", "8003", media.port, &["-m", "1"]));
        plays_every_kind(&pbx, &mut events, &media);
        caller.join().unwrap()
    });
    run.assert_succeeded(1, &pbx);
    common::assert_no_leftovers(&pbx);
}

/// Plays each kind of URI to the channel of the call to 8003, then hangs it up.
fn plays_every_kind(pbx: &Pbx, events: &mut EventStream, media: &RtpPeer) {
    events.expect("StasisStart", |e| e["type"] == "StasisStart");
    let start = events.received.iter().find(|e| e["type"] == "StasisStart");
    let channel = start.unwrap()["channel"]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        ari(pbx, "POST", &format!("/channels/{channel}/answer")).0,
        204
    );

    // tone:busy repeats its 500 ms on / 500 ms off until stopped: 3.5 s on, it still plays.
    let busy = play(pbx, &channel, &["tone:busy"]);
    let from = Instant::now();
    std::thread::sleep(Duration::from_millis(3_500));
    let packets = heard(media, from + Duration::from_millis(500), Instant::now());
    let samples = ulaw_samples(&packets.concat());
    assert!(tone_power(&samples, 8_000, 480.0) > HEARD, "480 Hz");
    assert!(tone_power(&samples, 8_000, 620.0) > HEARD, "620 Hz");
    assert!(
        tone_power(&samples, 8_000, 1_000.0) < HEARD / 10.0,
        "no 1 kHz"
    );
    let silent = packets.iter().filter(|p| ulaw_rms_dbfs(p) < -50.0).count();
    let share = silent as f64 / packets.len() as f64;
    assert!(
        (0.35..=0.65).contains(&share),
        "half the cadence is silence: {share}"
    );
    let (status, playback) = ari(pbx, "GET", &format!("/playbacks/{busy}"));
    assert_eq!((status, playback["state"].as_str()), (200, Some("playing")));
    assert_eq!(playback["media_uri"], "tone:busy");
    assert_eq!(ari(pbx, "DELETE", &format!("/playbacks/{busy}")).0, 204);
    expect_finished(events, &busy, "stopped");

    // A national tone plan by name.
    let ring = play(pbx, &channel, &["tone:ring%3Btonezone=fr"]);
    let from = Instant::now();
    std::thread::sleep(Duration::from_millis(1_300));
    let samples =
        ulaw_samples(&heard(media, from + Duration::from_millis(200), Instant::now()).concat());
    assert!(
        tone_power(&samples, 8_000, 440.0) > HEARD,
        "French ringback is 440 Hz"
    );
    assert!(
        tone_power(&samples, 8_000, 480.0) < HEARD / 10.0,
        "not the US one"
    );
    assert_eq!(ari(pbx, "DELETE", &format!("/playbacks/{ring}")).0, 204);
    expect_finished(events, &ring, "stopped");

    // digits:12 then number:7 say digits/1, digits/2 and digits/7 back to back, then end.
    std::thread::sleep(Duration::from_millis(300));
    let from = Instant::now();
    let said = play(pbx, &channel, &["digits:12", "number:7"]);
    expect_finished(events, &said, "done");
    let expected =
        prompt_length("digits/1") + prompt_length("digits/2") + prompt_length("digits/7");
    let span = audible_span(media, from);
    assert!(
        span + Duration::from_millis(400) > expected
            && span < expected + Duration::from_millis(300),
        "heard {span:?} of {expected:?} of digits"
    );

    // recording: plays the stored file.
    let from = Instant::now();
    let recording = play(pbx, &channel, &["recording:tone1k"]);
    expect_finished(events, &recording, "done");
    let samples = ulaw_samples(&heard(media, from, Instant::now()).concat());
    assert!(
        tone_power(&samples, 8_000, 1_000.0) > HEARD,
        "the recording's 1 kHz"
    );
    let span = audible_span(media, from);
    assert!(
        span > Duration::from_millis(1_200) && span < Duration::from_millis(1_800),
        "heard {span:?} of the 1.5 s recording"
    );

    // What cannot be played is refused.
    for bad in [
        "video:x",
        "digits:1a",
        "tone:ring%3Btonezone=xx",
        "number:x",
    ] {
        let (status, body) = ari(
            pbx,
            "POST",
            &format!("/channels/{channel}/play?media={bad}"),
        );
        assert_eq!(status, 400, "{bad}: {body}");
        assert!(body["message"].is_string(), "{bad}: {body}");
    }
    let (status, _) = ari(
        pbx,
        "POST",
        &format!("/channels/{channel}/play?media=recording:nosuch"),
    );
    assert_eq!(status, 422, "an unknown recording is unprocessable media");

    assert_eq!(ari(pbx, "DELETE", &format!("/channels/{channel}")).0, 204);
}
