//! The SIP conformance corpus played at the running binary: every file under
//! `tests/fixtures/sip/` (RFC 4475 torture tests, RFC 5118 IPv6 cases and the validation
//! order of RFC 3261 §8.2) is sent over UDP on loopback, and the one final answer it gets
//! must have the status (and headers) the file names, or there must be none for `drop`. The
//! server still answers OPTIONS afterwards. RFC 4475 reuses Via branches across its
//! messages; the corpus suffixes each top branch with the file's name, so one server can take
//! them all without seeing retransmissions (RFC 3261 §17.2.3).

mod common;

use std::net::UdpSocket;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::{exchange, Pbx};

/// One corpus file: its expected status (`None` for drop), headers and message bytes.
struct Fixture {
    name: String,
    expect: Option<u16>,
    headers: Vec<String>,
    message: Vec<u8>,
}

/// Reads the corpus: `; key: value` lines (clause, expect, expect-header), then the message
/// with LF line ends, sent as CRLF.
fn corpus() -> Vec<Fixture> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sip");
    let mut fixtures = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        let mut rest = &data[..];
        let (mut expect, mut headers) = (None, Vec::new());
        while rest.starts_with(b"; ") {
            let end = rest.iter().position(|&b| b == b'\n').unwrap();
            let line = std::str::from_utf8(&rest[2..end]).unwrap();
            match line.split_once(": ").unwrap() {
                ("expect", "drop") | ("clause", _) => {}
                ("expect", status) => expect = Some(status.parse().unwrap()),
                ("expect-header", header) => headers.push(header.to_string()),
                (key, _) => panic!("{}: unknown key {key}", path.display()),
            }
            rest = &rest[end + 1..];
        }
        let message = rest
            .iter()
            .flat_map(|&b| {
                if b == b'\n' {
                    vec![b'\r', b'\n']
                } else {
                    vec![b]
                }
            })
            .collect();
        fixtures.push(Fixture {
            name: path.file_name().unwrap().to_string_lossy().into_owned(),
            expect,
            headers,
            message,
        });
    }
    fixtures
}

/// Sends `message` from a fresh socket; returns the status lines and texts of what came back
/// (provisional answers left out) within `wait`, or until a final answer and a grace period.
fn play(pbx: &Pbx, message: &[u8], wait: Duration) -> Vec<String> {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    socket.send_to(message, pbx.sip).unwrap();
    let mut finals = Vec::new();
    let mut deadline = Instant::now() + wait;
    let mut buf = [0u8; 65536];
    while Instant::now() < deadline {
        if let Ok((n, _)) = socket.recv_from(&mut buf) {
            let text = String::from_utf8_lossy(&buf[..n]).into_owned();
            if !text.starts_with("SIP/2.0 1") {
                if finals.is_empty() {
                    deadline = Instant::now() + Duration::from_millis(150);
                }
                finals.push(text);
            }
        }
    }
    finals
}

#[test]
fn every_corpus_message_gets_the_answer_its_file_names() {
    let pbx = Pbx::start();
    let fixtures = corpus();
    assert!(fixtures.len() >= 40, "corpus missing: {}", fixtures.len());
    let mut failures = Vec::new();
    for fixture in &fixtures {
        let answers = play(&pbx, &fixture.message, Duration::from_millis(800));
        let statuses: Vec<u16> = answers
            .iter()
            .filter_map(|a| a.get(8..11).and_then(|s| s.parse().ok()))
            .collect();
        let expected: Vec<u16> = fixture.expect.into_iter().collect();
        if statuses != expected {
            failures.push(format!(
                "{}: got {statuses:?}, want {expected:?}",
                fixture.name
            ));
            continue;
        }
        for header in &fixture.headers {
            if !answers[0].contains(&format!("\r\n{header}\r\n")) {
                failures.push(format!(
                    "{}: no `{header}` in\n{}",
                    fixture.name, answers[0]
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let options =
        b"OPTIONS sip:pbx SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bKafter\r\n\
From: <sip:probe@127.0.0.1>;tag=1\r\nTo: <sip:pbx>\r\nCall-ID: after-corpus\r\nCSeq: 1 OPTIONS\r\n\
Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n";
    let replies = exchange(pbx.sip, &[options], Duration::from_millis(500));
    assert!(
        replies
            .first()
            .is_some_and(|r| r.starts_with("SIP/2.0 200 OK")),
        "{replies:?}"
    );
}
