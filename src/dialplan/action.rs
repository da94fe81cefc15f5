//! The interface between the call task and the dialplan [`Interpreter`](super::Interpreter):
//! where a call enters ([`CallInfo`]), what the task must do ([`Action`]), what it reports back
//! ([`Event`]), and how a Dial ended ([`DialStatus`], Asterisk's `${DIALSTATUS}`).

use std::time::Duration;

use super::apps::dial::DialTarget;
use super::apps::record::RecordRequest;

/// Where a call enters the dialplan and who placed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallInfo {
    /// The starting context (the endpoint's or trunk's).
    pub context: String,
    /// The dialled extension (Request-URI user part).
    pub exten: String,
    /// Caller number, `${CALLERID(num)}`.
    pub caller_num: String,
    /// Caller display name, `${CALLERID(name)}`.
    pub caller_name: String,
}

/// What the call task must do now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Answer the call (200 OK); answered by `Done`.
    Answer,
    /// Send 180 Ringing; answered by `Done`.
    Ringing,
    /// Send 183 Session Progress (early media); answered by `Done`.
    Progress,
    /// Play prompts in order; answered by `PlaybackDone`, or `Digit` when interruptible (the
    /// task stops the playback), or `Hangup`.
    Play {
        /// Sound names for the prompt library.
        sounds: Vec<String>,
        /// Whether a digit stops the playback and is reported.
        interruptible: bool,
    },
    /// Wait for one digit; answered by `Digit`, `Timeout` or `Hangup`.
    WaitDigit {
        /// How long to wait.
        timeout: Duration,
    },
    /// Wait, ignoring digits; answered by `Timeout` or `Hangup`.
    Wait {
        /// How long to wait.
        duration: Duration,
    },
    /// Loop media back to the caller until `Hangup`.
    Echo,
    /// Call the targets and bridge the first to answer; answered by `DialResult` (after the
    /// bridged call ends, for `Answer`) or `Hangup`.
    Dial {
        /// Rung at once.
        targets: Vec<DialTarget>,
        /// Ring time.
        timeout: Duration,
        /// Dial options as written (`g` is handled here).
        options: String,
    },
    /// Answer if needed and join conference room `room` until the call ends; answered by
    /// `Hangup`, or `Done` when the room could not be joined.
    ConfBridge {
        /// The room's name.
        room: String,
    },
    /// Hand the channel to outside application `app` until it releases it; answered by
    /// `Done` (next step) or `Hangup`. A `Continue` command moves it elsewhere instead.
    Stasis {
        /// The application's name.
        app: String,
        /// Its arguments.
        args: Vec<String>,
    },
    /// Record the caller (Record); answered by `Recorded` or `Hangup` (the task removes the
    /// file unless the request keeps it).
    Record(RecordRequest),
    /// Run an AGI session (`AGI(...)`) until the program ends it; answered by `Done` (next
    /// step; a program's SET CONTEXT moves the call with a redirect first) or `Hangup`.
    Agi {
        /// Where the commands come from.
        request: crate::agi::request::AgiRequest,
        /// The target as expanded (`agi_request`).
        target: String,
        /// The arguments (`agi_arg_N`).
        args: Vec<String>,
    },
    /// Run an event-socket session (`Socket(...)`) until the application lets go; answered
    /// by `Done` (next step) or `Hangup`.
    Socket(crate::esl::target::SocketTarget),
    /// Say text with the TTS engine; answered by `PlaybackDone` or `Hangup`.
    Speak {
        /// The text.
        text: String,
        /// The voice; empty uses the configured one.
        voice: String,
    },
    /// Hang up with an optional Q.850 cause; answered by `Hangup`.
    Hangup {
        /// Q.850 cause code.
        cause: Option<u16>,
    },
    /// Nothing more to do for this call.
    Finished,
}

/// Something the interpreter did that the call task publishes on the event stream, in the
/// order it happened ([`Interpreter::take_notes`](super::Interpreter::take_notes)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Note {
    /// A step started running.
    Step {
        /// Context.
        context: String,
        /// `${EXTEN}`.
        exten: String,
        /// The step, counting from 1.
        priority: usize,
        /// The app's name.
        app: String,
        /// The app's arguments as written.
        data: String,
    },
    /// A variable was set (by Set, Dial's `DIALSTATUS`, Read...).
    VarSet {
        /// Its name.
        name: String,
        /// Its value.
        value: String,
    },
    /// The caller id was set (`Set(CALLERID(num)=...)`, `CALLERID(name)`).
    CallerId {
        /// The number (`true`) or the name (`false`).
        number: bool,
        /// The new value.
        value: String,
    },
}

/// What happened, as reported by the call task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// The call entered the dialplan: the first event.
    Started,
    /// Answer, Ringing or Progress done.
    Done,
    /// Every prompt of a Play was played.
    PlaybackDone,
    /// A DTMF digit: `0`-`9`, `*`, `#`, `A`-`D`.
    Digit(char),
    /// A WaitDigit or Wait ran out.
    Timeout,
    /// How a Dial ended.
    DialResult(DialStatus),
    /// How a Record ended (not by hangup).
    Recorded(RecordStatus),
    /// The caller hung up, or the hangup the interpreter asked for is done.
    Hangup,
}

/// How a Record ended; stored in `${RECORD_STATUS}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordStatus {
    /// A terminating key (this one) was pressed.
    Dtmf(char),
    /// Silence followed the last sound for the allowed time.
    Silence,
    /// It reached its maximum duration.
    Timeout,
    /// The caller hung up.
    Hangup,
    /// The call was not answered and option `s` skips it.
    Skip,
    /// The file could not be written (or its name is not allowed).
    Error,
}

impl RecordStatus {
    /// The value of `${RECORD_STATUS}`.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordStatus::Dtmf(_) => "DTMF",
            RecordStatus::Silence => "SILENCE",
            RecordStatus::Timeout => "TIMEOUT",
            RecordStatus::Hangup => "HANGUP",
            RecordStatus::Skip => "SKIP",
            RecordStatus::Error => "ERROR",
        }
    }
}

/// How a Dial ended; stored in `${DIALSTATUS}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DialStatus {
    /// A target answered and the bridged call has ended.
    Answer,
    /// Busy everywhere.
    Busy,
    /// Nobody answered within the timeout.
    NoAnswer,
    /// The caller gave up.
    Cancel,
    /// The network could not complete the call.
    Congestion,
    /// No target could be reached (not registered, unknown, trunk down).
    ChanUnavail,
}

impl DialStatus {
    /// The `${DIALSTATUS}` value, as in Asterisk.
    pub fn as_str(self) -> &'static str {
        match self {
            DialStatus::Answer => "ANSWER",
            DialStatus::Busy => "BUSY",
            DialStatus::NoAnswer => "NOANSWER",
            DialStatus::Cancel => "CANCEL",
            DialStatus::Congestion => "CONGESTION",
            DialStatus::ChanUnavail => "CHANUNAVAIL",
        }
    }
}

/// Why a call cannot enter the dialplan (the call layer answers 404).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RunError {
    /// The starting context does not exist.
    #[error("no such context: {0}")]
    NoSuchContext(String),
    /// Nothing in the starting context matches the dialled extension.
    #[error("no extension {exten:?} in context {context:?}")]
    NoSuchExtension {
        /// The context.
        context: String,
        /// The dialled extension.
        exten: String,
    },
}
