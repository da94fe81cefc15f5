//! Conference rooms: three baresip phones (one A-law only, one sending 40 ms packets) dial 8002
//! (`ConfBridge(8002)`) and send 440, 1000 and 1800 Hz. While all three are in, each phone must
//! hear the other two tones and not its own; after the 440 Hz phone hangs up, the two left
//! must still hear each other, and no longer the one who left. Each phone hears the join beeps,
//! and the two left hear the leave beeps. The room is listed as a mixing bridge while it lives.
//! A member that puts the call on hold (re-INVITE sendonly) gets no mix until it resumes.

mod common;

use std::net::UdpSocket;
use std::time::Duration;

use common::{
    read_wav, tone_file, tone_power, wait_until, Baresip, BaresipOptions, Pbx, PbxOptions, PASSWORD,
};

/// The join and leave beeps' pitches (`call::conference`).
const JOIN_HZ: f64 = 620.0;
const LEAVE_HZ: f64 = 520.0;
/// Goertzel power (see `tone_power`) a tone heard at about -12 dBFS or louder reaches easily;
/// a tone that is absent stays orders of magnitude below.
const HEARD: f64 = 1e-3;

/// Seconds `from..to` of a recording at `rate`.
fn segment(samples: &[i16], rate: u32, from: f64, to: f64) -> &[i16] {
    let at = |s: f64| ((s * f64::from(rate)) as usize).min(samples.len());
    &samples[at(from)..at(to)]
}

/// The loudest 100 ms window of `freq` in `samples`.
fn peak_window_power(samples: &[i16], rate: u32, freq: f64) -> f64 {
    samples
        .chunks_exact((rate / 10) as usize)
        .map(|w| tone_power(w, rate, freq))
        .fold(0.0, f64::max)
}

/// Asserts that `samples` hold every tone of `heard` and, far weaker, none of `not_heard`.
fn assert_tones(who: &str, samples: &[i16], rate: u32, heard: &[f64], not_heard: &[f64]) {
    assert!(
        samples.len() >= rate as usize * 3,
        "{who}: only {} samples",
        samples.len()
    );
    let power = |f: f64| tone_power(samples, rate, f);
    let weakest = heard.iter().map(|&f| power(f)).fold(f64::MAX, f64::min);
    let report = || {
        let all: Vec<String> = heard
            .iter()
            .chain(not_heard)
            .map(|&f| format!("{f} Hz: {:.2e}", power(f)))
            .collect();
        format!("{who}: {}", all.join(", "))
    };
    assert!(weakest > HEARD, "a tone is missing. {}", report());
    for &f in not_heard {
        assert!(
            power(f) * 100.0 < weakest,
            "{f} Hz must not be heard. {}",
            report()
        );
    }
}

#[test]
fn three_phones_hear_each_other_but_not_themselves() {
    let pbx = Pbx::start_with(PbxOptions {
        extra_config: format!("[[endpoint]]\nuser = \"6003\"\npassword = \"{PASSWORD}\"\n"),
        ..PbxOptions::default()
    });
    let tones = tempfile::tempdir().unwrap();
    let phones = [
        ("6001", "", 440.0, 14),
        ("6002", ";audio_codecs=PCMA/8000/1", 1000.0, 26),
        ("6003", ";audio_codecs=PCMU/8000/1;ptime=40", 1800.0, 26),
    ];
    let mut running: Vec<Baresip> = phones
        .iter()
        .map(|&(user, params, freq, quit)| {
            let tone = tone_file(tones.path(), freq as u32);
            let phone = Baresip::start(
                pbx.sip,
                BaresipOptions {
                    user,
                    password: PASSWORD,
                    account_params: params,
                    audio_source: Some(&tone),
                    commands: &["/dial 8002"],
                    quit_after_secs: Some(quit),
                },
            );
            // The next phone's free port must not be this one's SIP or TLS port (TESTING.md).
            let bound = wait_until(Duration::from_secs(5), || {
                UdpSocket::bind(("127.0.0.1", phone.port)).is_err()
            });
            assert!(bound, "{user} did not bind its SIP port\n{}", phone.log());
            phone
        })
        .collect();
    // The room is listed as a mixing bridge holding the three channels.
    let room_of_three = || {
        let bridges = pbx.get("/api/bridges").unwrap();
        bridges.as_array().is_some_and(|bridges| {
            bridges.iter().any(|b| {
                b["bridge_type"] == "mixing"
                    && b["name"] == "8002"
                    && b["channels"].as_array().map_or(0, Vec::len) == 3
            })
        })
    };
    let all_in = wait_until(Duration::from_secs(10), room_of_three);
    assert!(
        all_in,
        "{}\n{}",
        pbx.get("/api/bridges").unwrap(),
        pbx.log()
    );
    // The members' channels show the RTP the room receives and sends for them.
    let media_counted = wait_until(Duration::from_secs(5), || {
        let channels = pbx.get("/api/channels").unwrap();
        let flowing = |c: &serde_json::Value| {
            c["media"]["packets_in"].as_u64() > Some(50)
                && c["media"]["packets_out"].as_u64() > Some(50)
        };
        channels
            .as_array()
            .is_some_and(|c| c.len() == 3 && c.iter().all(flowing))
    });
    assert!(media_counted, "{}", pbx.get("/api/channels").unwrap());
    for phone in &mut running {
        assert!(
            phone.wait_exit(Duration::from_secs(40)),
            "phone did not finish\n{}\n{}",
            phone.log(),
            pbx.log()
        );
    }
    common::assert_no_leftovers(&pbx);
    assert_eq!(pbx.get("/api/bridges").unwrap(), serde_json::json!([]));

    let recordings: Vec<(Vec<i16>, u32)> = running
        .iter()
        .map(|phone| {
            let path = common::heard_recording(phone).unwrap_or_else(|| {
                panic!("phone recorded nothing\n{}\n{}", phone.log(), pbx.log())
            });
            read_wav(&path)
        })
        .collect();
    let tone_of: Vec<f64> = phones.iter().map(|p| p.2).collect();
    // All three in the room: seconds 4-10 of each call.
    for (i, (samples, rate)) in recordings.iter().enumerate() {
        let others: Vec<f64> = (0..3).filter(|&j| j != i).map(|j| tone_of[j]).collect();
        let part = segment(samples, *rate, 4.0, 10.0);
        assert_tones(phones[i].0, part, *rate, &others, &[tone_of[i]]);
        let start = segment(samples, *rate, 0.0, 4.0);
        let beep = peak_window_power(start, *rate, JOIN_HZ);
        assert!(beep > HEARD, "{}: no join beep ({beep:.2e})", phones[i].0);
    }
    // 6001 left about 13 s into its call: seconds 17-22 of the others' calls.
    for i in 1..3 {
        let (samples, rate) = &recordings[i];
        let other = tone_of[3 - i];
        let part = segment(samples, *rate, 17.0, 22.0);
        assert_tones(
            phones[i].0,
            part,
            *rate,
            &[other],
            &[tone_of[i], tone_of[0]],
        );
        let around = segment(samples, *rate, 10.0, 17.0);
        let beep = peak_window_power(around, *rate, LEAVE_HZ);
        assert!(beep > HEARD, "{}: no leave beep ({beep:.2e})", phones[i].0);
        let before = peak_window_power(segment(samples, *rate, 4.0, 10.0), *rate, LEAVE_HZ);
        assert!(
            before * 100.0 < beep,
            "{}: leave beep before anyone left",
            phones[i].0
        );
    }
}

#[test]
fn a_member_on_hold_gets_no_mix_until_it_resumes() {
    let pbx = Pbx::start();
    let media = common::RtpPeer::start();
    // Connected 1.5 s, on hold (sendonly) 1.5 s, resumed 1.5 s, then BYE.
    let run = common::call_as_6001(
        &pbx,
        "sipp/uac_hold.xml",
        "8002",
        media.port,
        &["-m", "1", "-d", "1500", "-set", "hold_ms", "1500"],
    );
    run.assert_succeeded(1, &pbx);
    let arrivals: Vec<_> = media
        .packets()
        .iter()
        .filter(|p| p.payload_type == 0)
        .map(|p| p.at)
        .collect();
    let (gap_index, gap) = arrivals
        .windows(2)
        .enumerate()
        .map(|(i, w)| (i, w[1].duration_since(w[0])))
        .max_by_key(|(_, d)| *d)
        .expect("the room sent nothing");
    assert!(
        gap >= Duration::from_millis(1000),
        "the room kept sending to a member on hold: longest gap {gap:?}"
    );
    let (before, after) = (gap_index + 1, arrivals.len() - gap_index - 1);
    assert!(
        before >= 25,
        "little mix before the hold ({before} packets)"
    );
    assert!(
        after >= 25,
        "the mix did not resume after unhold ({after} packets)"
    );
    common::assert_no_leftovers(&pbx);
}
