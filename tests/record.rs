//! `Record(name.wav,...)`: a SIPp caller hears the beep, sends a 440 Hz tone and ends the
//! recording with `#` (`RECORD_STATUS` DTMF), or lets it run into its maximum duration
//! (TIMEOUT), or hangs up (the file is removed). The recording is checked as audio.

mod common;

use std::path::{Path, PathBuf};
use std::thread::JoinHandle;
use std::time::Duration;

use common::events::EventStream;
use common::{
    assert_no_leftovers, call_as_6001 as call, read_wav, tone_share, ulaw_samples, wait_until, Pbx,
    PbxOptions, RtpPeer, SippRun, ToneStream,
};

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
        "[dialplan]\nfile = \"{}\"\nrecordings_dir = \"{}\"\n",
        plan.display(),
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

fn tone(secs: u64) -> ToneStream {
    ToneStream {
        freq: 440.0,
        ptime_ms: 20,
        duration: Duration::from_secs(secs),
        pause: None,
    }
}

fn assert_succeeded(run: &SippRun, pbx: &Pbx) {
    assert_eq!(
        (run.successful, run.failed),
        (1, 0),
        "{}\n{}",
        run.stdout,
        pbx.log()
    );
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
        media.send_pcap(Path::new("/usr/share/sip-tester/dtmf_2833_pound.pcap"), 101);
        sipp.join().unwrap()
    });
    assert_succeeded(&run, &pbx);
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
    assert_succeeded(&run, &pbx);
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
    assert_succeeded(&run, &pbx);
    assert!(
        wait_until(Duration::from_secs(5), || !file.exists()),
        "the recording of a hung-up call was kept"
    );
    assert_no_leftovers(&pbx);
}
