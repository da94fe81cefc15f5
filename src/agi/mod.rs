//! The Asterisk Gateway Interface: a call hands itself to an outside program that drives it
//! with text commands, one per line, each answered by one result line.
//!
//! The protocol is sans-IO here: [`env`] (the `agi_*: value` header block a session opens
//! with), [`command`] (parsing a command line into a typed [`command::AgiCommand`]),
//! [`reply`] (the `200 result=...`, `510`, `511`, `520` lines), [`request`] (what `AGI(...)`
//! names: FastAGI, a local program or AsyncAGI) and [`lines`] (splitting a byte stream into
//! command lines). [`transport`] (edge) opens the FastAGI connection or spawns the program;
//! the call task's AGI loop (`call::agi`) carries the commands out.
//!
//! Wire behaviour follows Asterisk's `res_agi.c`: arguments split on blanks with `"` quoting
//! and `\` escapes, command words matched case-insensitively, `HANGUP` sent once to a FastAGI
//! or program peer when the caller hangs up, and the environment ended by a blank line.

pub mod command;
pub mod env;
pub mod event;
pub mod lines;
pub mod reply;
pub mod request;
pub mod say;
pub mod transport;
