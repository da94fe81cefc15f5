//! Toll-fraud limits on a trunk, against the real provider of the trunk tests (Kamailio): a
//! number matching a denied prefix gets 403 with the reason and the provider never sees an
//! INVITE; with `max_concurrent_calls = 1`, a second call while one is up through the trunk
//! is refused the same way. Each refusal is a `CallRefused` event.

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::events::EventStream;
use common::kamailio::{Kamailio, EXTERNAL_NUMBER, TRUNK_PASSWORD, TRUNK_USER};
use common::{
    call_as_6001, fixture, free_port, tone_file, wait_until, Baresip, BaresipOptions, Pbx,
    PbxOptions, RtpPeer, PASSWORD,
};

fn pbx_with_limits(provider: &Kamailio, limits: &str) -> Pbx {
    let pbx = Pbx::start_with(PbxOptions {
        extra_config: format!(
            "[[trunk]]\nname = \"provider\"\nhost = \"127.0.0.1\"\nport = {}\nusername = \"{TRUNK_USER}\"\n\
             password = \"{TRUNK_PASSWORD}\"\n{limits}\n",
            provider.sip.port()
        ),
        env: vec![("EXTERNAL_EXTENSION_NUMBER".into(), EXTERNAL_NUMBER.into())],
        ..PbxOptions::default()
    });
    let registered = wait_until(Duration::from_secs(10), || {
        pbx.get("/api/trunks").unwrap()[0]["state"] == "registered"
    });
    assert!(registered, "{}\n{}", pbx.log(), provider.log());
    pbx
}

fn refused(events: &mut EventStream, number: &str, reason: &str) -> bool {
    events.read_until(Duration::from_secs(5), |received| {
        received.iter().any(|e| {
            e["type"] == "CallRefused"
                && e["trunk"] == "provider"
                && e["number"] == number
                && e["reason"].as_str().is_some_and(|r| r.contains(reason))
        })
    })
}

#[test]
fn a_denied_prefix_gets_403_and_never_reaches_the_provider() {
    let provider = Kamailio::start(free_port(), free_port());
    let pbx = pbx_with_limits(&provider, "denied_prefixes = [\"00\", \"0900\"]");
    let mut events = EventStream::connect(&pbx.api, Some(0));
    let media = RtpPeer::start();
    let run = call_as_6001(
        &pbx,
        "sipp/uac_403.xml",
        "99900441234567",
        media.port,
        &["-m", "1"],
    );
    run.assert_succeeded(1, &pbx);
    assert!(
        refused(&mut events, "00441234567", "denied prefix 00"),
        "{:?}",
        events.received
    );
    assert!(
        !provider.log().contains("INVITE sip:00441234567"),
        "{}",
        provider.log()
    );
    assert!(pbx.log().contains("toll-fraud limit: call refused"));
}

/// A SIPp "phone" behind the provider on `port`: answers, echoes RTP back to its sender.
fn echo_phone(port: u16, dir: &Path) -> Child {
    let media = free_port().to_string();
    Command::new(common::require_program("sipp"))
        .arg("-sf")
        .arg(fixture("sipp/provider_phone_uas.xml"))
        .args(["-i", "127.0.0.1", "-p", &port.to_string(), "-mp", &media])
        .args(["-rtp_echo", "-key", "rtp_port", &media, "-m", "1"])
        .args(["-nostdin", "-timeout", "30s"])
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start sipp phone")
}

#[test]
fn the_concurrent_call_limit_refuses_the_next_call() {
    let phone_port = free_port();
    let provider = Kamailio::start(free_port(), phone_port);
    let pbx = pbx_with_limits(&provider, "max_concurrent_calls = 1");
    let mut events = EventStream::connect(&pbx.api, Some(0));
    let dir = tempfile::tempdir().unwrap();
    let mut phone = echo_phone(phone_port, dir.path());
    let tone = tone_file(dir.path(), 440);
    let dial = format!("/dial 999{EXTERNAL_NUMBER}");
    let mut first = Baresip::start(
        pbx.sip,
        BaresipOptions {
            user: "6001",
            password: PASSWORD,
            account_params: "",
            audio_source: Some(&tone),
            commands: &[&dial],
            quit_after_secs: Some(8),
        },
    );
    let up = wait_until(Duration::from_secs(8), || {
        pbx.get("/api/channels")
            .unwrap()
            .as_array()
            .is_some_and(|c| {
                c.iter().any(|c| {
                    c["name"]
                        .as_str()
                        .is_some_and(|n| n.starts_with("PJSIP/provider-"))
                        && c["state"] == "Up"
                })
            })
    });
    assert!(
        up,
        "the first call never came up\n{}\n{}",
        first.log(),
        pbx.log()
    );
    let invites = |provider: &Kamailio| {
        provider
            .log()
            .matches(&format!("INVITE sip:{EXTERNAL_NUMBER}@"))
            .count()
    };
    let before = invites(&provider);
    assert!(before > 0, "{}", provider.log());
    let media = RtpPeer::start();
    let second = format!("999{EXTERNAL_NUMBER}");
    let run = call_as_6001(&pbx, "sipp/uac_403.xml", &second, media.port, &["-m", "1"]);
    run.assert_succeeded(1, &pbx);
    assert!(
        refused(&mut events, EXTERNAL_NUMBER, "concurrent"),
        "{:?}",
        events.received
    );
    assert_eq!(invites(&provider), before, "{}", provider.log());
    assert!(first.wait_exit(Duration::from_secs(20)), "{}", first.log());
    let deadline = Instant::now() + Duration::from_secs(10);
    while phone.try_wait().unwrap().is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = phone.kill();
}

/// Calls `exten` as endpoint `user` (digest) with the 403-expecting SIPp caller.
fn refused_call_as(pbx: &Pbx, user: &str, exten: &str) {
    let media = RtpPeer::start();
    let port = media.port.to_string();
    let csv = fixture("sipp/caller_6001.csv");
    let run = common::sipp(
        &fixture("sipp/uac_403.xml"),
        pbx.sip,
        &[
            "-s",
            exten,
            "-au",
            user,
            "-ap",
            PASSWORD,
            "-m",
            "1",
            "-inf",
            csv.to_str().unwrap(),
            "-key",
            "rtp_port",
            &port,
        ],
    );
    run.assert_succeeded(1, pbx);
}

#[test]
fn endpoint_limits_refuse_other_trunks_and_extra_calls() {
    let provider = Kamailio::start(free_port(), free_port());
    let endpoint = format!(
        "[[endpoint]]\nuser = \"6003\"\npassword = \"{PASSWORD}\"\nmax_concurrent_calls = 1\nallowed_trunks = []\n"
    );
    let pbx = pbx_with_limits(&provider, &endpoint);
    let mut events = EventStream::connect(&pbx.api, Some(0));

    refused_call_as(&pbx, "6003", &format!("999{EXTERNAL_NUMBER}"));
    assert!(
        refused(
            &mut events,
            EXTERNAL_NUMBER,
            "may not call out through trunk provider"
        ),
        "{:?}",
        events.received
    );
    assert!(
        !provider
            .log()
            .contains(&format!("INVITE sip:{EXTERNAL_NUMBER}@")),
        "{}",
        provider.log()
    );

    let mut conference = Baresip::start(
        pbx.sip,
        BaresipOptions {
            user: "6003",
            password: PASSWORD,
            account_params: "",
            audio_source: None,
            commands: &["/dial 8002"],
            quit_after_secs: Some(6),
        },
    );
    let up = wait_until(Duration::from_secs(6), || {
        pbx.get("/api/stats").unwrap()["calls_active"] == 1
    });
    assert!(up, "{}\n{}", conference.log(), pbx.log());
    refused_call_as(&pbx, "6003", "8000");
    let limited = events.read_until(Duration::from_secs(5), |received| {
        received.iter().any(|e| {
            e["type"] == "CallRefused"
                && e["endpoint"] == "6003"
                && e["reason"]
                    .as_str()
                    .is_some_and(|r| r.contains("already has its 1 concurrent calls"))
        })
    });
    assert!(limited, "{:?}", events.received);
    assert!(conference.wait_exit(Duration::from_secs(15)));
    // Once the first call is over, the endpoint may call again.
    let ended = wait_until(Duration::from_secs(5), || {
        pbx.get("/api/stats").unwrap()["calls_active"] == 0
    });
    assert!(ended);
    let media = RtpPeer::start();
    let port = media.port.to_string();
    let csv = fixture("sipp/caller_6001.csv");
    let run = common::sipp(
        &fixture("sipp/uac_call.xml"),
        pbx.sip,
        &[
            "-s",
            "8000",
            "-au",
            "6003",
            "-ap",
            PASSWORD,
            "-m",
            "1",
            "-inf",
            csv.to_str().unwrap(),
            "-key",
            "rtp_port",
            &port,
        ],
    );
    run.assert_succeeded(1, &pbx);
}
