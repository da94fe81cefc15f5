//! The Kamailio provider of the trunk tests, checked without the pbx: SIPp stands in for the
//! pbx (registering and calling out as the trunk), for the phone behind the provider, and for
//! a caller on the provider's network dialling a DID.

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::kamailio::{Kamailio, DID, EXTERNAL_NUMBER, TRUNK_PASSWORD, TRUNK_USER};
use common::{fixture, free_port, sipp};

/// A SIPp UAS on `port` running `scenario` for one call.
fn spawn_uas(scenario: &Path, port: u16, dir: &Path) -> Child {
    Command::new(common::require_program("sipp"))
        .arg("-sf")
        .arg(scenario)
        .args(["-i", "127.0.0.1", "-p", &port.to_string()])
        .args(["-key", "rtp_port", &free_port().to_string()])
        .args(["-m", "1", "-nostdin", "-timeout", "20s", "-trace_msg"])
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start sipp uas")
}

/// Waits (bounded) for a SIPp UAS to finish; true when its one call succeeded.
fn uas_succeeded(mut uas: Child) -> bool {
    let deadline = Instant::now() + Duration::from_secs(25);
    while Instant::now() < deadline {
        if let Some(status) = uas.try_wait().unwrap() {
            return status.success();
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = uas.kill();
    let _ = uas.wait();
    false
}

/// What a SIPp UAS exchanged (its `-trace_msg` file).
fn uas_messages(dir: &Path) -> String {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with("_messages.log"))
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect()
}

/// Registers the trunk at `provider` with `contact_port` as its contact; asserts the 200.
fn register_trunk(provider: &Kamailio, contact_port: u16) {
    let run = sipp(
        &fixture("sipp/provider_register.xml"),
        provider.sip,
        &[
            "-s",
            TRUNK_USER,
            "-au",
            TRUNK_USER,
            "-ap",
            TRUNK_PASSWORD,
            "-key",
            "contact_port",
            &contact_port.to_string(),
            "-m",
            "1",
        ],
    );
    assert_eq!(
        (run.successful, run.failed),
        (1, 0),
        "{}\n{}",
        run.stdout,
        provider.log()
    );
}

#[test]
fn trunk_registers_with_the_password_only() {
    let provider = Kamailio::start(free_port(), free_port());
    let wrong = sipp(
        &fixture("sipp/provider_register_wrong_password.xml"),
        provider.sip,
        &[
            "-s", TRUNK_USER, "-au", TRUNK_USER, "-ap", "wrong", "-m", "2",
        ],
    );
    assert_eq!((wrong.successful, wrong.failed), (2, 0), "{}", wrong.stdout);
    assert!(provider.registered_contacts().is_empty());

    let contact_port = free_port();
    register_trunk(&provider, contact_port);
    assert_eq!(
        provider.wait_contacts(Duration::from_secs(2)),
        vec![format!("sip:{TRUNK_USER}@127.0.0.1:{contact_port}")]
    );
}

#[test]
fn outbound_call_is_challenged_then_reaches_the_phone() {
    let phone_port = free_port();
    let provider = Kamailio::start(free_port(), phone_port);
    let phone_dir = tempfile::tempdir().unwrap();
    let phone = spawn_uas(
        &fixture("sipp/provider_phone_uas.xml"),
        phone_port,
        phone_dir.path(),
    );
    let rtp_port = free_port().to_string();
    let call = sipp(
        &fixture("sipp/provider_uac.xml"),
        provider.sip,
        &[
            "-s",
            EXTERNAL_NUMBER,
            "-au",
            TRUNK_USER,
            "-ap",
            TRUNK_PASSWORD,
            "-key",
            "rtp_port",
            &rtp_port,
            "-d",
            "200",
            "-m",
            "1",
        ],
    );
    assert_eq!(
        (call.successful, call.failed),
        (1, 0),
        "{}\n{}",
        call.stdout,
        provider.log()
    );
    assert!(uas_succeeded(phone), "{}", provider.log());
    let seen = uas_messages(phone_dir.path());
    assert!(
        seen.contains(&format!("INVITE sip:{EXTERNAL_NUMBER}@{}", provider.sip)),
        "{seen}"
    );
    assert!(
        seen.contains(&format!("Route: <sip:{};lr", provider.sip)),
        "{seen}"
    );
    assert!(provider.log().contains("challenged"), "{}", provider.log());
}

#[test]
fn outbound_call_with_a_wrong_password_never_reaches_the_phone() {
    let provider = Kamailio::start(free_port(), free_port());
    let call = sipp(
        &fixture("sipp/provider_uac.xml"),
        provider.sip,
        &[
            "-s",
            EXTERNAL_NUMBER,
            "-au",
            TRUNK_USER,
            "-ap",
            "wrong",
            "-key",
            "rtp_port",
            &free_port().to_string(),
            "-m",
            "1",
            "-recv_timeout",
            "3s",
        ],
    );
    assert_eq!((call.successful, call.failed), (0, 1), "{}", call.stdout);
    assert!(!provider.log().contains("outbound call relayed"));
}

#[test]
fn did_call_reaches_the_registered_trunk_with_the_did() {
    let provider = Kamailio::start(free_port(), free_port());
    let rtp_port = free_port().to_string();
    let inbound_args = [
        "-s", DID, "-key", "rtp_port", &rtp_port, "-d", "200", "-m", "1",
    ];
    let unregistered = sipp(
        &fixture("sipp/provider_inbound_uac.xml"),
        provider.sip,
        &inbound_args,
    );
    assert_eq!(
        (unregistered.successful, unregistered.failed),
        (0, 1),
        "{}",
        unregistered.stdout
    );
    assert!(
        provider.log().contains("no registration for the DID"),
        "{}",
        provider.log()
    );

    let trunk_port = free_port();
    let trunk_dir = tempfile::tempdir().unwrap();
    let trunk = spawn_uas(
        &fixture("sipp/provider_phone_uas.xml"),
        trunk_port,
        trunk_dir.path(),
    );
    register_trunk(&provider, trunk_port);
    let call = sipp(
        &fixture("sipp/provider_inbound_uac.xml"),
        provider.sip,
        &inbound_args,
    );
    assert_eq!(
        (call.successful, call.failed),
        (1, 0),
        "{}\n{}",
        call.stdout,
        provider.log()
    );
    assert!(uas_succeeded(trunk), "{}", provider.log());
    let seen = uas_messages(trunk_dir.path());
    assert!(
        seen.contains(&format!("INVITE sip:{DID}@127.0.0.1:{trunk_port} SIP/2.0")),
        "{seen}"
    );
    assert!(
        seen.contains(&format!("BYE sip:127.0.0.1:{trunk_port}")),
        "{seen}"
    );
}

#[test]
fn stopped_provider_is_silent_and_restarts_without_registrations() {
    let mut provider = Kamailio::start(free_port(), free_port());
    register_trunk(&provider, free_port());
    assert_eq!(provider.registered_contacts().len(), 1);

    provider.stop();
    assert!(!provider.answers_options(Duration::from_millis(700)));

    provider.restart();
    assert!(provider.answers_options(Duration::from_secs(2)));
    assert!(provider.registered_contacts().is_empty());
    register_trunk(&provider, free_port());
    assert_eq!(provider.registered_contacts().len(), 1);
}
