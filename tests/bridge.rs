//! Calls between users through the B2BUA: two baresip phones (6002 auto-answers) send
//! different tones and each must hear the other's tone for most of the call, with the same
//! codec (relay) and with mu-law on one side and A-law on the other (transcoding). Calls to
//! an unregistered or busy user end with the not-available prompt. Hold is in `hold.rs`,
//! packetization in `ptime.rs`.

mod common;

use std::time::Duration;

use common::{
    fixture, heard_recording, prompt_ulaw, read_wav, sipp, tone_file, tone_share, wait_until,
    Baresip, BaresipOptions, Pbx, RtpPeer, PASSWORD,
};

fn two_way_call(caller_params: &str, callee_params: &str) -> Pbx {
    let pbx = Pbx::start();
    let tones = tempfile::tempdir().unwrap();
    let (low, high) = (tone_file(tones.path(), 440), tone_file(tones.path(), 1000));
    let callee_account = format!(";answermode=auto{callee_params}");
    let mut callee = Baresip::start(
        pbx.sip,
        BaresipOptions {
            user: "6002",
            password: PASSWORD,
            account_params: &callee_account,
            audio_source: Some(&high),
            commands: &[],
            quit_after_secs: Some(14),
        },
    );
    assert!(
        wait_until(Duration::from_secs(15), || !pbx.registrations().is_empty()),
        "6002 did not register\n{}",
        callee.log()
    );
    let mut caller = Baresip::start(
        pbx.sip,
        BaresipOptions {
            user: "6001",
            password: PASSWORD,
            account_params: caller_params,
            audio_source: Some(&low),
            commands: &["/dial 6002"],
            quit_after_secs: Some(7),
        },
    );
    assert!(
        caller.wait_exit(Duration::from_secs(20)),
        "caller did not finish\n{}",
        caller.log()
    );
    let ended = wait_until(Duration::from_secs(5), || {
        let stats = pbx.get("/api/stats").unwrap();
        stats["calls_active"] == 0 && stats["rtp_ports_in_use"] == 0
    });
    assert!(ended, "{}\n{}", pbx.get("/api/stats").unwrap(), pbx.log());
    assert!(
        callee.wait_exit(Duration::from_secs(15)),
        "callee did not finish\n{}",
        callee.log()
    );

    let caller_heard = heard_recording(&caller)
        .unwrap_or_else(|| panic!("caller recorded nothing\n{}\n{}", caller.log(), pbx.log()));
    let callee_heard = heard_recording(&callee)
        .unwrap_or_else(|| panic!("callee recorded nothing\n{}\n{}", callee.log(), pbx.log()));
    let (samples, rate) = read_wav(&caller_heard);
    let share = tone_share(&samples, rate, 1000.0, 440.0);
    assert!(
        share > 0.5,
        "caller heard 1000 Hz in {:.0} % of {} s\n{}",
        share * 100.0,
        samples.len() / rate as usize,
        pbx.log()
    );
    let (samples, rate) = read_wav(&callee_heard);
    let share = tone_share(&samples, rate, 440.0, 1000.0);
    assert!(
        share > 0.5,
        "callee heard 440 Hz in {:.0} % of {} s\n{}",
        share * 100.0,
        samples.len() / rate as usize,
        pbx.log()
    );
    pbx
}

#[test]
fn same_codec_call_carries_both_tones() {
    let pbx = two_way_call("", "");
    assert!(
        pbx.log().contains("codec_in=\"PCMU\" codec_out=\"PCMU\""),
        "{}",
        pbx.log()
    );
}

#[test]
fn mulaw_to_alaw_call_is_transcoded_both_ways() {
    let pbx = two_way_call(";audio_codecs=PCMU/8000/1", ";audio_codecs=PCMA/8000/1");
    assert!(
        pbx.log().contains("codec_in=\"PCMU\" codec_out=\"PCMA\""),
        "{}",
        pbx.log()
    );
}

#[test]
fn unregistered_callee_gets_the_not_available_prompt() {
    let pbx = Pbx::start();
    let media = RtpPeer::start();
    let port = media.port.to_string();
    let csv = fixture("sipp/caller_6001.csv");
    let args = [
        "-s",
        "6002",
        "-au",
        "6001",
        "-ap",
        PASSWORD,
        "-m",
        "1",
        "-inf",
        csv.to_str().unwrap(),
        "-key",
        "rtp_port",
        &port,
    ];
    let run = sipp(&fixture("sipp/uac_call.xml"), pbx.sip, &args);
    run.assert_succeeded(1, &pbx);
    let audio: Vec<u8> = media
        .packets()
        .iter()
        .flat_map(|p| p.payload.clone())
        .collect();
    assert!(
        common::find_prompt(&audio, &prompt_ulaw("number-not-available")).is_some(),
        "{}",
        pbx.log()
    );
}
