//! Property: messages generated from the RFC 3261 grammar with random but valid spelling
//! (header case, compact forms, LWS around separators, line folding, leading zeros, quoted
//! display names with escapes, escaped and `;`-bearing URIs, IPv6, tel:, odd unknown headers,
//! binary bodies) parse to the values they were generated from and pass validation, and
//! parse -> serialize -> parse gives the same message. Seeded, so a failure reproduces.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::*;
use crate::sip::validate::{validate, PBX};

/// Writes one randomly spelled header line.
type HeaderWriter = dyn Fn(&mut StdRng, &mut Vec<u8>);

/// What a generated message must parse back to.
struct Expected {
    method: Method,
    uri: String,
    call_id: String,
    seq: u32,
    from_tag: String,
    branch: String,
    body: Vec<u8>,
}

fn pick<'a>(rng: &mut StdRng, options: &[&'a str]) -> &'a str {
    options[rng.gen_range(0..options.len())]
}

/// Optional LWS: nothing, spaces or tabs, or a fold (CRLF then whitespace, §7.3.1).
fn lws(rng: &mut StdRng) -> &'static str {
    pick(rng, &["", "", " ", "  ", "\t", "\r\n ", " \r\n\t"])
}

/// At least one whitespace, possibly folded.
fn sws(rng: &mut StdRng) -> &'static str {
    pick(rng, &[" ", "  ", "\t", "\r\n ", " \r\n  "])
}

fn random_case(rng: &mut StdRng, name: &str) -> String {
    name.chars()
        .map(|c| {
            if rng.gen_bool(0.3) {
                c.to_ascii_lowercase()
            } else if rng.gen_bool(0.3) {
                c.to_ascii_uppercase()
            } else {
                c
            }
        })
        .collect()
}

fn header(rng: &mut StdRng, out: &mut Vec<u8>, full: &str, compact: Option<&str>, value: &str) {
    let name = match compact {
        Some(c) if rng.gen_bool(0.4) => c.to_string(),
        _ => random_case(rng, full),
    };
    let line = format!(
        "{name}{}:{}{value}\r\n",
        pick(rng, &["", " ", "\t "]),
        lws(rng)
    );
    out.extend_from_slice(line.as_bytes());
}

fn name_addr(rng: &mut StdRng, uri: &str, tag: Option<&str>) -> String {
    let display = pick(
        rng,
        &[
            "",
            "\"\" ",
            "Bob ",
            "Bob\tSmith ",
            "\"Smith, J\" ",
            "\"a \\\"quoted\\\" \\\\ name <sip:no@where>\"",
            "\"\u{0440}\u{0430}\u{0431}\"",
        ],
    );
    let tag = tag.map_or(String::new(), |t| {
        format!("{};{}tag{}={}{t}", lws(rng), lws(rng), lws(rng), lws(rng))
    });
    format!("{display}<{uri}>{tag}")
}

fn generate(rng: &mut StdRng, n: usize) -> (Vec<u8>, Expected) {
    let method = [
        Method::Invite,
        Method::Register,
        Method::Options,
        Method::Info,
    ][rng.gen_range(0..4)];
    let uri = pick(
        rng,
        &[
            "sip:8000@pbx.example.com",
            "sip:user;par=u%40example.net@example.com",
            "sip:%75ser:pa%73s@[2001:db8::10]:5070;transport=udp;lr;unknown=x",
            "sip:192.0.2.1;maddr=192.0.2.2",
            "tel:+15551234;phone-context=example.com",
            "SIP:User@Example.COM",
        ],
    )
    .to_string();
    let call_id = format!(
        "{}-{}@host{}",
        rng.gen::<u32>(),
        n,
        pick(rng, &["", ".x", "_y"])
    );
    let seq = rng.gen::<u32>();
    let from_tag = format!("ft{}", rng.gen::<u16>());
    let branch = format!("z9hG4bK{}x{n}", rng.gen::<u32>());
    let body: Vec<u8> = if method == Method::Invite || rng.gen_bool(0.5) {
        Vec::new()
    } else {
        (0..rng.gen_range(1..64)).map(|_| rng.gen()).collect()
    };
    let mut out = format!("{method} {uri} SIP/2.0\r\n").into_bytes();
    let mut headers: Vec<Box<HeaderWriter>> = Vec::new();
    let via = format!("SIP/2.0/UDP 192.0.2.7:5060;branch={branch};rport");
    headers.push(Box::new(move |rng, out| {
        let spaced = via
            .replacen('/', &format!("{}/{}", lws(rng), lws(rng)), 2)
            .replacen(" 192", &format!("{}192", sws(rng)), 1);
        header(rng, out, "Via", Some("v"), &spaced);
    }));
    let from_tag2 = from_tag.clone();
    headers.push(Box::new(move |rng, out| {
        let from = name_addr(rng, "sips:alice@atlanta.example.com", Some(&from_tag2));
        header(rng, out, "From", Some("f"), &from);
    }));
    headers.push(Box::new(|rng, out| {
        let to = name_addr(rng, "sip:8000@pbx.example.com", None);
        header(rng, out, "To", Some("t"), &to);
    }));
    let call_id2 = call_id.clone();
    headers.push(Box::new(move |rng, out| {
        header(rng, out, "Call-ID", Some("i"), &call_id2);
    }));
    headers.push(Box::new(move |rng, out| {
        let zeros = "0".repeat(rng.gen_range(0..3));
        let cseq = format!("{zeros}{seq}{}{method}", sws(rng));
        header(rng, out, "CSeq", None, &cseq);
    }));
    headers.push(Box::new(|rng, out| {
        let mf = format!(
            "{}{}",
            "0".repeat(rng.gen_range(0..3)),
            rng.gen_range(1..=70)
        );
        header(rng, out, "Max-Forwards", None, &mf);
    }));
    headers.push(Box::new(|rng, out| {
        let value = pick(rng, &[";;,,;;,;", "", "a, b,,c", "x\r\n continued"]);
        header(rng, out, "UnknownHeaderWithUnusualValue", None, value);
    }));
    headers.push(Box::new(|rng, out| {
        let contact = format!(
            "<sip:6001@[2001:db8::1]:5062;ob>{};expires=60,{}sip:6001@192.0.2.7;q=0.5",
            lws(rng),
            lws(rng)
        );
        header(rng, out, "Contact", Some("m"), &contact);
    }));
    for i in (1..headers.len()).rev() {
        let j = rng.gen_range(1..=i);
        headers.swap(i, j);
    }
    for write in &headers {
        write(rng, &mut out);
    }
    if !body.is_empty() {
        header(
            rng,
            &mut out,
            "Content-Type",
            Some("c"),
            "application/octet-stream",
        );
    }
    let length = format!("{}{}", "0".repeat(rng.gen_range(0..3)), body.len());
    header(rng, &mut out, "Content-Length", Some("l"), &length);
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(&body);
    if rng.gen_bool(0.3) {
        out.extend_from_slice(b"trailing octets beyond Content-Length");
    }
    let expected = Expected {
        method,
        uri,
        call_id,
        seq,
        from_tag,
        branch,
        body,
    };
    (out, expected)
}

fn same_message(a: &SipMessage, b: &SipMessage) -> bool {
    a.method_token() == b.method_token()
        && a.request_uri() == b.request_uri()
        && a.header_fields().eq(b.header_fields())
        && a.body() == b.body()
}

#[test]
fn generated_messages_parse_validate_and_round_trip() {
    let mut rng = StdRng::seed_from_u64(0x5eed_3261);
    for n in 0..3000 {
        let (data, want) = generate(&mut rng, n);
        let text = String::from_utf8_lossy(&data).into_owned();
        let msg = SipMessage::parse(Bytes::from(data)).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(msg.defect(), None, "{text}");
        assert_eq!(validate(&msg, &PBX), Ok(()), "{text}");
        assert_eq!(msg.method(), Some(want.method), "{text}");
        assert_eq!(msg.request_uri(), Some(want.uri.as_str()), "{text}");
        assert_eq!(msg.call_id(), Some(want.call_id.as_str()), "{text}");
        let cseq = msg.cseq().unwrap();
        assert_eq!((cseq.seq, cseq.method), (want.seq, want.method), "{text}");
        assert_eq!(
            msg.from_header().unwrap().tag(),
            Some(want.from_tag.as_str())
        );
        assert_eq!(msg.top_via().unwrap().branch(), Some(want.branch.as_str()));
        assert_eq!(msg.body(), want.body, "{text}");
        assert_eq!(msg.header_values(HeaderName::Contact).count(), 2, "{text}");
        for contact in msg.header_values(HeaderName::Contact) {
            let contact = crate::sip::header::NameAddr::parse(contact).unwrap();
            assert_eq!(contact.sip_uri().unwrap().user, Some("6001"), "{text}");
        }
        let again = SipMessage::parse(msg.to_bytes()).unwrap();
        assert!(same_message(&msg, &again), "{text}");
        assert_eq!(again.to_bytes(), msg.to_bytes());
    }
}

/// Inputs the fuzzer found (`fuzz/`, scripts/fuzz.sh), kept as regressions: each must parse
/// (or be refused) without panicking and round-trip like any other message.
#[test]
fn fuzz_findings_round_trip() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fuzz/sip_message");
    let mut seen = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let data = std::fs::read(entry.unwrap().path()).unwrap();
        seen += 1;
        let Ok(msg) = SipMessage::parse(Bytes::from(data)) else {
            continue;
        };
        let again = SipMessage::parse(msg.to_bytes()).unwrap();
        assert!(same_message(&msg, &again));
    }
    assert!(seen > 0);
}
