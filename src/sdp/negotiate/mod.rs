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
//!
//! Parts: `parse` reads a remote description into a [`RemoteOffer`], `write` renders our bodies;
//! the offer/answer decisions ([`answer`], [`offer`], [`parse_answer`]) stay here.

mod parse;
mod write;

use std::net::{IpAddr, SocketAddr};

use webrtc_sdp::error::SdpParserError;

use crate::media::codec::CodecKind;
pub use parse::parse_offer;
use write::Body;

/// Payload type of telephone-event in our own offers, the one most phones and Asterisk use.
pub const TELEPHONE_EVENT_PT: u8 = 101;

/// Clock rate of the telephone-event we offer; matches the G.711 codecs.
const TELEPHONE_EVENT_CLOCK_RATE: u32 = 8000;

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
    /// `a=ptime`, when present and within 10-120 ms (what the media engine sends).
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

#[cfg(test)]
mod tests;
