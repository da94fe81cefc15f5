//! The message corpus of `tests/fixtures/sip/` (RFC 4475 torture tests and more), checked
//! sans-IO: each file's expected answer is either a validation status, a status the PBX gives
//! after validation passed, or `drop`. `tests/conformance.rs` plays the same files at the
//! running binary.

use std::path::PathBuf;

use bytes::Bytes;

use super::*;

/// Statuses this module answers itself; any other expected status means validation passed.
const VALIDATION_STATUSES: [u16; 6] = [400, 415, 416, 420, 483, 505];

struct Fixture {
    name: String,
    expect: Option<u16>,
    headers: Vec<String>,
    message: Vec<u8>,
}

/// Reads every fixture: `; clause:`, `; expect:` (a status or `drop`) and `; expect-header:`
/// lines, then the message with LF line ends, sent as CRLF.
fn fixtures() -> Vec<Fixture> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sip");
    let mut fixtures = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        let mut rest = &data[..];
        let mut expect = None;
        let mut clause = false;
        let mut headers = Vec::new();
        while rest.starts_with(b"; ") {
            let end = rest.iter().position(|&b| b == b'\n').unwrap();
            let line = std::str::from_utf8(&rest[2..end]).unwrap();
            let (key, value) = line.split_once(": ").unwrap();
            match key {
                "clause" => clause = true,
                "expect" if value == "drop" => {}
                "expect" => expect = Some(value.parse().unwrap()),
                "expect-header" => headers.push(value.to_string()),
                other => panic!("{}: unknown key {other}", path.display()),
            }
            rest = &rest[end + 1..];
        }
        assert!(clause, "{} names no clause", path.display());
        let mut message = Vec::with_capacity(rest.len() + 64);
        for &b in rest {
            if b == b'\n' {
                message.push(b'\r');
            }
            message.push(b);
        }
        fixtures.push(Fixture {
            name: path.file_name().unwrap().to_string_lossy().into_owned(),
            expect,
            headers,
            message,
        });
    }
    fixtures
}

#[test]
fn every_fixture_gets_its_outcome() {
    let fixtures = fixtures();
    assert!(fixtures.len() >= 40, "corpus missing: {}", fixtures.len());
    for fixture in fixtures {
        let name = &fixture.name;
        let parsed = SipMessage::parse(Bytes::from(fixture.message));
        let Some(expected) = fixture.expect else {
            assert!(
                parsed.as_ref().map_or(true, |m| m.status().is_some()),
                "{name}: a dropped fixture parsed as a request"
            );
            continue;
        };
        let message = parsed.unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(message.top_via().is_ok(), "{name}: no usable Via");
        let outcome = validate(&message, &PBX);
        if VALIDATION_STATUSES.contains(&expected) {
            let rejection = outcome.expect_err(name);
            assert_eq!(rejection.status().as_u16(), expected, "{name}: {rejection}");
            let headers: Vec<String> = rejection
                .headers(&PBX)
                .into_iter()
                .map(|(n, v)| format!("{n}: {v}"))
                .collect();
            for header in &fixture.headers {
                assert!(headers.contains(header), "{name}: {headers:?}");
            }
        } else {
            assert_eq!(outcome, Ok(()), "{name}");
        }
    }
}
