//! The FreeSWITCH event socket, outbound and inbound, driven by real clients, unchanged, with what
//! the caller hears as the oracle. A SIPp call from the trunk's provider to a DID reaches
//! `Socket(127.0.0.1:PORT, async, full)`, and:
//! - a greenswitch `OutboundESLServer` application gets the channel's data on `connect`,
//!   answers, plays hello-world (heard byte for byte), collects the key the caller sends as
//!   RFC 4733 with `play_and_get_digits` (in the variable and as a DTMF event), speaks a
//!   sentence through espeak-ng (heard as speech: level and length), gets a failed execute
//!   complete for an app the PBX does not have, and hangs up (the caller gets BYE). The
//!   linger disconnect notice is the last thing greenswitch parses (it does not read the
//!   notice's body, against FreeSWITCH as against the PBX), so CHANNEL_HANGUP_COMPLETE is
//!   not checked through it;
//! - a script sending exactly what an older Python event-socket transport sends (`connect`,
//!   `myevents`, `sendmsg ` with `event-lock: true`, `set tts_engine=flite`,
//!   `set tts_voice=kal`, `playback say:'...'`, `hangup`) gets its replies strictly in order,
//!   and the caller hears the speech although the engine is espeak-ng, not flite;
//! - a session with `myevents json` and `linger 5` that hangs up with USER_BUSY gets
//!   CHANNEL_HANGUP, the linger disconnect notice, then CHANNEL_HANGUP_COMPLETE (its cause
//!   and its `Caller-Channel-*-Time` stamps in microseconds), and `_undef_` for a missing
//!   variable;
//! - `Speak(...)` twice in the dialplan: the caller hears the sentence twice, and the cache
//!   holds one phrase;
//! - a `[tts] engine` that is not installed stops start-up, naming it;
//! - inbound: greenswitch's `InboundESL` authenticates, subscribes with `event plain ALL`,
//!   runs `api status`, and `bgapi originate user/6001 8000` rings a baresip phone that
//!   hears hello-world (its recording: length and level), uuid_setvar / uuid_getvar work
//!   on its channel and uuid_kill of an unknown one says so; BACKGROUND_JOB carries the job's
//!   id and CHANNEL_HANGUP_COMPLETE the phone's channel; a wrong password is refused and
//!   the connection closed;
//! - inbound with modesl (npm): auth, `api status`, `bgapi originate` (its BACKGROUND_JOB
//!   says `+OK UUID`), CHANNEL_HANGUP_COMPLETE of the phone's channel; a wrong password fails
//!   auth and the connection closes.
//!
//! A missing python3, greenswitch, node, modesl, espeak-ng, baresip or SIPp fails the test, never skips it.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::python::PythonClient;
use common::{
    dtmf_pcap, fixture, free_tcp_port, require_program, sipp, ulaw_rms_dbfs, Pbx, PbxOptions,
    RtpPeer,
};

/// The DID the provider calls.
const DID: &str = "5550200";

/// Bytes of mu-law in one 20 ms packet.
const PACKET: usize = 160;

/// A pbx with a trunk whose provider (any loopback address) calls `DID`, routed to
/// `Socket(...)` on `port`, and espeak-ng as its TTS engine.
fn pbx_routing_to(port: u16) -> Pbx {
    require_program("espeak-ng");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dialplan.toml");
    std::fs::write(
        &path,
        format!(
            "[context.from-trunk]\n\"{DID}\" = [\"Socket(127.0.0.1:{port}, async, full)\", \"Hangup()\"]\n"
        ),
    )
    .unwrap();
    let extra = format!(
        "[dialplan]\nfile = \"{}\"\n\n[tts]\nengine = \"espeak-ng\"\ncache_dir = \"{}\"\n\n\
         [[trunk]]\nname = \"provider\"\nhost = \"127.0.0.1\"\nregister = false\n\
         context = \"from-trunk\"\nallow_from = [\"127.0.0.0/8\"]\n",
        path.display(),
        dir.path().join("tts").display(),
    );
    Pbx::start_in(
        dir,
        PbxOptions {
            extra_config: extra,
            ..PbxOptions::default()
        },
    )
}

/// Calls the DID as the provider; the PBX hangs up.
fn provider_call(pbx: &Pbx, media: &RtpPeer) -> common::SippRun {
    require_program("sipp");
    let port = media.port.to_string();
    sipp(
        &fixture("sipp/provider_did_uac_bye.xml"),
        pbx.sip,
        &["-s", DID, "-m", "1", "-key", "rtp_port", &port],
    )
}

/// How long, in 20 ms packets after mu-law position `from`, the caller heard sound louder
/// than -40 dBFS.
fn loud_packets_after(heard: &[u8], from: usize) -> usize {
    heard[from.min(heard.len())..]
        .chunks(PACKET)
        .filter(|p| ulaw_rms_dbfs(p) > -40.0)
        .count()
}

/// Runs Python program `script` (a fixture) with `port` as its argument.
fn client(script: &str, port: u16) -> PythonClient {
    PythonClient::start(script, &[&port.to_string()])
}

#[test]
fn a_greenswitch_application_answers_plays_collects_a_key_speaks_and_hangs_up() {
    require_program("python3");
    let port = free_tcp_port();
    let pbx = pbx_routing_to(port);
    let mut app = client("esl/greenswitch_app.py", port);
    app.line(&pbx, "READY", |l| l == "READY");
    let media = RtpPeer::start();
    std::thread::scope(|s| {
        let caller = s.spawn(|| provider_call(&pbx, &media));
        app.line(&pbx, "WAITING", |l| l == "WAITING");
        assert!(
            media.wait_packets(10, Duration::from_secs(10)),
            "no RTP before the key"
        );
        media.send_pcap(&dtmf_pcap("5"), 101);
        let run = caller.join().unwrap();
        assert_eq!(
            (run.successful, run.failed),
            (1, 0),
            "the caller got the BYE\n{}\n{}",
            String::from_utf8_lossy(&run.output.stderr),
            pbx.log()
        );
    });
    let seen = app.report(&pbx);
    assert!(seen.get("error").is_none(), "{seen}\n{}", pbx.log());
    let connect = &seen["connect"];
    assert_eq!(connect["Event-Name"], "CHANNEL_DATA", "{seen}");
    assert_eq!(connect["Socket-Mode"], "async", "{seen}");
    assert_eq!(connect["Control"], "full", "{seen}");
    assert_eq!(connect["Caller-Caller-ID-Number"], "5551234", "{seen}");
    assert_eq!(connect["variable_caller_id_number"], "5551234", "{seen}");
    assert_eq!(connect["Caller-Destination-Number"], DID, "{seen}");
    assert_eq!(connect["variable_destination_number"], DID, "{seen}");
    assert_eq!(
        connect["variable_call_uuid"], connect["Unique-ID"],
        "{seen}"
    );
    assert!(
        connect["Channel-Name"]
            .as_str()
            .is_some_and(|n| n.starts_with("PJSIP/provider-")),
        "{seen}"
    );
    assert_eq!(seen["uuid"], connect["Unique-ID"], "{seen}");
    assert_eq!(seen["playback_response"], "FILE PLAYED", "{seen}");
    assert_eq!(seen["digit"], "5", "{seen}");
    assert_eq!(seen["getvar"], "5", "{seen}");
    assert_eq!(seen["dtmf"], serde_json::json!(["5"]), "{seen}");
    assert_eq!(seen["speak_response"], "_none_", "{seen}");
    assert_eq!(
        seen["unknown_response"], "-ERR unknown application valet_park",
        "{seen}"
    );
    let events: Vec<&str> = seen["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e.as_str())
        .collect();
    for wanted in [
        "CHANNEL_ANSWER",
        "CHANNEL_EXECUTE",
        "CHANNEL_EXECUTE_COMPLETE",
        "PLAYBACK_START",
        "PLAYBACK_STOP",
        "CHANNEL_HANGUP",
    ] {
        assert!(events.contains(&wanted), "no {wanted} in {events:?}");
    }
    let heard = media.heard_ulaw();
    let hello = common::prompt_ulaw("hello-world");
    let at = common::find_prompt(&heard, &hello).expect("the caller heard hello-world");
    let spoken = loud_packets_after(&heard, at + hello.len());
    assert!(
        (25..500).contains(&spoken),
        "speech after hello-world: {spoken} loud packets (0.5 s to 10 s expected)\n{}",
        pbx.log()
    );
}

#[test]
fn an_older_transports_exact_messages_get_their_replies_in_order_and_flite_speaks() {
    require_program("python3");
    let port = free_tcp_port();
    let pbx = pbx_routing_to(port);
    let mut app = client("esl/strict_order.py", port);
    app.line(&pbx, "READY", |l| l == "READY");
    let media = RtpPeer::start();
    let run = provider_call(&pbx, &media);
    assert_eq!(
        (run.successful, run.failed),
        (1, 0),
        "the caller got the BYE\n{}\n{}",
        String::from_utf8_lossy(&run.output.stderr),
        pbx.log()
    );
    let seen = app.report(&pbx);
    assert!(seen.get("error").is_none(), "{seen}\n{}", pbx.log());
    assert_eq!(
        seen["replies"],
        serde_json::json!([
            "+OK",
            "+OK Events Enabled",
            "+OK",
            "+OK",
            "+OK",
            "+OK",
            "+OK"
        ]),
        "{seen}"
    );
    assert_eq!(seen["playback_response"], "FILE PLAYED", "{seen}");
    assert_eq!(seen["disconnected"], true, "{seen}");
    let events = seen["events"].as_array().unwrap();
    for wanted in [
        "CHANNEL_ANSWER",
        "PLAYBACK_START",
        "PLAYBACK_STOP",
        "CHANNEL_HANGUP",
    ] {
        assert!(events.iter().any(|e| e == wanted), "no {wanted} in {seen}");
    }
    let spoken = loud_packets_after(&media.heard_ulaw(), 0);
    assert!(
        (25..500).contains(&spoken),
        "the caller heard {spoken} loud packets of speech\n{}",
        pbx.log()
    );
}

#[test]
fn speak_in_the_dialplan_says_the_text_and_a_repeat_comes_from_the_cache() {
    require_program("espeak-ng");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dialplan.toml");
    std::fs::write(
        &path,
        "[context.internal]\n\"8050\" = [\"Answer()\", \"Speak(Hello from the dialplan)\", \
         \"Speak(Hello from the dialplan)\", \"Hangup()\"]\n",
    )
    .unwrap();
    let cache = dir.path().join("tts");
    let extra = format!(
        "[dialplan]\nfile = \"{}\"\n\n[tts]\nengine = \"espeak-ng\"\ncache_dir = \"{}\"\n",
        path.display(),
        cache.display(),
    );
    let pbx = Pbx::start_in(
        dir,
        PbxOptions {
            extra_config: extra,
            ..PbxOptions::default()
        },
    );
    let media = RtpPeer::start();
    let run = common::call_as_6001(&pbx, "sipp/uac_call.xml", "8050", media.port, &["-m", "1"]);
    assert_eq!(
        (run.successful, run.failed),
        (1, 0),
        "{}\n{}",
        String::from_utf8_lossy(&run.output.stderr),
        pbx.log()
    );
    let heard = media.heard_ulaw();
    let spoken = loud_packets_after(&heard, 0);
    assert!(
        (50..600).contains(&spoken),
        "twice the sentence: {spoken} loud packets\n{}",
        pbx.log()
    );
    let files: Vec<_> = std::fs::read_dir(&cache)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".wav"))
        .collect();
    assert_eq!(files.len(), 1, "one cached phrase for two Speak steps");
}

#[test]
fn a_tts_engine_that_is_not_installed_stops_start_up_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("pbx.toml");
    std::fs::write(
        &config,
        format!(
            "[sip]\nbind = \"127.0.0.1:{}\"\n\n[api]\nbind = \"127.0.0.1:{}\"\n\n\
             [tts]\nengine = \"no-such-tts-engine\"\n",
            common::free_port(),
            free_tcp_port()
        ),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_pbx"))
        .args(["run", "--config"])
        .arg(&config)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("pbx started although its TTS engine is missing");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let output = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!status.success());
    assert!(
        text.contains("TTS engine \"no-such-tts-engine\" is not installed"),
        "{text}"
    );
}

/// A pbx with the inbound event socket on `port` (password `s3cret`) and phone 6001
/// answering.
fn pbx_with_event_socket(port: u16) -> (Pbx, common::Baresip) {
    let pbx = Pbx::start_with(PbxOptions {
        extra_config: format!(
            "[event_socket]\nenabled = true\nbind = \"127.0.0.1:{port}\"\npassword = \"s3cret\"\n"
        ),
        ..PbxOptions::default()
    });
    let phone = common::Baresip::answering(&pbx, "6001", "", None, 15);
    (pbx, phone)
}

/// Asserts that the phone heard hello-world: a recording of its length, at speech level.
fn assert_phone_heard_hello(pbx: &Pbx, phone: &mut common::Baresip) {
    assert!(phone.wait_exit(Duration::from_secs(20)), "{}", phone.log());
    let recording = common::heard_recording(phone)
        .unwrap_or_else(|| panic!("the phone recorded nothing\n{}", phone.log()));
    let (samples, rate) = common::read_wav(&recording);
    let expected = common::prompt_ulaw("hello-world").len() as f64 / 8000.0;
    let heard = samples.len() as f64 / f64::from(rate);
    assert!(
        heard >= expected * 0.9 && heard <= expected + 1.5,
        "recorded {heard:.2} s, hello-world lasts {expected:.2} s"
    );
    assert!(
        common::rms_dbfs(&samples) > -35.0,
        "not speech\n{}",
        pbx.log()
    );
}

#[test]
fn greenswitch_inbound_authenticates_gets_events_runs_api_and_bgapi_originate() {
    require_program("python3");
    let port = free_tcp_port();
    let (pbx, mut phone) = pbx_with_event_socket(port);
    let mut client =
        PythonClient::start("esl/greenswitch_inbound.py", &[&port.to_string(), "s3cret"]);
    let seen = client.report(&pbx);
    assert!(seen.get("error").is_none(), "{seen}\n{}", pbx.log());
    assert_eq!(
        seen["event_reply"], "+OK event listener enabled plain",
        "{seen}"
    );
    let status = seen["status"].as_str().unwrap_or_default();
    assert!(
        status.starts_with("UP ") && status.contains("is ready"),
        "{seen}"
    );
    let job = seen["bgapi_job"].as_str().unwrap_or_default();
    assert_eq!(
        seen["bgapi_reply"],
        format!("+OK Job-UUID: {job}"),
        "{seen}"
    );
    assert_eq!(seen["job_uuid"], job, "{seen}");
    assert_eq!(seen["job_command"], "originate", "{seen}");
    assert_eq!(seen["hangup_in_time"], true, "{seen}");
    let complete = seen["hangup_complete"].as_array().unwrap();
    assert!(
        complete.iter().any(|c| c["name"]
            .as_str()
            .is_some_and(|n| n.starts_with("PJSIP/6001-"))
            && c["cause"] == "NORMAL_CLEARING"
            && c["hangup_time"].as_str().is_some_and(|t| t.len() >= 16)),
        "{seen}"
    );
    let events = seen["events"].as_array().unwrap();
    for wanted in [
        "CHANNEL_CREATE",
        "CHANNEL_ANSWER",
        "PLAYBACK_START",
        "CHANNEL_HANGUP",
    ] {
        assert!(events.iter().any(|e| e == wanted), "no {wanted} in {seen}");
    }
    assert_eq!(seen["setvar"], "+OK\n", "{seen}");
    assert_eq!(seen["getvar"], "hi there", "{seen}");
    assert_eq!(seen["getvar_missing"], "_undef_", "{seen}");
    assert_eq!(seen["kill_unknown"], "-ERR No such channel!\n", "{seen}");
    assert_eq!(seen["wrong_password"], "Invalid password.", "{seen}");
    assert_eq!(seen["wrong_connected_after"], false, "{seen}");
    assert_phone_heard_hello(&pbx, &mut phone);
}

#[test]
fn modesl_inbound_authenticates_runs_api_and_bgapi_originate_and_gets_the_hangup() {
    let node = require_program("node");
    let port = free_tcp_port();
    let (pbx, mut phone) = pbx_with_event_socket(port);
    let out = Command::new(node)
        .arg(fixture("esl/modesl_inbound.js"))
        .args([port.to_string().as_str(), "s3cret"])
        .env("NODE_PATH", fixture("esl/node/node_modules"))
        .stdin(Stdio::null())
        .output()
        .expect("run node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find(|l| l.starts_with('{'))
        .unwrap_or_else(|| {
            panic!(
                "no result from modesl: {stdout}\n{}\n{}",
                String::from_utf8_lossy(&out.stderr),
                pbx.log()
            )
        });
    let seen: serde_json::Value = serde_json::from_str(line).unwrap();
    assert!(seen.get("error").is_none(), "{seen}\n{}", pbx.log());
    let status = seen["status"].as_str().unwrap_or_default();
    assert!(
        status.starts_with("UP ") && status.contains("is ready"),
        "{seen}"
    );
    assert!(
        seen["job_uuid"].as_str().is_some_and(|j| !j.is_empty()),
        "{seen}"
    );
    assert!(
        seen["job_body"]
            .as_str()
            .is_some_and(|b| b.starts_with("+OK ")),
        "the originate answered: {seen}"
    );
    assert!(
        seen["hangup_complete"]["name"]
            .as_str()
            .is_some_and(|n| n.starts_with("PJSIP/6001-")),
        "{seen}"
    );
    assert_eq!(
        seen["hangup_complete"]["cause"], "NORMAL_CLEARING",
        "{seen}"
    );
    assert_eq!(seen["wrong_auth_failed"], true, "{seen}");
    assert_eq!(seen["wrong_closed"], true, "{seen}");
    assert_phone_heard_hello(&pbx, &mut phone);
}

#[test]
fn a_lingering_json_session_gets_the_hangup_then_the_notice_then_hangup_complete() {
    require_program("python3");
    let port = free_tcp_port();
    let pbx = pbx_routing_to(port);
    let mut app = client("esl/linger_json.py", port);
    app.line(&pbx, "READY", |l| l == "READY");
    let media = RtpPeer::start();
    let run = provider_call(&pbx, &media);
    assert_eq!(
        (run.successful, run.failed),
        (0, 1),
        "hung up before answer: the caller's INVITE fails\n{}",
        pbx.log()
    );
    let seen = app.report(&pbx);
    assert!(seen.get("error").is_none(), "{seen}\n{}", pbx.log());
    assert_eq!(
        seen["replies"],
        serde_json::json!([
            "+OK",
            "+OK Events Enabled",
            "+OK will linger 5 seconds",
            "_undef_",
            "+OK"
        ]),
        "{seen}"
    );
    let order: Vec<&str> = seen["order"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e.as_str())
        .collect();
    let at = |name: &str| {
        order
            .iter()
            .position(|e| *e == name)
            .unwrap_or_else(|| panic!("no {name} in {order:?}"))
    };
    assert!(at("CHANNEL_HANGUP") < at("disconnect:linger"), "{order:?}");
    assert!(
        at("disconnect:linger") < at("CHANNEL_HANGUP_COMPLETE"),
        "{order:?}"
    );
    assert_eq!(seen["linger_time"], "5", "{seen}");
    let complete = &seen["complete"];
    assert_eq!(complete["Hangup-Cause"], "USER_BUSY", "{seen}");
    let stamp = |name: &str| -> u64 { complete[name].as_str().unwrap_or("0").parse().unwrap_or(0) };
    let (created, hangup) = (
        stamp("Caller-Channel-Created-Time"),
        stamp("Caller-Channel-Hangup-Time"),
    );
    assert!(
        created > 1_600_000_000_000_000,
        "microseconds since the epoch: {seen}"
    );
    assert!(hangup >= created && hangup - created < 60_000_000, "{seen}");
    assert_eq!(seen["closed"], true, "{seen}");
}
