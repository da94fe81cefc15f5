//! Hold in a bridged call, with real peers: a SIPp caller (6001) whose own socket streams a
//! 440 Hz tone and records what it hears, and a baresip callee (6002) sending 1000 Hz and
//! recording what it hears. The caller holds for 45 s, longer than the 30 s RTP inactivity
//! timeout, and sends no RTP meanwhile; the PBX answers the hold itself and plays music on
//! hold to the callee; after unhold both tones flow again and the caller's BYE is answered
//! 200, so the call was up all along.

mod common;

use std::time::Duration;

use common::{
    assert_no_leftovers, call_as_6001, heard_recording, read_wav, rms_dbfs, tone_file_lasting,
    tone_share, ulaw_samples, Baresip, Pbx, RtpPeer, ToneStream,
};

/// How long the caller holds.
const HOLD: Duration = Duration::from_secs(45);
/// The pause before the hold and after the unhold (SIPp's `-d`).
const TALK: Duration = Duration::from_secs(4);

/// 100 ms windows of `samples` (8 kHz) between `from` and `to` seconds.
fn windows(samples: &[i16], from: f64, to: f64) -> Vec<&[i16]> {
    let (from, to) = ((from * 8000.0) as usize, (to * 8000.0) as usize);
    samples[from.min(samples.len())..to.min(samples.len())]
        .chunks_exact(800)
        .collect()
}

#[test]
fn a_45_s_hold_stays_up_with_music_for_the_held_party_and_unhold_restores_both_tones() {
    let pbx = Pbx::start();
    let tones = tempfile::tempdir().unwrap();
    let high = tone_file_lasting(tones.path(), 1000, 90);
    let callee = Baresip::answering(&pbx, "6002", "", Some(&high), 90);
    let mut events = common::events::EventStream::connect(&pbx.api, None);
    let caller_media = RtpPeer::start();
    // The caller talks, is silent from just before its hold until just after its unhold
    // (a held phone need not send), then talks again.
    let quiet_from = TALK - Duration::from_millis(500);
    let quiet_to = TALK + HOLD + Duration::from_millis(500);
    let stream = caller_media.stream_tone(ToneStream {
        freq: 440.0,
        ptime_ms: 20,
        duration: TALK * 2 + HOLD,
        pause: Some((quiet_from, quiet_to)),
    });
    let (talk_ms, hold_ms) = (TALK.as_millis().to_string(), HOLD.as_millis().to_string());
    let run = call_as_6001(
        &pbx,
        "sipp/uac_hold.xml",
        "6002",
        caller_media.port,
        &[
            "-m", "1", "-d", &talk_ms, "-set", "hold_ms", &hold_ms, "-timeout", "120s",
        ],
    );
    // Wire: the hold was answered recvonly, the unhold sendrecv, the BYE 200 after 45 s.
    run.assert_succeeded(1, &pbx);
    assert!(
        stream.join().unwrap() > 200,
        "the caller's tone was not sent"
    );
    let by_caller = |kind: &'static str| {
        move |e: &serde_json::Value| {
            e["type"] == kind
                && e["channel"]["name"]
                    .as_str()
                    .is_some_and(|n| n.starts_with("PJSIP/6001-"))
        }
    };
    events.expect("the caller's hold", by_caller("ChannelHold"));
    events.expect("the caller's unhold", by_caller("ChannelUnhold"));
    assert_no_leftovers(&pbx);

    // The callee heard the caller's tone, then music for the whole hold (at the level of
    // speech or music, and not the caller's tone), then the caller's tone again.
    let recording = heard_recording(&callee)
        .unwrap_or_else(|| panic!("callee recorded nothing\n{}\n{}", callee.log(), pbx.log()));
    let (heard, rate) = read_wav(&recording);
    assert_eq!(rate, 8000, "{}", recording.display());
    let secs = heard.len() as f64 / 8000.0;
    let (talk, hold) = (TALK.as_secs_f64(), HOLD.as_secs_f64());
    assert!(
        secs > talk * 2.0 + hold - 2.0,
        "the callee heard {secs:.1} s\n{}",
        pbx.log()
    );
    let before = windows(&heard, 0.5, talk - 1.0).concat();
    let share = tone_share(&before, 8000, 440.0, 1000.0);
    assert!(
        share > 0.8,
        "before the hold the callee heard 440 Hz in {:.0} %",
        share * 100.0
    );
    let during = windows(&heard, talk + 1.5, talk + hold - 1.5);
    assert!(during.len() > 400, "{} windows of hold", during.len());
    let caller_tone = tone_share(&during.concat(), 8000, 440.0, 1000.0);
    assert!(
        caller_tone < 0.02,
        "the callee heard the caller's 440 Hz in {:.0} % of the hold",
        caller_tone * 100.0
    );
    let loud = during.iter().filter(|w| rms_dbfs(w) > -35.0).count();
    assert!(
        loud * 100 >= during.len() * 95,
        "music in only {loud} of {} windows of the hold (levels {:?}...)",
        during.len(),
        during
            .iter()
            .take(20)
            .map(|w| rms_dbfs(w).round())
            .collect::<Vec<_>>()
    );
    let level = rms_dbfs(&during.concat());
    assert!((-30.0..-8.0).contains(&level), "music at {level:.1} dBFS");
    let after = windows(&heard, secs - talk + 1.5, secs - 0.5).concat();
    let share = tone_share(&after, 8000, 440.0, 1000.0);
    assert!(
        share > 0.8,
        "after the unhold the callee heard 440 Hz in {:.0} %",
        share * 100.0
    );

    // The caller, on hold, was sent nothing; before and after it heard the callee's tone.
    let packets: Vec<_> = caller_media
        .packets()
        .into_iter()
        .filter(|p| p.payload_type == 0)
        .collect();
    let (gap_at, gap) = packets
        .windows(2)
        .enumerate()
        .map(|(i, w)| (i, w[1].at.duration_since(w[0].at)))
        .max_by_key(|(_, gap)| *gap)
        .expect("no audio reached the caller");
    assert!(
        gap >= HOLD - Duration::from_secs(2),
        "longest silence towards the holder {gap:?}"
    );
    for (part, packets) in [
        ("before", &packets[..=gap_at]),
        ("after", &packets[gap_at + 1..]),
    ] {
        assert!(
            packets.len() >= 100,
            "{} packets {part} the hold",
            packets.len()
        );
        let audio: Vec<u8> = packets[25..]
            .iter()
            .flat_map(|p| p.payload.clone())
            .collect();
        let share = tone_share(&ulaw_samples(&audio), 8000, 1000.0, 440.0);
        assert!(
            share > 0.8,
            "{part} the hold the caller heard 1000 Hz in {:.0} %",
            share * 100.0
        );
    }
}
