//! pbx: a single-binary SIP/RTP PBX.
//!
//! Module map (see `DESIGN.md` in the shared docs for the architecture):
//! - [`agi`]: sans-IO Asterisk Gateway Interface: environment, command lines, result lines; FastAGI
//!   and program pipes.
//! - [`ami`]: edge: the Asterisk Manager Interface (TCP, `[ami]`): actions and events as Asterisk speaks them.
//! - [`astdb`]: edge: the `family/key` database (AstDB) AMI and AGI read and write, saved as JSON.
//! - [`ari`]: edge: the Asterisk REST Interface (`/ari`, `[ari]`): Swagger docs, operations, the event WebSocket.
//! - [`bans`]: edge: the shared table of banned sources and locked accounts (brute-force defence).
//! - [`bridge`]: edge: bridges (sets of channels exchanging media), listed and published.
//! - [`call`]: edge: one task per call: the UAS leg, its media and its dialplan run.
//! - [`channel`]: edge: channels (every leg of a call): ids, names, states, the live registry.
//! - [`drain`]: edge: the drain switch of a node leaving a cluster (503 to OPTIONS and new calls).
//! - [`config`]: `pbx.toml` loading, `${VAR}` substitution, validation with file:line:col errors.
//! - [`sip`]: sans-IO SIP core: message parsing, transactions (RFC 3261 §17), digest auth, registrar rules.
//! - [`sdp`]: sans-IO SDP offer/answer for audio legs.
//! - [`esl`]: the FreeSWITCH event socket: sans-IO requests, commands, apps, events and frames;
//!   the outbound session's connection.
//! - [`events`]: the one typed, sequenced event stream, in a bounded window readers cannot block.
//! - [`dialplan`]: sans-IO dialplan: TOML loading with file:line errors, patterns, apps, per-call interpreter.
//! - [`metrics`]: edge: Prometheus `GET /metrics`: an event-stream consumer plus counters read at
//!   scrape time, in the text format written here.
//! - [`media`]: sans-IO media engine: RTP, G.711, jitter buffer, RFC 4733 DTMF, prompt playback,
//!   music on hold, ptime, mixing.
//! - [`transport`]: edge: UDP sockets carrying SIP.
//! - [`location`]: edge: address-of-record -> contact bindings store, persisted.
//! - [`location_proxy`]: edge: `[location] mode = "proxy"`: endpoints reached through the proxy.
//! - [`qualify`]: edge: OPTIONS pings to registered contacts (NAT keep-alive, reachability).
//! - [`registration`]: edge: answers REGISTER (digest auth, binding rules, response).
//! - [`router`]: edge: dispatch of incoming SIP requests to the registrar, OPTIONS and calls.
//! - [`stasis_apps`]: edge: the Stasis applications ARI WebSockets hold, which `Stasis(app)` checks.
//! - [`server`]: edge: start-up, task supervision and shutdown.
//! - [`control`]: edge: admin HTTP API used by `pbx ctl`.
//! - [`tts`]: edge: text to speech: the configured engine run without a shell, resampled to
//!   8 kHz, cached by (engine, voice, text).
//! - [`trunk`]: edge: SIP provider accounts: outgoing calls, recognising incoming ones.

#![warn(missing_docs)]

pub mod agi;
pub mod ami;
pub mod ari;
pub mod astdb;
pub mod bans;
pub mod bridge;
pub mod call;
pub mod channel;
pub mod config;
pub mod control;
pub mod dialplan;
pub mod drain;
pub mod esl;
pub mod events;
pub mod location;
pub mod location_proxy;
pub mod media;
pub mod metrics;
pub mod qualify;
pub mod registration;
pub mod router;
pub mod sdp;
pub mod server;
pub mod sip;
pub mod stasis_apps;
pub mod transport;
pub mod trunk;
pub mod tts;
