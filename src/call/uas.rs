//! The caller's leg in its dialog (edge): in-dialog requests (BYE, re-INVITE, INFO, OPTIONS,
//! ACK) and CANCEL as they reach the call task, answered from the call's state; and the
//! mapping of a dialplan Hangup cause to the final response of an unanswered call.

use std::net::SocketAddr;
use std::time::Instant;

use super::task::{Call, PendingAck, ALLOW};
use super::{CallEvent, IncomingRequest};
use crate::media::dtmf::KeyPress;
use crate::sdp::negotiate;
use crate::sip::dialog::DialogId;
use crate::sip::message::{reason_phrase, HeaderName, MessageWriter, SipMessage};
use crate::sip::method::Method;
use crate::sip::transaction::TransactionKey;

impl Call {
    /// Handles a SIP event; returns a digit received by SIP INFO.
    pub(super) async fn on_sip_event(&mut self, event: CallEvent) -> Option<KeyPress> {
        match event {
            CallEvent::Request(incoming) => {
                let IncomingRequest {
                    request,
                    key,
                    source,
                } = *incoming;
                self.on_request(request, key, source).await
            }
            CallEvent::Cancelled => {
                if !self.final_sent {
                    tracing::info!(call = self.id, "cancelled by the caller");
                    self.request_hangup(16, "remote");
                    if let Some((key, response)) = self.response_to_invite(487, false) {
                        self.send_response(key, 487, response).await;
                    }
                    self.final_sent = true;
                    self.hung_up = true;
                }
                None
            }
            CallEvent::Response(_) | CallEvent::RequestTimeout(_) => None,
            CallEvent::Command(command) => {
                let (channel, command) = *command;
                self.on_command(&channel, command);
                None
            }
            CallEvent::Hangup { channel, cause } => {
                match channel {
                    None => self.request_hangup(cause, "shutdown"),
                    Some(channel) if *channel == *self.channel.id() => {
                        self.request_hangup(cause, "operator")
                    }
                    // A Dial branch that is no longer there.
                    Some(_) => return None,
                }
                self.hangup(Some(cause)).await;
                None
            }
        }
    }

    pub(super) async fn on_request(
        &mut self,
        request: SipMessage,
        key: Option<TransactionKey>,
        source: SocketAddr,
    ) -> Option<KeyPress> {
        let method = request.method().unwrap_or(Method::Unknown);
        if method == Method::Ack {
            self.pending_ack = None;
            return None;
        }
        let key = key?;
        let ours = DialogId::of_incoming_request(&request).is_some_and(|id| {
            id.call_id == self.dialog.id().call_id && id.local_tag == self.dialog.id().local_tag
        });
        if !ours {
            // A dialog this call no longer has (a transferor's, after a transfer).
            self.reply(&request, key, 481, source).await;
            return None;
        }
        if self.dialog.accept_request(&request).is_err() {
            self.reply(&request, key, 500, source).await;
            return None;
        }
        match method {
            Method::Bye => {
                tracing::info!(call = self.id, "caller hung up");
                self.request_hangup(16, "remote");
                self.reply(&request, key, 200, source).await;
                self.hung_up = true;
                None
            }
            Method::Invite => {
                self.reinvite(&request, key, source).await;
                None
            }
            Method::Info => {
                self.reply(&request, key, 200, source).await;
                info_digit(&request)
            }
            Method::Options => {
                self.reply(&request, key, 200, source).await;
                None
            }
            _ => {
                self.reply(&request, key, 405, source).await;
                None
            }
        }
    }

    pub(super) async fn reply(
        &self,
        request: &SipMessage,
        key: TransactionKey,
        status: u16,
        source: SocketAddr,
    ) {
        let mut writer = MessageWriter::response(
            request,
            status,
            reason_phrase(status),
            Some(&self.dialog.id().local_tag),
            source,
        )
        .header("Server", &self.shared.user_agent);
        if status == 405 || request.method() == Some(Method::Options) {
            writer = writer.header("Allow", ALLOW);
        }
        self.send_response(key, status, writer.finish()).await;
    }

    /// Answers a re-INVITE (hold, unhold, session refresh) from the current media state.
    pub(super) async fn reinvite(
        &mut self,
        request: &SipMessage,
        key: TransactionKey,
        source: SocketAddr,
    ) {
        let body = std::str::from_utf8(request.body()).unwrap_or_default();
        if body.trim().is_empty() {
            let response = self.leg_response(request, 200, source, true);
            self.send_response(key, 200, response).await;
            return;
        }
        let offer = match negotiate::parse_offer(body) {
            Ok(offer) => offer,
            Err(_) => {
                self.reply(request, key, 488, source).await;
                return;
            }
        };
        self.local_media.session_version += 1;
        match negotiate::answer(&offer, &self.local_media) {
            Ok((sdp, negotiated)) => {
                tracing::info!(call = self.id, direction = ?negotiated.direction, "re-INVITE answered");
                self.answer_sdp = sdp;
                self.media.renegotiate(negotiated);
                let response = self.leg_response(request, 200, source, true);
                self.send_response(key.clone(), 200, response.clone()).await;
                self.pending_ack = Some(PendingAck::new(key, response, Instant::now()));
            }
            Err(_) => self.reply(request, key, 488, source).await,
        }
    }
}

/// A key press from SIP INFO with `application/dtmf-relay` (`Signal=5`, `Duration=160`), as
/// older phones send; the duration is 250 ms when the body gives none.
pub(super) fn info_digit(request: &SipMessage) -> Option<KeyPress> {
    let content_type = request.header(HeaderName::ContentType)?;
    if !content_type
        .to_ascii_lowercase()
        .starts_with("application/dtmf-relay")
    {
        return None;
    }
    let body = std::str::from_utf8(request.body()).ok()?;
    let field = |wanted: &str| {
        body.lines()
            .filter_map(|line| line.split_once('='))
            .find(|(name, _)| name.trim().eq_ignore_ascii_case(wanted))
            .map(|(_, value)| value.trim())
    };
    let digit = field("signal")
        .and_then(|value| value.chars().next())
        .map(|c| c.to_ascii_uppercase())
        .filter(|c| c.is_ascii_digit() || "*#ABCD".contains(*c))?;
    let duration_ms = field("duration")
        .and_then(|d| d.parse().ok())
        .unwrap_or(INFO_DEFAULT_DURATION_MS);
    Some(KeyPress { digit, duration_ms })
}

/// A SIP INFO key press's duration when its body gives none (Asterisk's default).
const INFO_DEFAULT_DURATION_MS: u32 = 250;

/// Maps a Hangup cause to the final response of an unanswered call: SIP codes (400-699) are
/// used as they are; Q.850 causes map as RFC 3398 §8.2.6.1 says; none gives 480.
pub fn cause_to_status(cause: Option<u16>) -> u16 {
    match cause {
        Some(code @ 400..=699) => code,
        Some(1) | Some(3) => 404,
        Some(17) => 486,
        Some(18) => 408,
        Some(19) | Some(20) => 480,
        Some(21) => 403,
        Some(22) => 410,
        Some(27) => 502,
        Some(28) => 484,
        Some(34) | Some(38) | Some(41) | Some(42) => 503,
        Some(58) | Some(65) | Some(88) => 488,
        Some(127) => 500,
        _ => 480,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(body: &str) -> SipMessage {
        let text = format!(
            "INFO sip:8000@pbx SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK1\r\n\
             From: <sip:6001@pbx>;tag=a\r\nTo: <sip:8000@pbx>;tag=b\r\nCall-ID: c\r\n\
             CSeq: 3 INFO\r\nContent-Type: application/dtmf-relay\r\n\
             Content-Length: {}\r\n\r\n{body}",
            body.len()
        );
        SipMessage::parse(bytes::Bytes::from(text)).unwrap()
    }

    #[test]
    fn sip_info_key_presses_carry_their_duration() {
        let key = info_digit(&info("Signal=5\r\nDuration=160\r\n")).unwrap();
        assert_eq!((key.digit, key.duration_ms), ('5', 160));
        let key = info_digit(&info("Signal=d\r\n")).unwrap();
        assert_eq!(
            (key.digit, key.duration_ms),
            ('D', INFO_DEFAULT_DURATION_MS)
        );
        assert!(info_digit(&info("Signal=x\r\n")).is_none());
    }

    #[test]
    fn causes_map_to_rfc3398_statuses() {
        assert_eq!(cause_to_status(None), 480);
        assert_eq!(cause_to_status(Some(17)), 486);
        assert_eq!(cause_to_status(Some(486)), 486);
        assert_eq!(cause_to_status(Some(1)), 404);
        assert_eq!(cause_to_status(Some(34)), 503);
    }
}
