//! Dialogs (RFC 3261 §12): the state two user agents share for the life of a call. A dialog is
//! identified by Call-ID, local tag and remote tag; it carries the remote target (the peer's
//! Contact), the route set, and each side's CSeq. This module builds in-dialog requests (BYE,
//! re-INVITE) and checks the order of the peer's requests; it touches no socket.

use std::net::SocketAddr;

use super::header::NameAddr;
use super::message::{HeaderName, MessageWriter, SipMessage};
use super::method::Method;

/// Identifies a dialog from our side: Call-ID, our tag, the peer's tag (§12).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DialogId {
    /// The Call-ID.
    pub call_id: String,
    /// Our tag (To tag of requests we receive as UAS).
    pub local_tag: String,
    /// The peer's tag.
    pub remote_tag: String,
}

impl DialogId {
    /// The id of the dialog an incoming in-dialog request belongs to, seen from our side
    /// (our tag is in To, the peer's in From). `None` when a tag is missing.
    pub fn of_incoming_request(request: &SipMessage) -> Option<DialogId> {
        let to = request.to_header().ok()?;
        let from = request.from_header().ok()?;
        Some(DialogId {
            call_id: request.call_id()?.to_string(),
            local_tag: to.tag()?.to_string(),
            remote_tag: from.tag()?.to_string(),
        })
    }
}

/// Why a dialog could not be created from a request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DialogError {
    /// The INVITE lacks a From tag, Call-ID, CSeq or a usable Contact.
    #[error("request cannot establish a dialog: {0}")]
    Incomplete(&'static str),
}

/// One dialog as UAS (we answered the INVITE).
#[derive(Debug, Clone)]
pub struct Dialog {
    id: DialogId,
    /// Our URI with our tag, as the From of requests we send.
    local_header: String,
    /// The peer's URI with its tag, as the To of requests we send.
    remote_header: String,
    /// Where in-dialog requests go (the peer's Contact URI).
    remote_target: String,
    /// Record-Route values in the order used for our requests (§12.1.1).
    route_set: Vec<String>,
    local_cseq: u32,
    remote_cseq: u32,
}

impl Dialog {
    /// The dialog a UAS creates when answering `invite` with `local_tag` (§12.1.1).
    pub fn as_uas(invite: &SipMessage, local_tag: &str) -> Result<Dialog, DialogError> {
        let from = invite
            .from_header()
            .map_err(|_| DialogError::Incomplete("From"))?;
        let remote_tag = from.tag().ok_or(DialogError::Incomplete("From tag"))?;
        let to = invite
            .header(HeaderName::To)
            .ok_or(DialogError::Incomplete("To"))?;
        let call_id = invite.call_id().ok_or(DialogError::Incomplete("Call-ID"))?;
        let cseq = invite.cseq().map_err(|_| DialogError::Incomplete("CSeq"))?;
        let contact = invite
            .header_values(HeaderName::Contact)
            .next()
            .and_then(|c| NameAddr::parse(c).ok())
            .ok_or(DialogError::Incomplete("Contact"))?;
        let local_header = match NameAddr::parse(to).ok().and_then(|t| t.tag()) {
            Some(_) => to.to_string(),
            None => format!("{to};tag={local_tag}"),
        };
        Ok(Dialog {
            id: DialogId {
                call_id: call_id.to_string(),
                local_tag: local_tag.to_string(),
                remote_tag: remote_tag.to_string(),
            },
            local_header,
            remote_header: invite
                .header(HeaderName::From)
                .unwrap_or_default()
                .to_string(),
            remote_target: contact.uri.to_string(),
            route_set: invite
                .header_values(HeaderName::RecordRoute)
                .map(str::to_string)
                .collect(),
            local_cseq: rand_cseq(),
            remote_cseq: cseq.seq,
        })
    }

    /// An early dialog for an INVITE we send as UAC (§12.1.2): `from` and `to` are the header
    /// values (our `from` carries `local_tag`), `target` is the Request-URI. The peer's tag,
    /// Contact and route set arrive with its 2xx ([`Dialog::confirm_uac`]).
    pub fn new_uac(call_id: &str, local_tag: &str, from: &str, to: &str, target: &str) -> Dialog {
        Dialog {
            id: DialogId {
                call_id: call_id.to_string(),
                local_tag: local_tag.to_string(),
                remote_tag: String::new(),
            },
            local_header: from.to_string(),
            remote_header: to.to_string(),
            remote_target: target.to_string(),
            route_set: Vec::new(),
            local_cseq: rand_cseq(),
            remote_cseq: 0,
        }
    }

    /// Pre-loads `routes` (an outbound proxy, §8.1.2, or a registered Path, RFC 3327 §5.3)
    /// as the route set of the initial INVITE and its CANCEL; the 2xx's Record-Route
    /// replaces it ([`Dialog::confirm_uac`]).
    pub fn preload_route(&mut self, routes: &[String]) {
        self.route_set = routes.to_vec();
    }

    /// The dialog a 2xx to a cancelled INVITE established, rebuilt from the CANCEL (which
    /// carries the INVITE's Request-URI, From, To, Call-ID and CSeq number, §9.1) and that
    /// 2xx: to ACK and BYE it.
    pub fn of_cancelled_invite(cancel: &SipMessage, response: &SipMessage) -> Option<Dialog> {
        let local_tag = cancel.from_header().ok()?.tag()?.to_string();
        let mut dialog = Dialog::new_uac(
            cancel.call_id()?,
            &local_tag,
            cancel.header(HeaderName::From)?,
            cancel.header(HeaderName::To)?,
            cancel.request_uri()?,
        );
        dialog.local_cseq = cancel.cseq().ok()?.seq;
        dialog.confirm_uac(response);
        Some(dialog)
    }

    /// Completes a UAC dialog from the 2xx that established it (§12.1.2): the peer's tag,
    /// its Contact as remote target, and the Record-Route set reversed.
    pub fn confirm_uac(&mut self, response: &SipMessage) {
        if let Ok(to) = response.to_header() {
            if let Some(tag) = to.tag() {
                self.id.remote_tag = tag.to_string();
            }
        }
        if let Some(to) = response.header(HeaderName::To) {
            self.remote_header = to.to_string();
        }
        if let Some(contact) = response
            .header_values(HeaderName::Contact)
            .next()
            .and_then(|c| NameAddr::parse(c).ok())
        {
            self.remote_target = contact.uri.to_string();
        }
        let mut routes: Vec<String> = response
            .header_values(HeaderName::RecordRoute)
            .map(str::to_string)
            .collect();
        routes.reverse();
        self.route_set = routes;
    }

    /// The CSeq number of the last request we sent (the INVITE an ACK or CANCEL refers to).
    pub fn local_cseq(&self) -> u32 {
        self.local_cseq
    }

    /// The dialog's id.
    pub fn id(&self) -> &DialogId {
        &self.id
    }

    /// The peer's Contact URI.
    pub fn remote_target(&self) -> &str {
        &self.remote_target
    }

    /// Checks a new in-dialog request's CSeq (§12.2.2): lower than the last one is out of
    /// order (answer 500); a refresh of the Contact is taken from target-refresh requests.
    pub fn accept_request(&mut self, request: &SipMessage) -> Result<(), DialogOrder> {
        let cseq = request.cseq().map_err(|_| DialogOrder::OutOfOrder)?;
        if request.method() == Some(Method::Ack) {
            return Ok(());
        }
        if cseq.seq <= self.remote_cseq && request.method() != Some(Method::Cancel) {
            return Err(DialogOrder::OutOfOrder);
        }
        self.remote_cseq = cseq.seq;
        if request.method() == Some(Method::Invite) {
            if let Some(contact) = request
                .header_values(HeaderName::Contact)
                .next()
                .and_then(|c| NameAddr::parse(c).ok())
            {
                self.remote_target = contact.uri.to_string();
            }
        }
        Ok(())
    }

    /// Starts an in-dialog request (§12.2.1.1) with a fresh branch: request line, Via, Max-Forwards,
    /// From, To, Call-ID, CSeq, Route. The caller adds Contact, body and Content-Length.
    pub fn request(
        &mut self,
        method: Method,
        via_sent_by: SocketAddr,
        branch: &str,
    ) -> MessageWriter {
        if method != Method::Ack && method != Method::Cancel {
            self.local_cseq = self.local_cseq.wrapping_add(1);
        }
        let mut writer = MessageWriter::request(method, &self.remote_target)
            .header(
                "Via",
                format!("SIP/2.0/UDP {via_sent_by};branch={branch};rport"),
            )
            .header("Max-Forwards", 70)
            .header("From", &self.local_header)
            .header("To", &self.remote_header)
            .header("Call-ID", &self.id.call_id)
            .header("CSeq", format!("{} {method}", self.local_cseq));
        for route in &self.route_set {
            writer = writer.header("Route", route);
        }
        writer
    }
}

/// The ACK for a non-2xx final response to `invite` (RFC 3261 §17.1.1.3): same Request-URI,
/// top Via, From, Call-ID and CSeq number as the INVITE, the response's To (with its tag).
pub fn ack_for_failure(invite: &SipMessage, response: &SipMessage) -> Option<bytes::Bytes> {
    let uri = invite.request_uri()?;
    let via = invite.header_values(HeaderName::Via).next()?;
    let cseq = invite.cseq().ok()?;
    let mut writer = MessageWriter::request(Method::Ack, uri)
        .header("Via", via)
        .header("Max-Forwards", 70)
        .header("From", invite.header(HeaderName::From)?)
        .header("To", response.header(HeaderName::To)?)
        .header("Call-ID", invite.call_id()?)
        .header("CSeq", format!("{} ACK", cseq.seq));
    for route in invite.header_values(HeaderName::Route) {
        writer = writer.header("Route", route);
    }
    Some(writer.finish())
}

/// An in-dialog request that breaks CSeq ordering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DialogOrder {
    /// CSeq not above the last one seen (§12.2.2): answer 500.
    #[error("CSeq out of order")]
    OutOfOrder,
}

fn rand_cseq() -> u32 {
    // Starting low leaves room for many requests without wrap; §8.1.1.5 only asks < 2^31.
    rand::random::<u32>() % 10_000 + 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    const INVITE: &str = "INVITE sip:8000@pbx SIP/2.0\r\n\
Via: SIP/2.0/UDP 10.0.0.5:5062;branch=z9hG4bKa;rport\r\n\
From: \"Alice\" <sip:6001@pbx>;tag=caller\r\nTo: <sip:8000@pbx>\r\nCall-ID: c1\r\nCSeq: 7 INVITE\r\n\
Contact: <sip:6001@10.0.0.5:5062;transport=udp>\r\nRecord-Route: <sip:proxy;lr>\r\nContent-Length: 0\r\n\r\n";

    fn parse(text: &str) -> SipMessage {
        SipMessage::parse(Bytes::copy_from_slice(text.as_bytes())).unwrap()
    }

    #[test]
    fn uas_dialog_from_invite_builds_bye() {
        let invite = parse(INVITE);
        let mut dialog = Dialog::as_uas(&invite, "ours").unwrap();
        assert_eq!(
            dialog.id(),
            &DialogId {
                call_id: "c1".into(),
                local_tag: "ours".into(),
                remote_tag: "caller".into()
            }
        );
        let via: SocketAddr = "192.0.2.1:5060".parse().unwrap();
        let bye =
            SipMessage::parse(dialog.request(Method::Bye, via, "z9hG4bKbye").finish()).unwrap();
        assert_eq!(bye.method(), Some(Method::Bye));
        assert_eq!(
            bye.request_uri(),
            Some("sip:6001@10.0.0.5:5062;transport=udp")
        );
        assert_eq!(bye.from_header().unwrap().tag(), Some("ours"));
        assert_eq!(bye.to_header().unwrap().tag(), Some("caller"));
        assert_eq!(bye.header(HeaderName::Route), Some("<sip:proxy;lr>"));
        assert_eq!(bye.cseq().unwrap().method, Method::Bye);
        assert_eq!(bye.defect(), None);
    }

    #[test]
    fn incoming_request_ids_and_ordering() {
        let invite = parse(INVITE);
        let mut dialog = Dialog::as_uas(&invite, "ours").unwrap();
        let bye = INVITE
            .replace("INVITE sip", "BYE sip")
            .replace("To: <sip:8000@pbx>", "To: <sip:8000@pbx>;tag=ours")
            .replace("7 INVITE", "8 BYE");
        let bye = parse(&bye);
        assert_eq!(
            DialogId::of_incoming_request(&bye).as_ref(),
            Some(dialog.id())
        );
        assert_eq!(dialog.accept_request(&bye), Ok(()));
        assert_eq!(dialog.accept_request(&bye), Err(DialogOrder::OutOfOrder));
    }

    #[test]
    fn uac_dialog_confirms_from_2xx_and_acks_failures() {
        let mut dialog = Dialog::new_uac(
            "b1",
            "mine",
            "<sip:6001@pbx>;tag=mine",
            "<sip:6002@pbx>",
            "sip:6002@10.0.0.7:5070",
        );
        let via: SocketAddr = "192.0.2.1:5060".parse().unwrap();
        let invite =
            SipMessage::parse(dialog.request(Method::Invite, via, "z9hG4bKinv").finish()).unwrap();
        assert_eq!(invite.request_uri(), Some("sip:6002@10.0.0.7:5070"));
        let ok = parse(
            "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKinv\r\nFrom: <sip:6001@pbx>;tag=mine\r\n\
             To: <sip:6002@pbx>;tag=theirs\r\nCall-ID: b1\r\nCSeq: 1 INVITE\r\nContact: <sip:6002@10.0.0.7:5071>\r\n\
             Record-Route: <sip:p1;lr>, <sip:p2;lr>\r\n\r\n",
        );
        dialog.confirm_uac(&ok);
        assert_eq!(dialog.id().remote_tag, "theirs");
        let ack =
            SipMessage::parse(dialog.request(Method::Ack, via, "z9hG4bKack").finish()).unwrap();
        assert_eq!(ack.request_uri(), Some("sip:6002@10.0.0.7:5071"));
        assert_eq!(ack.cseq().unwrap().seq, invite.cseq().unwrap().seq);
        assert_eq!(
            ack.header_values(HeaderName::Route).collect::<Vec<_>>(),
            ["<sip:p2;lr>", "<sip:p1;lr>"]
        );

        let busy = parse(&String::from_utf8_lossy(ok.raw()).replace("200 OK", "486 Busy Here"));
        let ack = SipMessage::parse(ack_for_failure(&invite, &busy).unwrap()).unwrap();
        assert_eq!(ack.method(), Some(Method::Ack));
        assert_eq!(ack.top_via().unwrap().branch(), Some("z9hG4bKinv"));
        assert_eq!(ack.to_header().unwrap().tag(), Some("theirs"));
        assert_eq!(ack.request_uri(), invite.request_uri());
    }

    #[test]
    fn a_2xx_to_a_cancelled_invite_is_acked_and_byed_from_the_cancel() {
        let cancel = parse(
            "CANCEL sip:6002@10.0.0.9:5070 SIP/2.0\r\n\
Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKinv;rport\r\n\
From: <sip:6001@pbx>;tag=ours\r\nTo: <sip:6002@pbx>\r\nCall-ID: leg1\r\n\
CSeq: 41 CANCEL\r\nContent-Length: 0\r\n\r\n",
        );
        let ok = parse(
            "SIP/2.0 200 OK\r\n\
Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKinv;rport\r\n\
From: <sip:6001@pbx>;tag=ours\r\nTo: <sip:6002@pbx>;tag=theirs\r\nCall-ID: leg1\r\n\
CSeq: 41 INVITE\r\nContact: <sip:6002@10.0.0.9:5070>\r\n\
Record-Route: <sip:p1;lr>\r\nRecord-Route: <sip:p2;lr>\r\nContent-Length: 0\r\n\r\n",
        );
        let mut dialog = Dialog::of_cancelled_invite(&cancel, &ok).unwrap();
        let via: SocketAddr = "10.0.0.1:5060".parse().unwrap();
        let ack = parse(
            std::str::from_utf8(&dialog.request(Method::Ack, via, "z9hG4bKa").finish()).unwrap(),
        );
        assert_eq!(ack.request_uri(), Some("sip:6002@10.0.0.9:5070"));
        assert_eq!(
            ack.header(HeaderName::To),
            Some("<sip:6002@pbx>;tag=theirs")
        );
        assert_eq!(ack.header(HeaderName::CSeq), Some("41 ACK"));
        let routes: Vec<&str> = ack.header_values(HeaderName::Route).collect();
        assert_eq!(routes, ["<sip:p2;lr>", "<sip:p1;lr>"]);
        let bye = parse(
            std::str::from_utf8(&dialog.request(Method::Bye, via, "z9hG4bKb").finish()).unwrap(),
        );
        assert_eq!(bye.header(HeaderName::CSeq), Some("42 BYE"));
        assert_eq!(
            bye.header(HeaderName::From),
            Some("<sip:6001@pbx>;tag=ours")
        );
        assert!(
            Dialog::of_cancelled_invite(&ok, &ok).is_none(),
            "a response is no CANCEL"
        );
    }

    #[test]
    fn invite_without_contact_cannot_make_a_dialog() {
        let invite =
            parse(&INVITE.replace("Contact: <sip:6001@10.0.0.5:5062;transport=udp>\r\n", ""));
        assert_eq!(
            Dialog::as_uas(&invite, "x").unwrap_err(),
            DialogError::Incomplete("Contact")
        );
    }
}
