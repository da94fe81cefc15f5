//! REGISTER with digest auth against the real binary: SIPp registers and the binding shows in
//! the admin API; a wrong password never gets 200; a retransmitted REGISTER is answered from
//! its transaction instead of being processed twice.

mod common;

use std::net::UdpSocket;
use std::time::Duration;

use bytes::Bytes;
use common::{fixture, sipp, Pbx, PASSWORD};
use pbx::sip::auth::DigestChallenge;
use pbx::sip::message::{HeaderName, SipMessage};

#[test]
fn sipp_registers_with_digest_and_binding_is_listed() {
    let pbx = Pbx::start();
    let run = sipp(
        &fixture("sipp/register.xml"),
        pbx.sip,
        &["-s", "6001", "-au", "6001", "-ap", PASSWORD, "-m", "1"],
    );
    run.assert_succeeded(1, &pbx);
    let regs = pbx.registrations();
    assert_eq!(regs.len(), 1, "{regs:?}");
    assert_eq!(regs[0]["aor"], "6001");
    assert_eq!(regs[0]["user_agent"], "SIPp register test");
    let expires = regs[0]["expires_in"].as_u64().unwrap();
    assert!((590..=600).contains(&expires), "{expires}");
    assert!(regs[0]["contact"]
        .as_str()
        .unwrap()
        .starts_with("sip:6001@127.0.0.1:"));
}

#[test]
fn wrong_password_gets_a_fresh_challenge_never_200() {
    let pbx = Pbx::start();
    let run = sipp(
        &fixture("sipp/register_wrong_password.xml"),
        pbx.sip,
        &[
            "-s",
            "6001",
            "-au",
            "6001",
            "-ap",
            "not-the-password",
            "-m",
            "3",
        ],
    );
    assert_eq!((run.successful, run.failed), (3, 0), "{}", run.stdout);
    let unknown = sipp(
        &fixture("sipp/register_wrong_password.xml"),
        pbx.sip,
        &["-s", "7777", "-au", "7777", "-ap", PASSWORD, "-m", "1"],
    );
    assert_eq!(
        (unknown.successful, unknown.failed),
        (1, 0),
        "{}",
        unknown.stdout
    );
    assert!(pbx.registrations().is_empty());
    assert!(pbx.log().contains("authentication failed"), "{}", pbx.log());
}

fn register_text(branch: &str, cseq: u32, port: u16, auth: Option<&str>) -> String {
    let auth = auth
        .map(|a| format!("Authorization: {a}\r\n"))
        .unwrap_or_default();
    format!(
        "REGISTER sip:127.0.0.1 SIP/2.0\r\n\
         Via: SIP/2.0/UDP 127.0.0.1:{port};branch={branch};rport\r\n\
         From: <sip:6002@127.0.0.1>;tag=retx\r\nTo: <sip:6002@127.0.0.1>\r\n\
         Call-ID: retransmission-test\r\nCSeq: {cseq} REGISTER\r\n\
         Contact: <sip:6002@127.0.0.1:{port}>\r\n{auth}Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
    )
}

fn recv(socket: &UdpSocket) -> SipMessage {
    let mut buf = [0u8; 8192];
    let (n, _) = socket.recv_from(&mut buf).expect("response from pbx");
    SipMessage::parse(Bytes::copy_from_slice(&buf[..n])).unwrap()
}

#[test]
fn retransmitted_register_is_answered_from_the_transaction() {
    let pbx = Pbx::start();
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(3)))
        .unwrap();
    let port = socket.local_addr().unwrap().port();

    socket
        .send_to(
            register_text("z9hG4bKfirst", 1, port, None).as_bytes(),
            pbx.sip,
        )
        .unwrap();
    let challenge = recv(&socket);
    assert_eq!(challenge.status(), Some(401));
    let challenge =
        DigestChallenge::parse(challenge.header(HeaderName::WwwAuthenticate).unwrap()).unwrap();
    let credentials =
        challenge.answer("REGISTER", "sip:127.0.0.1", "6002", PASSWORD, "0a4f113b", 1);
    let authorized = register_text(
        "z9hG4bKsecond",
        2,
        port,
        Some(&credentials.to_header_value()),
    );

    socket.send_to(authorized.as_bytes(), pbx.sip).unwrap();
    let first = recv(&socket);
    assert_eq!(first.status(), Some(200));
    // The same datagram again: processing it anew would see a replayed nonce count and answer
    // 401; the transaction answers with the stored 200 instead, byte for byte.
    socket.send_to(authorized.as_bytes(), pbx.sip).unwrap();
    let second = recv(&socket);
    assert_eq!(second.raw(), first.raw());
    assert_eq!(pbx.registrations().len(), 1);

    // A new transaction replaying the same credentials is refused (nonce count replay).
    let replay = authorized
        .replace("z9hG4bKsecond", "z9hG4bKthird")
        .replace("CSeq: 2", "CSeq: 3");
    socket.send_to(replay.as_bytes(), pbx.sip).unwrap();
    assert_eq!(recv(&socket).status(), Some(401));
}
