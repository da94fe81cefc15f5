//! One leg's media I/O (edge): the RTP socket on a leased port, and the sans-IO pieces it
//! drives: the [`RtpSession`] (sequence, timestamps, latching, stats), the codec, the RFC 4733
//! receiver, the prompt [`Player`] (prompts and music on hold) and echo. Every frame the PBX
//! makes itself (prompt, music, transcoded audio) has the peer's negotiated ptime; relayed
//! same-codec packets keep the size they had. Per packet nothing is allocated and nothing
//! waits: datagrams are read and written synchronously through one scratch buffer per worker
//! thread (so an idle or bridged leg holds no packet buffer of its own), relayed packets are
//! rewritten in place, and sends are non-blocking (`try_send_to`; RTP is lossy by nature).

use std::cell::RefCell;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::net::UdpSocket;

use crate::media::codec::{codec_for, AnyCodec, Codec};
use crate::media::dtmf::KeyPress;
use crate::media::dtmf::{
    DtmfDigit, DtmfReceiver, DtmfSender, DEFAULT_END_TIMEOUT_SAMPLES, EVENT_PAYLOAD_LEN,
};
use crate::media::jitter::JitterBuffer;
use crate::media::player::Player;
use crate::media::playlist::Playlist;
use crate::media::playout::Playout;
use crate::media::ports::{PortError, PortLease, PortPool};
use crate::media::ptime::{Ptime, MAX_FRAME_SAMPLES};
use crate::media::recorder::{Ended, Recorder};
use crate::media::rtp::{MediaTime, PayloadType};
use crate::media::session::{RecvError, RtpSession, SessionConfig, SessionEvent, SessionStats};
use crate::media::wav::Sound;
use crate::sdp::negotiate::{Direction, Negotiated};

/// Ports tried before giving up when leased ports turn out to be bound by another program.
const BIND_ATTEMPTS: usize = 16;
/// Largest RTP datagram handled; larger ones are truncated by the kernel and rejected.
const RTP_BUFFER: usize = 2048;
/// Datagrams handled per wake-up before the call task yields to its other work (SIP events,
/// timers) and to other tasks; what is left is read on the next turn.
const DATAGRAMS_PER_WAKE: usize = 32;

/// Working memory for handling one datagram or one frame.
struct Scratch {
    /// A received datagram, rewritten in place when relayed; or a packet being built.
    packet: [u8; RTP_BUFFER],
    /// A frame of audio, decoded or about to be encoded (up to the longest ptime).
    pcm: [i16; MAX_FRAME_SAMPLES],
    /// A frame of audio, encoded.
    encoded: [u8; MAX_FRAME_SAMPLES],
}

thread_local! {
    /// The worker thread's scratch: every read, decode, encode and write of a datagram happens
    /// in it without an await in between, so one per thread serves all legs.
    static SCRATCH: RefCell<Scratch> = const {
        RefCell::new(Scratch {
            packet: [0; RTP_BUFFER],
            pcm: [0; MAX_FRAME_SAMPLES],
            encoded: [0; MAX_FRAME_SAMPLES],
        })
    };
}

/// Why a leg's media could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    /// No RTP port is free in the configured range (the call is answered 503).
    #[error(transparent)]
    Ports(#[from] PortError),
    /// Binding the leased port failed for a reason other than "in use".
    #[error("cannot bind RTP port {port}: {source}")]
    Bind {
        /// The port.
        port: u16,
        /// The OS error.
        source: io::Error,
    },
    /// The negotiated payload type is not a valid RTP payload type.
    #[error("invalid negotiated payload type {0}")]
    PayloadType(u8),
}

/// Which way a channel's audio is muted (ARI's `direction`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MuteDirection {
    /// What the peer says: the bridge and recordings get silence instead.
    In,
    /// What the peer hears: silence is sent instead.
    Out,
    /// Both ways.
    #[default]
    Both,
}

/// The directions muted on a leg.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Muted {
    inbound: bool,
    outbound: bool,
}

/// Something the call task must react to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaEvent {
    /// A DTMF key press (RFC 4733) ended.
    Digit(KeyPress),
    /// The current playback reached its end.
    PlaybackDone,
    /// No RTP arrived for the inactivity timeout.
    Inactive,
    /// The recording reached its maximum duration or the silence that ends it (`None`: its
    /// file could not be written); it is finished by whoever started it.
    RecordingEnded(Option<Ended>),
}

/// Decodes one received payload into `recorder`; `Some` when the recording must end (`None`
/// inside: writing failed, logged here).
fn record(
    recorder: &mut Recorder,
    codec: &mut AnyCodec,
    payload: &[u8],
    silence: bool,
) -> Option<Option<Ended>> {
    let mut pcm = [0i16; MAX_FRAME_SAMPLES];
    let len = codec.decode(payload, &mut pcm).ok()?;
    if silence {
        pcm[..len].fill(0);
    }
    match recorder.write(&pcm[..len]) {
        Ok(ended) => ended.map(Some),
        Err(error) => {
            tracing::warn!(%error, "recording failed");
            Some(None)
        }
    }
}

/// Binds a UDP socket on a leased even port of `pool` on `ip`.
pub async fn open_socket(
    pool: &PortPool,
    ip: IpAddr,
) -> Result<(UdpSocket, PortLease), MediaError> {
    let mut lease = pool.lease()?;
    for _ in 0..BIND_ATTEMPTS {
        match UdpSocket::bind(SocketAddr::new(ip, lease.port())).await {
            Ok(socket) => return Ok((socket, lease)),
            Err(e) if e.kind() == io::ErrorKind::AddrInUse => lease = lease.retry()?,
            Err(source) => {
                return Err(MediaError::Bind {
                    port: lease.port(),
                    source,
                })
            }
        }
    }
    Err(MediaError::Bind {
        port: lease.port(),
        source: io::Error::from(io::ErrorKind::AddrInUse),
    })
}

/// How often RFC 4733 event updates for a key press from SIP INFO are sent, whatever the
/// audio ptime: event packets carry their own timestamp and duration (RFC 4733 §2.5.1).
const EVENT_INTERVAL: Duration = Duration::from_millis(20);
/// [`EVENT_INTERVAL`] in 8 kHz samples.
const EVENT_INTERVAL_SAMPLES: u32 = 160;

/// How long a key press received as SIP INFO lasts when sent on as RFC 4733 (8 kHz samples).
const INFO_DIGIT_SAMPLES: u16 = 800;
/// Volume of the RFC 4733 events the PBX generates, in -dBm0.
const EVENT_VOLUME: u8 = 10;
/// Key presses that may wait behind the one being sent; more are dropped.
const MAX_QUEUED_DIGITS: usize = 16;

/// Key presses being sent as RFC 4733 events: the current one, paced every 20 ms, and those
/// waiting for it to end.
struct DtmfOut {
    sender: DtmfSender,
    next: Instant,
    queued: std::collections::VecDeque<DtmfDigit>,
}

/// A leg's media: socket, session, codec, DTMF, playback and echo.
pub struct MediaLeg {
    socket: UdpSocket,
    lease: PortLease,
    session: RtpSession,
    negotiated: Negotiated,
    codec: AnyCodec,
    codec_pt: PayloadType,
    event_pt: Option<PayloadType>,
    dtmf: DtmfReceiver,
    player: Option<Player>,
    /// The packetization the peer asked for: the size of every frame the PBX makes for it.
    ptime: Ptime,
    /// Audio transcoded from the other leg waits here for its playout slot, re-framed to this
    /// leg's ptime (boxed: most legs never transcode).
    jitter: Option<Box<Playout>>,
    /// Key presses from SIP INFO going out as RFC 4733 (boxed: rare).
    dtmf_out: Option<Box<DtmfOut>>,
    echo: bool,
    /// What the peer sends is being recorded (boxed: rare).
    recorder: Option<Box<Recorder>>,
    /// Muted directions: silence replaces the audio (the stream and its timing go on).
    muted: Muted,
}

impl std::fmt::Debug for MediaLeg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MediaLeg")
            .field("port", &self.lease.port())
            .field("negotiated", &self.negotiated)
            .finish_non_exhaustive()
    }
}

impl MediaLeg {
    /// Starts the leg's media on `socket` with what offer/answer `negotiated`.
    pub fn new(
        socket: UdpSocket,
        lease: PortLease,
        negotiated: Negotiated,
        inactivity_timeout: Duration,
        now: Instant,
    ) -> Result<MediaLeg, MediaError> {
        let codec_pt = PayloadType::new(negotiated.payload_type)
            .map_err(|_| MediaError::PayloadType(negotiated.payload_type))?;
        let event_pt = negotiated
            .telephone_event_pt
            .map(|pt| PayloadType::new(pt).map_err(|_| MediaError::PayloadType(pt)))
            .transpose()?;
        let clock = NonZeroU32::new(negotiated.codec.clock_rate()).unwrap_or(NonZeroU32::MIN);
        let mut config = SessionConfig::new(codec_pt, clock, &mut rand::thread_rng());
        config.remote = negotiated.remote;
        config.event_pt = event_pt;
        config.inactivity_timeout = inactivity_timeout;
        let mut session = RtpSession::new(config, now);
        session.set_expecting(negotiated.direction == Direction::SendRecv, now);
        Ok(MediaLeg {
            socket,
            lease,
            session,
            codec: codec_for(negotiated.codec),
            ptime: Ptime::from_ms(negotiated.ptime_ms).unwrap_or_default(),
            negotiated,
            codec_pt,
            event_pt,
            dtmf: DtmfReceiver::new(DEFAULT_END_TIMEOUT_SAMPLES),
            player: None,
            jitter: None,
            dtmf_out: None,
            echo: false,
            recorder: None,
            muted: Muted::default(),
        })
    }

    /// Mutes (or unmutes) `direction`: silence replaces the audio that way until unmuted.
    pub fn set_muted(&mut self, direction: MuteDirection, muted: bool) {
        if direction != MuteDirection::Out {
            self.muted.inbound = muted;
        }
        if direction != MuteDirection::In {
            self.muted.outbound = muted;
        }
    }

    /// The local RTP port.
    pub fn port(&self) -> u16 {
        self.lease.port()
    }

    /// The negotiated media.
    pub fn negotiated(&self) -> &Negotiated {
        &self.negotiated
    }

    /// RTP statistics so far.
    pub fn stats(&self) -> SessionStats {
        self.session.stats()
    }

    /// Applies a renegotiation (re-INVITE: hold, unhold, new address, new ptime). RTP is
    /// expected from the peer, and its silence ends the call after the inactivity timeout,
    /// only while the stream is sendrecv: a peer that holds (sendonly, inactive) or is held
    /// may stay silent, as Asterisk's `rtpholdtimeout` defaults.
    pub fn renegotiate(&mut self, negotiated: Negotiated) {
        if let Some(remote) = negotiated.remote {
            self.session.set_remote_from_sdp(remote);
        }
        let expecting = negotiated.direction == Direction::SendRecv;
        self.session.set_expecting(expecting, Instant::now());
        self.negotiated.direction = negotiated.direction;
        self.negotiated.remote = negotiated.remote.or(self.negotiated.remote);
        self.negotiated.ptime_ms = negotiated.ptime_ms;
        self.ptime = Ptime::from_ms(negotiated.ptime_ms).unwrap_or_default();
        if let Some(playout) = self.jitter.as_mut() {
            playout.set_ptime(self.ptime);
        }
    }

    /// Starts playing `sounds` now, replacing any current playback.
    pub fn play(&mut self, sounds: Vec<Arc<Sound>>, now: Instant) {
        self.player = Some(Player::new(sounds, now, self.ptime));
    }

    /// Starts playing `playlist` now, its last sound looping when it repeats (a tone),
    /// replacing any current playback.
    pub fn play_playlist(&mut self, playlist: &Playlist, now: Instant) {
        let sounds = playlist.sounds.clone();
        self.player = Some(match playlist.repeat_last {
            true => Player::repeating_last(sounds, now, self.ptime),
            false => Player::new(sounds, now, self.ptime),
        });
    }

    /// Starts looping `sounds` now (music on hold) until [`MediaLeg::stop_playback`],
    /// replacing any current playback.
    pub fn play_looping(&mut self, sounds: Vec<Arc<Sound>>, now: Instant) {
        self.player = Some(Player::looping(sounds, now, self.ptime));
    }

    /// Takes the current playback out, to go on later with [`MediaLeg::resume_playback`].
    pub fn pause_playback(&mut self) -> Option<Player> {
        self.player.take()
    }

    /// Goes on with a playback taken out by [`MediaLeg::pause_playback`], from `now`.
    pub fn resume_playback(&mut self, mut player: Player, now: Instant) {
        player.resume(now);
        self.player = Some(player);
    }

    /// Stops the current playback.
    pub fn stop_playback(&mut self) {
        self.player = None;
    }

    /// Turns media loopback (the Echo app) on or off.
    pub fn set_echo(&mut self, echo: bool) {
        self.echo = echo;
    }

    /// When [`MediaLeg::handle_timeout`] must next run.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let player = self
            .player
            .as_ref()
            .and_then(Player::poll_timeout)
            .or_else(|| self.jitter.as_ref().and_then(|j| j.poll_timeout()));
        let dtmf = self.dtmf_out.as_ref().map(|d| d.next);
        [player, self.session.poll_timeout(), dtmf]
            .into_iter()
            .flatten()
            .min()
    }

    /// Sends `digit` (a key press received as SIP INFO on the other leg) as RFC 4733
    /// telephone-events, after any press still being sent. False when this leg negotiated no
    /// telephone-event, the key is not a DTMF key or too many presses wait already.
    pub fn send_digit(&mut self, digit: char, now: Instant) -> bool {
        let (Some(_), Some(digit)) = (self.event_pt, DtmfDigit::from_char(digit)) else {
            return false;
        };
        match self.dtmf_out.as_mut() {
            Some(out) if out.queued.len() >= MAX_QUEUED_DIGITS => return false,
            Some(out) => out.queued.push_back(digit),
            None => {
                self.dtmf_out = Some(Box::new(DtmfOut {
                    sender: self.event_sender(digit, now),
                    next: now,
                    queued: std::collections::VecDeque::new(),
                }))
            }
        }
        true
    }

    fn event_sender(&self, digit: DtmfDigit, now: Instant) -> DtmfSender {
        let start = self.session.media_clock(now).0;
        DtmfSender::new(
            digit,
            INFO_DIGIT_SAMPLES,
            EVENT_VOLUME,
            start,
            EVENT_INTERVAL_SAMPLES,
        )
    }

    /// Sends the RFC 4733 packet due at `now`, if any.
    fn send_due_event(&mut self, scratch: &mut Scratch, now: Instant) {
        let (Some(event_pt), Some(remote)) = (self.event_pt, self.session.remote()) else {
            self.dtmf_out = None;
            return;
        };
        let Some(out) = self.dtmf_out.as_mut().filter(|out| out.next <= now) else {
            return;
        };
        let mut payload = [0u8; EVENT_PAYLOAD_LEN];
        let Some(packet) = out.sender.next_payload(&mut payload) else {
            match out.queued.pop_front() {
                Some(digit) => {
                    let sender = self.event_sender(digit, now);
                    if let Some(out) = self.dtmf_out.as_mut() {
                        out.sender = sender;
                        out.next = now;
                    }
                    self.send_due_event(scratch, now);
                }
                None => self.dtmf_out = None,
            }
            return;
        };
        out.next += EVENT_INTERVAL;
        let written = self.session.write_event_packet(
            event_pt,
            MediaTime(packet.timestamp),
            packet.marker,
            &payload[..packet.payload_len],
            &mut scratch.packet[..],
            now,
        );
        if let (Ok(n), true) = (written, self.negotiated.direction.sends()) {
            let _ = self.socket.try_send_to(&scratch.packet[..n], remote);
        }
    }

    /// Sends due playback frames and reports playback end or media inactivity.
    pub fn handle_timeout(&mut self, now: Instant) -> Option<MediaEvent> {
        self.session.handle_timeout(now);
        if let Some(SessionEvent::Inactive { .. }) = self.session.poll_event() {
            return Some(MediaEvent::Inactive);
        }
        SCRATCH.with_borrow_mut(|scratch| {
            let mut finished = false;
            while let Some(player) = self.player.as_mut() {
                if player.next_frame(now, &mut scratch.pcm).is_none() {
                    finished = player.is_finished();
                    break;
                }
                let samples = player.ptime().samples();
                self.send_frame(scratch, samples, now);
            }
            self.send_due_event(scratch, now);
            if finished {
                self.player = None;
                return Some(MediaEvent::PlaybackDone);
            }
            self.play_out(scratch, now);
            None
        })
    }

    /// Sends the transcoded frames whose playout time has come.
    fn play_out(&mut self, scratch: &mut Scratch, now: Instant) {
        while let Some(samples) =
            (self.jitter.as_mut()).and_then(|p| p.next_frame(now, &mut scratch.pcm))
        {
            self.send_frame(scratch, samples, now);
        }
    }

    /// Encodes and sends the frame in `scratch.pcm[..samples]`.
    fn send_frame(&mut self, scratch: &mut Scratch, samples: usize, now: Instant) {
        let Some(remote) = self.session.remote() else {
            return;
        };
        if !self.negotiated.direction.sends() {
            return;
        }
        if self.muted.outbound {
            scratch.pcm[..samples].fill(0);
        }
        let Ok(len) = self
            .codec
            .encode(&scratch.pcm[..samples], &mut scratch.encoded)
        else {
            return;
        };
        let written = self.session.write_packet(
            self.codec_pt,
            samples as u32,
            false,
            &scratch.encoded[..len],
            &mut scratch.packet[..],
            now,
        );
        if let Ok(n) = written {
            let _ = self.socket.try_send_to(&scratch.packet[..n], remote);
        }
    }

    /// Waits until datagrams are waiting on the leg's socket; [`MediaLeg::receive`] or
    /// [`MediaLeg::relay`] then reads them.
    pub async fn readable(&self) -> io::Result<()> {
        self.socket.readable().await
    }

    /// Reads the datagrams waiting (up to `DATAGRAMS_PER_WAKE`) and accounts them: DTMF
    /// digits come out (reading stops at the first, the rest waits for the next call), echo
    /// sends the audio back.
    pub fn receive(&mut self, now: Instant) -> Option<MediaEvent> {
        SCRATCH.with_borrow_mut(|scratch| {
            for _ in 0..DATAGRAMS_PER_WAKE {
                let Ok((len, from)) = self.socket.try_recv_from(&mut scratch.packet[..]) else {
                    return None;
                };
                if let Some(event) = self.handle_datagram(&mut scratch.packet[..len], from, now) {
                    return Some(event);
                }
            }
            None
        })
    }

    fn handle_datagram(
        &mut self,
        datagram: &mut [u8],
        from: SocketAddr,
        now: Instant,
    ) -> Option<MediaEvent> {
        let received = match self.session.handle_packet(from, datagram, now) {
            Ok(received) => received,
            Err(RecvError::Rtcp { .. }) => return None,
            Err(error) => {
                tracing::trace!(%from, %error, "RTP packet rejected");
                return None;
            }
        };
        if received.duplicate {
            return None;
        }
        let packet = received.packet;
        if Some(packet.payload_type()) == self.event_pt {
            let press = self
                .dtmf
                .handle_event(packet.timestamp().0, packet.marker(), packet.payload())
                .ok()
                .flatten();
            return press.map(|p| MediaEvent::Digit(p.into()));
        }
        if packet.payload_type() == self.codec_pt {
            if let Some(recorder) = self.recorder.as_mut() {
                let silence = self.muted.inbound;
                if let Some(ended) = record(recorder, &mut self.codec, packet.payload(), silence) {
                    return Some(MediaEvent::RecordingEnded(ended));
                }
            }
            if self.echo {
                self.echo_back(datagram, now);
            }
        }
        None
    }

    /// Starts recording what the peer sends into `recorder` (replacing a recording that
    /// was running, which is returned).
    pub fn start_recording(&mut self, recorder: Recorder) -> Option<Box<Recorder>> {
        self.recorder.replace(Box::new(recorder))
    }

    /// The running recording, to pause, mute or read.
    pub fn recording(&mut self) -> Option<&mut Recorder> {
        self.recorder.as_deref_mut()
    }

    /// Stops recording; the recorder, to finish or cancel.
    pub fn stop_recording(&mut self) -> Option<Box<Recorder>> {
        self.recorder.take()
    }

    /// Reads the datagrams waiting on this leg (up to `DATAGRAMS_PER_WAKE`) and relays them
    /// to leg `to` (the B2BUA bridge). Same codec: each packet is moved into `to`'s stream in
    /// place (SSRC, sequence, timestamp rewritten), never decoded, at the size it came in.
    /// Different codecs: the payload is decoded into `to`'s [`Playout`] (jitter buffer in the
    /// sender's frames, re-framed to `to`'s ptime), which `to` plays out in its own codec
    /// (reordering and loss concealment on the decoding side). RFC 4733 events go
    /// across with `to`'s negotiated payload type, or are dropped when `to` did not negotiate
    /// them.
    pub fn relay(&mut self, now: Instant, to: &mut MediaLeg) {
        SCRATCH.with_borrow_mut(|scratch| {
            let Scratch { packet, pcm, .. } = scratch;
            for _ in 0..DATAGRAMS_PER_WAKE {
                let Ok((len, from)) = self.socket.try_recv_from(&mut packet[..]) else {
                    return;
                };
                self.relay_datagram(&mut packet[..len], pcm, from, now, to);
            }
        });
    }

    fn relay_datagram(
        &mut self,
        datagram: &mut [u8],
        pcm: &mut [i16; MAX_FRAME_SAMPLES],
        from: SocketAddr,
        now: Instant,
        to: &mut MediaLeg,
    ) {
        let Ok(received) = self.session.handle_packet(from, datagram, now) else {
            return;
        };
        if received.duplicate {
            return;
        }
        let (Some(remote), true) = (to.session.remote(), to.negotiated.direction.sends()) else {
            return;
        };
        let packet = received.packet;
        let pt = packet.payload_type();
        let target_pt = if Some(pt) == self.event_pt {
            match to.event_pt {
                Some(event_pt) => event_pt,
                None => return,
            }
        } else if pt == self.codec_pt {
            to.codec_pt
        } else {
            return;
        };
        if pt == self.codec_pt && self.negotiated.codec != to.negotiated.codec {
            let Ok(samples) = self.codec.decode(packet.payload(), pcm) else {
                return;
            };
            let ptime = to.ptime;
            let playout = to
                .jitter
                .get_or_insert_with(|| Box::new(Playout::new(ptime)));
            let pushed = playout.push(
                packet.sequence().0,
                packet.timestamp().0,
                &pcm[..samples],
                now,
            );
            if let Err(error) = pushed {
                tracing::trace!(%error, "transcoded packet not buffered");
            }
            return;
        }
        if to.session.forward_packet(datagram, target_pt, now).is_ok() {
            let _ = to.socket.try_send_to(datagram, remote);
        }
    }

    fn echo_back(&mut self, datagram: &mut [u8], now: Instant) {
        let Some(remote) = self.session.remote() else {
            return;
        };
        if self
            .session
            .forward_packet(datagram, self.codec_pt, now)
            .is_ok()
        {
            let _ = self.socket.try_send_to(datagram, remote);
        }
    }
}

/// A mixing bridge's use of a leg: decoded audio in, mixed audio out, paced by the bridge.
impl MediaLeg {
    /// Samples per packet at the leg's negotiated ptime.
    pub fn packet_samples(&self) -> usize {
        self.ptime.samples()
    }

    /// Reads the datagrams waiting (up to `DATAGRAMS_PER_WAKE`) and pushes their decoded audio
    /// into `jitter`, the mixing bridge's buffer for this leg (reordering and loss are handled
    /// there). RFC 4733 events are consumed, never decoded as audio; other payload types and
    /// duplicates are dropped. Returns a key press that ended.
    pub fn receive_audio(&mut self, jitter: &mut JitterBuffer, now: Instant) -> Option<KeyPress> {
        SCRATCH.with_borrow_mut(|scratch| {
            let Scratch { packet, pcm, .. } = scratch;
            let mut digit = None;
            for _ in 0..DATAGRAMS_PER_WAKE {
                let Ok((len, from)) = self.socket.try_recv_from(&mut packet[..]) else {
                    break;
                };
                let Ok(received) = self.session.handle_packet(from, &packet[..len], now) else {
                    continue;
                };
                if received.duplicate {
                    continue;
                }
                let rtp = received.packet;
                if Some(rtp.payload_type()) == self.event_pt {
                    let press =
                        self.dtmf
                            .handle_event(rtp.timestamp().0, rtp.marker(), rtp.payload());
                    if let Ok(Some(press)) = press {
                        digit = Some(press.into());
                    }
                } else if rtp.payload_type() == self.codec_pt {
                    if let Ok(samples) = self.codec.decode(rtp.payload(), &mut pcm[..]) {
                        if self.muted.inbound {
                            pcm[..samples].fill(0);
                        }
                        jitter.push(rtp.sequence().0, rtp.timestamp().0, &pcm[..samples], now);
                    }
                }
            }
            digit
        })
    }

    /// Encodes `pcm` (one packet, up to `MAX_FRAME_SAMPLES`) in this leg's codec and sends it,
    /// unless the leg does not send (hold) or has no remote address yet.
    pub fn send_audio(&mut self, pcm: &[i16], now: Instant) {
        SCRATCH.with_borrow_mut(|scratch| {
            let n = pcm.len().min(MAX_FRAME_SAMPLES);
            scratch.pcm[..n].copy_from_slice(&pcm[..n]);
            self.send_frame(scratch, n, now);
        });
    }
}
