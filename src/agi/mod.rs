//! The Asterisk Gateway Interface: a call hands itself to an outside program that drives it
//! with text commands, one per line, each answered by one result line.
//!
//! The protocol is sans-IO here: [`env`] (the `agi_*: value` header block a session opens
//! with), [`command`] (parsing a command line into a typed [`command::AgiCommand`]),
//! [`reply`] (the `200 result=...`, `510`, `511`, `520` lines), [`request`] (what `AGI(...)`
//! names: FastAGI, a local program or AsyncAGI), [`lines`] (splitting a byte stream into
//! command lines) and [`event`] (what
//! a session publishes on the event stream). [`transport`] (edge) opens the FastAGI
//! connection or spawns the program; the call task's AGI loop (`call::agi`) carries the
//! commands out.
//!
//! Wire behaviour follows Asterisk's `res_agi.c`: arguments split on blanks with `"` quoting
//! and `\` escapes, command words matched case-insensitively, `HANGUP` sent once to a FastAGI
//! or program peer when the caller hangs up, and the environment ended by a blank line.
//!
//! # Where we knowingly differ from Asterisk (the quirks, in one place)
//! - `agi_enhanced` is always `0.0` (no EAGI audio on fd 3); `agi_callingpres`, `ani2`, `ton`
//!   and `tns` are 0; `agi_threadid` is the call's id; `agi_accountcode` is empty.
//! - SAY NUMBER falls back to digit by digit when the prompts for its words are missing (the
//!   built-in prompts have only `digits/0`-`digits/9`); SAY ALPHA skips characters without a
//!   prompt.
//! - CONTROL STREAM FILE plays like STREAM FILE: no fast-forward, rewind or pause keys.
//! - SET PRIORITY takes a number, not a label; SET CONTEXT / EXTENSION / PRIORITY take effect
//!   when the session ends (as Asterisk's do, since its dialplan resumes then).
//! - EXEC runs apps that need no dialplan position (Playback, Wait, Dial, ConfBridge, Set...);
//!   Goto, GotoIf, Read and AGI answer -1.
//! - `AGI()` in the `h` extension (after the hangup) does not run: `${AGISTATUS}` = HANGUP.
//! - Commands sent with the AMI `AGI` action while no AsyncAGI runs are refused (Asterisk
//!   refuses them too); those still queued when AsyncAGI ends are dropped, not kept for a
//!   later AsyncAGI on the channel.
//! - RECORD FILE writes wav only (another format answers `-1 (writefile)`) and refuses an
//!   offset into an existing file (appending).
//! - Not implemented: SAY PHONETIC / DATE / TIME / DATETIME, SEND TEXT / IMAGE,
//!   RECEIVE CHAR / TEXT, TDD MODE, SET MUSIC, SPEECH *, GOSUB (all answered 510).

pub mod command;
pub mod env;
pub mod event;
pub mod lines;
pub mod reply;
pub mod request;
pub mod session;
pub mod transport;
