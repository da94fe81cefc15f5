//! Blind transfer (REFER, RFC 3515) by a baresip phone typing `/transfer 8000` in a bridged
//! call: when the callee transfers, the caller (SIPp) ends up at 8000 and hears the exact
//! hello-world prompt, then the PBX's BYE; when the caller transfers, the callee (baresip)
//! ends up at 8000 and hears it. Each time the transferor's channel ends, and the event
//! stream tells the transfer and the playback to the transferee's channel.

mod common;

use std::time::Duration;

use common::events::{count, EventStream};
use common::{
    call_as_6001, heard_recording, prompt_ulaw, read_wav, tone_file, tone_share, wait_until,
    Baresip, BaresipOptions, Pbx, RtpPeer, PASSWORD,
};

fn bridged(pbx: &Pbx) -> bool {
    wait_until(Duration::from_secs(15), || {
        pbx.get("/api/bridges")
            .unwrap()
            .as_array()
            .is_some_and(|b| b.len() == 1 && b[0]["channels"].as_array().unwrap().len() == 2)
    })
}

/// The transfer event, the transferor's channel name prefix and what came after.
fn transfer_event(events: &EventStream) -> &serde_json::Value {
    events
        .received
        .iter()
        .find(|e| e["type"] == "BlindTransfer")
        .unwrap_or_else(|| panic!("no BlindTransfer event: {:#?}", events.received))
}

#[test]
fn the_callee_transfers_the_caller_to_8000() {
    let pbx = Pbx::start();
    let tones = tempfile::tempdir().unwrap();
    let high = tone_file(tones.path(), 1000);
    let callee = Baresip::answering(&pbx, "6002", "", Some(&high), 25);
    let mut events = EventStream::connect(&pbx.api, None);
    let media = RtpPeer::start();
    let run = std::thread::scope(|s| {
        let caller =
            s.spawn(|| call_as_6001(&pbx, "sipp/uac_call.xml", "6002", media.port, &["-m", "1"]));
        assert!(bridged(&pbx), "{}\n{}", pbx.log(), callee.log());
        std::thread::sleep(Duration::from_secs(1));
        callee.command("/transfer 8000");
        caller.join().unwrap()
    });
    assert_eq!(
        (run.successful, run.failed),
        (1, 0),
        "the caller did not end with the PBX's BYE\n{}\n{}\n{}",
        run.stdout,
        pbx.log(),
        callee.log()
    );
    assert!(
        media.heard_prompt("hello-world"),
        "the caller did not hear 8000's hello world\n{}",
        pbx.log()
    );
    assert!(
        events.read_until(Duration::from_secs(10), |e| count(e, "ChannelDestroyed")
            == 2)
    );
    let transfer = transfer_event(&events);
    assert_eq!(transfer["exten"], "8000");
    let transferer = transfer["transferer"]["id"].as_str().unwrap();
    let transferee = transfer["transferee"]["id"].as_str().unwrap();
    assert!(transfer["transferer"]["name"]
        .as_str()
        .unwrap()
        .starts_with("PJSIP/6002-"));
    let destroyed_at = |id: &str| {
        events
            .received
            .iter()
            .position(|e| e["type"] == "ChannelDestroyed" && e["channel"]["id"] == id)
            .unwrap_or_else(|| panic!("{id} not destroyed"))
    };
    let played = events
        .received
        .iter()
        .position(|e| {
            e["type"] == "PlaybackFinished"
                && e["playback"]["target_uri"] == format!("channel:{transferee}")
                && e["playback"]["state"] == "done"
        })
        .expect("no playback to the transferee");
    assert!(
        destroyed_at(transferer) < played,
        "the transferor's leg outlived the transfer"
    );
}

#[test]
fn the_caller_transfers_the_callee_to_8000() {
    let pbx = Pbx::start();
    let tones = tempfile::tempdir().unwrap();
    let low = tone_file(tones.path(), 440);
    let mut callee = Baresip::answering(&pbx, "6002", "", None, 12);
    let mut events = EventStream::connect(&pbx.api, None);
    let caller = Baresip::start(
        pbx.sip,
        BaresipOptions {
            user: "6001",
            password: PASSWORD,
            account_params: "",
            audio_source: Some(&low),
            commands: &["/dial 6002"],
            quit_after_secs: Some(20),
        },
    );
    assert!(bridged(&pbx), "{}\n{}", pbx.log(), caller.log());
    std::thread::sleep(Duration::from_secs(2));
    caller.command("/transfer 8000");
    assert!(
        events.read_until(Duration::from_secs(15), |e| count(e, "ChannelDestroyed")
            == 2),
        "{:#?}\n{}",
        events.received,
        pbx.log()
    );
    let transfer = transfer_event(&events);
    assert!(transfer["transferer"]["name"]
        .as_str()
        .unwrap()
        .starts_with("PJSIP/6001-"));
    let transferee = transfer["transferee"]["id"].as_str().unwrap().to_string();
    let played = events.received.iter().any(|e| {
        e["type"] == "PlaybackFinished"
            && e["playback"]["target_uri"] == format!("channel:{transferee}")
            && e["playback"]["state"] == "done"
    });
    assert!(played, "{:#?}", events.received);
    assert!(
        callee.wait_exit(Duration::from_secs(15)),
        "{}",
        callee.log()
    );
    let recording = heard_recording(&callee).expect("the callee recorded nothing");
    let (samples, rate) = read_wav(&recording);
    // Before the transfer the callee heard the caller's 440 Hz; the end of its call is most of 8000's speech, which is not that tone.
    let prompt = prompt_ulaw("hello-world").len() * rate as usize / 8000;
    let tail = &samples[samples.len().saturating_sub(prompt * 4 / 5)..];
    let head = &samples[..(rate as usize).min(samples.len())];
    assert!(
        tone_share(head, rate, 440.0, 1000.0) > 0.5,
        "no 440 Hz before the transfer"
    );
    let energy: f64 = tail.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / tail.len() as f64;
    assert!(
        energy.sqrt() > 300.0,
        "the callee heard no speech after the transfer"
    );
    assert!(
        tone_share(tail, rate, 440.0, 1000.0) < 0.5,
        "still the caller's tone"
    );
}
