//! Call control around the dialplan: an unauthenticated INVITE gets 407 and no media, an
//! unknown extension 404, CANCEL while ringing 487, an operator's hang-up of a ringing channel
//! as busy 486 (with cause 17 in the events), a caller's BYE mid-playback ends the call,
//! a dialplan reload leaves the call in progress on its dialplan, and 200 calls leave no call,
//! port or task behind.

mod common;

use std::time::Duration;

use common::events::EventStream;
use common::{
    assert_no_leftovers, call_as_6001 as call, exchange, find_prompt, prompt_ulaw, wait_until, Pbx,
    PbxOptions, RtpPeer,
};

const TEST_DIALPLAN: &str = r#"
[context.internal]
"7000" = ["Ringing()", "Wait(10)", "Hangup()"]
"8000" = ["Answer()", "Playback(hello-world)", "Hangup()"]
"9000" = ["Answer()", "Wait(2)", "Playback(hello-world)", "Hangup()"]
"#;

fn pbx_with_dialplan() -> (Pbx, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dialplan.toml");
    std::fs::write(&path, TEST_DIALPLAN).unwrap();
    let pbx = Pbx::start_in(
        dir,
        PbxOptions {
            extra_config: format!("[dialplan]\nfile = \"{}\"\n", path.display()),
            ..PbxOptions::default()
        },
    );
    (pbx, path)
}

#[test]
fn unauthenticated_invite_gets_407_and_no_media() {
    let pbx = Pbx::start();
    let media = RtpPeer::start();
    let sdp = format!(
        "v=0\r\no=x 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio {} RTP/AVP 0\r\n",
        media.port
    );
    let invite = format!(
        "INVITE sip:8000@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bKnoauth;rport\r\n\
         From: <sip:6001@127.0.0.1>;tag=a\r\nTo: <sip:8000@127.0.0.1>\r\nCall-ID: noauth\r\nCSeq: 1 INVITE\r\n\
         Contact: <sip:6001@127.0.0.1:5999>\r\nMax-Forwards: 70\r\nContent-Type: application/sdp\r\n\
         Content-Length: {}\r\n\r\n{sdp}",
        sdp.len()
    );
    let replies = exchange(pbx.sip, &[invite.as_bytes()], Duration::from_millis(1500));
    // Without an ACK the 407 is retransmitted (timer G): the same response, nothing else.
    assert!(
        !replies.is_empty() && replies.iter().all(|r| r == &replies[0]),
        "{replies:?}"
    );
    assert!(
        replies[0].starts_with("SIP/2.0 407 Proxy Authentication Required"),
        "{}",
        replies[0]
    );
    assert!(
        replies[0].contains("\r\nProxy-Authenticate: Digest "),
        "{}",
        replies[0]
    );
    assert!(media.packets().is_empty());
    assert_eq!(pbx.get("/api/stats").unwrap()["calls_total"], 0);
}

#[test]
fn unknown_extension_gets_404() {
    let pbx = Pbx::start();
    let media = RtpPeer::start();
    let run = call(&pbx, "sipp/uac_404.xml", "5555", media.port, &["-m", "1"]);
    run.assert_succeeded(1, &pbx);
    assert_no_leftovers(&pbx);
}

#[test]
fn cancel_while_ringing_gets_487() {
    let (pbx, _) = pbx_with_dialplan();
    let media = RtpPeer::start();
    let run = call(
        &pbx,
        "sipp/uac_cancel.xml",
        "7000",
        media.port,
        &["-m", "1", "-d", "500"],
    );
    run.assert_succeeded(1, &pbx);
    assert_no_leftovers(&pbx);
    assert!(
        pbx.log().contains("cancelled by the caller"),
        "{}",
        pbx.log()
    );
}

#[test]
fn operator_hangup_with_a_reason_reaches_the_caller_and_the_events() {
    let (pbx, _) = pbx_with_dialplan();
    let mut events = EventStream::connect(&pbx.api, None);
    let media = RtpPeer::start();
    let caller = std::thread::scope(|scope| {
        let caller =
            scope.spawn(|| call(&pbx, "sipp/uac_busy.xml", "7000", media.port, &["-m", "1"]));
        events.expect("the call rings", |e| {
            e["type"] == "ChannelStateChanged" && e["channel"]["state"] == "Ringing"
        });
        let channel = events
            .received
            .iter()
            .find(|e| e["type"] == "ChannelCreated")
            .and_then(|e| e["channel"]["id"].as_str())
            .expect("ChannelCreated")
            .to_string();
        let wrong = pbx.ctl(&["hangup", &channel, "--reason", "bored"]);
        assert_eq!(wrong.status.code(), Some(1), "{wrong:?}");
        let out = pbx.ctl(&["hangup", &channel, "--reason", "busy"]);
        assert!(out.status.success(), "{out:?}");
        caller.join().unwrap()
    });
    caller.assert_succeeded(1, &pbx);
    events.expect("the hang-up request", |e| {
        e["type"] == "ChannelHangupRequest" && e["cause"] == 17 && e["source"] == "operator"
    });
    events.expect("the channel's end", |e| {
        e["type"] == "ChannelDestroyed" && e["cause"] == 17 && e["cause_txt"] == "User busy"
    });
    assert_no_leftovers(&pbx);
}

#[test]
fn caller_bye_mid_playback_ends_the_call() {
    let pbx = Pbx::start();
    let media = RtpPeer::start();
    let run = call(
        &pbx,
        "sipp/uac_bye.xml",
        "8000",
        media.port,
        &["-m", "1", "-d", "500"],
    );
    run.assert_succeeded(1, &pbx);
    assert_no_leftovers(&pbx);
    let heard = media.packets().len();
    assert!(
        (10..=60).contains(&heard),
        "{heard} packets for a 0.5 s call"
    );
    assert!(pbx.log().contains("caller hung up"), "{}", pbx.log());
}

#[test]
fn reload_keeps_calls_in_progress_on_their_dialplan() {
    let (pbx, path) = pbx_with_dialplan();
    let media = RtpPeer::start();
    let first = std::thread::scope(|scope| {
        let running =
            scope.spawn(|| call(&pbx, "sipp/uac_call.xml", "9000", media.port, &["-m", "1"]));
        assert!(wait_until(Duration::from_secs(5), || pbx
            .get("/api/stats")
            .unwrap()["calls_active"]
            == 1));
        let changed = TEST_DIALPLAN.replace(
            "Wait(2)\", \"Playback(hello-world)",
            "Wait(2)\", \"Playback(goodbye)",
        );
        std::fs::write(&path, changed).unwrap();
        let out = pbx.ctl(&["dialplan", "reload"]);
        assert!(out.status.success(), "{out:?}");
        running.join().unwrap()
    });
    assert_eq!((first.successful, first.failed), (1, 0), "{}", first.stdout);
    let audio: Vec<u8> = media
        .packets()
        .iter()
        .flat_map(|p| p.payload.clone())
        .collect();
    assert!(
        find_prompt(&audio, &prompt_ulaw("hello-world")).is_some(),
        "call in progress changed dialplan"
    );

    let second_media = RtpPeer::start();
    let second = call(
        &pbx,
        "sipp/uac_call.xml",
        "9000",
        second_media.port,
        &["-m", "1"],
    );
    assert_eq!(
        (second.successful, second.failed),
        (1, 0),
        "{}",
        second.stdout
    );
    let audio: Vec<u8> = second_media
        .packets()
        .iter()
        .flat_map(|p| p.payload.clone())
        .collect();
    assert!(
        find_prompt(&audio, &prompt_ulaw("goodbye")).is_some(),
        "new call did not use the reloaded dialplan"
    );

    std::fs::write(&path, "[context.internal]\n\"1\" = [\"NoSuchApp()\"]\n").unwrap();
    let out = pbx.ctl(&["dialplan", "reload"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let listing = pbx.ctl(&["dialplan", "show", "internal"]);
    assert!(
        String::from_utf8_lossy(&listing.stdout).contains("9000"),
        "{listing:?}"
    );
}

#[test]
fn two_hundred_calls_leave_nothing_behind() {
    let pbx = Pbx::start();
    let media = RtpPeer::start();
    let run = call(
        &pbx,
        "sipp/uac_bye.xml",
        "8000",
        media.port,
        &["-m", "200", "-r", "40", "-l", "40", "-d", "300"],
    );
    run.assert_succeeded(200, &pbx);
    assert_no_leftovers(&pbx);
    let stats = pbx.get("/api/stats").unwrap();
    assert_eq!(stats["calls_total"], 200, "{stats}");
}
