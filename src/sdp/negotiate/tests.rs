//! Unit tests of SDP offer/answer: real offers from baresip, Linphone, Zoiper and SIPp (the
//! fixtures below), hold variants, rejected streams, malformed input, and our own offers read
//! back strictly by webrtc-sdp.

use super::*;
use webrtc_sdp::media_type::{SdpFormatList, SdpMedia};
use CodecKind::{Pcma, Pcmu};
use Direction::{Inactive, RecvOnly, SendOnly, SendRecv};

const BARESIP: &str = "v=0
o=- 1380283915 4193486893 IN IP4 192.168.1.50
s=-
c=IN IP4 192.168.1.50
t=0 0
a=tool:baresip 3.10.1
m=audio 10086 RTP/AVP 96 9 0 8 101
b=AS:512
a=rtpmap:96 opus/48000/2
a=fmtp:96 stereo=1;sprop-stereo=1
a=rtpmap:9 G722/8000
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
a=sendrecv
a=label:1
a=rtcp-rsize
a=ptime:20
";

const LINPHONE: &str = "v=0
o=alice 1861 3124 IN IP4 10.0.0.23
s=Talk
c=IN IP4 10.0.0.23
t=0 0
a=rtcp-xr:rcvr-rtt=all:10000 stat-summary=loss,dup,jitt,TTL voip-metrics
m=audio 7078 RTP/AVP 96 97 0 8 18 101 99 100
a=rtpmap:96 opus/48000/2
a=fmtp:96 useinbandfec=1
a=rtpmap:97 speex/16000
a=fmtp:97 vbr=on
a=fmtp:18 annexb=yes
a=rtpmap:101 telephone-event/48000
a=rtpmap:99 telephone-event/16000
a=rtpmap:100 telephone-event/8000
a=rtcp-fb:* trr-int 1000
a=rtcp-fb:* ccm tmmbr
m=video 9078 RTP/AVP 96
a=rtpmap:96 VP8/90000
a=rtcp-fb:96 nack pli
a=sendonly
";

const ZOIPER: &str = "v=0\r
o=Z 1700000000000 1 IN IP4 192.168.0.104\r
s=Z\r
c=IN IP4 192.168.0.104\r
t=0 0\r
m=audio 58236 RTP/AVP 106 9 98 101 0 8 3\r
a=rtpmap:106 opus/48000/2\r
a=fmtp:106 sprop-maxcapturerate=16000; minptime=20; useinbandfec=1\r
a=rtpmap:98 telephone-event/48000\r
a=fmtp:98 0-16\r
a=rtpmap:101 telephone-event/8000\r
a=fmtp:101 0-16\r
a=sendrecv\r
a=rtcp-mux\r
";

/// SIPp's built-in uac scenario, fields filled in.
const SIPP: &str = "v=0
o=user1 53655765 2353687637 IN IP4 127.0.0.1
s=-
c=IN IP4 127.0.0.1
t=0 0
m=audio 6000 RTP/AVP 0
a=rtpmap:0 PCMU/8000
";

const IPV6_PT96: &str = "v=0
o=- 1 1 IN IP6 2001:db8::10
s=-
c=IN IP6 2001:db8::10
t=0 0
m=audio 40000 RTP/AVP 8 96
a=rtpmap:96 telephone-event/8000
a=fmtp:96 0-16
a=ptime:30
";

fn local(codecs: &[CodecKind]) -> LocalMedia {
    #[rustfmt::skip]
    let me = LocalMedia {
        address: "203.0.113.5".parse().unwrap(), port: 20000, session_id: 42,
        session_version: 7, codecs: codecs.to_vec(), telephone_event: true, ptime_ms: 20,
        direction: SendRecv,
    };
    me
}

fn negotiate(sdp: &str, codecs: &[CodecKind]) -> (String, Negotiated) {
    answer(&parse_offer(sdp).unwrap(), &local(codecs)).unwrap()
}

/// Codec, its payload type, telephone-event payload type.
fn pts(n: &Negotiated) -> (CodecKind, u8, Option<u8>) {
    (n.codec, n.payload_type, n.telephone_event_pt)
}

/// Payload types of the first m= line, read back strictly (warnings fail) by webrtc-sdp.
fn formats(sdp: &str) -> Vec<u32> {
    match webrtc_sdp::parse_sdp(sdp, true).unwrap().media[0].get_formats() {
        SdpFormatList::Integers(f) => f.clone(),
        _ => Vec::new(),
    }
}

fn remote(addr: &str) -> Option<SocketAddr> {
    Some(addr.parse().unwrap())
}

#[test]
fn baresip_offer() {
    let (sdp, n) = negotiate(BARESIP, &[Pcma, Pcmu]);
    assert_eq!(pts(&n), (Pcma, 8, Some(101)));
    let want = (remote("192.168.1.50:10086"), 20, SendRecv);
    assert_eq!((n.remote, n.ptime_ms, n.direction), want);
    let expected = "v=0\r\no=- 42 7 IN IP4 203.0.113.5\r\ns=pbx\r\nc=IN IP4 203.0.113.5\r\n\
        t=0 0\r\nm=audio 20000 RTP/AVP 8 101\r\na=rtpmap:8 PCMA/8000\r\n\
        a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\na=sendrecv\r\n";
    assert_eq!(sdp, expected);
    assert_eq!(formats(&sdp), [8, 101]);
}

#[test]
fn linphone_offer_picks_8k_event_and_rejects_video() {
    let offer = parse_offer(LINPHONE).unwrap();
    assert_eq!(offer.telephone_events.len(), 3);
    assert_eq!(offer.direction, SendRecv, "video's sendonly is video's");
    let (sdp, n) = answer(&offer, &local(&[Pcmu, Pcma])).unwrap();
    assert_eq!((pts(&n), n.ptime_ms), ((Pcmu, 0, Some(100)), 20));
    assert!(
        sdp.ends_with("a=sendrecv\r\nm=video 0 RTP/AVP 96\r\n"),
        "{sdp}"
    );
    let parsed = webrtc_sdp::parse_sdp(&sdp, true).unwrap();
    let ports: Vec<u32> = parsed.media.iter().map(SdpMedia::get_port).collect();
    assert_eq!(ports, [20000, 0]);
}

#[test]
fn zoiper_offer_uses_8k_event_101() {
    let (sdp, n) = negotiate(ZOIPER, &[Pcma, Pcmu]);
    assert_eq!(pts(&n), (Pcma, 8, Some(101)));
    assert_eq!(formats(&sdp), [8, 101]);
    let events = &parse_offer(ZOIPER).unwrap().telephone_events;
    let first = (events[0].payload_type, events[0].events.as_deref());
    assert_eq!(first, (98, Some("0-16")));
}

#[test]
fn sipp_offer_and_codec_preference() {
    let (sdp, n) = negotiate(SIPP, &[Pcma, Pcmu]);
    assert_eq!((pts(&n), formats(&sdp)), ((Pcmu, 0, None), vec![0]));
    let static_pt = SIPP.replace("a=rtpmap:0 PCMU/8000\n", "");
    assert_eq!(negotiate(&static_pt, &[Pcmu]).1.codec, Pcmu);
    let none = answer(&parse_offer(SIPP).unwrap(), &local(&[Pcma]));
    assert!(matches!(none, Err(SdpError::NoCommonCodec)));
    // Local preference wins over the offer's order.
    let both = SIPP.replace("RTP/AVP 0", "RTP/AVP 8 0");
    assert_eq!(negotiate(&both, &[Pcmu, Pcma]).1.codec, Pcmu);
    assert_eq!(negotiate(&both, &[Pcma, Pcmu]).1.codec, Pcma);
    // A dynamic payload type mapped to PCMU keeps its number.
    let dynamic = SIPP.replace(" 0\n", " 97\n").replace(":0 PCMU", ":97 pcmu");
    assert_eq!(negotiate(&dynamic, &[Pcmu]).1.payload_type, 97);
}

#[test]
fn telephone_event_pt_kept_and_ptime_echoed_over_ipv6() {
    let mut me = local(&[Pcma]);
    me.address = "2001:db8::1".parse().unwrap();
    let offer = parse_offer(IPV6_PT96).unwrap();
    let (sdp, n) = answer(&offer, &me).unwrap();
    assert_eq!((pts(&n), n.ptime_ms), ((Pcma, 8, Some(96)), 30));
    assert_eq!(n.remote, remote("[2001:db8::10]:40000"));
    assert!(sdp.contains("c=IN IP6 2001:db8::1\r\n"));
    let event_lines = "a=rtpmap:96 telephone-event/8000\r\na=fmtp:96 0-16\r\na=ptime:30\r\n";
    assert!(sdp.contains(event_lines));
    assert_eq!(formats(&sdp), [8, 96]);
    me.telephone_event = false;
    assert_eq!(answer(&offer, &me).unwrap().1.telephone_event_pt, None);
}

#[test]
fn hold_variants() {
    let cases = [
        ("a=sendonly\n", "127.0.0.1", RecvOnly, true),
        ("a=recvonly\n", "127.0.0.1", SendOnly, true),
        ("a=inactive\n", "127.0.0.1", Inactive, true),
        ("", "0.0.0.0", RecvOnly, false),
        ("a=recvonly\n", "0.0.0.0", Inactive, false),
    ];
    for (attr, addr, expected, has_remote) in cases {
        let sdp = format!("{SIPP}{attr}").replace("127.0.0.1\n", &format!("{addr}\n"));
        let (body, n) = negotiate(&sdp, &[Pcmu]);
        let got = (n.direction, n.remote.is_some());
        assert_eq!(got, (expected, has_remote), "{attr} {addr}");
        assert!(body.ends_with(&format!("a={}\r\n", expected.attribute())));
    }
    let mut me = local(&[Pcmu]);
    me.direction = SendOnly; // we hold the caller
    let (_, n) = answer(&parse_offer(SIPP).unwrap(), &me).unwrap();
    assert_eq!(n.direction, SendOnly);
    // Session-level direction; media-level c= overrides the session's.
    let sdp = (SIPP.replace("t=0 0\n", "t=0 0\na=sendonly\n"))
        .replace("RTP/AVP 0\n", "RTP/AVP 0\nc=IN IP4 10.9.9.9\n");
    let (_, n) = negotiate(&sdp, &[Pcmu]);
    assert_eq!((n.direction, n.remote), (RecvOnly, remote("10.9.9.9:6000")));
}

#[test]
fn streams_other_than_the_first_rtp_audio_are_rejected() {
    let (sdp, n) = negotiate(&SIPP.replace("audio 6000", "audio 0"), &[Pcmu]);
    assert!(sdp.contains("m=audio 0 RTP/AVP 0\r\n"));
    assert_eq!((n.remote, n.direction), (None, Inactive));
    let srtp = "m=audio 6002 RTP/SAVP 0\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:x\nm=audio 6000";
    let fax = "m=image 6004 udptl t38\na=T38FaxVersion:0\nm=audio 6006 RTP/AVP 8\n";
    let srtp_answer = "m=audio 0 RTP/SAVP 0\r\nm=audio 20000 RTP/AVP 0\r\n";
    let fax_answer = "a=sendrecv\r\nm=image 0 udptl t38\r\nm=audio 0 RTP/AVP 8\r\n";
    let cases = [
        (SIPP.replace("m=audio 6000", srtp), srtp_answer),
        (format!("{SIPP}{fax}"), fax_answer),
    ];
    for (sdp, expected) in cases {
        let (body, n) = negotiate(&sdp, &[Pcma, Pcmu]);
        assert_eq!(n.codec, Pcmu);
        assert!(body.contains(expected), "{body}");
    }
}

fn error_kind(sdp: &str) -> &'static str {
    match parse_offer(sdp) {
        Ok(_) => "ok",
        Err(SdpError::Syntax(_)) => "syntax",
        Err(SdpError::MalformedMediaLine { .. }) => "m-line",
        Err(SdpError::NoAudioStream) => "no audio",
        Err(SdpError::MissingConnection) => "no c=",
        Err(SdpError::HostName(_)) => "host",
        Err(SdpError::NoCommonCodec) => "codec",
    }
}

#[test]
fn bad_input_is_an_error() {
    assert_eq!(error_kind(""), "syntax");
    assert_eq!(error_kind("\u{0}\u{ff}garbage\r\n\r\nm="), "m-line");
    assert_eq!(error_kind(&SIPP[..SIPP.len() - 30]), "m-line");
    assert_eq!(error_kind(&SIPP.replace("6000", "70000")), "m-line");
    assert_eq!(error_kind(&SIPP.replace("v=0", "x")), "syntax");
    assert_eq!(error_kind(&SIPP.replace("t=0 0\n", "")), "syntax");
    assert_eq!(error_kind(&SIPP.replace("IN IP4", "IN IP6")), "syntax");
    assert_eq!(error_kind(&SIPP.replace("m=audio", "m=video")), "no audio");
    let host = SIPP.replace("127.0.0.1\nt", "media.example.com\nt");
    assert_eq!(error_kind(&host), "host");
    // Mangled bytes: an error or a description, never a panic.
    let mut rng = 0x2545_f491_u32;
    for _ in 0..300 {
        let mut mangled = BARESIP.as_bytes().to_vec();
        for _ in 0..4 {
            rng = rng.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            let i = rng as usize % mangled.len();
            mangled[i] = (rng >> 24) as u8 & 0x7f;
        }
        let _ = parse_offer(&String::from_utf8_lossy(&mangled));
    }
}

#[test]
fn offer_parses_back() {
    let mut me = local(&[Pcma, Pcmu, Pcma]);
    let sdp = offer(&me);
    assert_eq!(sdp.matches("\r\n").count(), sdp.lines().count());
    assert_eq!(formats(&sdp), [8, 0, 101]);
    let back = parse_offer(&sdp).unwrap();
    let codecs: Vec<_> = back
        .codecs
        .iter()
        .map(|m| (m.payload_type, m.codec))
        .collect();
    assert_eq!(codecs, [(8, Pcma), (0, Pcmu)]);
    assert_eq!(back.telephone_events[0].events.as_deref(), Some("0-16"));
    let got = (back.port, back.ptime_ms, back.direction);
    assert_eq!(got, (20000, Some(20), SendRecv));
    (me.telephone_event, me.direction) = (false, SendOnly);
    let sdp = offer(&me);
    assert_eq!(formats(&sdp), [8, 0]);
    assert_eq!(parse_offer(&sdp).unwrap().direction, SendOnly);
}

#[test]
fn answers_to_our_offer() {
    let me = local(&[Pcmu, Pcma]);
    let reply = "RTP/AVP 8 101\na=rtpmap:101 telephone-event/8000\na=recvonly\n";
    let sdp = SIPP.replace("RTP/AVP 0\na=rtpmap:0 PCMU/8000\n", reply);
    let n = parse_answer(&me, &sdp).unwrap();
    let got = (pts(&n), n.direction, n.ptime_ms);
    assert_eq!(got, ((Pcma, 8, Some(101)), SendOnly, 20));
    assert_eq!(n.remote, remote("127.0.0.1:6000"));
    // Our own answer to our own offer, the other side preferring PCMA.
    let (body, theirs) = answer(&parse_offer(&offer(&me)).unwrap(), &local(&[Pcma])).unwrap();
    let ours = parse_answer(&me, &body).unwrap();
    assert_eq!(pts(&ours), (theirs.codec, 8, Some(TELEPHONE_EVENT_PT)));
    assert_eq!(ours.remote, remote("203.0.113.5:20000"));
    let unoffered = parse_answer(&local(&[Pcma]), SIPP);
    assert!(matches!(unoffered, Err(SdpError::NoCommonCodec)));
    let rejected = parse_answer(&me, &SIPP.replace("audio 6000", "audio 0")).unwrap();
    assert_eq!((rejected.remote, rejected.direction), (None, Inactive));
}
