//! The SIP trunk against a real, independent provider (Kamailio, tests/fixtures/kamailio):
//! the PBX registers and `pbx ctl trunks` says so; 6001 dials 999 + the external number and
//! hears the far phone (an RTP-echoing SIPp behind the provider) send its tone back; a DID
//! call from the provider reaches the from-trunk context; a wrong trunk password is
//! Rejected; an unauthenticated INVITE from elsewhere places no call.

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::events::EventStream;
use common::kamailio::{Kamailio, DID, EXTERNAL_NUMBER, TRUNK_PASSWORD, TRUNK_USER};
use common::{
    exchange, fixture, free_port, heard_recording, prompt_ulaw, read_wav, sipp, tone_file,
    tone_share, wait_until, Baresip, BaresipOptions, Pbx, PbxOptions, RtpPeer, PASSWORD,
};

fn pbx_with_trunk(provider: &Kamailio, password: &str) -> Pbx {
    pbx_with_trunk_expiry(provider, password, 60)
}

fn pbx_with_trunk_expiry(provider: &Kamailio, password: &str, expiry: u32) -> Pbx {
    Pbx::start_with(PbxOptions {
        extra_config: format!(
            "[[trunk]]\nname = \"provider\"\nhost = \"127.0.0.1\"\nport = {}\nusername = \"{TRUNK_USER}\"\n\
             password = \"{password}\"\nexpiry_secs = {expiry}\n",
            provider.sip.port()
        ),
        env: vec![("EXTERNAL_EXTENSION_NUMBER".into(), EXTERNAL_NUMBER.into())],
        ..PbxOptions::default()
    })
}

fn trunk_state(pbx: &Pbx) -> serde_json::Value {
    pbx.get("/api/trunks").unwrap()[0].clone()
}

/// A SIPp "phone" behind the provider on `port`: answers, echoes RTP back to its sender.
fn echo_phone(port: u16, dir: &Path) -> Child {
    let media = free_port().to_string();
    Command::new(common::require_program("sipp"))
        .arg("-sf")
        .arg(fixture("sipp/provider_phone_uas.xml"))
        .args([
            "-i",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-mp",
            &media,
            "-rtp_echo",
        ])
        .args([
            "-key", "rtp_port", &media, "-m", "1", "-nostdin", "-timeout", "30s",
        ])
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start sipp phone")
}

#[test]
fn trunk_registers_and_999_reaches_the_phone_behind_the_provider() {
    let phone_port = free_port();
    let provider = Kamailio::start(free_port(), phone_port);
    let pbx = pbx_with_trunk(&provider, TRUNK_PASSWORD);
    let mut events = EventStream::connect(&pbx.api, Some(0));
    let registered = wait_until(Duration::from_secs(10), || {
        trunk_state(&pbx)["state"] == "registered"
    });
    events.expect("the trunk registered", |e| {
        e["type"] == "TrunkStateChange"
            && e["trunk"]["name"] == "provider"
            && e["trunk"]["state"] == "registered"
    });
    assert!(
        registered,
        "{}\n{}\n{}",
        trunk_state(&pbx),
        pbx.log(),
        provider.log()
    );
    let contacts = provider.registered_contacts();
    assert_eq!(
        contacts,
        [format!("sip:{TRUNK_USER}@127.0.0.1:{}", pbx.sip.port())],
        "{}",
        provider.log()
    );
    let table = pbx.ctl(&["trunks"]);
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(
        text.contains("provider") && text.contains("registered") && text.contains("200 OK"),
        "{text}"
    );

    let dir = tempfile::tempdir().unwrap();
    let mut phone = echo_phone(phone_port, dir.path());
    let tone = tone_file(dir.path(), 440);
    let dial = format!("/dial 999{EXTERNAL_NUMBER}");
    let mut caller = Baresip::start(
        pbx.sip,
        BaresipOptions {
            user: "6001",
            password: PASSWORD,
            account_params: "",
            audio_source: Some(&tone),
            commands: &[&dial],
            quit_after_secs: Some(7),
        },
    );
    assert!(
        caller.wait_exit(Duration::from_secs(20)),
        "{}",
        caller.log()
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while phone.try_wait().unwrap().is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = phone.kill();
    events.expect_answered_dial("PJSIP/provider-");
    let heard = heard_recording(&caller).expect("caller recorded nothing");
    let (samples, rate) = read_wav(&heard);
    let share = tone_share(&samples, rate, 440.0, 1000.0);
    assert!(
        share > 0.4,
        "caller heard its tone back in only {:.0} % of the call\n{}",
        share * 100.0,
        pbx.log()
    );
    assert!(
        provider
            .log()
            .contains(&format!("INVITE sip:{EXTERNAL_NUMBER}@")),
        "{}",
        provider.log()
    );

    // Shutdown removes the registration at the provider.
    let _ = pbx.stop();
    assert!(
        provider.registered_contacts().is_empty(),
        "{}",
        provider.log()
    );
}

#[test]
fn ivr_option_3_calls_the_external_number_through_the_trunk() {
    let phone_port = free_port();
    let provider = Kamailio::start(free_port(), phone_port);
    let pbx = pbx_with_trunk(&provider, TRUNK_PASSWORD);
    let mut events = EventStream::connect(&pbx.api, Some(0));
    assert!(wait_until(Duration::from_secs(10), || trunk_state(&pbx)
        ["state"]
        == "registered"));
    let dir = tempfile::tempdir().unwrap();
    let mut phone = echo_phone(phone_port, dir.path());
    let media = RtpPeer::start();
    let port = media.port.to_string();
    let csv = fixture("sipp/caller_6001.csv");
    let target = pbx.sip;
    let caller = std::thread::spawn(move || {
        let args = [
            "-s",
            "8001",
            "-au",
            "6001",
            "-ap",
            PASSWORD,
            "-m",
            "1",
            "-d",
            "4000",
            "-inf",
            csv.to_str().unwrap(),
            "-key",
            "rtp_port",
            &port,
        ];
        sipp(&fixture("sipp/uac_bye.xml"), target, &args)
    });
    assert!(
        media.wait_packets(25, Duration::from_secs(10)),
        "no menu audio\n{}",
        pbx.log()
    );
    media.send_pcap(Path::new("/usr/share/sip-tester/dtmf_2833_3.pcap"), 101);
    let run = caller.join().unwrap();
    let _ = phone.kill();
    let _ = phone.wait();
    run.assert_succeeded(1, &pbx);
    events.expect_answered_dial("PJSIP/provider-");
    assert!(
        provider
            .log()
            .contains(&format!("INVITE sip:{EXTERNAL_NUMBER}@")),
        "{}",
        provider.log()
    );
}

#[test]
fn stopped_provider_makes_the_trunk_unreachable_until_it_returns() {
    let mut provider = Kamailio::start(free_port(), free_port());
    // A 10 s registration is refreshed after 5 s, so the outage is noticed quickly.
    let pbx = pbx_with_trunk_expiry(&provider, TRUNK_PASSWORD, 10);
    assert!(wait_until(Duration::from_secs(10), || trunk_state(&pbx)
        ["state"]
        == "registered"));
    provider.stop();
    // The refresh gets no answer: after timer F (32 s) the trunk is unreachable.
    let unreachable = wait_until(Duration::from_secs(45), || {
        trunk_state(&pbx)["state"] == "unreachable"
    });
    assert!(unreachable, "{}\n{}", trunk_state(&pbx), pbx.log());
    provider.restart();
    let back = wait_until(Duration::from_secs(20), || {
        trunk_state(&pbx)["state"] == "registered"
    });
    assert!(back, "{}\n{}", trunk_state(&pbx), pbx.log());
    assert!(!provider.registered_contacts().is_empty());
}

#[test]
fn did_call_from_the_provider_reaches_the_from_trunk_context() {
    let provider = Kamailio::start(free_port(), free_port());
    let pbx = pbx_with_trunk(&provider, TRUNK_PASSWORD);
    assert!(wait_until(Duration::from_secs(10), || trunk_state(&pbx)
        ["state"]
        == "registered"));
    // 6001 is not registered: the demo from-trunk context answers with hello world.
    let media = RtpPeer::start();
    let port = media.port.to_string();
    let run = sipp(
        &fixture("sipp/provider_inbound_uac.xml"),
        provider.sip,
        &["-s", DID, "-m", "1", "-d", "700", "-key", "rtp_port", &port],
    );
    assert_eq!(
        (run.successful, run.failed),
        (1, 0),
        "{}\n{}\n{}",
        run.stdout,
        pbx.log(),
        provider.log()
    );
    assert!(
        pbx.log().contains(&format!(
            "inbound call from trunk trunk=provider source={} did={DID}",
            provider.sip
        )),
        "{}",
        pbx.log()
    );
    let audio: Vec<u8> = media
        .packets()
        .iter()
        .flat_map(|p| p.payload.clone())
        .collect();
    let hello = prompt_ulaw("hello-world");
    assert!(
        audio.windows(2400).any(|w| w == &hello[..2400]),
        "the caller did not hear hello-world\n{}",
        pbx.log()
    );
}

#[test]
fn wrong_trunk_password_is_rejected_with_backoff() {
    let provider = Kamailio::start(free_port(), free_port());
    let pbx = pbx_with_trunk(&provider, "not-the-password");
    let rejected = wait_until(Duration::from_secs(10), || {
        trunk_state(&pbx)["state"] == "rejected"
    });
    assert!(rejected, "{}\n{}", trunk_state(&pbx), pbx.log());
    let state = trunk_state(&pbx);
    assert!(
        state["last_response"].as_str().unwrap().starts_with("401"),
        "{state}"
    );
    assert!(
        state["next_in_secs"].as_u64().unwrap() >= 3,
        "no backoff: {state}"
    );
    // Within 8 s the provider sees at most two attempts (each a challenged REGISTER plus
    // its one answer): no tight loop.
    std::thread::sleep(Duration::from_secs(8));
    let registers = provider.log().matches("provider: REGISTER sip:").count();
    assert!(
        (2..=4).contains(&registers),
        "{registers} REGISTERs\n{}",
        provider.log()
    );
    assert!(provider.registered_contacts().is_empty());
}

#[test]
fn unauthenticated_invite_to_999_places_no_call() {
    let provider = Kamailio::start(free_port(), free_port());
    let pbx = pbx_with_trunk(&provider, TRUNK_PASSWORD);
    assert!(wait_until(Duration::from_secs(10), || trunk_state(&pbx)
        ["state"]
        == "registered"));
    let invite = format!(
        "INVITE sip:999{EXTERNAL_NUMBER}@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5998;branch=z9hG4bKfraud;rport\r\n\
         From: <sip:attacker@127.0.0.1>;tag=x\r\nTo: <sip:999{EXTERNAL_NUMBER}@127.0.0.1>\r\nCall-ID: fraud\r\nCSeq: 1 INVITE\r\n\
         Contact: <sip:attacker@127.0.0.1:5998>\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
    );
    let replies = exchange(pbx.sip, &[invite.as_bytes()], Duration::from_millis(1000));
    assert!(
        replies.iter().all(|r| r.starts_with("SIP/2.0 407")),
        "{replies:?}"
    );
    assert!(
        !provider.log().contains("provider: INVITE"),
        "{}",
        provider.log()
    );
    assert_eq!(pbx.get("/api/stats").unwrap()["calls_total"], 0);
}

#[test]
fn did_call_rings_6001_when_registered() {
    let provider = Kamailio::start(free_port(), free_port());
    let pbx = pbx_with_trunk(&provider, TRUNK_PASSWORD);
    let mut events = EventStream::connect(&pbx.api, Some(0));
    assert!(wait_until(Duration::from_secs(10), || trunk_state(&pbx)
        ["state"]
        == "registered"));
    let phone = Baresip::start(
        pbx.sip,
        BaresipOptions {
            user: "6001",
            password: PASSWORD,
            account_params: ";answermode=auto",
            audio_source: None,
            commands: &[],
            quit_after_secs: Some(15),
        },
    );
    assert!(
        wait_until(Duration::from_secs(15), || !pbx.registrations().is_empty()),
        "{}",
        phone.log()
    );
    let media = RtpPeer::start();
    let port = media.port.to_string();
    let run = sipp(
        &fixture("sipp/provider_inbound_uac.xml"),
        provider.sip,
        &[
            "-s", DID, "-m", "1", "-d", "2000", "-key", "rtp_port", &port,
        ],
    );
    run.assert_succeeded(1, &pbx);
    events.expect("a channel from the trunk", |e| {
        e["type"] == "ChannelCreated"
            && e["channel"]["name"]
                .as_str()
                .is_some_and(|n| n.starts_with("PJSIP/provider-"))
    });
    events.expect_answered_dial("PJSIP/6001-");
    assert!(wait_until(Duration::from_secs(5), || pbx
        .get("/api/stats")
        .unwrap()["calls_active"]
        == 0));
}
