//! The validation order of RFC 3261 §8.2 on byte vectors: each check alone, then pairs of
//! defects to show which one answers first.

use bytes::Bytes;

use super::*;

const INVITE: &str = "INVITE sip:8000@pbx.example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKval1\r\n\
Max-Forwards: 70\r\n\
From: <sip:6001@pbx.example.com>;tag=88sja8x\r\n\
To: <sip:8000@pbx.example.com>\r\n\
Call-ID: validate-1@192.0.2.1\r\n\
CSeq: 1 INVITE\r\n\
Contact: <sip:6001@192.0.2.1>\r\n\
Content-Type: application/sdp\r\n\
Content-Length: 4\r\n\
\r\n\
v=0\n";

fn check(text: &str) -> Result<(), Rejection> {
    let message = SipMessage::parse(Bytes::copy_from_slice(text.as_bytes())).unwrap();
    validate(&message, &PBX)
}

fn status(text: &str) -> u16 {
    check(text).err().map_or(200, |r| r.status().as_u16())
}

#[test]
fn a_good_invite_passes() {
    assert_eq!(check(INVITE), Ok(()));
}

#[test]
fn missing_mandatory_headers_are_named() {
    for (line, name) in [
        ("To: <sip:8000@pbx.example.com>\r\n", "To"),
        ("From: <sip:6001@pbx.example.com>;tag=88sja8x\r\n", "From"),
        ("Call-ID: validate-1@192.0.2.1\r\n", "Call-ID"),
        ("CSeq: 1 INVITE\r\n", "CSeq"),
        ("Max-Forwards: 70\r\n", "Max-Forwards"),
    ] {
        let rejection = check(&INVITE.replace(line, "")).unwrap_err();
        assert_eq!(rejection.status(), StatusCode::BAD_REQUEST, "{name}");
        assert_eq!(
            rejection.reason(),
            format!("Bad Request (missing {name} header)")
        );
    }
}

#[test]
fn max_forwards_is_mandatory_only_where_the_pbx_forwards() {
    let options = INVITE
        .replace("INVITE", "OPTIONS")
        .replace("Max-Forwards: 70\r\n", "");
    assert_eq!(check(&options), Ok(()));
    let register = options.replace("OPTIONS", "REGISTER");
    assert_eq!(check(&register), Ok(()));
    let bad = INVITE.replace("Max-Forwards: 70", "Max-Forwards: seventy");
    assert_eq!(
        check(&bad).unwrap_err().reason(),
        "Bad Request (malformed Max-Forwards header)"
    );
}

#[test]
fn conflicting_single_valued_headers_are_refused() {
    let twice = INVITE.replace(
        "Call-ID: validate-1@192.0.2.1\r\n",
        "Call-ID: validate-1@192.0.2.1\r\nCall-ID: other@192.0.2.1\r\n",
    );
    assert_eq!(check(&twice), Err(Rejection::Duplicate("Call-ID")));
    let same_twice = INVITE.replace("CSeq: 1 INVITE\r\n", "CSeq: 1 INVITE\r\nCSeq: 1 INVITE\r\n");
    assert_eq!(check(&same_twice), Ok(()));
    let expires = INVITE.replace(
        "CSeq: 1 INVITE\r\n",
        "CSeq: 1 INVITE\r\nExpires: 10\r\nExpires: 20\r\n",
    );
    assert_eq!(check(&expires), Err(Rejection::Duplicate("Expires")));
    let compact = INVITE.replace("To: <sip:8000", "t: <sip:other@h>\r\nTo: <sip:8000");
    assert_eq!(check(&compact), Err(Rejection::Duplicate("To")));
}

#[test]
fn cseq_method_must_match() {
    let mismatch = INVITE.replace("CSeq: 1 INVITE", "CSeq: 1 ACK");
    assert_eq!(check(&mismatch), Err(Rejection::CSeqMethod));
    let unknown = INVITE
        .replace("INVITE sip:", "NEWMETHOD sip:")
        .replace("CSeq: 1 INVITE", "CSeq: 1 NEWMETHOD");
    assert_eq!(check(&unknown), Ok(()));
    let unknown_mismatch = unknown.replace("CSeq: 1 NEWMETHOD", "CSeq: 1 OTHERMETHOD");
    assert_eq!(check(&unknown_mismatch), Err(Rejection::CSeqMethod));
    let case = INVITE.replace("CSeq: 1 INVITE", "CSeq: 1 invite");
    assert_eq!(check(&case), Err(Rejection::CSeqMethod));
}

#[test]
fn other_versions_get_505() {
    let v7 = INVITE.replace("SIP/2.0\r\nVia", "SIP/7.0\r\nVia");
    assert_eq!(status(&v7), 505);
    let lower = INVITE.replace("SIP/2.0\r\nVia", "sip/2.0\r\nVia");
    assert_eq!(status(&lower), 200);
}

#[test]
fn unserved_schemes_get_416() {
    let unknown = INVITE.replace(
        "sip:8000@pbx.example.com SIP/2.0",
        "nobodyKnowsThisScheme:totally-opaque-content SIP/2.0",
    );
    assert_eq!(status(&unknown), 416);
    let sips = INVITE.replace("INVITE sip:", "INVITE sips:");
    assert_eq!(status(&sips), 416);
    let tel = INVITE.replace(
        "sip:8000@pbx.example.com SIP",
        "tel:+15551234;phone-context=x SIP",
    );
    assert_eq!(status(&tel), 200);
    let broken = INVITE.replace("sip:8000@pbx.example.com SIP", "sip:8000@ SIP");
    assert_eq!(check(&broken), Err(Rejection::RequestUri));
}

#[test]
fn unknown_required_extensions_get_420_listing_them() {
    let require = INVITE.replace(
        "CSeq: 1 INVITE\r\n",
        "CSeq: 1 INVITE\r\nRequire: nothingSupportsThis, nothingSupportsThisEither\r\n\
         Proxy-Require: foo\r\nRequire: foo\r\n",
    );
    let rejection = check(&require).unwrap_err();
    assert_eq!(rejection.status(), StatusCode::BAD_EXTENSION);
    assert_eq!(
        rejection.headers(&PBX),
        [(
            "Unsupported",
            "nothingSupportsThis, nothingSupportsThisEither, foo".to_string()
        )]
    );
    let cancel = require
        .replace("INVITE sip:", "CANCEL sip:")
        .replace("CSeq: 1 INVITE", "CSeq: 1 CANCEL")
        .replace("Content-Type: application/sdp\r\n", "");
    assert_eq!(check(&cancel), Ok(()));
}

#[test]
fn unreadable_invite_bodies_get_415_with_accept() {
    let xml = INVITE.replace("application/sdp", "application/xml");
    let rejection = check(&xml).unwrap_err();
    assert_eq!(rejection.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(
        rejection.headers(&PBX),
        [
            ("Accept", "application/sdp".to_string()),
            ("Accept-Encoding", "identity".to_string())
        ]
    );
    let gzip = INVITE.replace(
        "Content-Type: application/sdp\r\n",
        "Content-Type: application/sdp\r\nContent-Encoding: gzip\r\n",
    );
    assert_eq!(check(&gzip), Err(Rejection::UnsupportedMedia));
    let compact = INVITE.replace(
        "Content-Type: application/sdp\r\n",
        "c: APPLICATION/SDP ; charset=x\r\ne: identity\r\n",
    );
    assert_eq!(check(&compact), Ok(()));
    let untyped = INVITE.replace("Content-Type: application/sdp\r\n", "");
    assert_eq!(check(&untyped), Err(Rejection::MissingContentType));
    let info = xml
        .replace("INVITE sip:", "INFO sip:")
        .replace("CSeq: 1 INVITE", "CSeq: 1 INFO");
    assert_eq!(check(&info), Ok(()));
}

#[test]
fn exhausted_max_forwards_gets_483_only_where_forwarded() {
    let zero = INVITE.replace("Max-Forwards: 70", "Max-Forwards: 0");
    assert_eq!(status(&zero), 483);
    let leading_zeros = INVITE.replace("Max-Forwards: 70", "Max-Forwards: 000");
    assert_eq!(status(&leading_zeros), 483);
    let options = zero
        .replace("INVITE sip:", "OPTIONS sip:")
        .replace("CSeq: 1 INVITE", "CSeq: 1 OPTIONS");
    assert_eq!(status(&options), 200);
    let reinvite = zero.replace(
        "To: <sip:8000@pbx.example.com>",
        "To: <sip:8000@pbx.example.com>;tag=x",
    );
    assert_eq!(status(&reinvite), 200);
}

#[test]
fn checks_answer_in_rfc_order() {
    let v7 = |t: &str| t.replace("SIP/2.0\r\nVia", "SIP/7.0\r\nVia");
    let scheme = |t: &str| t.replace("INVITE sip:8000@pbx.example.com", "INVITE foo:bar");
    let require = |t: &str| t.replace("CSeq: 1 INVITE\r\n", "CSeq: 1 INVITE\r\nRequire: x\r\n");
    let body = |t: &str| t.replace("application/sdp", "text/plain");
    let hops = |t: &str| t.replace("Max-Forwards: 70", "Max-Forwards: 0");
    let all = hops(&body(&require(&scheme(&v7(INVITE)))));
    assert_eq!(status(&all), 505);
    assert_eq!(status(&hops(&body(&require(&scheme(INVITE))))), 416);
    assert_eq!(status(&hops(&body(&require(INVITE)))), 420);
    assert_eq!(status(&hops(&body(INVITE))), 415);
    let mismatch = all.replace("CSeq: 1 INVITE", "CSeq: 1 BYE");
    assert_eq!(check(&mismatch), Err(Rejection::CSeqMethod));
    let duplicate = mismatch.replace("Call-ID: validate-1", "Call-ID: a\r\nCall-ID: validate-1");
    assert_eq!(check(&duplicate), Err(Rejection::Duplicate("Call-ID")));
    let missing = duplicate.replace("To: <sip:8000@pbx.example.com>\r\n", "");
    assert_eq!(
        check(&missing),
        Err(Rejection::Malformed(ParseError::Missing("To")))
    );
}
