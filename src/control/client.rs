//! `pbx ctl`: the operator's client of the admin API. Exit codes scripts can trust:
//! 0 success, 1 the pbx answered with an error, 3 the pbx could not be reached.

use std::fmt;

use serde::de::DeserializeOwned;

use super::api::TextReply;
use super::api::{DrainRequest, EndpointView, Health, Stats};
use super::channel_commands::{ContinueRequest, VariableReply};
use super::table;
use super::trace::TraceSettings;
use crate::call::command::PlaybackOperation;
use crate::call::originate::OriginateRequest;
use crate::channel::ChannelSnapshot;
use crate::events::{BridgeSnapshot, PlaybackSnapshot};
use crate::location::RegistrationView;
use crate::trunk::TrunkView;

/// Default admin API address, matching `[api] bind`'s default.
pub const DEFAULT_API_URL: &str = "http://127.0.0.1:8088";

/// Why a ctl command failed.
#[derive(Debug, thiserror::Error)]
pub enum CtlError {
    /// Nothing answered at the API address.
    #[error("cannot reach the pbx admin API at {url}: {reason}. Is pbx running, and is --api (or PBX_API) the [api] bind address?")]
    Unreachable {
        /// The API base URL.
        url: String,
        /// The connection error.
        reason: String,
    },
    /// The API answered with an error status.
    #[error("the pbx answered {status} for {path}: {body}")]
    Status {
        /// The request path.
        path: String,
        /// HTTP status.
        status: u16,
        /// Response body.
        body: String,
    },
    /// The answer was not the expected JSON (version mismatch between ctl and server).
    #[error("unexpected answer from {path}: {reason}")]
    Decode {
        /// The request path.
        path: String,
        /// The decoding error.
        reason: String,
    },
}

impl CtlError {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            CtlError::Unreachable { .. } => 3,
            CtlError::Status { .. } | CtlError::Decode { .. } => 1,
        }
    }
}

/// A client of one pbx's admin API.
#[derive(Debug, Clone)]
pub struct CtlClient {
    base: String,
    agent: ureq::Agent,
    token: Option<String>,
}

/// A command's result, printable as a table or as JSON.
pub struct Output {
    json: serde_json::Value,
    text: String,
}

impl Output {
    /// Renders for people or, with `json`, for scripts.
    pub fn render(&self, json: bool) -> String {
        if json {
            serde_json::to_string_pretty(&self.json).unwrap_or_default() + "\n"
        } else {
            self.text.clone()
        }
    }
}

/// `pbx ctl dialplan apps`: the dialplan apps compiled into this binary (the pbx it talks to
/// is the same program), each with its syntax and what it does.
pub fn dialplan_apps() -> Output {
    let apps = crate::dialplan::Dialplan::apps_help();
    let width = apps
        .iter()
        .map(|(_, syntax, _)| syntax.len())
        .max()
        .unwrap_or(0);
    let text = apps
        .iter()
        .map(|(_, syntax, doc)| format!("{syntax:<width$}  {doc}\n"))
        .collect();
    let json = apps
        .iter()
        .map(|(name, syntax, doc)| serde_json::json!({"name": name, "syntax": syntax, "doc": doc}))
        .collect();
    Output {
        json: serde_json::Value::Array(json),
        text,
    }
}

impl fmt::Debug for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl CtlClient {
    /// A client for the API at `base` (e.g. `http://127.0.0.1:8088`), presenting `token`
    /// (`[api] token`) when there is one.
    pub fn new(base: &str, token: Option<String>) -> CtlClient {
        CtlClient {
            base: base.trim_end_matches('/').to_string(),
            agent: ureq::AgentBuilder::new()
                .timeout(std::time::Duration::from_secs(5))
                .build(),
            token: token.filter(|t| !t.is_empty()),
        }
    }

    /// A request to `path` carrying the token.
    fn request(&self, method: &str, path: &str) -> ureq::Request {
        let request = self
            .agent
            .request(method, &format!("{}{}", self.base, path));
        match &self.token {
            Some(token) => request.set("Authorization", &format!("Bearer {token}")),
            None => request,
        }
    }

    fn get<T: DeserializeOwned>(&self, path: &str) -> Result<(T, serde_json::Value), CtlError> {
        self.call(self.request("GET", path), path)
    }

    fn delete<T: DeserializeOwned>(&self, path: &str) -> Result<(T, serde_json::Value), CtlError> {
        self.call(self.agent.delete(&format!("{}{}", self.base, path)), path)
    }

    fn post<T: DeserializeOwned>(&self, path: &str) -> Result<(T, serde_json::Value), CtlError> {
        self.call(self.request("POST", path), path)
    }

    fn post_json<T: DeserializeOwned>(
        &self,
        path: &str,
        body: serde_json::Value,
    ) -> Result<(T, serde_json::Value), CtlError> {
        let request = self.request("POST", path);
        self.call_with(request, path, Some(body))
    }

    fn call<T: DeserializeOwned>(
        &self,
        request: ureq::Request,
        path: &str,
    ) -> Result<(T, serde_json::Value), CtlError> {
        self.call_with(request, path, None)
    }

    fn call_with<T: DeserializeOwned>(
        &self,
        request: ureq::Request,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Result<(T, serde_json::Value), CtlError> {
        let sent = match body {
            Some(body) => request.send_json(body),
            None => request.call(),
        };
        let response = match sent {
            Ok(response) => response,
            Err(ureq::Error::Status(status, response)) => {
                return Err(CtlError::Status {
                    path: path.into(),
                    status,
                    body: response.into_string().unwrap_or_default(),
                })
            }
            Err(ureq::Error::Transport(t)) => {
                return Err(CtlError::Unreachable {
                    url: self.base.clone(),
                    reason: t.to_string(),
                })
            }
        };
        let value: serde_json::Value = response.into_json().map_err(|e| CtlError::Decode {
            path: path.into(),
            reason: e.to_string(),
        })?;
        let typed = serde_json::from_value(value.clone()).map_err(|e| CtlError::Decode {
            path: path.into(),
            reason: e.to_string(),
        })?;
        Ok((typed, value))
    }

    /// `pbx ctl registrations`: the operator's `pjsip show aors`.
    pub fn registrations(&self) -> Result<Output, CtlError> {
        let (views, json): (Vec<RegistrationView>, _) = self.get("/api/registrations")?;
        let rows: Vec<Vec<String>> = views
            .iter()
            .map(|v| {
                vec![
                    v.aor.clone(),
                    v.contact.clone(),
                    v.source.to_string(),
                    v.user_agent.clone().unwrap_or_else(|| "-".into()),
                    format!("{}s", v.expires_in),
                    match v.rtt_ms {
                        Some(rtt) => format!("{} ({rtt} ms)", v.reachability),
                        None => v.reachability.clone(),
                    },
                ]
            })
            .collect();
        let mut text = table::render(
            &[
                "AOR",
                "CONTACT",
                "SOURCE",
                "USER AGENT",
                "EXPIRES IN",
                "STATUS",
            ],
            &rows,
        );
        text.push_str(&format!("{} registered contact(s)\n", views.len()));
        Ok(Output { json, text })
    }

    /// `pbx ctl health`.
    pub fn health(&self) -> Result<Output, CtlError> {
        let (health, json): (Health, _) = self.get("/api/health")?;
        let text = format!(
            "{} (pbx {}, up {} s)\n",
            health.status, health.version, health.uptime_secs
        );
        Ok(Output { json, text })
    }

    /// `pbx ctl version`: the server's version next to this client's.
    pub fn version(&self) -> Result<Output, CtlError> {
        let (value, json): (serde_json::Value, _) = self.get("/api/version")?;
        let server = value["version"].as_str().unwrap_or("unknown");
        let text = format!("pbx server {server}, ctl {}\n", env!("CARGO_PKG_VERSION"));
        Ok(Output { json, text })
    }

    /// `pbx ctl channels`: live channels (every leg of every call).
    pub fn channels(&self) -> Result<Output, CtlError> {
        let (channels, json): (Vec<ChannelSnapshot>, _) = self.get("/api/channels")?;
        let rows: Vec<Vec<String>> = channels
            .iter()
            .map(|c| {
                vec![
                    c.id.to_string(),
                    c.name.clone(),
                    c.state.as_str().to_string(),
                    c.caller.number.clone(),
                    c.connected.number.clone(),
                    format!(
                        "{},{},{} {}({})",
                        c.dialplan.context,
                        c.dialplan.exten,
                        c.dialplan.priority,
                        c.dialplan.app_name,
                        c.dialplan.app_data
                    ),
                    format!("{}s", c.duration_secs),
                    c.codec.clone().unwrap_or_else(|| "-".into()),
                    format!("{}/{}", c.media.packets_in, c.media.packets_out),
                    c.media.lost.to_string(),
                    format!("{:.1}", c.media.jitter_ms),
                ]
            })
            .collect();
        let mut text = table::render(
            &[
                "ID",
                "NAME",
                "STATE",
                "CALLER",
                "CONNECTED",
                "DIALPLAN",
                "DURATION",
                "CODEC",
                "PKTS IN/OUT",
                "LOST",
                "JITTER MS",
            ],
            &rows,
        );
        text.push_str(&format!("{} active channel(s)\n", channels.len()));
        Ok(Output { json, text })
    }

    /// `pbx ctl bridges`: live bridges and their members.
    pub fn bridges(&self) -> Result<Output, CtlError> {
        let (bridges, json): (Vec<BridgeSnapshot>, _) = self.get("/api/bridges")?;
        let rows: Vec<Vec<String>> = bridges
            .iter()
            .map(|b| {
                let members: Vec<&str> = b.channels.iter().map(|c| c.0.as_str()).collect();
                vec![
                    b.id.clone(),
                    b.bridge_type.clone(),
                    if b.name.is_empty() {
                        "-".into()
                    } else {
                        b.name.clone()
                    },
                    members.join(","),
                ]
            })
            .collect();
        let mut text = table::render(&["ID", "TYPE", "NAME", "CHANNELS"], &rows);
        text.push_str(&format!("{} active bridge(s)\n", bridges.len()));
        Ok(Output { json, text })
    }

    /// `pbx ctl events [--since SEQ]`: follows the event stream, writing each event to `out`
    /// as one JSON line, until the server closes the stream.
    pub fn events(
        &self,
        since: Option<u64>,
        out: &mut impl std::io::Write,
    ) -> Result<(), CtlError> {
        let ws_base = self
            .base
            .replacen("https://", "wss://", 1)
            .replacen("http://", "ws://", 1);
        let url = match since {
            Some(seq) => format!("{ws_base}/api/events?since={seq}"),
            None => format!("{ws_base}/api/events"),
        };
        let mut request = tungstenite::client::IntoClientRequest::into_client_request(url.as_str())
            .map_err(|e| CtlError::Unreachable {
                url: self.base.clone(),
                reason: e.to_string(),
            })?;
        if let Some(value) = self
            .token
            .as_ref()
            .and_then(|t| format!("Bearer {t}").parse().ok())
        {
            request.headers_mut().insert("Authorization", value);
        }
        let (mut socket, _) = tungstenite::connect(request).map_err(|e| match e {
            tungstenite::Error::Http(response) => CtlError::Status {
                path: "/api/events".into(),
                status: response.status().as_u16(),
                body: String::new(),
            },
            other => CtlError::Unreachable {
                url: self.base.clone(),
                reason: other.to_string(),
            },
        })?;
        loop {
            match socket.read() {
                Ok(tungstenite::Message::Text(text)) => {
                    if writeln!(out, "{}", text.as_str())
                        .and_then(|()| out.flush())
                        .is_err()
                    {
                        return Ok(());
                    }
                }
                Ok(tungstenite::Message::Close(_))
                | Err(tungstenite::Error::ConnectionClosed)
                | Err(tungstenite::Error::AlreadyClosed) => return Ok(()),
                Ok(_) => {}
                Err(e) => {
                    return Err(CtlError::Unreachable {
                        url: self.base.clone(),
                        reason: e.to_string(),
                    })
                }
            }
        }
    }

    /// `pbx ctl dialplan show [context]`.
    pub fn dialplan_show(&self, context: Option<&str>) -> Result<Output, CtlError> {
        let path = match context {
            Some(c) => format!("/api/dialplan?context={c}"),
            None => "/api/dialplan".into(),
        };
        let (listing, json): (TextReply, _) = self.get(&path)?;
        Ok(Output {
            json,
            text: listing.text,
        })
    }

    /// `pbx ctl endpoints`: configured accounts and how many devices are registered.
    pub fn endpoints(&self) -> Result<Output, CtlError> {
        let (endpoints, json): (Vec<EndpointView>, _) = self.get("/api/endpoints")?;
        let rows: Vec<Vec<String>> = endpoints
            .iter()
            .map(|e| {
                vec![
                    e.user.clone(),
                    e.context.clone(),
                    e.codecs.join(","),
                    format!("{}/{}", e.registered, e.max_contacts),
                ]
            })
            .collect();
        Ok(Output {
            json,
            text: table::render(&["ENDPOINT", "CONTEXT", "CODECS", "REGISTERED"], &rows),
        })
    }

    /// `pbx ctl sip trace on|off [--filter user|ip]`.
    pub fn sip_trace(&self, on: bool, filter: Option<String>) -> Result<Output, CtlError> {
        let body = serde_json::json!({ "on": on, "filter": filter });
        let (settings, json): (TraceSettings, _) = self.post_json("/api/sip/trace", body)?;
        let text = match (settings.on, settings.filter) {
            (false, _) => "SIP trace off\n".to_string(),
            (true, None) => "SIP trace on: every message is logged\n".to_string(),
            (true, Some(f)) => format!("SIP trace on for {f}\n"),
        };
        Ok(Output { json, text })
    }

    /// `pbx ctl bans`: the sources banned for failing authentication, with what is left.
    pub fn bans(&self) -> Result<Output, CtlError> {
        let (bans, json): (Vec<crate::events::SourceBan>, _) = self.get("/api/bans")?;
        let rows: Vec<Vec<String>> = bans
            .iter()
            .map(|b| {
                vec![
                    b.address.clone(),
                    b.failures.to_string(),
                    b.offences.to_string(),
                    format!("{}s", b.ban_secs),
                    format!("{}s", b.remaining_secs),
                ]
            })
            .collect();
        let text = table::render(
            &["ADDRESS", "FAILURES", "OFFENCES", "BAN", "REMAINING"],
            &rows,
        );
        Ok(Output { json, text })
    }

    /// `pbx ctl unban ADDR`: lifts the ban of one address.
    pub fn unban(&self, address: &str) -> Result<Output, CtlError> {
        let (reply, json): (TextReply, _) =
            self.delete(&format!("/api/bans/{}", path_key(address)))?;
        Ok(Output {
            json,
            text: reply.text,
        })
    }

    /// `pbx ctl trunks`: registration state per trunk, like `pjsip show registrations`.
    pub fn trunks(&self) -> Result<Output, CtlError> {
        let (trunks, json): (Vec<TrunkView>, _) = self.get("/api/trunks")?;
        let secs = |v: Option<u64>| v.map_or_else(|| "-".to_string(), |s| format!("{s}s"));
        let rows: Vec<Vec<String>> = trunks
            .iter()
            .map(|t| {
                vec![
                    t.name.clone(),
                    t.state.clone(),
                    secs(t.since_secs),
                    secs(t.next_in_secs),
                    t.last_response.clone().unwrap_or_else(|| "-".into()),
                    t.failures.to_string(),
                ]
            })
            .collect();
        let text = table::render(
            &[
                "TRUNK",
                "STATE",
                "SINCE",
                "NEXT",
                "LAST RESPONSE",
                "FAILURES",
            ],
            &rows,
        );
        Ok(Output { json, text })
    }

    /// `pbx ctl hangup CHANNEL [--reason R]`: by id (`1764684060.1`) or name
    /// (`PJSIP/6001-00000000`); `reason` is a Q.850 cause number or a name (`busy`...).
    pub fn hangup(&self, channel: &str, reason: Option<&str>) -> Result<Output, CtlError> {
        let mut path = format!("/api/channels/{}/hangup", path_key(channel));
        if let Some(reason) = reason {
            path = format!("{path}?reason={reason}");
        }
        let (outcome, json): (TextReply, _) = self.post(&path)?;
        Ok(Output {
            json,
            text: outcome.text + "\n",
        })
    }

    /// `pbx ctl originate ENDPOINT --context C --exten E`: places a call and prints the
    /// ringing channel.
    pub fn originate(&self, request: &OriginateRequest) -> Result<Output, CtlError> {
        let body = serde_json::to_value(request).unwrap_or_default();
        let (channel, json): (ChannelSnapshot, _) = self.post_json("/api/originate", body)?;
        let text = format!(
            "{} {} calling {}; on answer it runs {},{},1\n",
            channel.id, channel.name, request.endpoint, request.context, request.exten
        );
        Ok(Output { json, text })
    }

    /// `pbx ctl continue CHANNEL CONTEXT EXTEN [PRIORITY]`: the channel leaves its app and
    /// continues in the dialplan there.
    pub fn continue_at(
        &self,
        channel: &str,
        request: &ContinueRequest,
    ) -> Result<Output, CtlError> {
        let body = serde_json::to_value(request).unwrap_or_default();
        let path = format!("/api/channels/{}/continue", path_key(channel));
        let (outcome, json): (TextReply, _) = self.post_json(&path, body)?;
        Ok(Output {
            json,
            text: outcome.text + "\n",
        })
    }

    /// `pbx ctl getvar CHANNEL NAME` and `pbx ctl setvar CHANNEL NAME VALUE`.
    pub fn variable(
        &self,
        channel: &str,
        name: &str,
        value: Option<&str>,
    ) -> Result<Output, CtlError> {
        let path = format!("/api/channels/{}/variable", path_key(channel));
        let (reply, json): (VariableReply, _) = match value {
            Some(value) => {
                let body = serde_json::json!({ "name": name, "value": value });
                self.post_json(&path, body)?
            }
            None => self.get(&format!("{path}?name={}", query_value(name)))?,
        };
        let text = match reply.value {
            Some(value) => format!("{}={value}\n", reply.name),
            None => format!("{} is not set\n", reply.name),
        };
        Ok(Output { json, text })
    }

    /// `pbx ctl dtmf CHANNEL DIGITS`: sends key presses to the channel's peer.
    pub fn dtmf(&self, channel: &str, digits: &str) -> Result<Output, CtlError> {
        let path = format!("/api/channels/{}/dtmf", path_key(channel));
        let body = serde_json::json!({ "digits": digits });
        let (outcome, json): (TextReply, _) = self.post_json(&path, body)?;
        Ok(Output {
            json,
            text: outcome.text + "\n",
        })
    }

    /// POSTs `body` to `path`, whose answer is a [`TextReply`] printed as it is.
    fn text_command(&self, path: &str, body: serde_json::Value) -> Result<Output, CtlError> {
        let (outcome, json): (TextReply, _) = self.post_json(path, body)?;
        Ok(Output {
            json,
            text: outcome.text + "\n",
        })
    }

    /// `pbx ctl answer|ring|progress CHANNEL` (a channel in `Stasis`).
    pub fn signal(&self, channel: &str, what: &str) -> Result<Output, CtlError> {
        let path = format!("/api/channels/{}/{what}", path_key(channel));
        self.text_command(&path, serde_json::json!({}))
    }

    /// `pbx ctl play CHANNEL MEDIA... [--id ID]`: prints the playback's id and state.
    pub fn play(
        &self,
        channel: &str,
        media: &[String],
        playback_id: Option<&str>,
    ) -> Result<Output, CtlError> {
        let path = format!("/api/channels/{}/play", path_key(channel));
        let body = serde_json::json!({ "media": media, "playback_id": playback_id });
        let (playback, json): (PlaybackSnapshot, _) = self.post_json(&path, body)?;
        Ok(Output {
            json,
            text: playback_line(&playback),
        })
    }

    /// `pbx ctl playback stop|pause|unpause|restart ID`.
    pub fn playback(&self, id: &str, operation: PlaybackOperation) -> Result<Output, CtlError> {
        let path = format!("/api/playbacks/{}/control", path_key(id));
        let body = serde_json::json!({ "operation": operation });
        let (playback, json): (PlaybackSnapshot, _) = self.post_json(&path, body)?;
        Ok(Output {
            json,
            text: playback_line(&playback),
        })
    }

    /// `pbx ctl bridge create [--type mixing|holding] [--name NAME]`: prints the new id.
    pub fn bridge_create(&self, bridge_type: &str, name: &str) -> Result<Output, CtlError> {
        let body = serde_json::json!({ "type": bridge_type, "name": name });
        let (bridge, json): (BridgeSnapshot, _) = self.post_json("/api/bridges", body)?;
        let text = format!("{} {} bridge created\n", bridge.id, bridge.bridge_type);
        Ok(Output { json, text })
    }

    /// `pbx ctl bridge add|remove BRIDGE CHANNEL`.
    pub fn bridge_member(
        &self,
        bridge: &str,
        what: &str,
        channel: &str,
    ) -> Result<Output, CtlError> {
        let path = format!("/api/bridges/{}/{what}", path_key(bridge));
        self.text_command(&path, serde_json::json!({ "channel": channel }))
    }

    /// `pbx ctl bridge destroy BRIDGE`: its members stay up.
    pub fn bridge_destroy(&self, bridge: &str) -> Result<Output, CtlError> {
        let path = format!("/api/bridges/{}", path_key(bridge));
        let request = self.request("DELETE", &path);
        let (outcome, json): (TextReply, _) = self.call(request, &path)?;
        Ok(Output {
            json,
            text: outcome.text + "\n",
        })
    }

    /// `pbx ctl drain`: refuse new calls, exit once the calls in progress end (or after
    /// `grace_secs`).
    pub fn drain(&self, grace_secs: Option<u64>) -> Result<Output, CtlError> {
        let body = serde_json::to_value(DrainRequest { grace_secs }).unwrap_or_default();
        let (outcome, json): (TextReply, _) = self.post_json("/api/drain", body)?;
        Ok(Output {
            json,
            text: outcome.text,
        })
    }

    /// `pbx ctl dialplan reload`.
    pub fn dialplan_reload(&self) -> Result<Output, CtlError> {
        let (outcome, json): (TextReply, _) = self.post("/api/dialplan/reload")?;
        Ok(Output {
            json,
            text: outcome.text + "\n",
        })
    }

    /// `pbx ctl stats`: transport counters.
    pub fn stats(&self) -> Result<Output, CtlError> {
        let (stats, json): (Stats, _) = self.get("/api/stats")?;
        let s = stats.sip;
        let rows = vec![
            vec!["sip received".into(), s.received.to_string()],
            vec!["sip sent".into(), s.sent.to_string()],
            vec!["sip send errors".into(), s.send_errors.to_string()],
            vec!["dropped oversized".into(), s.dropped_oversized.to_string()],
            vec![
                "dropped unparsable".into(),
                s.dropped_unparsable.to_string(),
            ],
            vec!["answered 400".into(), s.bad_requests.to_string()],
            vec!["keep-alives".into(), s.keepalives.to_string()],
            vec!["registrations".into(), stats.registrations.to_string()],
            vec!["calls active".into(), stats.calls_active.to_string()],
            vec!["calls total".into(), stats.calls_total.to_string()],
            vec!["channels active".into(), stats.channels_active.to_string()],
            vec!["bridges active".into(), stats.bridges_active.to_string()],
            vec![
                "rtp ports in use".into(),
                stats.rtp_ports_in_use.to_string(),
            ],
        ];
        Ok(Output {
            json,
            text: table::render(&["COUNTER", "VALUE"], &rows),
        })
    }
}

/// A channel id or name as one path segment (`PJSIP/6001-00000000` has a `/`).
/// One line about a playback: its id, state and media.
fn playback_line(playback: &PlaybackSnapshot) -> String {
    let state = serde_json::to_value(playback.state).unwrap_or_default();
    format!(
        "playback {} {} {}\n",
        playback.id,
        state.as_str().unwrap_or_default(),
        playback.media_uri.join(" ")
    )
}

fn path_key(channel: &str) -> String {
    channel.replace('%', "%25").replace('/', "%2F")
}

/// A query parameter value with the characters that would end or split it escaped.
fn query_value(value: &str) -> String {
    value
        .replace('%', "%25")
        .replace('&', "%26")
        .replace('#', "%23")
        .replace('+', "%2B")
        .replace(' ', "%20")
}
