//! Writing our SDP bodies, offers and answers alike: the session part, then one `m=` line per
//! slot of the description being answered, ours in full (`a=rtpmap`, telephone-event with its
//! `a=fmtp`, `a=ptime`, direction), others rejected with port zero (RFC 3264 §6). RFC 4566 §5:
//! "The sequence CRLF (0x0d0a) is used to end a record"; every line we write ends so.

use std::fmt;

use super::{Direction, LocalMedia, MediaSlot, PayloadMapping};

/// Events announced in our `a=fmtp` for telephone-event: DTMF 0-15 and flash (RFC 4733 §3.2).
const TELEPHONE_EVENTS: &str = "0-16";

/// An SDP body we write: the session part, then one `m=` line per slot, ours in full.
pub(super) struct Body<'a> {
    pub(super) local: &'a LocalMedia,
    pub(super) slots: &'a [MediaSlot],
    pub(super) port: u16,
    pub(super) transport: &'a str,
    pub(super) codecs: &'a [PayloadMapping],
    pub(super) telephone_event: Option<(u8, u32)>,
    pub(super) ptime_ms: u32,
    pub(super) direction: Direction,
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
