//! Outgoing legs (edge, RFC 3261 §13 as UAC): whom a leg calls ([`LegTarget`]: a registered
//! contact of an endpoint, or a number through a trunk), its INVITE with the PBX's own SDP
//! offer on its own RTP port, a provider's digest challenge answered once, CANCEL, the ACK of
//! its 2xx and its media once answered. Each leg is a channel. Dial forks several of these
//! for a caller ([`super::b2bua`]); an originated call rings one ([`super::originate`]).

use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime};

use tokio::net::UdpSocket;

use super::media_io::{open_socket, MediaLeg};
use super::task::{send_ack, send_bye, CallShared, ALLOW};
use super::{CallId, SipCommand};
use crate::channel::{cause_of_status, ChannelHandle, ChannelId, ChannelState, NewChannel, Party};
use crate::dialplan::DialStatus;
use crate::events::PbxEvent;
use crate::location_proxy::LocationProxy;
use crate::media::codec::CodecKind;
use crate::media::ports::PortLease;
use crate::registration::random_tag;
use crate::sdp::negotiate::{self, Direction, LocalMedia};
use crate::sip::auth::{random_cnonce, DigestChallenge};
use crate::sip::dialog::Dialog;
use crate::sip::message::{HeaderName, SipMessage};
use crate::sip::method::Method;
use crate::sip::registrar::Binding;
use crate::sip::transaction::TransactionKey;
use crate::sip::ua::fork::{self, branch_status, BranchState as LegState};

/// Whom an outgoing leg calls and how.
pub(super) struct LegTarget {
    /// For logs: the endpoint user or `trunk/NAME/NUMBER`.
    pub(super) label: String,
    /// The dial string of DialBegin events: `endpoint/USER` or `trunk/NAME/NUMBER`.
    dialstring: String,
    /// The endpoint or trunk name in the channel's name.
    endpoint: String,
    /// Who is called: the endpoint user or the number.
    callee: String,
    /// Request-URI.
    pub(super) uri: String,
    /// To header value.
    to_header: String,
    /// User part of From and Contact (our caller ID on that leg).
    from_user: String,
    /// Host part of From.
    from_domain: String,
    /// Where to send the INVITE.
    pub(super) send_to: SocketAddr,
    /// Pre-loaded Route values (the location proxy, or the Path a contact registered with);
    /// empty to send straight to the target.
    route: Vec<String>,
    /// Codecs the far side may use, by preference.
    codecs: Vec<CodecKind>,
    /// Digest credentials for a provider's 401/407.
    credentials: Option<(String, String)>,
    /// The id its channel gets (an originate's chosen one); `None` for a fresh one.
    pub(super) channel_id: Option<ChannelId>,
    /// A trunk call's place under the trunk's limits, held while the leg lives.
    pub(super) trunk_call: Option<crate::trunk::limits::TrunkCall>,
}

/// Who places outgoing legs: the call task's id, the caller's identity and channel, where
/// the call is in the dialplan, and the codec to offer first (no transcoding when the callee
/// takes the caller's).
#[derive(Debug, Clone)]
pub(super) struct Dialer {
    pub(super) shared: CallShared,
    pub(super) call: CallId,
    pub(super) from: Party,
    pub(super) caller: Option<ChannelId>,
    pub(super) context: String,
    pub(super) preferred: Option<CodecKind>,
}

/// One outgoing leg while it rings.
pub(super) struct OutLeg {
    pub(super) target: LegTarget,
    pub(super) key: TransactionKey,
    branch: String,
    pub(super) dialog: Dialog,
    pub(super) offer: LocalMedia,
    sdp: String,
    pub(super) socket: Option<(UdpSocket, PortLease)>,
    pub(super) state: LegState,
    /// A challenge was answered already: another one means the credentials are wrong.
    authenticated: bool,
    /// Media started by a 183 with SDP (early media), relayed to the caller while ringing.
    pub(super) early: Option<MediaLeg>,
    /// The leg's channel.
    pub(super) channel: ChannelHandle,
}

/// An answered outgoing leg: its confirmed dialog, media and channel.
pub(super) struct Bridged {
    pub(super) dialog: Dialog,
    pub(super) local: LocalMedia,
    pub(super) to: SocketAddr,
    pub(super) ack: bytes::Bytes,
    pub(super) media: MediaLeg,
    pub(super) channel: ChannelHandle,
    /// The trunk call's place under the trunk's limits: never read, held so that it is given
    /// back when the bridged leg goes.
    pub(super) _trunk_call: Option<crate::trunk::limits::TrunkCall>,
}

impl Dialer {
    /// The targets for endpoint `user`: through the location proxy when there is one, else
    /// each contact registered here.
    pub(super) fn endpoint_targets(&self, user: &str, now: Instant) -> Vec<LegTarget> {
        match &self.shared.location_proxy {
            Some(proxy) => vec![self.proxy_target(user, proxy)],
            None => self
                .shared
                .location
                .contacts(user, now)
                .iter()
                .map(|binding| self.endpoint_target(user, binding))
                .collect(),
        }
    }

    /// The target for `user` reached through the location proxy.
    fn proxy_target(&self, user: &str, proxy: &LocationProxy) -> LegTarget {
        let mut target = self.endpoint_target_to(user, proxy.uri(user), proxy.send_to);
        target.to_header = format!("<{}>", target.uri);
        target.from_domain = proxy.host_port.clone();
        target.route = vec![proxy.route()];
        target
    }

    /// The target for a registered contact of endpoint `user`.
    fn endpoint_target(&self, user: &str, binding: &Binding) -> LegTarget {
        let mut target = self.endpoint_target_to(user, binding.contact.clone(), binding.source);
        target.route = binding.path.clone();
        target
    }

    /// The target for endpoint `user` at `uri`, sent to `send_to`.
    fn endpoint_target_to(&self, user: &str, uri: String, send_to: SocketAddr) -> LegTarget {
        let sip = self.shared.sip_address;
        LegTarget {
            label: user.to_string(),
            dialstring: format!("endpoint/{user}"),
            endpoint: user.to_string(),
            callee: user.to_string(),
            uri,
            to_header: format!("<sip:{user}@{sip}>"),
            from_user: self.from.number.clone(),
            from_domain: sip.to_string(),
            send_to,
            route: Vec::new(),
            codecs: self
                .shared
                .endpoints
                .get(user)
                .map(|p| p.codecs.clone())
                .unwrap_or_else(|| vec![CodecKind::Pcmu, CodecKind::Pcma]),
            credentials: None,
            channel_id: None,
            trunk_call: None,
        }
    }

    /// The target for `number` through trunk `name`; `None` when the trunk is unknown or
    /// has no address.
    pub(super) fn trunk_target(&self, name: &str, number: &str) -> Option<LegTarget> {
        let trunk = self.shared.trunks.get(name)?;
        let send_to = trunk.send_to?;
        Some(LegTarget {
            label: format!("trunk/{name}/{number}"),
            dialstring: format!("trunk/{name}/{number}"),
            endpoint: name.to_string(),
            callee: number.to_string(),
            uri: format!("sip:{number}@{}", trunk.host_port),
            to_header: format!("<sip:{number}@{}>", trunk.from_domain),
            from_user: trunk.from_user.clone(),
            from_domain: trunk.from_domain.clone(),
            send_to,
            route: Vec::new(),
            codecs: trunk.codecs.clone(),
            credentials: Some((trunk.auth_user.clone(), trunk.password.clone())),
            channel_id: None,
            trunk_call: None,
        })
    }

    /// Creates the leg's channel and sends its INVITE; `None` when no RTP port is free.
    pub(super) async fn start(&self, target: LegTarget) -> Option<OutLeg> {
        let opened = match open_socket(&self.shared.ports, self.shared.rtp_bind).await {
            Ok(opened) => opened,
            Err(error) => {
                tracing::warn!(call = self.call, %error, "no RTP port for an outgoing leg");
                return None;
            }
        };
        let sip = self.shared.sip_address;
        let offer = LocalMedia {
            address: self.shared.media_address,
            port: opened.1.port(),
            session_id: rand::random::<u32>() as u64,
            session_version: 1,
            codecs: prefer(self.preferred, &target.codecs),
            telephone_event: true,
            ptime_ms: 20,
            direction: Direction::SendRecv,
        };
        let local_tag = random_tag();
        let call_id = format!("{}@{}", random_tag(), sip.ip());
        let from = format!(
            "\"{}\" <sip:{}@{}>;tag={local_tag}",
            self.from.name.replace('"', ""),
            target.from_user,
            target.from_domain
        );
        let mut dialog =
            Dialog::new_uac(&call_id, &local_tag, &from, &target.to_header, &target.uri);
        dialog.preload_route(&target.route);
        let channel = self.shared.channels.create(
            NewChannel {
                id: target.channel_id.clone(),
                call: self.call,
                endpoint: target.endpoint.clone(),
                state: ChannelState::Down,
                caller: self.from.clone(),
                connected: Party {
                    number: target.callee.clone(),
                    name: String::new(),
                },
                context: self.context.clone(),
                exten: target.callee.clone(),
                sip_call_id: call_id.clone(),
                linked: self.caller_snapshot().map(|caller| caller.linkedid),
            },
            Instant::now(),
            SystemTime::now(),
        );
        if let (Some(caller), Some(peer)) = (self.caller_snapshot(), channel.snapshot()) {
            self.shared.channels.events().publish(PbxEvent::DialBegin {
                caller,
                peer,
                dialstring: target.dialstring.clone(),
            });
        }
        let _ = self
            .shared
            .commands
            .send(SipCommand::Route {
                call: self.call,
                call_id,
                local_tag,
            })
            .await;
        let mut leg = OutLeg {
            sdp: negotiate::offer(&offer),
            target,
            key: TransactionKey::for_request("", Method::Invite),
            branch: String::new(),
            dialog,
            offer,
            socket: Some(opened),
            state: LegState::Calling,
            authenticated: false,
            early: None,
            channel,
        };
        self.send_invite(&mut leg, None).await;
        tracing::info!(call = self.call, user = %leg.target.label, uri = %leg.target.uri, to = %leg.target.send_to, "Dial: INVITE sent");
        Some(leg)
    }

    fn caller_snapshot(&self) -> Option<crate::channel::ChannelSnapshot> {
        self.shared.channels.snapshot(self.caller.as_ref()?)
    }

    /// Publishes how the Dial of `leg` ended. An originated leg (no caller) has no Dial.
    pub(super) fn dial_end(&self, leg: &OutLeg, status: DialStatus) {
        if let (Some(caller), Some(peer)) = (self.caller_snapshot(), leg.channel.snapshot()) {
            self.shared.channels.events().publish(PbxEvent::DialEnd {
                caller,
                peer,
                dialstatus: status.as_str().to_string(),
            });
        }
    }

    /// The leg failed with final response `status` (408 for a timeout).
    pub(super) fn fail(&self, leg: &mut OutLeg, status: u16) {
        leg.state = LegState::Failed(status);
        leg.early = None;
        leg.channel.set_cause(cause_of_status(status));
        if matches!(status, 486 | 600) {
            leg.channel.set_state(ChannelState::Busy);
        }
        self.dial_end(leg, branch_status(status));
    }

    /// Sends (or re-sends with credentials) the leg's INVITE in a new transaction.
    async fn send_invite(&self, leg: &mut OutLeg, authorization: Option<(&str, String)>) {
        let sip = self.shared.sip_address;
        leg.branch = format!("z9hG4bK{}", random_tag());
        let mut writer = leg
            .dialog
            .request(Method::Invite, sip, &leg.branch)
            .header("Contact", format!("<sip:{}@{}>", leg.target.from_user, sip))
            .header("Allow", ALLOW)
            .header("User-Agent", &self.shared.user_agent);
        if let Some((name, value)) = authorization {
            writer = writer.header(name, value);
        }
        let invite = writer.finish_with_body(Some("application/sdp"), leg.sdp.as_bytes());
        leg.key = TransactionKey::for_request(&leg.branch, Method::Invite);
        let _ = self
            .shared
            .commands
            .send(SipCommand::Request {
                key: leg.key.clone(),
                to: leg.target.send_to,
                request: invite,
                call: self.call,
            })
            .await;
    }

    /// Answers a provider's 401/407 on `leg` once; false when it cannot or already did.
    async fn answer_challenge(&self, leg: &mut OutLeg, response: &SipMessage, status: u16) -> bool {
        let Some((user, password)) = leg.target.credentials.clone() else {
            return false;
        };
        if leg.authenticated {
            return false;
        }
        let (challenge_header, answer_header) = if status == 407 {
            (HeaderName::ProxyAuthenticate, "Proxy-Authorization")
        } else {
            (HeaderName::WwwAuthenticate, "Authorization")
        };
        let Some(challenge) = response
            .header_occurrences(challenge_header)
            .find_map(|v| DigestChallenge::parse(v).ok())
        else {
            return false;
        };
        let credentials = challenge.answer(
            "INVITE",
            &leg.target.uri,
            &user,
            &password,
            &random_cnonce(),
            1,
        );
        leg.authenticated = true;
        self.send_invite(leg, Some((answer_header, credentials.to_header_value())))
            .await;
        true
    }

    /// CANCELs ringing legs; their Dial ends with `status`.
    pub(super) async fn abandon(&self, legs: &mut [OutLeg], status: DialStatus) {
        for leg in legs.iter_mut() {
            if leg.state.is_pending() {
                self.dial_end(leg, status);
                let cancel = leg
                    .dialog
                    .request(Method::Cancel, self.shared.sip_address, &leg.branch)
                    .finish();
                let _ = self
                    .shared
                    .commands
                    .send(SipCommand::Request {
                        key: TransactionKey::for_request(&leg.branch, Method::Cancel),
                        to: leg.target.send_to,
                        request: cancel,
                        call: self.call,
                    })
                    .await;
                leg.state = LegState::Abandoned;
            }
        }
    }

    /// ACKs a 2xx on a leg already given up and hangs it up.
    async fn ack_and_bye(&self, dialog: &mut Dialog, to: SocketAddr) {
        send_ack(&self.shared, dialog, to).await;
        send_bye(&self.shared, self.call, dialog, to).await;
    }

    /// The leg answered with `response`: ACKs it and starts (or renegotiates) its media.
    /// `None` when its SDP answer is unusable (the leg is hung up then).
    pub(super) async fn connect(&self, leg: OutLeg, response: SipMessage) -> Option<Bridged> {
        self.dial_end(&leg, DialStatus::Answer);
        let OutLeg {
            mut dialog,
            target,
            mut offer,
            socket,
            early,
            channel,
            ..
        } = leg;
        let to = target.send_to;
        let trunk_call = target.trunk_call;
        let ack = send_ack(&self.shared, &mut dialog, to).await;
        let body = std::str::from_utf8(response.body()).unwrap_or_default();
        offer.session_version += 1;
        let negotiated = match negotiate::parse_answer(&offer, body) {
            Ok(negotiated) => negotiated,
            Err(error) => {
                tracing::warn!(call = self.call, %error, "callee's SDP answer unusable: hanging up the branch");
                send_bye(&self.shared, self.call, &mut dialog, to).await;
                return None;
            }
        };
        let media = match early {
            Some(mut media) => {
                media.renegotiate(negotiated);
                media
            }
            None => {
                let (socket, lease) = socket?;
                MediaLeg::new(
                    socket,
                    lease,
                    negotiated,
                    self.shared.rtp_timeout,
                    Instant::now(),
                )
                .ok()?
            }
        };
        channel.set_state(ChannelState::Up);
        channel.update(|c| c.codec = Some(negotiated.codec.encoding_name().to_string()));
        tracing::info!(call = self.call, user = %target.label, codec = negotiated.codec.encoding_name(), "outgoing leg answered");
        Some(Bridged {
            dialog,
            local: offer,
            to,
            ack,
            media,
            channel,
            _trunk_call: trunk_call,
        })
    }

    /// Starts a ringing leg's early media (183 with SDP); false when its SDP is unusable.
    fn start_early_media(&self, leg: &mut OutLeg, response: &SipMessage) -> bool {
        let body = std::str::from_utf8(response.body()).unwrap_or_default();
        let Ok(negotiated) = negotiate::parse_answer(&leg.offer, body) else {
            return false;
        };
        let Some((socket, lease)) = leg.socket.take() else {
            return false;
        };
        match MediaLeg::new(socket, lease, negotiated, Duration::ZERO, Instant::now()) {
            Ok(media) => {
                leg.early = Some(media);
                true
            }
            Err(error) => {
                tracing::warn!(call = self.call, %error, "early media refused");
                false
            }
        }
    }
}

/// What a response on one of the ringing legs means for whoever waits on them.
pub(super) enum LegProgress {
    /// The leg rings: `first` on its first provisional response; `early_media` when it
    /// started early media now (183 with SDP, one leg at a time).
    Ringing {
        /// The leg's first provisional response.
        first: bool,
        /// Its early media started now.
        early_media: bool,
    },
    /// Leg `index` answered with this 2xx.
    Answered(usize, SipMessage),
}

impl Dialer {
    /// Handles a response on one of `legs`: ringing, a 2xx, a challenge answered, a failure.
    pub(super) async fn on_response(
        &self,
        legs: &mut [OutLeg],
        response: &SipMessage,
    ) -> Option<LegProgress> {
        let call_id = response.call_id()?;
        let index = legs.iter().position(|l| l.dialog.id().call_id == call_id)?;
        let early_taken = legs.iter().any(|l| l.early.is_some());
        let status = response.status()?;
        let leg = &mut legs[index];
        match status {
            100 => None,
            101..=199 => {
                let first = leg.state == LegState::Calling;
                leg.state = LegState::Ringing;
                leg.channel.set_state(ChannelState::Ringing);
                let early_media = !response.body().is_empty()
                    && !early_taken
                    && self.start_early_media(leg, response);
                Some(LegProgress::Ringing { first, early_media })
            }
            200..=299 => {
                leg.dialog.confirm_uac(response);
                if leg.state == LegState::Abandoned {
                    // A leg that answered after we gave up on it: ACK and release it.
                    self.ack_and_bye(&mut leg.dialog, leg.target.send_to).await;
                    return None;
                }
                Some(LegProgress::Answered(index, response.clone()))
            }
            401 | 407 if self.answer_challenge(leg, response, status).await => None,
            _ => {
                tracing::info!(call = self.call, user = %leg.target.label, status, "Dial branch failed");
                self.fail(leg, status);
                None
            }
        }
    }

    /// Whether every leg has failed or been given up.
    pub(super) fn all_over(legs: &[OutLeg]) -> bool {
        fork::all_over(legs.iter().map(|l| l.state))
    }

    /// DIALSTATUS when every leg failed or was given up.
    pub(super) fn dial_status(legs: &[OutLeg]) -> DialStatus {
        fork::dial_status(legs.iter().map(|l| l.state))
    }
}

/// `preferred` first (no transcoding when the callee accepts the caller's codec), then the
/// callee's allowed codecs.
fn prefer(preferred: Option<CodecKind>, allowed: &[CodecKind]) -> Vec<CodecKind> {
    let mut codecs: Vec<CodecKind> = allowed
        .iter()
        .copied()
        .filter(|c| Some(*c) == preferred)
        .collect();
    codecs.extend(allowed.iter().copied().filter(|c| Some(*c) != preferred));
    codecs
}
