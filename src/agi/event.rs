//! What an AGI session publishes on the event stream (rendered for AMI as `AGIExecStart`,
//! `AGIExecEnd`, `AsyncAGIStart`, `AsyncAGIExec` and `AsyncAGIEnd`).

use serde::Serialize;

/// One AGI happening on a channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "agi")]
pub enum AgiEvent {
    /// A command started (`AGIExecStart`).
    ExecStart {
        /// A number identifying the command within the session.
        command_id: String,
        /// The command line.
        command: String,
    },
    /// A command ended (`AGIExecEnd`).
    ExecEnd {
        /// As in [`AgiEvent::ExecStart`].
        command_id: String,
        /// The command line.
        command: String,
        /// 200, 510, 511 or 520.
        result_code: u16,
        /// `Success`, or the error's text.
        result: String,
    },
    /// An AsyncAGI session started (`AsyncAGIStart`), with the environment URL-encoded.
    AsyncStart {
        /// The environment block, URL-encoded.
        env: String,
    },
    /// An AsyncAGI command was carried out (`AsyncAGIExec`).
    AsyncExec {
        /// The `CommandID` the `AGI` action gave, if any.
        command_id: Option<String>,
        /// The result line, URL-encoded.
        result: String,
    },
    /// An AsyncAGI session ended (`AsyncAGIEnd`).
    AsyncEnd,
}
