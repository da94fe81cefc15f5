//! The one event type: every kind of thing that happens in the PBX, with what a consumer
//! needs to render it without asking back (channel events carry the channel as it was).
//! Names follow ARI's event names where one exists, so adapters translate little.

use serde::{Deserialize, Serialize};

use crate::channel::{ChannelId, ChannelSnapshot};

/// Something that happened.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type")]
pub enum PbxEvent {
    /// A channel was created (an incoming INVITE, a Dial branch).
    ChannelCreated {
        /// The new channel.
        channel: ChannelSnapshot,
    },
    /// A channel's state changed (Ring, Ringing, Up...).
    ChannelStateChanged {
        /// The channel in its new state.
        channel: ChannelSnapshot,
    },
    /// A channel runs a dialplan step (its `dialplan` field says which).
    ChannelDialplan {
        /// The channel at the step.
        channel: ChannelSnapshot,
    },
    /// A key press (RFC 4733 or SIP INFO) ended on a channel.
    ChannelDtmfReceived {
        /// The channel that received it.
        channel: ChannelSnapshot,
        /// `0`-`9`, `*`, `#`, `A`-`D`.
        digit: char,
        /// How long the key was held, in milliseconds (0 when unknown, as for SIP INFO).
        duration_ms: u32,
    },
    /// A channel variable was set.
    ChannelVarset {
        /// The channel.
        channel: ChannelSnapshot,
        /// The variable's name.
        variable: String,
        /// Its new value.
        value: String,
    },
    /// A hangup was asked for (by the operator, the dialplan or the far end).
    ChannelHangupRequest {
        /// The channel.
        channel: ChannelSnapshot,
        /// Q.850 cause.
        cause: u16,
        /// Who asked: `dialplan`, `remote`, `operator`, `shutdown`, `timeout`.
        source: String,
    },
    /// A channel was handed to an outside application (`Stasis(app, args)`, or an originate
    /// to an application once answered); it takes channel commands from that application.
    StasisStart {
        /// The channel.
        channel: ChannelSnapshot,
        /// The application's name.
        application: String,
        /// The arguments it was given.
        args: Vec<String>,
    },
    /// An outside application let a channel go (continued in the dialplan, released, or the
    /// channel hung up).
    StasisEnd {
        /// The channel.
        channel: ChannelSnapshot,
        /// The application's name.
        application: String,
    },
    /// An AGI session on a channel ran a command, or an AsyncAGI session started or ended.
    Agi {
        /// The channel.
        channel: ChannelSnapshot,
        /// What happened.
        agi: crate::agi::event::AgiEvent,
    },
    /// An AMI Originate ended: answered, or not (AMI's `OriginateResponse`).
    OriginateResponse(Box<crate::ami::originate::OriginateOutcome>),
    /// An outside program raised an event of its own (AMI's `UserEvent` action).
    UserEvent {
        /// Its name.
        name: String,
        /// Its other headers (AMI) or variables (ARI), in order.
        headers: Vec<(String, String)>,
        /// The ARI application it is addressed to (`None` for AMI's UserEvent action).
        application: Option<String>,
        /// The channel it is about (ARI's `source=channel:ID`).
        channel: Option<Box<ChannelSnapshot>>,
        /// The bridge it is about (ARI's `source=bridge:ID`).
        bridge: Option<Box<BridgeSnapshot>>,
    },
    /// A channel ended.
    ChannelDestroyed {
        /// The channel as it ended.
        channel: ChannelSnapshot,
        /// Q.850 cause.
        cause: u16,
        /// The cause's text.
        cause_txt: String,
    },
    /// A bridge was created.
    BridgeCreated {
        /// The bridge.
        bridge: BridgeSnapshot,
    },
    /// A bridge was destroyed.
    BridgeDestroyed {
        /// The bridge as it ended.
        bridge: BridgeSnapshot,
    },
    /// A channel entered a bridge.
    ChannelEnteredBridge {
        /// The bridge with its members after the entry.
        bridge: BridgeSnapshot,
        /// The channel.
        channel: ChannelSnapshot,
    },
    /// A channel left a bridge.
    ChannelLeftBridge {
        /// The bridge with its members after the exit.
        bridge: BridgeSnapshot,
        /// The channel.
        channel: ChannelSnapshot,
    },
    /// A playback started on a channel.
    PlaybackStarted {
        /// The playback.
        playback: PlaybackSnapshot,
    },
    /// A playback finished (played out, stopped or its channel went away).
    PlaybackFinished {
        /// The playback.
        playback: PlaybackSnapshot,
    },
    /// A channel's caller id changed (`Set(CALLERID(num)=...)`, AGI's SET CALLERID).
    ChannelCallerId {
        /// The channel, with its new caller id.
        channel: ChannelSnapshot,
    },
    /// A channel's connected party changed (the callee that answered its Dial).
    ChannelConnectedLine {
        /// The channel, with its new connected party.
        channel: ChannelSnapshot,
    },
    /// A channel put its call on hold (the other party hears music on hold).
    ChannelHold {
        /// The channel that holds.
        channel: ChannelSnapshot,
    },
    /// A channel took its call off hold.
    ChannelUnhold {
        /// The channel.
        channel: ChannelSnapshot,
    },
    /// A party of a bridged call transferred the other party to an extension (REFER).
    BlindTransfer {
        /// The channel that asked for the transfer (its leg ends).
        transferer: ChannelSnapshot,
        /// The channel sent to the extension.
        transferee: ChannelSnapshot,
        /// The context of the extension.
        context: String,
        /// The extension.
        exten: String,
    },
    /// A channel started calling a peer (one Dial branch).
    DialBegin {
        /// The calling channel.
        caller: ChannelSnapshot,
        /// The branch's channel.
        peer: ChannelSnapshot,
        /// What was dialled (`endpoint/6002`, `trunk/provider/123`).
        dialstring: String,
    },
    /// A Dial branch ended: answered, busy, no answer, cancelled...
    DialEnd {
        /// The calling channel.
        caller: ChannelSnapshot,
        /// The branch's channel.
        peer: ChannelSnapshot,
        /// `ANSWER`, `BUSY`, `NOANSWER`, `CANCEL`, `CONGESTION`, `CHANUNAVAIL`.
        dialstatus: String,
    },
    /// A registered contact appeared, went away, or changed reachability.
    ContactStatusChange {
        /// The contact.
        contact: ContactStatus,
    },
    /// A trunk's registration changed state.
    TrunkStateChange {
        /// The trunk.
        trunk: TrunkState,
    },
    /// Music on hold started playing to a channel (an application asked for it).
    ChannelMohStart {
        /// The channel.
        channel: ChannelSnapshot,
    },
    /// The music on hold a channel heard stopped.
    ChannelMohStop {
        /// The channel.
        channel: ChannelSnapshot,
    },
    /// An application's recording of a channel started.
    RecordingStarted {
        /// The recording.
        recording: RecordingSnapshot,
    },
    /// It ended and its file is complete (stopped, a key, silence, its maximum duration).
    RecordingFinished {
        /// The recording.
        recording: RecordingSnapshot,
    },
    /// It ended without a usable file (cancelled, the channel hung up, a write failed).
    RecordingFailed {
        /// The recording.
        recording: RecordingSnapshot,
    },
    /// A call was refused by a toll-fraud limit (of a trunk, or of the calling endpoint).
    CallRefused {
        /// The calling endpoint (empty for a call from a trunk).
        endpoint: String,
        /// The trunk it would have left through (empty when refused before any Dial).
        trunk: String,
        /// The dialled number.
        number: String,
        /// Which limit it broke.
        reason: String,
    },
    /// A source address was banned for failing authentication ([`crate::bans`]).
    SourceBanned {
        /// The ban.
        ban: SourceBan,
    },
    /// Given to a reader that fell behind the window: `count` events are gone.
    EventsLost {
        /// How many.
        count: u64,
    },
}

/// A ban of a source address, as events and `pbx ctl bans` show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceBan {
    /// The banned IP address.
    pub address: String,
    /// Failed authentications that led to the ban.
    pub failures: u32,
    /// How many times the address has been banned (each ban lasts twice the previous one).
    pub offences: u32,
    /// The ban's length in seconds.
    pub ban_secs: u64,
    /// Seconds until it ends.
    pub remaining_secs: u64,
}

/// A bridge as events and listings show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BridgeSnapshot {
    /// Unique id.
    pub id: String,
    /// `simple`, `transcoding`, `mixing` or `holding`.
    pub bridge_type: String,
    /// Name (a conference room's name; empty for a Dial bridge).
    pub name: String,
    /// Member channels.
    pub channels: Vec<ChannelId>,
    /// Creation time, ISO 8601 UTC.
    pub creationtime: String,
}

/// Where a playback stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PlaybackState {
    /// Waiting for the playbacks before it on its channel.
    Queued,
    /// Playing.
    Playing,
    /// Held where it is, until unpaused.
    Paused,
    /// Played to its end.
    Done,
    /// Stopped before its end (a key press, a hangup).
    Stopped,
}

/// Where an application's recording stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RecordingState {
    /// Writing what the channel's peer sends.
    Recording,
    /// Held: nothing is written until unpaused.
    Paused,
    /// Finished, the file complete.
    Done,
    /// Ended without a usable file.
    Failed,
    /// Cancelled by the application; the file is removed.
    Canceled,
}

/// An application's recording as events and the API show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordingSnapshot {
    /// Its name (the file is `<name>.<format>` in the recordings directory).
    pub name: String,
    /// Its format (`wav`).
    pub format: String,
    /// Whom it records (`channel:<id>`).
    pub target_uri: String,
    /// Its state.
    pub state: RecordingState,
    /// Seconds recorded, once finished.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration: Option<u64>,
    /// Seconds of them that were not silence, once finished.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub talking_duration: Option<u64>,
    /// Seconds of silence, once finished.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub silence_duration: Option<u64>,
    /// Why it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
}

/// A playback as events show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlaybackSnapshot {
    /// Unique id.
    pub id: String,
    /// What is played, in order (`sound:hello-world`).
    pub media_uri: Vec<String>,
    /// Whom it is played to (`channel:<id>`).
    pub target_uri: String,
    /// Its state.
    pub state: PlaybackState,
}

/// A contact's status change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactStatus {
    /// The address of record (`6001`).
    pub aor: String,
    /// The contact URI.
    pub uri: String,
    /// `Created`, `Removed`, `Reachable`, `Unreachable`.
    pub contact_status: String,
    /// Round-trip time of the last qualify ping, in microseconds, when reachable.
    pub roundtrip_usec: Option<u64>,
}

/// A trunk's new registration state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrunkState {
    /// The trunk's name.
    pub name: String,
    /// Its state (`registered`, `rejected`, `unreachable`, ...).
    pub state: String,
}
