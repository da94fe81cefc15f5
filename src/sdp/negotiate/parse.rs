//! Reading a remote session description (RFC 4566) into a [`RemoteOffer`]: the first
//! `m=audio` line over RTP/AVP or RTP/AVPF is the stream we negotiate, every other `m=` line is
//! kept to be answered with port zero (RFC 3264 §6). RFC 4566 §5.14: `m=<media> <port> <proto>
//! <fmt> ...`; codecs come from `a=rtpmap` or, without one, the RFC 3551 static payload types.

use webrtc_sdp::address::ExplicitlyTypedAddress;
use webrtc_sdp::attribute_type::{SdpAttribute, SdpAttributeType};
use webrtc_sdp::media_type::{SdpFormatList, SdpMedia};

use super::{Direction, MediaSlot, PayloadMapping, RemoteOffer, SdpError, TelephoneEvent};
use crate::media::codec::CodecKind;
use crate::media::ptime::{MAX_PTIME_MS, MIN_PTIME_MS};

/// A remote `a=ptime` outside this range (ms, what the media engine can send) is ignored in
/// favour of the local one.
const PTIME_RANGE_MS: std::ops::RangeInclusive<u32> = MIN_PTIME_MS..=MAX_PTIME_MS;

impl Direction {
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
