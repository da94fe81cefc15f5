//! The FreeSWITCH event socket ("ESL"): a call hands itself to an outside application that
//! drives it (outbound mode, `Socket(host:port[,async][,full])`), and operators connect to
//! `[event_socket]` for events and commands (inbound mode).
//!
//! The protocol is sans-IO here: [`request`] (splitting a client's bytes into requests),
//! [`command`] (typing them), [`sendmsg`] (`call-command: execute / hangup`), [`app`] (the
//! apps an application runs, FreeSWITCH's names and arguments), [`playback`] (what
//! `playback` can play), [`event`] (an event's headers, plain and JSON), [`subscription`]
//! (which events a session gets), [`channel_data`] (the channel header set), [`frame`]
//! (what the PBX writes), [`url`] (FreeSWITCH's URL-encoding of header values), [`cause`]
//! (hangup cause names), [`names`] (the PBX's events under FreeSWITCH's names), [`api`]
//! (`api`/`bgapi` command lines) and [`target`] (`Socket(...)`'s argument). [`outbound`]
//! (edge) runs an outbound session's connection, the call task's side (`call::esl`)
//! carrying the apps out; [`inbound`] (edge) is the `[event_socket]` listener, [`inbound_api`] (edge) its API commands.
//!
//! Wire behaviour follows `mod_event_socket.c` and the library code of greenswitch and
//! modesl: replies framed as `command/reply` with `Reply-Text`, header values URL-encoded,
//! events as `text/event-plain` / `text/event-json` with a `Content-Length`, then the
//! disconnect notice.
//!
//! # Where we knowingly differ from FreeSWITCH (the quirks, in one place)
//! - `Unique-ID` is the PBX's channel id (`1700000000.1`), not a UUID; `Channel-Name` is the
//!   PBX's channel name (`PJSIP/provider-00000001`), not `sofia/...`.
//! - Every session runs its apps one at a time in order, so `event-lock` changes nothing;
//!   without `async`, a `sendmsg` is answered once its app has run.
//! - `export` sets the variable on the channel only (there is no other leg to copy it to
//!   until a `bridge`); `park` holds the channel in silence until the next message.
//! - `playback` plays 8 kHz WAV prompts and paths; `tone_stream://` reads only
//!   `%(on,off,freq[,freq2])[;loops=N]`.
//! - `Event-Date-Local` is UTC. `xml` event format, `log`, `nolog`, `sendevent`,
//!   `divert_events` and the `unicast`, `nomedia` and `xferext` call commands are refused
//!   with `-ERR`.
//! - Inbound events carry no `variable_*` headers (the variables live in the call task);
//!   `originate` answers once the channel is answered (`+OK UUID`), takes
//!   `{origination_uuid=...}` as the new channel's id (only the first contact rings), does
//!   not take `&app(args)`, and runs the extension in the endpoint's own context unless one
//!   is given.
//! - `bridge` takes `user/USER`, `sofia/gateway/TRUNK/NUMBER` (or the PBX's own
//!   `endpoint/...`, `trunk/...`), several separated by `,`; `|` (one after another) is
//!   refused.

pub mod api;
pub mod app;
pub mod cause;
pub mod channel_data;
pub mod command;
pub mod event;
pub mod frame;
pub mod inbound;
pub mod inbound_api;
pub mod names;
pub mod outbound;
pub mod playback;
pub mod request;
pub mod sendmsg;
pub mod subscription;
pub mod target;
pub mod url;
