//! Commands to a channel from outside its call task (edge): the operator's API now, ARI, AMI
//! and the event socket later. A command reaches the task that owns the channel over its
//! bounded event queue and is answered on its own `reply`; the task carries it out between
//! two packets, whatever app runs. Commands act on a call's own channel, which its dialplan
//! drives; a Dial branch follows its caller and refuses them.

use tokio::sync::oneshot;

use super::task::Call;
use crate::channel::ChannelId;
use crate::events::{PlaybackSnapshot, RecordingSnapshot};
use crate::media::recorder::IfExists;

/// What a channel is asked to do.
#[derive(Debug)]
pub enum ChannelCommand {
    /// Leave the current app and continue in the dialplan at (context, exten, priority),
    /// as Asterisk's `continueInDialplan` / AMI `Redirect` do. A bridged callee is hung up.
    Continue {
        /// Context.
        context: String,
        /// Extension.
        exten: String,
        /// Step, counting from 1.
        priority: usize,
        /// Answered when the channel has moved.
        reply: oneshot::Sender<Result<(), CommandError>>,
    },
    /// Set a channel variable (published as `ChannelVarset`).
    SetVariable {
        /// Its name.
        name: String,
        /// Its value.
        value: String,
        /// Answered when set.
        reply: oneshot::Sender<Result<(), CommandError>>,
    },
    /// Read a channel variable (built-in ones too: `EXTEN`, `CALLERID(num)`...).
    GetVariable {
        /// Its name.
        name: String,
        /// Answered with the value, `None` when unset.
        reply: oneshot::Sender<Result<Option<String>, CommandError>>,
    },
    /// Answer the channel (200 OK with our SDP). Application control only.
    Answer {
        /// Answered when the 200 OK is sent.
        reply: oneshot::Sender<Result<(), CommandError>>,
    },
    /// Tell the caller it is ringing (180). Application control only.
    Ring {
        /// Answered when sent.
        reply: oneshot::Sender<Result<(), CommandError>>,
    },
    /// Start early media (183 with our SDP). Application control only.
    Progress {
        /// Answered when sent.
        reply: oneshot::Sender<Result<(), CommandError>>,
    },
    /// Play `media` (`sound:NAME` or `NAME`) in order as playback `playback`, after the
    /// channel's playbacks already queued. Application control only.
    Play {
        /// The playback's id (unique; chosen by the application or generated).
        playback: String,
        /// What to play.
        media: Vec<String>,
        /// Answered with the queued playback.
        reply: oneshot::Sender<Result<PlaybackSnapshot, CommandError>>,
    },
    /// Stop, pause, unpause or restart playback `playback`. Application control only.
    ControlPlayback {
        /// The playback's id.
        playback: String,
        /// What to do with it.
        operation: PlaybackOperation,
        /// Answered when done.
        reply: oneshot::Sender<Result<(), CommandError>>,
    },
    /// Enter bridge `bridge` (leaving the one the channel is in, if any). Application
    /// control only.
    EnterBridge {
        /// The bridge's id.
        bridge: String,
        /// Answered when the channel's media is in the bridge.
        reply: oneshot::Sender<Result<(), CommandError>>,
    },
    /// Leave bridge `bridge`. Application control only.
    LeaveBridge {
        /// The bridge's id.
        bridge: String,
        /// Answered when the channel's media is its own again.
        reply: oneshot::Sender<Result<(), CommandError>>,
    },
    /// Record what the channel's peer sends as recording `request.name`. Application
    /// control only.
    Record {
        /// What to record and when to stop.
        request: AppRecordRequest,
        /// Answered with the recording when it has started.
        reply: oneshot::Sender<Result<RecordingSnapshot, CommandError>>,
    },
    /// Stop, cancel, pause, unpause, mute or unmute recording `name`. Application control
    /// only.
    ControlRecording {
        /// The recording's name.
        name: String,
        /// What to do with it.
        operation: RecordingOperation,
        /// Answered when done.
        reply: oneshot::Sender<Result<(), CommandError>>,
    },
    /// Play music on hold to the channel (looping) until `StopMoh` or a playback; the
    /// channel's playbacks stop. Application control only.
    StartMoh {
        /// Answered when it plays.
        reply: oneshot::Sender<Result<(), CommandError>>,
    },
    /// Stop the music on hold. Application control only.
    StopMoh {
        /// Answered when it stopped.
        reply: oneshot::Sender<Result<(), CommandError>>,
    },
    /// Mute (or unmute) the channel's audio one way or both: silence replaces it, in a bridge
    /// too. Application control only.
    Mute {
        /// Which way.
        direction: crate::call::media_io::MuteDirection,
        /// Mute, or unmute.
        muted: bool,
        /// Answered once applied.
        reply: oneshot::Sender<Result<(), CommandError>>,
    },
    /// Put the channel on hold (it hears music on hold; `ChannelHold`) or take it off
    /// (`ChannelUnhold`). Application control only, outside a bridge.
    Hold {
        /// On hold, or off.
        held: bool,
        /// Answered once applied.
        reply: oneshot::Sender<Result<(), CommandError>>,
    },
    /// Queue an AGI command line for the channel's AsyncAGI session (AMI's `AGI` action); its
    /// result comes as an `AsyncAGIExec` event with `command_id`.
    Agi {
        /// The command line (`STREAM FILE hello-world ""`).
        command: String,
        /// The `CommandID` to report the result with.
        command_id: Option<String>,
        /// Answered when queued.
        reply: oneshot::Sender<Result<(), CommandError>>,
    },
    /// Send key presses to the channel's peer as RFC 4733 events, one after the other.
    SendDtmf {
        /// `0`-`9`, `*`, `#`, `A`-`D`.
        digits: String,
        /// Answered when queued.
        reply: oneshot::Sender<Result<(), CommandError>>,
    },
}

/// What an application's recording is to be.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AppRecordRequest {
    /// Its name: the file is `<name>.wav` in the recordings directory.
    pub name: String,
    /// The longest it may last (seconds; 0 or absent: no limit).
    #[serde(default)]
    pub max_duration_seconds: u64,
    /// Silence after the last sound that ends it (seconds; 0 or absent: silence does not).
    #[serde(default)]
    pub max_silence_seconds: u64,
    /// What to do when a stored recording has the name already.
    #[serde(default)]
    pub if_exists: IfExists,
    /// Beep before recording.
    #[serde(default)]
    pub beep: bool,
    /// Keys that end it (`#`, `*`, several, or empty: none).
    #[serde(default)]
    pub terminate_on: String,
}

/// What [`ChannelCommand::ControlRecording`] does to a recording.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RecordingOperation {
    /// End it; the file is kept (`RecordingFinished`).
    Stop,
    /// End it and remove the file (`RecordingFailed`, state `canceled`).
    Cancel,
    /// Stop writing until unpaused.
    Pause,
    /// Go on writing.
    Unpause,
    /// Write silence instead of the peer's audio.
    Mute,
    /// Write the peer's audio again.
    Unmute,
}

/// What [`ChannelCommand::ControlPlayback`] does to a playback.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PlaybackOperation {
    /// End it now (`PlaybackFinished` with state `stopped`).
    Stop,
    /// Hold it where it is.
    Pause,
    /// Go on from where it was paused.
    Unpause,
    /// Start it over from the beginning.
    Restart,
}

/// Why a channel refused a command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    /// The channel is a Dial branch: its caller's dialplan drives it.
    #[error("channel {0} is a Dial branch, driven by its caller's channel")]
    NotControllable(ChannelId),
    /// The dialplan position does not exist.
    #[error("{0}")]
    NoSuchExtension(String),
    /// The channel's peer negotiated no RFC 4733 events, or a key is not a DTMF key.
    #[error("the channel cannot send {0:?} (no telephone-event negotiated, or not DTMF keys)")]
    CannotSendDtmf(String),
    /// The channel is hanging up.
    #[error("the channel is hanging up")]
    HangingUp,
    /// The command needs an outside application in control of the channel (`Stasis`).
    #[error("channel {0} is not in a Stasis application")]
    NotInApplication(ChannelId),
    /// No playback with this id on the channel.
    #[error("no playback {0}")]
    NoSuchPlayback(String),
    /// The channel already has a playback with this id.
    #[error("playback {0} exists already")]
    PlaybackExists(String),
    /// The playback waits for others before it: it can only be stopped.
    #[error("playback {0} is queued, not playing")]
    PlaybackQueued(String),
    /// No bridge with this id (or the channel is not in it).
    #[error("no bridge {0} with this channel")]
    NoSuchBridge(String),
    /// None of the media could be found.
    #[error("no such media: {0}")]
    NoSuchMedia(String),
    /// The channel is in a bridge, whose media it hears instead.
    #[error("channel {0} is in a bridge")]
    InBridge(ChannelId),
    /// The bridge refused the channel (full, or its media could not be set up).
    #[error("the bridge could not take the channel: {0}")]
    BridgeRefused(String),
    /// A live or stored recording has this name and the request may not replace it.
    #[error("a recording named {0} exists already")]
    RecordingExists(String),
    /// No live recording with this name on the channel.
    #[error("no live recording {0}")]
    NoSuchRecording(String),
    /// The recording could not be started (a bad name, a file that cannot be written).
    #[error("cannot record: {0}")]
    CannotRecord(String),
    /// The channel runs no AsyncAGI session (`AGI(agi:async)`).
    #[error("channel {0} is not in AsyncAGI")]
    NotInAsyncAgi(ChannelId),
    /// The channel's AsyncAGI session has too many commands waiting.
    #[error("Failed to add AGI command to channel {0} queue")]
    AgiQueueFull(ChannelId),
    /// The channel has not answered yet (an originated call still ringing).
    #[error("channel {0} has not answered yet")]
    NotAnswered(ChannelId),
}

impl Call {
    /// Carries out `command` sent to `channel`.
    pub(super) fn on_command(&mut self, channel: &ChannelId, command: ChannelCommand) {
        if channel != self.channel.id() {
            let refused = CommandError::NotControllable(channel.clone());
            refuse(command, refused);
            return;
        }
        if self.hung_up {
            refuse(command, CommandError::HangingUp);
            return;
        }
        if command.needs_application() {
            match self.stasis.as_mut() {
                Some(stasis) => stasis.queue(command),
                None => refuse(command, CommandError::NotInApplication(channel.clone())),
            }
            return;
        }
        match command {
            ChannelCommand::Continue {
                context,
                exten,
                priority,
                reply,
            } => {
                let moved = self
                    .interpreter
                    .redirect(&context, &exten, priority)
                    .map_err(|e| CommandError::NoSuchExtension(e.to_string()));
                if moved.is_ok() {
                    tracing::info!(call = self.id, %context, %exten, priority, "continuing in the dialplan");
                    self.redirected = true;
                }
                let _ = reply.send(moved);
            }
            command @ (ChannelCommand::Answer { .. }
            | ChannelCommand::Ring { .. }
            | ChannelCommand::Progress { .. }
            | ChannelCommand::Play { .. }
            | ChannelCommand::ControlPlayback { .. }
            | ChannelCommand::EnterBridge { .. }
            | ChannelCommand::LeaveBridge { .. }
            | ChannelCommand::Record { .. }
            | ChannelCommand::ControlRecording { .. }
            | ChannelCommand::StartMoh { .. }
            | ChannelCommand::StopMoh { .. }
            | ChannelCommand::Mute { .. }
            | ChannelCommand::Hold { .. }) => {
                refuse(command, CommandError::NotInApplication(channel.clone()))
            }
            ChannelCommand::SetVariable { name, value, reply } => {
                self.interpreter.set_var(&name, value);
                self.publish_notes();
                let _ = reply.send(Ok(()));
            }
            ChannelCommand::GetVariable { name, reply } => {
                let _ = reply.send(Ok(self.interpreter.get_var(&name)));
            }
            ChannelCommand::Agi {
                command,
                command_id,
                reply,
            } => {
                let queued = match self
                    .async_agi
                    .as_mut()
                    .map(|q| q.queue(command, command_id))
                {
                    Some(true) => Ok(()),
                    Some(false) => Err(CommandError::AgiQueueFull(channel.clone())),
                    None => Err(CommandError::NotInAsyncAgi(channel.clone())),
                };
                let _ = reply.send(queued);
            }
            ChannelCommand::SendDtmf { digits, reply } => {
                let now = std::time::Instant::now();
                let valid = !digits.is_empty()
                    && digits
                        .chars()
                        .all(|c| c.is_ascii_digit() || "*#ABCD".contains(c));
                let sent = valid && digits.chars().all(|d| self.media.send_digit(d, now));
                let _ = reply.send(if sent {
                    Ok(())
                } else {
                    Err(CommandError::CannotSendDtmf(digits))
                });
            }
        }
    }

    /// Whether the current app must stop: the call hung up, or a command moved it elsewhere
    /// in the dialplan.
    pub(super) fn interrupted(&self) -> bool {
        self.hung_up || self.redirected
    }
}

impl ChannelCommand {
    /// Whether only an outside application in control of the channel may issue it.
    pub fn needs_application(&self) -> bool {
        matches!(
            self,
            ChannelCommand::Answer { .. }
                | ChannelCommand::Ring { .. }
                | ChannelCommand::Progress { .. }
                | ChannelCommand::Play { .. }
                | ChannelCommand::ControlPlayback { .. }
                | ChannelCommand::EnterBridge { .. }
                | ChannelCommand::LeaveBridge { .. }
                | ChannelCommand::Record { .. }
                | ChannelCommand::ControlRecording { .. }
                | ChannelCommand::StartMoh { .. }
                | ChannelCommand::StopMoh { .. }
                | ChannelCommand::Mute { .. }
                | ChannelCommand::Hold { .. }
        )
    }
}

/// Answers `command` with `error`.
pub(super) fn refuse(command: ChannelCommand, error: CommandError) {
    match command {
        ChannelCommand::Continue { reply, .. }
        | ChannelCommand::SetVariable { reply, .. }
        | ChannelCommand::SendDtmf { reply, .. }
        | ChannelCommand::StartMoh { reply }
        | ChannelCommand::StopMoh { reply }
        | ChannelCommand::Mute { reply, .. }
        | ChannelCommand::Hold { reply, .. }
        | ChannelCommand::Agi { reply, .. }
        | ChannelCommand::Answer { reply }
        | ChannelCommand::Ring { reply }
        | ChannelCommand::Progress { reply }
        | ChannelCommand::ControlPlayback { reply, .. }
        | ChannelCommand::EnterBridge { reply, .. }
        | ChannelCommand::LeaveBridge { reply, .. }
        | ChannelCommand::ControlRecording { reply, .. } => {
            let _ = reply.send(Err(error));
        }
        ChannelCommand::Record { reply, .. } => {
            let _ = reply.send(Err(error));
        }
        ChannelCommand::GetVariable { reply, .. } => {
            let _ = reply.send(Err(error));
        }
        ChannelCommand::Play { reply, .. } => {
            let _ = reply.send(Err(error));
        }
    }
}
