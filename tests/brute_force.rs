//! Brute force and scanners: a password-guessing scanner on 127.0.0.5 is banned at the
//! threshold (its datagrams are then dropped unanswered) while a phone on 127.0.0.1 registers
//! and calls 8000 unaffected; the ban is listed by `pbx ctl bans`, published as an event and
//! logged in fail2ban's terms, lifted by `pbx ctl unban` or when it runs out; requests from a
//! known scanner's User-Agent are dropped silently.

mod common;

use std::net::UdpSocket;
use std::time::{Duration, Instant};

use common::events::EventStream;
use common::{
    fixture, heard_recording, sipp_from, wait_until, Baresip, BaresipOptions, Pbx, PbxOptions,
    PASSWORD,
};

const SCANNER_IP: &str = "127.0.0.5";
const THRESHOLD: u64 = 5;

fn pbx_with_bans(ban_secs: u64) -> Pbx {
    Pbx::start_with(PbxOptions {
        extra_config: format!(
            "[security]\nmax_auth_failures = {THRESHOLD}\nfailure_window_secs = 60\nban_secs = {ban_secs}\n"
        ),
        ..PbxOptions::default()
    })
}

/// An OPTIONS from `local_ip` with `user_agent`; whether the pbx answered it within 500 ms.
fn options_answered(pbx: &Pbx, local_ip: &str, user_agent: &str) -> bool {
    let socket = UdpSocket::bind((local_ip, 0)).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let branch = rand::random::<u32>();
    let request = format!(
        "OPTIONS sip:pbx SIP/2.0\r\nVia: SIP/2.0/UDP {local_ip}:5999;branch=z9hG4bKbf{branch};rport\r\n\
From: <sip:probe@{local_ip}>;tag=1\r\nTo: <sip:pbx>\r\nCall-ID: bf-{branch}\r\nCSeq: 1 OPTIONS\r\n\
Max-Forwards: 70\r\nUser-Agent: {user_agent}\r\nContent-Length: 0\r\n\r\n"
    );
    socket.send_to(request.as_bytes(), pbx.sip).unwrap();
    let deadline = Instant::now() + Duration::from_millis(500);
    let mut buf = [0u8; 4096];
    while Instant::now() < deadline {
        if let Ok((n, _)) = socket.recv_from(&mut buf) {
            if buf[..n].starts_with(b"SIP/2.0 200") {
                return true;
            }
        }
    }
    false
}

fn scan(pbx: &Pbx, attempts: u64, rate: u64) -> common::SippRun {
    let attempts = attempts.to_string();
    let rate = rate.to_string();
    sipp_from(
        SCANNER_IP,
        &fixture("sipp/scanner_register.xml"),
        pbx.sip,
        &[
            "-s",
            "6001",
            "-au",
            "6001",
            "-ap",
            "not-the-password",
            "-m",
            &attempts,
            "-r",
            &rate,
            "-l",
            "2000",
        ],
    )
}

#[test]
fn a_scanner_is_banned_while_a_phone_registers_and_calls() {
    let pbx = pbx_with_bans(6);
    let mut events = EventStream::connect(&pbx.api, None);
    let (run, mut phone) = std::thread::scope(|s| {
        let scanner = s.spawn(|| scan(&pbx, 2000, 1000));
        let phone = Baresip::start(
            pbx.sip,
            BaresipOptions {
                user: "6001",
                password: PASSWORD,
                account_params: "",
                audio_source: None,
                commands: &["/dial 8000"],
                quit_after_secs: Some(8),
            },
        );
        (scanner.join().unwrap(), phone)
    });
    // Each scenario run that got its second 401 is one counted failure: the ban comes at the
    // threshold, and after it nothing is answered.
    assert!(
        (1..=THRESHOLD).contains(&run.successful),
        "the scanner got {} wrong-password challenges\n{}",
        run.successful,
        run.stdout
    );
    assert_eq!(run.successful + run.failed, 2000, "{}", run.stdout);

    let listed = pbx.ctl(&["bans"]);
    let listing = String::from_utf8_lossy(&listed.stdout).into_owned();
    assert!(
        listed.status.success() && listing.contains(SCANNER_IP),
        "{listing}"
    );
    assert!(!options_answered(&pbx, SCANNER_IP, "probe"));
    assert!(options_answered(&pbx, "127.0.0.1", "probe"));

    let banned = events.read_until(Duration::from_secs(5), |received| {
        received
            .iter()
            .any(|e| e["type"] == "SourceBanned" && e["ban"]["address"] == SCANNER_IP)
    });
    assert!(banned, "no SourceBanned event: {:?}", events.received);
    let stats = pbx.get("/api/stats").unwrap();
    assert!(
        stats["sip"]["dropped_banned"].as_u64().unwrap() > 0,
        "{stats}"
    );

    // The phone, on another address, registered and heard the prompt.
    let ended = wait_until(Duration::from_secs(20), || {
        let stats = pbx.get("/api/stats").unwrap();
        stats["calls_total"] == 1 && stats["calls_active"] == 0
    });
    assert!(ended, "the phone's call did not complete\n{}", phone.log());
    assert!(phone.wait_exit(Duration::from_secs(10)), "{}", phone.log());
    let heard = heard_recording(&phone).unwrap_or_else(|| panic!("{}", phone.log()));
    let (samples, _) = common::read_wav(&heard);
    assert!(
        common::rms_dbfs(&samples) > -35.0,
        "the phone heard no prompt"
    );

    // fail2ban's asterisk filter reads the failures; the ban itself is logged too.
    let log = pbx.log();
    assert!(
        log.contains(&format!("failed for '{SCANNER_IP}:")) && log.contains("- Wrong password"),
        "{log}"
    );
    assert!(log.contains(&format!("Ban {SCANNER_IP}")), "{log}");

    // After the ban time the address may try again.
    let free_again = wait_until(Duration::from_secs(10), || {
        options_answered(&pbx, SCANNER_IP, "probe")
    });
    assert!(free_again, "the ban never ended");
}

#[test]
fn unban_lifts_a_ban_at_once() {
    let pbx = pbx_with_bans(300);
    let run = scan(&pbx, 20, 50);
    assert!(run.successful <= THRESHOLD, "{}", run.stdout);
    assert!(!options_answered(&pbx, SCANNER_IP, "probe"));
    let lifted = pbx.ctl(&["unban", SCANNER_IP]);
    assert!(lifted.status.success(), "{lifted:?}");
    assert!(options_answered(&pbx, SCANNER_IP, "probe"));
    let listed = pbx.ctl(&["bans"]);
    assert!(!String::from_utf8_lossy(&listed.stdout).contains(SCANNER_IP));
    let again = pbx.ctl(&["unban", SCANNER_IP]);
    assert!(!again.status.success(), "unbanning twice must fail");
}

#[test]
fn known_scanner_user_agents_are_dropped_silently() {
    let pbx = Pbx::start();
    for agent in [
        "friendly-scanner",
        "sipvicious 0.3.4",
        "VaxSIPUserAgent/3.1",
        "SIPCLI/v1.8",
    ] {
        assert!(!options_answered(&pbx, "127.0.0.1", agent), "{agent}");
    }
    assert!(options_answered(&pbx, "127.0.0.1", "Linphone/5.2"));
    let stats = pbx.get("/api/stats").unwrap();
    assert_eq!(stats["sip"]["dropped_scanners"], 4, "{stats}");
}
