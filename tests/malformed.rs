//! Malformed datagrams never take the server down: truncated messages, garbage header lines,
//! a missing Call-ID, a huge Content-Length, binary noise and oversized datagrams are answered
//! 400 (when a Via makes that possible) or dropped and counted, and OPTIONS still gets 200.

mod common;

use std::time::Duration;

use common::{exchange, fixture, sipp, Pbx};

const GOOD: &str =
    "OPTIONS sip:pbx SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bKmal{n};rport\r\n\
From: <sip:probe@127.0.0.1>;tag=1\r\nTo: <sip:pbx>\r\nCall-ID: malformed-{n}\r\nCSeq: 1 OPTIONS\r\n\
Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n";

fn good(n: usize) -> String {
    GOOD.replace("{n}", &n.to_string())
}

#[test]
fn bad_requests_get_400_with_a_reason() {
    let pbx = Pbx::start();
    let cases = [
        (
            good(1).replace("Call-ID: malformed-1\r\n", ""),
            "missing Call-ID header",
        ),
        (
            good(2).replace("Content-Length: 0", "Content-Length: 999999"),
            "Content-Length exceeds body",
        ),
        (
            good(3).replace("Max-Forwards: 70", "garbage line without colon"),
            "malformed header line",
        ),
        (
            good(4).replace("CSeq: 1 OPTIONS", "CSeq: one OPTIONS"),
            "malformed CSeq header",
        ),
    ];
    for (datagram, reason) in cases {
        let replies = exchange(pbx.sip, &[datagram.as_bytes()], Duration::from_millis(700));
        assert_eq!(replies.len(), 1, "{datagram}\n{replies:?}");
        assert!(
            replies[0].starts_with("SIP/2.0 400 Bad Request"),
            "{}",
            replies[0]
        );
        assert!(
            replies[0].lines().next().unwrap().contains(reason),
            "{}",
            replies[0]
        );
    }
}

#[test]
fn noise_is_dropped_and_the_server_keeps_answering() {
    let pbx = Pbx::start();
    let truncated = good(5);
    let mut noise = Vec::new();
    let mut state = 0x9e37_79b9u32;
    for _ in 0..1400 {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        noise.push(state as u8);
    }
    let oversized = format!("{}{}", good(6).trim_end(), "X".repeat(20_000));
    let datagrams: Vec<&[u8]> = vec![
        &truncated.as_bytes()[..40],
        &truncated.as_bytes()[..truncated.len() / 2],
        b"\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        &noise,
        b"INVITE sip:x SIP/2.0\r\nVia: \xff\xfe\r\n\r\n",
        b"SIP/2.0 200 OK\r\n\r\n",
        oversized.as_bytes(),
        b"OPTIONS sip:pbx SIP/2.0\r\nFrom: <sip:a@b>;tag=1\r\n\r\n",
    ];
    let replies = exchange(pbx.sip, &datagrams, Duration::from_millis(700));
    assert!(
        replies.is_empty(),
        "unanswerable datagrams were answered: {replies:?}"
    );
    let run = sipp(&fixture("sipp/options.xml"), pbx.sip, &["-m", "1"]);
    run.assert_succeeded(1, &pbx);
    let stats = pbx.get("/api/stats").unwrap();
    assert_eq!(stats["sip"]["dropped_oversized"], 1, "{stats}");
    assert!(
        stats["sip"]["dropped_unparsable"].as_u64().unwrap() >= 6,
        "{stats}"
    );
}

#[test]
fn options_lists_capabilities_and_unknown_methods_get_501() {
    let pbx = Pbx::start();
    let replies = exchange(pbx.sip, &[good(7).as_bytes()], Duration::from_millis(500));
    assert_eq!(replies.len(), 1);
    let reply = &replies[0];
    assert!(reply.starts_with("SIP/2.0 200 OK"), "{reply}");
    assert!(
        reply.contains("\r\nAllow: INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, REFER, REGISTER\r\n"),
        "{reply}"
    );
    assert!(reply.contains("\r\nAccept: application/sdp"), "{reply}");
    assert!(reply.contains("\r\nSupported:"), "{reply}");
    assert!(reply.contains(";received=127.0.0.1;rport="), "{reply}");

    let unknown = good(8).replace("OPTIONS", "FROBNICATE");
    let replies = exchange(pbx.sip, &[unknown.as_bytes()], Duration::from_millis(500));
    assert!(
        replies[0].starts_with("SIP/2.0 501 Not Implemented"),
        "{replies:?}"
    );
    let unsupported = good(9).replace("OPTIONS", "SUBSCRIBE");
    let replies = exchange(
        pbx.sip,
        &[unsupported.as_bytes()],
        Duration::from_millis(500),
    );
    assert!(
        replies[0].starts_with("SIP/2.0 405 Method Not Allowed"),
        "{replies:?}"
    );
    assert!(replies[0].contains("\r\nAllow: "), "{replies:?}");
}
