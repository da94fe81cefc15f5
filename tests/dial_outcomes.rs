//! Dial outcomes with real peers on both sides: a SIPp callee registered as 6002 that is busy,
//! rings until cancelled, answers and hangs up, or answers many calls in a row, and a SIPp
//! caller (6001) whose media socket records what it hears. The dialplan maps ${DIALSTATUS} to
//! distinct prompts, so the caller's audio shows which status Dial set. Also: the demo IVR's
//! option 2 rings a baresip phone registered as 6002 and bridges to it.
//!
//! The SIPp callee is two runs on one port (`common::callee` says why).

mod common;

use std::time::{Duration, Instant};

use common::callee::{dial_6002, register_6002};
use common::events::EventStream;
use common::{
    assert_no_leftovers, call_as_6001 as call, dtmf_pcap, free_port, music_on_hold_ulaw,
    wait_until, Baresip, BaresipOptions, Pbx, PbxOptions, RtpPeer, SippRun, PASSWORD,
};

/// 6002 with the ring time as `RING`; BUSY plays all-circuits-busy and NOANSWER goodbye.
const DIALPLAN: &str = r#"
[context.internal]
"6002" = [
  "Dial(endpoint/6002, RING)",
  "GotoIf($[\"${DIALSTATUS}\" = \"BUSY\"]?busy)",
  "GotoIf($[\"${DIALSTATUS}\" = \"NOANSWER\"]?noanswer)",
  "Hangup()",
  "busy: Playback(all-circuits-busy)",
  "Hangup()",
  "noanswer: Playback(goodbye)",
  "Hangup()",
]
"#;

/// A pbx running [`DIALPLAN`] with `ring_secs`. Qualify pings are off: an OPTIONS reaching a
/// server-mode SIPp callee would start a call it does not expect.
fn pbx_ringing_for(ring_secs: u32) -> Pbx {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dialplan.toml");
    std::fs::write(&path, DIALPLAN.replace("RING", &ring_secs.to_string())).unwrap();
    let defaults = PbxOptions::default();
    let registrar = defaults
        .registrar
        .replace("qualify_interval_secs = 30", "qualify_interval_secs = 0");
    assert_ne!(registrar, defaults.registrar, "qualify setting not found");
    Pbx::start_in(
        dir,
        PbxOptions {
            extra_config: format!("[dialplan]\nfile = \"{}\"\n", path.display()),
            registrar,
            ..defaults
        },
    )
}

fn assert_succeeded(run: &SippRun, calls: u64, who: &str, pbx: &Pbx) {
    assert_eq!(
        (run.successful, run.failed),
        (calls, 0),
        "{who}:\n{}\n{}",
        run.stdout,
        pbx.log()
    );
}

#[test]
fn busy_callee_sets_dialstatus_busy() {
    let pbx = pbx_ringing_for(20);
    let port = register_6002(&pbx);
    let media = RtpPeer::start();
    let (callee, caller) = dial_6002(
        &pbx,
        port,
        ("sipp/uas_busy.xml", &["-m", "1"]),
        ("sipp/uac_call.xml", media.port, &["-m", "1"]),
    );
    assert_succeeded(&callee, 1, "callee", &pbx);
    assert_succeeded(&caller, 1, "caller", &pbx);
    assert!(
        media.heard_prompt("all-circuits-busy"),
        "BUSY branch not taken\n{}",
        pbx.log()
    );
    assert!(!media.heard_prompt("goodbye"));
    assert!(pbx.log().contains("status=486"), "{}", pbx.log());
    assert_no_leftovers(&pbx);
}

#[test]
fn unanswered_callee_is_cancelled_and_sets_noanswer() {
    let pbx = pbx_ringing_for(3);
    let port = register_6002(&pbx);
    let media = RtpPeer::start();
    let started = Instant::now();
    // dial_uac_ringing.xml fails unless the callee's 180 reaches the caller.
    let (callee, caller) = dial_6002(
        &pbx,
        port,
        ("sipp/uas_ringing_cancel.xml", &["-m", "1"]),
        ("sipp/dial_uac_ringing.xml", media.port, &["-m", "1"]),
    );
    assert_succeeded(&callee, 1, "callee", &pbx);
    assert_succeeded(&caller, 1, "caller", &pbx);
    assert!(
        media.heard_prompt("goodbye"),
        "NOANSWER branch not taken\n{}",
        pbx.log()
    );
    assert!(!media.heard_prompt("all-circuits-busy"));
    assert!(started.elapsed() >= Duration::from_secs(3));
    assert!(pbx.log().contains("Dial timed out"), "{}", pbx.log());
    assert_no_leftovers(&pbx);
}

#[test]
fn caller_cancel_while_ringing_cancels_the_callee() {
    let pbx = pbx_ringing_for(20);
    let port = register_6002(&pbx);
    let media = RtpPeer::start();
    let started = Instant::now();
    let (callee, caller) = dial_6002(
        &pbx,
        port,
        ("sipp/uas_ringing_cancel.xml", &["-m", "1"]),
        ("sipp/uac_cancel.xml", media.port, &["-m", "1", "-d", "500"]),
    );
    assert_succeeded(&callee, 1, "callee", &pbx);
    assert_succeeded(&caller, 1, "caller", &pbx);
    // Well before the 20 s ring time: the callee's CANCEL came from the caller's.
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(
        pbx.log().contains("cancelled by the caller"),
        "{}",
        pbx.log()
    );
    assert!(!pbx.log().contains("Dial timed out"));
    assert_no_leftovers(&pbx);
}

/// The caller gives up while the callee has not answered anything yet: the PBX holds its
/// CANCEL until the callee's first provisional response (RFC 3261 §9.1); the callee scenario
/// fails on a CANCEL that comes before its 180.
#[test]
fn cancel_waits_for_the_callees_first_provisional_response() {
    let pbx = pbx_ringing_for(20);
    let port = register_6002(&pbx);
    let media = RtpPeer::start();
    let (callee, caller) = dial_6002(
        &pbx,
        port,
        ("sipp/uas_late_ringing_cancel.xml", &["-m", "1"]),
        (
            "sipp/uac_cancel_early.xml",
            media.port,
            &["-m", "1", "-d", "300"],
        ),
    );
    assert_succeeded(&caller, 1, "caller", &pbx);
    assert_succeeded(&callee, 1, "callee", &pbx);
    assert!(
        pbx.log()
            .contains("CANCEL held until the INVITE has a provisional response"),
        "{}",
        pbx.log()
    );
    assert_no_leftovers(&pbx);
}

/// The callee answers 200 after the caller gave up and before any provisional response (so
/// no CANCEL could be sent): the PBX ACKs that 200 and hangs the callee up with BYE.
#[test]
fn a_200_crossing_the_cancel_is_acknowledged_and_hung_up() {
    let pbx = pbx_ringing_for(20);
    let port = register_6002(&pbx);
    let (media, callee_media) = (RtpPeer::start(), RtpPeer::start());
    let callee_rtp = callee_media.port.to_string();
    let callee_args = ["-m", "1", "-key", "rtp_port", callee_rtp.as_str()];
    let (callee, caller) = dial_6002(
        &pbx,
        port,
        ("sipp/uas_answer_crossing_cancel.xml", &callee_args),
        (
            "sipp/uac_cancel_early.xml",
            media.port,
            &["-m", "1", "-d", "300"],
        ),
    );
    assert_succeeded(&caller, 1, "caller", &pbx);
    assert_succeeded(&callee, 1, "callee", &pbx);
    assert!(
        pbx.log().contains("2xx crossed our CANCEL: sending BYE"),
        "{}",
        pbx.log()
    );
    assert_no_leftovers(&pbx);
}

/// A key pressed on the caller's phone and sent as SIP INFO (application/dtmf-relay) reaches
/// the bridged callee as RFC 4733 telephone-events: key 5, one event timestamp, the marker on
/// the first packet, the final duration three times with the E bit.
#[test]
fn info_key_press_reaches_the_callee_as_rfc4733_events() {
    let pbx = pbx_ringing_for(20);
    let port = register_6002(&pbx);
    let (caller_media, callee_media) = (RtpPeer::start(), RtpPeer::start());
    let callee_rtp = callee_media.port.to_string();
    let callee_args = ["-m", "1", "-key", "rtp_port", callee_rtp.as_str()];
    let (callee, caller) = dial_6002(
        &pbx,
        port,
        ("sipp/uas_answer.xml", &callee_args),
        (
            "sipp/dial_uac_info.xml",
            caller_media.port,
            &["-m", "1", "-d", "1000"],
        ),
    );
    assert_succeeded(&caller, 1, "caller", &pbx);
    assert_succeeded(&callee, 1, "callee", &pbx);
    let events: Vec<_> = callee_media
        .packets()
        .into_iter()
        .filter(|p| p.payload_type == 101)
        .collect();
    assert!(events.len() >= 4, "{events:?}\n{}", pbx.log());
    assert!(events.iter().all(|p| p.payload[0] == 5), "{events:?}");
    assert!(
        events[0].marker && events[1..].iter().all(|p| !p.marker),
        "{events:?}"
    );
    assert!(
        events.iter().all(|p| p.timestamp == events[0].timestamp),
        "{events:?}"
    );
    let ends: Vec<_> = events.iter().filter(|p| p.payload[1] & 0x80 != 0).collect();
    assert_eq!(ends.len(), 3, "{events:?}");
    let duration = |p: &common::RtpReceived| u16::from_be_bytes([p.payload[2], p.payload[3]]);
    assert!(ends.iter().all(|p| duration(p) == 800), "{events:?}");
    assert_no_leftovers(&pbx);
}

#[test]
fn callee_bye_after_answer_hangs_up_the_caller() {
    let pbx = pbx_ringing_for(20);
    let port = register_6002(&pbx);
    let mut events = EventStream::connect(&pbx.api, None);
    let (caller_media, callee_media) = (RtpPeer::start(), RtpPeer::start());
    let callee_port = callee_media.port.to_string();
    let callee_args = ["-m", "1", "-key", "rtp_port", callee_port.as_str()];
    let started = Instant::now();
    let (callee, caller) = dial_6002(
        &pbx,
        port,
        ("sipp/uas_answer_bye.xml", &callee_args),
        ("sipp/uac_call.xml", caller_media.port, &["-m", "1"]),
    );
    assert_succeeded(&callee, 1, "callee", &pbx);
    assert_succeeded(&caller, 1, "caller", &pbx);
    assert!(started.elapsed() >= Duration::from_secs(1));
    events.expect_answered_dial("PJSIP/6002-");
    events.expect("the callee's hangup", |e| {
        e["type"] == "ChannelHangupRequest"
            && e["source"] == "remote"
            && e["channel"]["name"]
                .as_str()
                .is_some_and(|n| n.starts_with("PJSIP/6002-"))
    });
    assert_no_leftovers(&pbx);
}

#[test]
fn ivr_option_2_bridges_to_6002() {
    let pbx = Pbx::start();
    let mut events = EventStream::connect(&pbx.api, None);
    let phone = Baresip::start(
        pbx.sip,
        BaresipOptions {
            user: "6002",
            password: PASSWORD,
            account_params: ";answermode=auto",
            audio_source: None,
            commands: &[],
            quit_after_secs: Some(40),
        },
    );
    assert!(
        wait_until(Duration::from_secs(15), || !pbx.registrations().is_empty()),
        "6002 did not register\n{}",
        phone.log()
    );
    let media = RtpPeer::start();
    let (caller, bridged_at) = std::thread::scope(|s| {
        let caller = s.spawn(|| {
            call(
                &pbx,
                "sipp/uac_bye.xml",
                "8001",
                media.port,
                &["-m", "1", "-d", "8000"],
            )
        });
        assert!(
            media.wait_packets(50, Duration::from_secs(10)),
            "no menu audio\n{}",
            pbx.log()
        );
        media.send_pcap(&dtmf_pcap("2"), 101);
        let bridged = wait_until(Duration::from_secs(5), || {
            let channels = pbx.get("/api/channels").unwrap();
            channels.as_array().unwrap().iter().any(|c| {
                c["name"].as_str().unwrap().starts_with("PJSIP/6002-") && c["state"] == "Up"
            })
        });
        assert!(bridged, "{}\n{}", pbx.log(), phone.log());
        let bridged_at = Instant::now();
        (caller.join().unwrap(), bridged_at)
    });
    assert_succeeded(&caller, 1, "caller", &pbx);
    events.expect(
        "Dial of endpoint/6002, the branch linked to its caller",
        |e| {
            e["type"] == "DialBegin"
                && e["dialstring"] == "endpoint/6002"
                && e["peer"]["linkedid"] == e["caller"]["id"]
                && e["caller"]["linkedid"] == e["caller"]["id"]
        },
    );
    let log = pbx.log();
    // The phone answered and got the PBX's BYE when the caller hung up.
    let ended = wait_until(Duration::from_secs(5), || {
        let phone_log = phone.log();
        phone_log.contains("Call established") && phone_log.contains("terminated")
    });
    assert!(ended, "{}", phone.log());
    // The phone's audio reached the caller through the bridge until the caller hung up.
    let relayed = media.packets().iter().filter(|p| p.at > bridged_at).count();
    assert!(relayed > 50, "{relayed} packets after the bridge\n{log}");
    assert_no_leftovers(&pbx);
}

#[test]
fn hundred_bridged_calls_leave_nothing_behind() {
    let pbx = pbx_ringing_for(20);
    let port = register_6002(&pbx);
    let (caller_media, callee_media) = (RtpPeer::start(), RtpPeer::start());
    let callee_port = callee_media.port.to_string();
    let callee_args = ["-m", "100", "-key", "rtp_port", callee_port.as_str()];
    // Each bridged call holds two RTP ports and the test pbx has 20: at most 8 at once.
    let caller_args = ["-m", "100", "-r", "20", "-l", "8", "-d", "500"];
    let (callee, caller) = dial_6002(
        &pbx,
        port,
        ("sipp/uas_answer.xml", &callee_args),
        ("sipp/uac_bye.xml", caller_media.port, &caller_args),
    );
    assert_succeeded(&caller, 100, "caller", &pbx);
    assert_succeeded(&callee, 100, "callee", &pbx);
    assert_no_leftovers(&pbx);
    let stats = pbx.get("/api/stats").unwrap();
    assert_eq!(stats["calls_total"], 100, "{stats}");
}

#[test]
fn early_media_from_the_callee_reaches_the_caller_before_the_answer() {
    let pbx = pbx_ringing_for(20);
    let port = register_6002(&pbx);
    let caller_media = RtpPeer::start();
    let media_port = free_port().to_string();
    let callee_args = ["-m", "1", "-mp", media_port.as_str()];
    let (callee, caller) = dial_6002(
        &pbx,
        port,
        ("sipp/uas_early_media.xml", &callee_args),
        (
            "sipp/uac_bye.xml",
            caller_media.port,
            &["-m", "1", "-d", "1000"],
        ),
    );
    assert_succeeded(&callee, 1, "callee", &pbx);
    assert_succeeded(&caller, 1, "caller", &pbx);
    let log = pbx.log();
    assert!(log.contains("early media from the callee"), "{log}");
    let events = caller_media
        .packets()
        .iter()
        .filter(|p| p.payload_type == 101)
        .count();
    assert!(
        events >= 5,
        "the caller got {events} telephone-event packets of early media\n{log}"
    );
    assert_no_leftovers(&pbx);
}

/// The callee puts the call on hold: the PBX answers it recvonly itself (the callee's
/// scenario checks the answer), sends the caller no re-INVITE (the caller's scenario expects
/// none) and plays it the music on hold.
#[test]
fn callee_hold_is_answered_by_the_pbx_and_the_caller_hears_music_on_hold() {
    let pbx = pbx_ringing_for(20);
    let port = register_6002(&pbx);
    let (caller_media, callee_media) = (RtpPeer::start(), RtpPeer::start());
    let callee_port = callee_media.port.to_string();
    let callee_args = ["-m", "1", "-key", "rtp_port", callee_port.as_str()];
    let (callee, caller) = dial_6002(
        &pbx,
        port,
        ("sipp/uas_answer_hold.xml", &callee_args),
        (
            "sipp/uac_bye.xml",
            caller_media.port,
            &["-m", "1", "-d", "3000"],
        ),
    );
    assert_succeeded(&callee, 1, "callee", &pbx);
    assert_succeeded(&caller, 1, "caller", &pbx);
    // Half a second of the music, byte for byte as the PBX encodes it.
    let music = &music_on_hold_ulaw()[..4000];
    let heard = caller_media.heard_ulaw();
    assert!(
        heard.windows(music.len()).any(|w| w == music),
        "the caller did not hear the music on hold ({} bytes heard)\n{}",
        heard.len(),
        pbx.log()
    );
    assert_no_leftovers(&pbx);
}
