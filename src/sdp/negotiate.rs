//! SDP offer/answer (RFC 3264) over RFC 4566 session descriptions, for one audio stream per leg:
//! codec choice, RFC 4733 telephone-event, ptime and direction (hold).
//!
//! Sits between the call layer (which carries SDP bodies in INVITE/200/ACK and turns
//! [`SdpError::NoCommonCodec`] into 488) and the media engine (which gets a [`Negotiated`]).
//! Parsing goes through `webrtc-sdp`; writing is done by hand, CRLF-terminated, in the plain
//! shape Asterisk and baresip exchange.
//!
//! RFC 3264 §6: "For each "m=" line in the offer, there MUST be a corresponding "m=" line in the
//! answer"; streams we do not take are answered with port zero. §6.1: "If a stream is offered as
//! sendonly, the corresponding stream MUST be marked as recvonly or inactive in the answer."
//! §8.4: an offer with connection address 0.0.0.0 means no media is to be sent to the offerer
//! (the pre-RFC 3264 hold).

use std::fmt;
use std::net::{IpAddr, SocketAddr};

use webrtc_sdp::address::ExplicitlyTypedAddress;
use webrtc_sdp::attribute_type::{SdpAttribute, SdpAttributeType};
use webrtc_sdp::error::SdpParserError;
use webrtc_sdp::media_type::{SdpFormatList, SdpMedia};

use crate::media::codec::CodecKind;

/// Payload type of telephone-event in our own offers, the one most phones and Asterisk use.
pub const TELEPHONE_EVENT_PT: u8 = 101;

/// Events announced in our `a=fmtp` for telephone-event: DTMF 0-15 and flash (RFC 4733 §3.2).
const TELEPHONE_EVENTS: &str = "0-16";

/// Clock rate of the telephone-event we offer; matches the G.711 codecs.
const TELEPHONE_EVENT_CLOCK_RATE: u32 = 8000;

/// A remote `a=ptime` outside this range (ms) is ignored in favour of the local one.
const PTIME_RANGE_MS: std::ops::RangeInclusive<u32> = 10..=200;

/// Errors from reading SDP or negotiating a stream.
#[derive(Debug, thiserror::Error)]
pub enum SdpError {
    /// The body is not valid RFC 4566 SDP (the parser's message says which line).
    #[error("malformed SDP: {0}")]
    Syntax(#[from] SdpParserError),
    /// An `m=` line lacks one of media, port, proto, format, or its port is not a number.
    #[error("malformed m= line at line {line}")]
    MalformedMediaLine {
        /// 1-based line number in the body.
        line: usize,
    },
    /// No `m=audio` line with RTP/AVP or RTP/AVPF transport.
    #[error("no RTP/AVP audio stream in SDP")]
    NoAudioStream,
    /// The audio stream has no `c=` line at media or session level.
    #[error("audio stream has no connection address")]
    MissingConnection,
    /// The connection address is a host name; the core does not resolve names.
    #[error("connection address {0} is a host name, not an IP address")]
    HostName(String),
    /// No codec is both offered and allowed locally (the call layer answers 488).
    #[error("no codec in common")]
    NoCommonCodec,
}

/// Media direction of a stream (RFC 3264 §5.1), from the point of view of the side writing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// `a=sendrecv`, the default.
    SendRecv,
    /// `a=sendonly`, e.g. the holding side playing music on hold.
    SendOnly,
    /// `a=recvonly`.
    RecvOnly,
    /// `a=inactive`: no media either way.
    Inactive,
}

impl Direction {
    /// The direction seen from the other side: sendonly answers recvonly and vice versa.
    pub fn reverse(self) -> Direction {
        match self {
            Direction::SendOnly => Direction::RecvOnly,
            Direction::RecvOnly => Direction::SendOnly,
            other => other,
        }
    }

    /// What both directions allow (e.g. a recvonly leg asked for sendrecv gives recvonly).
    pub fn intersect(self, other: Direction) -> Direction {
        Direction::from_flags(
            self.sends() && other.sends(),
            self.receives() && other.receives(),
        )
    }

    /// This side sends media.
    pub fn sends(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::SendOnly)
    }

    /// This side receives media.
    pub fn receives(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::RecvOnly)
    }

    fn from_flags(send: bool, recv: bool) -> Direction {
        match (send, recv) {
            (true, true) => Direction::SendRecv,
            (true, false) => Direction::SendOnly,
            (false, true) => Direction::RecvOnly,
            (false, false) => Direction::Inactive,
        }
    }

    fn attribute(self) -> &'static str {
        match self {
            Direction::SendRecv => "sendrecv",
            Direction::SendOnly => "sendonly",
            Direction::RecvOnly => "recvonly",
            Direction::Inactive => "inactive",
        }
    }

    fn from_attributes(attributes: &[SdpAttribute]) -> Option<Direction> {
        attributes.iter().find_map(|a| match a {
            SdpAttribute::Sendrecv => Some(Direction::SendRecv),
            SdpAttribute::Sendonly => Some(Direction::SendOnly),
            SdpAttribute::Recvonly => Some(Direction::RecvOnly),
            SdpAttribute::Inactive => Some(Direction::Inactive),
            _ => None,
        })
    }
}

/// Our side of a leg's audio stream, as the call layer configures it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalMedia {
    /// Address advertised in `o=` and `c=` (the external address when one is configured).
    pub address: IpAddr,
    /// Local RTP port.
    pub port: u16,
    /// `o=` session id, fixed for the dialog.
    pub session_id: u64,
    /// `o=` session version, incremented by the caller for each new offer or answer.
    pub session_version: u64,
    /// The endpoint's allowed codecs, most preferred first. Must not be empty (config checks).
    pub codecs: Vec<CodecKind>,
    /// Offer/accept RFC 4733 telephone-event.
    pub telephone_event: bool,
    /// Packetization time we use when the peer states none.
    pub ptime_ms: u32,
    /// What we are willing to do (sendonly to put the peer on hold).
    pub direction: Direction,
}

/// A payload type on the remote `m=` line that maps to a codec we know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PayloadMapping {
    /// The payload type number as the remote side wrote it.
    pub payload_type: u8,
    /// The codec it stands for (by `a=rtpmap`, or statically per RFC 3551 without one).
    pub codec: CodecKind,
}

/// A telephone-event payload type offered by the remote side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TelephoneEvent {
    /// The payload type number.
    pub payload_type: u8,
    /// Its clock rate; only the one matching the audio codec's is used.
    pub clock_rate: u32,
    /// The `a=fmtp` event list (e.g. `0-16`), if any.
    pub events: Option<String>,
}

/// How an `m=` line of a remote description is answered.
#[derive(Debug, Clone, PartialEq, Eq)]
enum MediaSlot {
    /// The audio stream we negotiate.
    Audio,
    /// Any other stream, answered with this port-zero `m=` line.
    Rejected(String),
}

/// The audio stream of a remote session description: an offer, or the answer to our offer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteOffer {
    /// Connection address (media-level `c=` over session-level); 0.0.0.0 for the old hold.
    pub address: IpAddr,
    /// RTP port; zero when the stream is disabled.
    pub port: u16,
    /// Payload types we know, in the remote side's order; unknown ones are left out.
    pub codecs: Vec<PayloadMapping>,
    /// Every telephone-event payload type, in the remote side's order.
    pub telephone_events: Vec<TelephoneEvent>,
    /// `a=ptime`, when present and within 10-200 ms.
    pub ptime_ms: Option<u32>,
    /// Direction from the remote side's point of view; with a 0.0.0.0 address it does not
    /// receive, so sendrecv becomes sendonly.
    pub direction: Direction,
    /// `RTP/AVP` or `RTP/AVPF`, echoed in the answer.
    transport: &'static str,
    /// Every `m=` line in order, for the answer.
    slots: Vec<MediaSlot>,
}

/// The outcome of offer/answer, what the media engine needs for the leg.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Negotiated {
    /// The one codec used in both directions.
    pub codec: CodecKind,
    /// Its payload type (the offerer's number).
    pub payload_type: u8,
    /// Telephone-event payload type, when both sides use RFC 4733.
    pub telephone_event_pt: Option<u8>,
    /// Where to send RTP; `None` on hold with 0.0.0.0 or when the stream is disabled (port 0).
    pub remote: Option<SocketAddr>,
    /// Packetization time to send with.
    pub ptime_ms: u32,
    /// Our direction on this leg.
    pub direction: Direction,
}

/// Reads an SDP offer: the first `m=audio` line with RTP/AVP(F) transport is the stream we
/// negotiate; every other `m=` line will be rejected in the answer.
pub fn parse_offer(sdp: &str) -> Result<RemoteOffer, SdpError> {
    // Only the session part and the chosen audio section reach webrtc-sdp: it drops m= lines
    // of transports it does not know (udptl for T.38), which would shift their attributes into
    // the audio section, and its WebRTC checks need not apply to streams we reject anyway.
    let mut kept = String::with_capacity(sdp.len());
    let mut slots = Vec::new();
    let mut audio = None;
    let mut keep = true;
    for (index, line) in sdp.lines().enumerate() {
        let line = line.trim();
        if let Some(m_line) = line.strip_prefix("m=").or_else(|| line.strip_prefix("M=")) {
            let fields: Vec<&str> = m_line.split_whitespace().collect();
            let malformed = SdpError::MalformedMediaLine { line: index + 1 };
            let [media, port, proto, format, ..] = fields[..] else {
                return Err(malformed);
            };
            // RFC 4566 §5.14: `<port>/<number of ports>`; the count is of no use to unicast.
            let port = port.split('/').next().and_then(|p| p.parse::<u16>().ok());
            let port = port.ok_or(malformed)?;
            let wanted = audio.is_none() && media.eq_ignore_ascii_case("audio");
            keep = match rtp_transport(proto).filter(|_| wanted) {
                Some(transport) => {
                    audio = Some((port, transport));
                    slots.push(MediaSlot::Audio);
                    true
                }
                None => {
                    slots.push(MediaSlot::Rejected(format!("m={media} 0 {proto} {format}")));
                    false
                }
            };
        }
        if keep {
            kept.push_str(line);
            kept.push_str("\r\n");
        }
    }
    let session = webrtc_sdp::parse_sdp(&kept, false)?;
    let (Some((port, transport)), Some(media)) = (audio, session.media.first()) else {
        return Err(SdpError::NoAudioStream);
    };
    let connection = media
        .get_connection()
        .as_ref()
        .or(session.get_connection().as_ref())
        .ok_or(SdpError::MissingConnection)?;
    let address = match &connection.address {
        ExplicitlyTypedAddress::Ip(ip) => *ip,
        ExplicitlyTypedAddress::Fqdn { domain, .. } => {
            return Err(SdpError::HostName(domain.clone()))
        }
    };
    let (codecs, telephone_events) = read_formats(media);
    let ptime_ms = match media.get_attribute(SdpAttributeType::Ptime) {
        Some(SdpAttribute::Ptime(ms)) => u32::try_from(*ms).ok(),
        _ => None,
    };
    let mut direction = Direction::from_attributes(media.get_attributes())
        .or_else(|| Direction::from_attributes(&session.attribute))
        .unwrap_or(Direction::SendRecv);
    if address.is_unspecified() {
        direction = direction.intersect(Direction::SendOnly);
    }
    Ok(RemoteOffer {
        address,
        port,
        codecs,
        telephone_events,
        ptime_ms: ptime_ms.filter(|ms| PTIME_RANGE_MS.contains(ms)),
        direction,
        transport,
        slots,
    })
}

/// The transports we speak (plain RTP; AVPF is RTP with feedback we may ignore).
fn rtp_transport(proto: &str) -> Option<&'static str> {
    ["RTP/AVP", "RTP/AVPF"]
        .into_iter()
        .find(|t| t.eq_ignore_ascii_case(proto))
}

/// Maps the `m=` line's payload types to known codecs and telephone-events.
fn read_formats(media: &SdpMedia) -> (Vec<PayloadMapping>, Vec<TelephoneEvent>) {
    let mut codecs = Vec::new();
    let mut events = Vec::new();
    let SdpFormatList::Integers(formats) = media.get_formats() else {
        return (codecs, events);
    };
    let attributes = media.get_attributes();
    for payload_type in formats.iter().filter_map(|&pt| u8::try_from(pt).ok()) {
        let rtpmap = attributes.iter().find_map(|a| match a {
            SdpAttribute::Rtpmap(map) if map.payload_type == payload_type => Some(map),
            _ => None,
        });
        let codec = match rtpmap {
            Some(map) if map.codec_name.eq_ignore_ascii_case("telephone-event") => {
                let events_list = attributes.iter().find_map(|a| match a {
                    SdpAttribute::Fmtp(f) if f.payload_type == payload_type => {
                        Some(f.parameters.dtmf_tones.clone()).filter(|t| !t.is_empty())
                    }
                    _ => None,
                });
                events.push(TelephoneEvent {
                    payload_type,
                    clock_rate: map.frequency,
                    events: events_list,
                });
                None
            }
            Some(map) if map.channels.unwrap_or(1) == 1 => {
                CodecKind::from_encoding(&map.codec_name, map.frequency)
            }
            Some(_) => None,
            None => CodecKind::from_static_payload_type(payload_type),
        };
        if let Some(codec) = codec {
            codecs.push(PayloadMapping {
                payload_type,
                codec,
            });
        }
    }
    (codecs, events)
}

/// Answers an offer: the codec is the first of `local.codecs` that the offer also has, under the
/// offer's payload type; telephone-event keeps the offer's payload type; the direction is the
/// offer's reversed, limited by `local.direction`; `a=ptime` echoes the offer's. An offered
/// port of zero is answered with port zero. Returns the answer body and the outcome.
pub fn answer(offer: &RemoteOffer, local: &LocalMedia) -> Result<(String, Negotiated), SdpError> {
    let chosen = (local.codecs.iter())
        .find_map(|&codec| offer.codecs.iter().find(|m| m.codec == codec))
        .ok_or(SdpError::NoCommonCodec)?;
    let negotiated = settle(offer, *chosen, local);
    let body = Body {
        local,
        slots: &offer.slots,
        port: if offer.port == 0 { 0 } else { local.port },
        transport: offer.transport,
        codecs: std::slice::from_ref(chosen),
        telephone_event: negotiated
            .telephone_event_pt
            .map(|pt| (pt, chosen.codec.clock_rate())),
        ptime_ms: negotiated.ptime_ms,
        direction: negotiated.direction,
    };
    Ok((body.to_string(), negotiated))
}

/// The outcome for either side once the codec is chosen: the remote side's telephone-event at
/// the codec's clock rate, its direction reversed and limited by ours, its ptime or ours.
fn settle(remote: &RemoteOffer, chosen: PayloadMapping, local: &LocalMedia) -> Negotiated {
    let telephone_event_pt = (remote.telephone_events.iter())
        .find(|t| local.telephone_event && t.clock_rate == chosen.codec.clock_rate())
        .map(|t| t.payload_type);
    let direction = if remote.port == 0 {
        Direction::Inactive
    } else {
        remote.direction.reverse().intersect(local.direction)
    };
    let usable = remote.port != 0 && !remote.address.is_unspecified();
    Negotiated {
        codec: chosen.codec,
        payload_type: chosen.payload_type,
        telephone_event_pt,
        remote: usable.then(|| SocketAddr::new(remote.address, remote.port)),
        ptime_ms: remote.ptime_ms.unwrap_or(local.ptime_ms),
        direction,
    }
}

/// Writes an offer for an outgoing leg: every local codec in preference order (duplicates
/// dropped), telephone-event on payload type 101 with events 0-16 when enabled, `a=ptime` and
/// the local direction.
pub fn offer(local: &LocalMedia) -> String {
    let mut codecs: Vec<PayloadMapping> = Vec::with_capacity(local.codecs.len());
    for &codec in &local.codecs {
        if codecs.iter().all(|m| m.codec != codec) {
            codecs.push(PayloadMapping {
                payload_type: codec.static_payload_type(),
                codec,
            });
        }
    }
    Body {
        local,
        slots: &[MediaSlot::Audio],
        port: local.port,
        transport: "RTP/AVP",
        codecs: &codecs,
        telephone_event: local
            .telephone_event
            .then_some((TELEPHONE_EVENT_PT, TELEPHONE_EVENT_CLOCK_RATE)),
        ptime_ms: local.ptime_ms,
        direction: local.direction,
    }
    .to_string()
}

/// Reads the answer to our offer: the codec is the answer's first payload type that maps to a
/// codec we offered; the direction is the answer's reversed, limited by ours.
pub fn parse_answer(our_offer: &LocalMedia, answer_sdp: &str) -> Result<Negotiated, SdpError> {
    let answer = parse_offer(answer_sdp)?;
    let chosen = (answer.codecs.iter())
        .find(|m| our_offer.codecs.contains(&m.codec))
        .ok_or(SdpError::NoCommonCodec)?;
    Ok(settle(&answer, *chosen, our_offer))
}

/// An SDP body we write: the session part, then one `m=` line per slot, ours in full.
struct Body<'a> {
    local: &'a LocalMedia,
    slots: &'a [MediaSlot],
    port: u16,
    transport: &'a str,
    codecs: &'a [PayloadMapping],
    telephone_event: Option<(u8, u32)>,
    ptime_ms: u32,
    direction: Direction,
}

impl fmt::Display for Body<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let LocalMedia {
            address: addr,
            session_id: id,
            session_version: v,
            ..
        } = self.local;
        let family = if addr.is_ipv6() { "IP6" } else { "IP4" };
        write!(f, "v=0\r\no=- {id} {v} IN {family} {addr}\r\n")?;
        write!(f, "s=pbx\r\nc=IN {family} {addr}\r\nt=0 0\r\n")?;
        for slot in self.slots {
            let MediaSlot::Rejected(line) = slot else {
                self.write_audio(f)?;
                continue;
            };
            write!(f, "{line}\r\n")?;
        }
        Ok(())
    }
}

impl Body<'_> {
    fn write_audio(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "m=audio {} {}", self.port, self.transport)?;
        let event_pt = self.telephone_event.map(|(pt, _)| pt);
        for pt in self.codecs.iter().map(|m| m.payload_type).chain(event_pt) {
            write!(f, " {pt}")?;
        }
        write!(f, "\r\n")?;
        for m in self.codecs {
            let (name, rate) = (m.codec.encoding_name(), m.codec.clock_rate());
            write!(f, "a=rtpmap:{} {name}/{rate}\r\n", m.payload_type)?;
        }
        if let Some((pt, rate)) = self.telephone_event {
            write!(f, "a=rtpmap:{pt} telephone-event/{rate}\r\n")?;
            write!(f, "a=fmtp:{pt} {TELEPHONE_EVENTS}\r\n")?;
        }
        write!(f, "a=ptime:{}\r\n", self.ptime_ms)?;
        write!(f, "a={}\r\n", self.direction.attribute())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
        let srtp =
            "m=audio 6002 RTP/SAVP 0\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:x\nm=audio 6000";
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
}
