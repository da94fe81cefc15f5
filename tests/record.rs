//! `Record(name.wav,...)`: a SIPp caller hears the beep, sends a 440 Hz tone and ends the
//! recording with `#` (`RECORD_STATUS` DTMF), or lets it run into its maximum duration
//! (TIMEOUT), or hangs up (the file is removed). An application records a channel it was
//! handed (a baresip phone sending a tone): stopped, the recording is stored and its file
//! downloadable; cancelled, nothing is kept. Recordings are checked as audio.

mod common;

use std::path::{Path, PathBuf};
use std::thread::JoinHandle;
use std::time::Duration;

use common::events::EventStream;
use common::{
    assert_no_leftovers, call_as_6001 as call, read_wav, tone_file, tone_share, ulaw_samples,
    wait_until, Baresip, Pbx, PbxOptions, RtpPeer, SippRun, ToneStream,
};
use serde_json::json;

const TEST_DIALPLAN: &str = r#"
[context.internal]
"7100" = ["Record(msgs/${CALLERID(num)}.wav,0,20)", "Set(DONE=${RECORD_STATUS})", "Hangup()"]
"7101" = ["Record(short.wav,0,2)", "Set(DONE=${RECORD_STATUS})", "Hangup()"]
"7102" = ["Record(gone.wav)", "Hangup()"]
"#;

/// A pbx running the test dialplan, recording into `<its dir>/recordings`.
fn pbx_recording() -> (Pbx, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("dialplan.toml");
    std::fs::write(&plan, TEST_DIALPLAN).unwrap();
    let recordings = dir.path().join("recordings");
    let extra_config = format!(
        "[dialplan]\nfile = \"{}\"\nrecordings_dir = \"{}\"\n\n{}",
        plan.display(),
        recordings.display(),
        common::ari::ARI_USER
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

fn tone(secs: u64) -> ToneStream {
    ToneStream {
        freq: 440.0,
        ptime_ms: 20,
        duration: Duration::from_secs(secs),
        pause: None,
    }
}

/// The recording's length in seconds, after checking it holds the caller's 440 Hz tone.
fn recorded_tone_secs(path: &Path) -> f64 {
    let (samples, rate) = read_wav(path);
    assert_eq!(rate, 8000);
    let share = tone_share(&samples, rate, 440.0, 1000.0);
    assert!(
        share > 0.8,
        "the recording is {:.0} % 440 Hz",
        share * 100.0
    );
    samples.len() as f64 / f64::from(rate)
}

/// Starts the caller on a thread: SIPp `scenario` to `exten` with `media` as its RTP.
fn caller<'s>(
    scope: &'s std::thread::Scope<'s, '_>,
    pbx: &'s Pbx,
    scenario: &'static str,
    exten: &'static str,
    media: &'s RtpPeer,
    extra: &'static [&'static str],
) -> std::thread::ScopedJoinHandle<'s, SippRun> {
    scope.spawn(move || call(pbx, scenario, exten, media.port, extra))
}

#[test]
fn a_recording_ended_by_pound_holds_the_callers_tone_after_the_beep() {
    let (pbx, recordings) = pbx_recording();
    let mut events = EventStream::connect(&pbx.api, None);
    let media = RtpPeer::start();
    let run = std::thread::scope(|scope| {
        let sipp = caller(
            scope,
            &pbx,
            "sipp/uac_call.xml",
            "7100",
            &media,
            &["-m", "1"],
        );
        let sent: JoinHandle<usize> = media.stream_tone(tone(2));
        assert!(
            sent.join().unwrap() > 90,
            "the tone was not sent\n{}",
            pbx.log()
        );
        media.send_pcap(&common::dtmf_pcap("pound"), 101);
        sipp.join().unwrap()
    });
    run.assert_succeeded(1, &pbx);
    events.expect("RECORD_STATUS DTMF", |e| {
        e["type"] == "ChannelVarset" && e["variable"] == "DONE" && e["value"] == "DTMF"
    });
    let secs = recorded_tone_secs(&recordings.join("msgs/6001.wav"));
    assert!((1.5..=3.0).contains(&secs), "recorded {secs:.2} s");
    let heard = ulaw_samples(
        &media
            .packets()
            .iter()
            .filter(|p| p.payload_type == 0)
            .take(12)
            .flat_map(|p| p.payload.clone())
            .collect::<Vec<u8>>(),
    );
    let beep = tone_share(&heard, 8000, 1000.0, 440.0);
    assert!(
        beep > 0.8,
        "the first 240 ms heard are {:.0} % 1 kHz",
        beep * 100.0
    );
    assert_no_leftovers(&pbx);
}

#[test]
fn a_recording_stops_at_its_maximum_duration() {
    let (pbx, recordings) = pbx_recording();
    let mut events = EventStream::connect(&pbx.api, None);
    let media = RtpPeer::start();
    let run = std::thread::scope(|scope| {
        let sipp = caller(
            scope,
            &pbx,
            "sipp/uac_call.xml",
            "7101",
            &media,
            &["-m", "1"],
        );
        let _tone = media.stream_tone(tone(5));
        sipp.join().unwrap()
    });
    run.assert_succeeded(1, &pbx);
    events.expect("RECORD_STATUS TIMEOUT", |e| {
        e["type"] == "ChannelVarset" && e["variable"] == "DONE" && e["value"] == "TIMEOUT"
    });
    let secs = recorded_tone_secs(&recordings.join("short.wav"));
    assert!((1.9..=2.1).contains(&secs), "recorded {secs:.2} s");
    assert_no_leftovers(&pbx);
}

#[test]
fn a_caller_who_hangs_up_leaves_no_recording() {
    let (pbx, recordings) = pbx_recording();
    let media = RtpPeer::start();
    let file = recordings.join("gone.wav");
    let run = std::thread::scope(|scope| {
        let sipp = caller(
            scope,
            &pbx,
            "sipp/uac_bye.xml",
            "7102",
            &media,
            &["-m", "1", "-d", "2500"],
        );
        let _tone = media.stream_tone(tone(2));
        assert!(
            wait_until(Duration::from_secs(5), || file.exists()),
            "the recording never started\n{}",
            pbx.log()
        );
        sipp.join().unwrap()
    });
    run.assert_succeeded(1, &pbx);
    assert!(
        wait_until(Duration::from_secs(5), || !file.exists()),
        "the recording of a hung-up call was kept"
    );
    assert_no_leftovers(&pbx);
}

#[test]
fn an_application_records_its_channel_and_the_recording_is_stored() {
    let (pbx, recordings) = pbx_recording();
    let tones = tempfile::tempdir().unwrap();
    let tone = tone_file(tones.path(), 440);
    let _phone = Baresip::answering(&pbx, "6001", "", Some(&tone), 20);
    let _rec = common::ari::hold_app(&pbx, "rec");
    let mut events = EventStream::connect(&pbx.api, None);
    let out = pbx.ctl(&["--json", "originate", "endpoint/6001", "--app", "rec"]);
    assert!(out.status.success(), "{out:?}\n{}", pbx.log());
    let ringing: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let channel = ringing["id"].as_str().unwrap().to_string();
    events.expect("StasisStart", |e| {
        e["type"] == "StasisStart" && e["channel"]["id"] == channel.as_str()
    });
    let record = format!("/api/channels/{channel}/record");
    let started = pbx
        .post(
            &record,
            json!({"name": "calls/take", "beep": true, "terminate_on": "#"}),
        )
        .unwrap_or_else(|e| panic!("{e}\n{}", pbx.log()));
    assert_eq!(started["state"], "recording", "{started}");
    assert_eq!(started["target_uri"], format!("channel:{channel}"));
    let again = pbx.post(&record, json!({"name": "calls/take"}));
    assert!(
        again.is_err_and(|e| e.contains("409")),
        "a second live recording of one name"
    );
    let live = pbx.get("/api/recordings/live/calls%2Ftake").unwrap();
    assert_eq!(live["state"], "recording");
    std::thread::sleep(Duration::from_secs(2));
    pbx.post("/api/recordings/live/calls%2Ftake/stop", json!({}))
        .unwrap_or_else(|e| panic!("{e}\n{}", pbx.log()));
    events.expect("RecordingFinished", |e| {
        e["type"] == "RecordingFinished"
            && e["recording"]["name"] == "calls/take"
            && e["recording"]["state"] == "done"
            && e["recording"]["duration"]
                .as_u64()
                .is_some_and(|d| (1..=3).contains(&d))
    });
    let stored = pbx.get("/api/recordings/stored").unwrap();
    assert_eq!(stored, json!([{"name": "calls/take", "format": "wav"}]));
    let file = ureq::get(&format!(
        "{}/api/recordings/stored/calls%2Ftake/file",
        pbx.api
    ))
    .call()
    .unwrap();
    assert_eq!(file.header("Content-Type"), Some("audio/wav"));
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut file.into_reader(), &mut bytes).unwrap();
    assert_eq!(
        bytes,
        std::fs::read(recordings.join("calls/take.wav")).unwrap()
    );
    let secs = recorded_tone_secs(&recordings.join("calls/take.wav"));
    assert!((1.5..=3.0).contains(&secs), "recorded {secs:.2} s");
    let exists = pbx.post(&record, json!({"name": "calls/take"}));
    assert!(
        exists.is_err_and(|e| e.contains("409")),
        "a stored recording is not replaced"
    );
    let bad = pbx.post(&record, json!({"name": "../escape"}));
    assert!(
        bad.is_err_and(|e| e.contains("422")),
        "a name out of the directory"
    );

    pbx.post(&record, json!({"name": "dropped"})).unwrap();
    ureq::delete(&format!("{}/api/recordings/live/dropped", pbx.api))
        .call()
        .unwrap();
    events.expect("the cancelled recording failed", |e| {
        e["type"] == "RecordingFailed"
            && e["recording"]["name"] == "dropped"
            && e["recording"]["state"] == "canceled"
    });
    assert!(!recordings.join("dropped.wav").exists());
    let deleted = ureq::delete(&format!("{}/api/recordings/stored/calls%2Ftake", pbx.api))
        .call()
        .unwrap();
    assert_eq!(deleted.status(), 204);
    assert!(!recordings.join("calls/take.wav").exists());
    assert!(pbx.ctl(&["hangup", &channel]).status.success());
    assert_no_leftovers(&pbx);
}
