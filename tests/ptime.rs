//! Packetization (ptime) through a transcoded bridge, with real peers: a SIPp caller (6001)
//! offering mu-law with `a=ptime:30` (or 10), whose own socket streams a 440 Hz tone in
//! packets of that size and records what the PBX sends it, calls a baresip phone (6002) that
//! takes A-law only and sends 1000 Hz. The callee must hear the whole tone, and every packet
//! the PBX sends the caller must have the caller's ptime. A prompt played to a 30 ms caller
//! comes in 240-sample packets too.

mod common;

use std::time::Duration;

use common::{
    assert_no_leftovers, call_as_6001, find_prompt, heard_recording, prompt_ulaw, read_wav,
    tone_file, tone_power, tone_share, ulaw_samples, Baresip, Pbx, PbxOptions, RtpPeer, ToneStream,
};

/// How long the caller's tone lasts.
const TONE: Duration = Duration::from_secs(5);

/// Seconds of `samples` (8 kHz) in which 440 Hz dominates 1000 Hz, by 100 ms windows.
fn seconds_of_440(samples: &[i16]) -> f64 {
    samples
        .chunks_exact(800)
        .filter(|w| {
            let (p, q) = (tone_power(w, 8000, 440.0), tone_power(w, 8000, 1000.0));
            p > 10.0 * q && p > 1e-4
        })
        .count() as f64
        / 10.0
}

/// Calls the A-law-only callee from a mu-law caller with `ptime_ms` and checks both ways.
fn transcoded_call_keeps_the_callers_ptime(ptime_ms: u32) {
    let pbx = Pbx::start();
    let tones = tempfile::tempdir().unwrap();
    let high = tone_file(tones.path(), 1000);
    let callee = Baresip::answering(&pbx, "6002", ";audio_codecs=PCMA/8000/1", Some(&high), 40);
    let caller_media = RtpPeer::start();
    let stream = caller_media.stream_tone(ToneStream {
        freq: 440.0,
        ptime_ms,
        duration: TONE,
        pause: None,
    });
    let ptime = ptime_ms.to_string();
    let run = call_as_6001(
        &pbx,
        "sipp/uac_bye_ptime.xml",
        "6002",
        caller_media.port,
        &["-m", "1", "-d", "7000", "-key", "ptime", &ptime],
    );
    run.assert_succeeded(1, &pbx);
    let sent = stream.join().unwrap();
    let expected = TONE.as_millis().div_ceil(u128::from(ptime_ms)) as usize;
    assert_eq!(sent, expected, "packets of the caller's tone sent");
    assert!(
        pbx.log().contains("codec_in=\"PCMU\" codec_out=\"PCMA\""),
        "not transcoded\n{}",
        pbx.log()
    );
    assert_no_leftovers(&pbx);

    // The callee heard the caller's whole tone: as long as it was sent, give or take the
    // jitter buffer's start and concealment.
    let recording = heard_recording(&callee)
        .unwrap_or_else(|| panic!("callee recorded nothing\n{}\n{}", callee.log(), pbx.log()));
    let (heard, rate) = read_wav(&recording);
    assert_eq!(rate, 8000);
    let tone_secs = seconds_of_440(&heard);
    let want = TONE.as_secs_f64();
    assert!(
        (want - 0.3..=want + 0.3).contains(&tone_secs),
        "the callee heard 440 Hz for {tone_secs:.1} s of {want} s ({} ms packets)\n{}",
        ptime_ms,
        pbx.log()
    );

    // Every packet towards the caller has the caller's ptime, timestamps advancing by it, and
    // carries the callee's tone.
    let samples = ptime_ms as usize * 8;
    let packets: Vec<_> = caller_media
        .packets()
        .into_iter()
        .filter(|p| p.payload_type == 0)
        .collect();
    assert!(
        packets.len() > 100,
        "{} packets to the caller",
        packets.len()
    );
    let sizes: std::collections::BTreeSet<usize> =
        packets.iter().map(|p| p.payload.len()).collect();
    assert_eq!(
        sizes,
        [samples].into(),
        "payload sizes sent to the {ptime_ms} ms caller"
    );
    let steps = packets
        .windows(2)
        .filter(|w| w[1].timestamp.wrapping_sub(w[0].timestamp) == samples as u32)
        .count();
    assert!(
        steps * 100 >= (packets.len() - 1) * 95,
        "{steps} of {} timestamp steps are {samples}",
        packets.len() - 1
    );
    let audio: Vec<u8> = packets[10..]
        .iter()
        .flat_map(|p| p.payload.clone())
        .collect();
    let share = tone_share(&ulaw_samples(&audio), 8000, 1000.0, 440.0);
    assert!(
        share > 0.8,
        "the caller heard 1000 Hz in {:.0} %",
        share * 100.0
    );
}

#[test]
fn a_30_ms_caller_is_heard_in_full_through_transcoding_and_gets_240_sample_packets() {
    transcoded_call_keeps_the_callers_ptime(30);
}

#[test]
fn a_10_ms_caller_is_heard_in_full_through_transcoding_and_gets_80_sample_packets() {
    transcoded_call_keeps_the_callers_ptime(10);
}

#[test]
fn a_30_ms_caller_gets_a_prompt_whole_in_240_sample_packets() {
    let dir = tempfile::tempdir().unwrap();
    let dialplan = dir.path().join("dialplan.toml");
    let steps = r#""Answer()", "Playback(hello-world)", "Wait(10)", "Hangup()""#;
    std::fs::write(
        &dialplan,
        format!("[context.internal]\n\"7000\" = [{steps}]\n"),
    )
    .unwrap();
    let pbx = Pbx::start_in(
        dir,
        PbxOptions {
            extra_config: format!("[dialplan]\nfile = \"{}\"\n", dialplan.display()),
            ..PbxOptions::default()
        },
    );
    let media = RtpPeer::start();
    let run = call_as_6001(
        &pbx,
        "sipp/uac_bye_ptime.xml",
        "7000",
        media.port,
        &["-m", "1", "-d", "3000", "-key", "ptime", "30"],
    );
    run.assert_succeeded(1, &pbx);
    let packets: Vec<_> = media
        .packets()
        .into_iter()
        .filter(|p| p.payload_type == 0)
        .collect();
    let sizes: std::collections::BTreeSet<usize> =
        packets.iter().map(|p| p.payload.len()).collect();
    assert_eq!(sizes, [240].into(), "payload sizes of the prompt");
    let audio: Vec<u8> = packets.iter().flat_map(|p| p.payload.clone()).collect();
    assert!(
        find_prompt(&audio, &prompt_ulaw("hello-world")).is_some(),
        "the prompt did not arrive whole ({} bytes)\n{}",
        audio.len(),
        pbx.log()
    );
    assert_no_leftovers(&pbx);
}
