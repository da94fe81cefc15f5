//! Calls into the dialplan's 8000: an authenticated SIPp caller hears the hello-world prompt
//! (its exact audio, at speech level, for its duration) and the PBX hangs up with BYE after
//! it; baresip calling 8000 records speech of the right length.

mod common;

use std::time::Duration;

use common::{
    find_prompt, fixture, prompt_ulaw, sipp, ulaw_rms_dbfs, wait_until, Baresip, BaresipOptions,
    Pbx, RtpPeer, PASSWORD,
};

fn call_args<'a>(exten: &'a str, media_port: &'a str, csv: &'a str) -> Vec<&'a str> {
    vec![
        "-s", exten, "-au", "6001", "-ap", PASSWORD, "-m", "1", "-inf", csv, "-key", "rtp_port",
        media_port,
    ]
}

#[test]
fn sipp_caller_hears_hello_world_then_the_pbx_hangs_up() {
    let pbx = Pbx::start();
    let media = RtpPeer::start();
    let port = media.port.to_string();
    let csv = fixture("sipp/caller_6001.csv");
    let run = sipp(
        &fixture("sipp/uac_call.xml"),
        pbx.sip,
        &call_args("8000", &port, csv.to_str().unwrap()),
    );
    run.assert_succeeded(1, &pbx);

    let packets = media.packets();
    let audio: Vec<u8> = packets
        .iter()
        .filter(|p| p.payload_type == 0)
        .flat_map(|p| p.payload.iter().copied())
        .collect();
    let prompt = prompt_ulaw("hello-world");
    let heard = audio.len() as f64 / 8000.0;
    let expected = prompt.len() as f64 / 8000.0;
    assert!(
        (heard - expected).abs() <= expected * 0.1,
        "heard {heard:.2} s of audio, the prompt lasts {expected:.2} s"
    );
    let level = ulaw_rms_dbfs(&audio);
    assert!(level > -35.0, "audio level {level:.1} dBFS is not speech");
    assert!(
        find_prompt(&audio, &prompt).is_some(),
        "the audio is not the hello-world prompt"
    );
    assert!(
        packets[0].marker,
        "first packet of the talk spurt must carry the marker bit"
    );

    let drained = wait_until(Duration::from_secs(5), || {
        let stats = pbx.get("/api/stats").unwrap();
        stats["calls_active"] == 0 && stats["rtp_ports_in_use"] == 0
    });
    assert!(drained, "{}", pbx.get("/api/stats").unwrap());
}

#[test]
fn baresip_calling_8000_records_speech_of_the_right_length() {
    let pbx = Pbx::start();
    let mut phone = Baresip::start(
        pbx.sip,
        BaresipOptions {
            user: "6001",
            password: PASSWORD,
            account_params: "",
            audio_source: None,
            commands: &["/dial 8000"],
            quit_after_secs: Some(6),
        },
    );
    let ended = wait_until(Duration::from_secs(20), || {
        let stats = pbx.get("/api/stats").unwrap();
        stats["calls_total"] == 1 && stats["calls_active"] == 0
    });
    assert!(
        ended,
        "call did not complete\n{}\n{}",
        phone.log(),
        pbx.log()
    );
    // baresip finalises its recording when it quits.
    assert!(phone.wait_exit(Duration::from_secs(10)), "{}", phone.log());
    let dump = std::fs::read_dir(phone.dir.path().join("dump"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with("-dec.wav"))
        .unwrap_or_else(|| panic!("baresip recorded nothing\n{}", phone.log()));
    let stat = std::process::Command::new(common::require_program("sox"))
        .arg(&dump)
        .args(["-n", "stat"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&stat.stderr);
    let field = |name: &str| -> f64 {
        text.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split(':').nth(1))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {name} in sox output:\n{text}"))
    };
    let rms = field("RMS     amplitude");
    let length = field("Length (seconds)");
    let expected = prompt_ulaw("hello-world").len() as f64 / 8000.0;
    assert!(
        rms > 0.02,
        "recording is not speech-level (RMS {rms})\n{text}"
    );
    assert!(
        length >= expected * 0.9 && length <= expected + 1.5,
        "recorded {length:.2} s, prompt lasts {expected:.2} s\n{text}"
    );
}
