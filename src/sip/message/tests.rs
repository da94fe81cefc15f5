//! Tests of SIP message parsing and building with RFC 3261 §24 / RFC 4475 style messages.

use super::*;
use std::net::SocketAddr;

const REGISTER: &str = "REGISTER sip:registrar.biloxi.com SIP/2.0\r\n\
Via: SIP/2.0/UDP bobspc.biloxi.com:5060;branch=z9hG4bKnashds7;rport\r\n\
Max-Forwards: 70\r\n\
To: Bob <sip:bob@biloxi.com>\r\n\
From: Bob <sip:bob@biloxi.com>;tag=456248\r\n\
Call-ID: 843817637684230@998sdasdh09\r\n\
CSeq: 1826 REGISTER\r\n\
Contact: <sip:bob@192.0.2.4>\r\n\
Expires: 7200\r\n\
Content-Length: 0\r\n\r\n";

fn parse(text: &str) -> SipMessage {
    SipMessage::parse(Bytes::copy_from_slice(text.as_bytes())).unwrap()
}

#[test]
fn rfc3261_register_parses() {
    let msg = parse(REGISTER);
    assert_eq!(msg.defect(), None);
    assert_eq!(msg.method(), Some(Method::Register));
    assert_eq!(msg.request_uri(), Some("sip:registrar.biloxi.com"));
    assert_eq!(msg.call_id(), Some("843817637684230@998sdasdh09"));
    assert_eq!(msg.cseq().unwrap().seq, 1826);
    assert_eq!(msg.from_header().unwrap().tag(), Some("456248"));
    assert_eq!(msg.to_header().unwrap().tag(), None);
    assert_eq!(msg.expires().unwrap(), Some(7200));
    assert_eq!(msg.top_via().unwrap().branch(), Some("z9hG4bKnashds7"));
    assert_eq!(
        msg.header_values(HeaderName::Contact).collect::<Vec<_>>(),
        ["<sip:bob@192.0.2.4>"]
    );
    assert!(msg.body().is_empty());
}

#[test]
fn compact_forms_and_case_are_normalised() {
    let msg = parse(
        "OPTIONS sip:pbx SIP/2.0\r\nv: SIP/2.0/UDP h;branch=z9hG4bK1\r\nf: <sip:a@h>;tag=1\r\n\
         t: <sip:pbx>\r\ni: abc\r\ncseq: 1 OPTIONS\r\nm: <sip:a@h>\r\nl: 0\r\nX-Custom: yes\r\n\r\n",
    );
    assert_eq!(msg.defect(), None);
    assert_eq!(msg.call_id(), Some("abc"));
    assert_eq!(msg.header(HeaderName::Contact), Some("<sip:a@h>"));
    assert_eq!(msg.other_header("x-custom"), Some("yes"));
}

#[test]
fn folded_header_and_multiple_vias() {
    let msg = parse(
        "BYE sip:a@h SIP/2.0\r\nVia: SIP/2.0/UDP first;branch=z9hG4bK1,\r\n SIP/2.0/UDP second;branch=z9hG4bK2\r\n\
         Via: SIP/2.0/UDP third;branch=z9hG4bK3\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\nCall-ID: x\r\nCSeq: 2 BYE\r\n\r\n",
    );
    let vias: Vec<_> = msg.header_values(HeaderName::Via).collect();
    assert_eq!(vias.len(), 3);
    assert_eq!(msg.top_via().unwrap().host, "first");
}

#[test]
fn response_status_and_body_by_content_length() {
    let msg = parse(
        "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:b@h>;tag=2\r\n\
         Call-ID: x\r\nCSeq: 1 INVITE\r\nContent-Length: 4\r\n\r\nv=0\r\ntrailing",
    );
    assert_eq!(msg.status(), Some(200));
    assert_eq!(msg.reason(), Some("OK"));
    assert_eq!(msg.body(), b"v=0\r");
    assert_eq!(msg.method(), None);
}

#[test]
fn hard_errors() {
    let cases: [(&[u8], ParseError); 7] = [
        (b"", ParseError::Empty),
        (b"\r\n\r\n", ParseError::Empty),
        (
            b"INVITE sip:a@h SIP/2.0\r\nVia: x\r\n",
            ParseError::Unterminated,
        ),
        (b"HELLO\r\n\r\n", ParseError::StartLine),
        (b"SIP/3.0 200 OK\r\n\r\n", ParseError::Version),
        (b"INVITE sip:a@h HTTP/1.1\r\n\r\n", ParseError::StartLine),
        (
            b"INVITE sip:a@h SIP/2.0\r\nFrom: \xff\xfe\r\n\r\n",
            ParseError::NotUtf8,
        ),
    ];
    for (data, expected) in cases {
        assert_eq!(
            SipMessage::parse(Bytes::from_static(data)).unwrap_err(),
            expected
        );
    }
}

#[test]
fn defects_leave_an_answerable_message() {
    let missing_call_id = REGISTER.replace("Call-ID: 843817637684230@998sdasdh09\r\n", "");
    assert_eq!(
        parse(&missing_call_id).defect(),
        Some(&ParseError::Missing("Call-ID"))
    );
    let huge_length = REGISTER.replace("Content-Length: 0", "Content-Length: 99999");
    assert_eq!(
        parse(&huge_length).defect(),
        Some(&ParseError::BodyTruncated)
    );
    let garbage = REGISTER.replace("Max-Forwards: 70", "this is not a header");
    assert_eq!(parse(&garbage).defect(), Some(&ParseError::HeaderLine(3)));
    let other_version = REGISTER.replace("biloxi.com SIP/2.0", "biloxi.com SIP/7.0");
    assert!(!parse(&other_version).is_sip2());
    assert!(parse(REGISTER).is_sip2());
    let no_via = REGISTER.replace(
        "Via: SIP/2.0/UDP bobspc.biloxi.com:5060;branch=z9hG4bKnashds7;rport\r\n",
        "",
    );
    assert_eq!(parse(&no_via).defect(), Some(&ParseError::Missing("Via")));
}

#[test]
fn every_truncation_and_noise_never_panics() {
    for end in 0..REGISTER.len() {
        let _ = SipMessage::parse(Bytes::copy_from_slice(&REGISTER.as_bytes()[..end]));
    }
    let mut state = 0x1234_5678u32;
    for _ in 0..2000 {
        let mut data = REGISTER.as_bytes().to_vec();
        for _ in 0..8 {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            let at = state as usize % data.len();
            data[at] = (state >> 8) as u8;
        }
        if let Ok(msg) = SipMessage::parse(Bytes::from(data)) {
            let _ = (msg.top_via(), msg.cseq(), msg.expires(), msg.from_header());
            let _ = msg.header_values(HeaderName::Contact).count();
        }
    }
}

#[test]
fn response_copies_dialog_headers_and_fills_rport() {
    let req = parse(REGISTER);
    let source: SocketAddr = "198.51.100.9:40000".parse().unwrap();
    let bytes = MessageWriter::response(&req, 200, "OK", Some("srvtag"), source)
        .header("Expires", 600)
        .finish();
    let resp = SipMessage::parse(bytes).unwrap();
    assert_eq!(resp.defect(), None);
    assert_eq!(resp.status(), Some(200));
    let via = resp.top_via().unwrap();
    assert_eq!(via.received(), Some("198.51.100.9"));
    assert_eq!(via.rport(), Some(Some("40000")));
    assert_eq!(via.branch(), Some("z9hG4bKnashds7"));
    assert_eq!(resp.to_header().unwrap().tag(), Some("srvtag"));
    assert_eq!(resp.call_id(), req.call_id());
    assert_eq!(resp.cseq().unwrap(), req.cseq().unwrap());
}

#[test]
fn trying_gets_no_to_tag() {
    let req = parse(REGISTER);
    let source: SocketAddr = "192.0.2.4:5060".parse().unwrap();
    let resp =
        SipMessage::parse(MessageWriter::response(&req, 100, "Trying", Some("t"), source).finish())
            .unwrap();
    assert_eq!(resp.to_header().unwrap().tag(), None);
}

#[test]
fn dialog_creating_responses_copy_record_route() {
    let invite = parse(
        "INVITE sip:6001@pbx SIP/2.0\r\nVia: SIP/2.0/UDP proxy;branch=z9hG4bKrr\r\nRecord-Route: <sip:p1;lr>, <sip:p2;lr>\r\n\
         From: <sip:a@b>;tag=1\r\nTo: <sip:6001@pbx>\r\nCall-ID: rr\r\nCSeq: 1 INVITE\r\n\r\n",
    );
    let source: SocketAddr = "192.0.2.9:5060".parse().unwrap();
    let ok =
        SipMessage::parse(MessageWriter::response(&invite, 200, "OK", Some("t"), source).finish())
            .unwrap();
    let routes: Vec<_> = ok.header_values(HeaderName::RecordRoute).collect();
    assert_eq!(routes, ["<sip:p1;lr>", "<sip:p2;lr>"]);
    let busy = SipMessage::parse(
        MessageWriter::response(&invite, 486, "Busy Here", Some("t"), source).finish(),
    )
    .unwrap();
    assert_eq!(busy.header(HeaderName::RecordRoute), None);
}

#[test]
fn content_length_frames_binary_bodies_intact() {
    let mut data =
        b"INFO sip:a@h SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@h>;tag=1\r\n\
To: <sip:b@h>;tag=2\r\nCall-ID: bin\r\nCSeq: 2 INFO\r\nContent-Type: application/octet-stream\r\n\
Content-Length: 6\r\n\r\n"
            .to_vec();
    data.extend_from_slice(&[0x00, 0xff, 0xfe, b'\r', b'\n', 0x80, 0x01, 0x02]);
    let msg = SipMessage::parse(Bytes::from(data)).unwrap();
    assert_eq!(msg.defect(), None);
    assert_eq!(msg.body(), [0x00, 0xff, 0xfe, b'\r', b'\n', 0x80]);
    assert!(msg.to_bytes().ends_with(&[0xfe, b'\r', b'\n', 0x80]));
}

#[test]
fn request_line_with_extra_whitespace_is_answerable() {
    for line in [
        "OPTIONS  sip:a@h SIP/2.0",
        "OPTIONS sip:a@h SIP/2.0 ",
        "OPTIONS sip:a@h; lr SIP/2.0",
    ] {
        let msg = parse(&REGISTER.replacen("REGISTER sip:registrar.biloxi.com SIP/2.0", line, 1));
        assert_eq!(msg.defect(), Some(&ParseError::RequestLine), "{line}");
        assert_eq!(msg.method(), Some(Method::Options));
    }
}
