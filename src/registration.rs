//! Answers REGISTER (edge glue): digest authentication (RFC 3261 §22), the §10.3 rules in
//! [`crate::sip::registrar`] applied through the [`Location`] store, and the response. Runs
//! inline on the SIP task: a registration costs one parse, one MD5 round and a map update, no
//! task hand-off.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Instant;

use bytes::Bytes;

use crate::bans::{AuthKind, Bans};
use crate::config::Config;
use crate::location::{Location, Registered};
use crate::sip::auth::{DigestCredentials, RejectReason, ServerAuth, Verdict};
use crate::sip::header::NameAddr;
use crate::sip::message::{reason_phrase, HeaderName, MessageWriter, SipMessage};
use crate::sip::registrar::{
    ContactSpec, ExpiryPolicy, RegisterAction, RegisterError, RegisterRequest,
};

/// Most nonces kept at once; beyond it the oldest are forgotten (their phones re-authenticate).
const MAX_NONCES: usize = 100_000;

/// The credentials and limits of one endpoint.
#[derive(Debug, Clone)]
struct Account {
    password: String,
    max_contacts: usize,
}

/// REGISTER handling state: accounts, nonces and the binding policy.
#[derive(Debug)]
pub struct Registration {
    accounts: HashMap<String, Account>,
    auth: ServerAuth,
    policy: ExpiryPolicy,
    location: Location,
    user_agent: String,
    bans: Bans,
}

/// The result of authenticating a request against the endpoints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthOutcome {
    /// The request carries valid credentials of this endpoint user.
    Authenticated(String),
    /// The request must be answered with this challenge response (401 or 407).
    Challenge(Bytes),
}

impl Registration {
    /// Builds the service from the config's endpoints and registrar section.
    pub fn new(config: &Config, location: Location, bans: Bans) -> Registration {
        let accounts = config
            .endpoints
            .iter()
            .map(|e| {
                (
                    e.user.get_ref().clone(),
                    Account {
                        password: e.password.get_ref().clone(),
                        max_contacts: e.max_contacts,
                    },
                )
            })
            .collect();
        let reg = &config.registrar;
        Registration {
            accounts,
            auth: ServerAuth::new(
                config.sip.realm.clone(),
                config.nonce_lifetime(),
                MAX_NONCES,
            ),
            policy: ExpiryPolicy {
                min: *reg.min_expires.get_ref(),
                max: *reg.max_expires.get_ref(),
                default: *reg.default_expires.get_ref(),
            },
            location,
            user_agent: config.sip.user_agent.clone(),
            bans,
        }
    }

    /// Authenticates `request` with digest. `proxy` selects 407/Proxy-Authorization (INVITE)
    /// instead of 401/Authorization (REGISTER). Wrong password and unknown user get the same
    /// fresh challenge, so users cannot be enumerated; failures are logged with the source.
    pub fn authenticate(
        &mut self,
        request: &SipMessage,
        source: SocketAddr,
        proxy: bool,
        now: Instant,
    ) -> AuthOutcome {
        let (header, status, challenge_header) = if proxy {
            (HeaderName::ProxyAuthorization, 407, "Proxy-Authenticate")
        } else {
            (HeaderName::Authorization, 401, "WWW-Authenticate")
        };
        let method = request.method_token().unwrap_or_default();
        let mut stale = false;
        let credentials = request
            .header_occurrences(header)
            .find_map(|value| DigestCredentials::parse(value).ok());
        if let Some(credentials) = credentials {
            let password = self
                .accounts
                .get(&credentials.username)
                .map(|a| a.password.as_str());
            let locked = self.bans.is_locked(&credentials.username, now);
            match self.auth.verify(&credentials, method, password, now) {
                Verdict::Authenticated if locked => {
                    tracing::warn!(%source, user = %credentials.username, %method, "account locked out: challenged again");
                }
                Verdict::Authenticated => {
                    self.bans.auth_succeeded(source);
                    return AuthOutcome::Authenticated(credentials.username);
                }
                Verdict::Stale => stale = true,
                Verdict::Rejected(RejectReason::UnknownNonce) => {
                    tracing::debug!(%source, user = %credentials.username, "nonce not issued by this instance: new challenge");
                }
                Verdict::Rejected(
                    reason @ (RejectReason::WrongPassword | RejectReason::UnknownUser),
                ) => {
                    tracing::debug!(%source, user = %credentials.username, ?reason, %method, "authentication failed");
                    let from = request.header(HeaderName::From).unwrap_or_default();
                    let kind = if proxy {
                        AuthKind::Call
                    } else {
                        AuthKind::Registration
                    };
                    self.bans
                        .auth_failed(source, &credentials.username, from, kind, now);
                }
                Verdict::Rejected(reason) => {
                    tracing::warn!(%source, user = %credentials.username, ?reason, %method, "authentication failed");
                }
            }
        }
        let challenge = self.auth.challenge(now, stale);
        let response = MessageWriter::response(
            request,
            status,
            reason_phrase(status),
            Some(&random_tag()),
            source,
        )
        .header(challenge_header, challenge.to_header_value())
        .header("Server", &self.user_agent)
        .finish();
        AuthOutcome::Challenge(response)
    }

    /// Answers a REGISTER: challenge, apply, or refuse. Returns the status and the response
    /// to send.
    pub fn handle_register(
        &mut self,
        request: &SipMessage,
        source: SocketAddr,
        now: Instant,
    ) -> (u16, Bytes) {
        let user = match self.authenticate(request, source, false, now) {
            AuthOutcome::Challenge(response) => return (401, response),
            AuthOutcome::Authenticated(user) => user,
        };
        self.register_as(&user, request, source, now)
    }

    /// Answers a REGISTER a trusted proxy relayed (it authenticated the phone): the To user
    /// is the address of record, which must be a configured endpoint (404 otherwise, RFC
    /// 3261 §10.3 step 3).
    pub fn handle_trusted_register(
        &mut self,
        request: &SipMessage,
        source: SocketAddr,
        now: Instant,
    ) -> (u16, Bytes) {
        let aor = request
            .to_header()
            .ok()
            .and_then(|to| to.sip_uri().ok().and_then(|u| u.user.map(str::to_string)));
        match aor {
            Some(user) if self.accounts.contains_key(&user) => {
                self.register_as(&user, request, source, now)
            }
            _ => self.reply(request, source, 404, &[]),
        }
    }

    /// Applies a REGISTER of endpoint `user` (authenticated, or vouched for by a trusted
    /// proxy) to its own address of record.
    fn register_as(
        &mut self,
        user: &str,
        request: &SipMessage,
        source: SocketAddr,
        now: Instant,
    ) -> (u16, Bytes) {
        let user = user.to_string();
        let aor = request
            .to_header()
            .ok()
            .and_then(|to| to.sip_uri().ok().and_then(|u| u.user.map(str::to_string)));
        if aor.as_deref() != Some(user.as_str()) {
            tracing::warn!(%source, %user, aor = ?aor, "REGISTER for another user's address refused");
            return self.reply(request, source, 403, &[]);
        }
        let register = match register_request(request, source) {
            Ok(register) => register,
            Err(status) => return self.reply(request, source, status, &[]),
        };
        let max_contacts = self.accounts.get(&user).map_or(1, |a| a.max_contacts);
        match self
            .location
            .register(&user, self.policy, max_contacts, &register, now)
        {
            Ok(Registered {
                bindings,
                devices_changed,
            }) => {
                let mut headers: Vec<(&str, String)> = bindings
                    .iter()
                    .map(|b| {
                        (
                            "Contact",
                            format!("<{}>;expires={}", b.contact, b.expires_in(now)),
                        )
                    })
                    .collect();
                // RFC 3327 §5.3: the stored Path is echoed, with `Supported: path`, to a UA
                // that said it supports Path.
                if !register.path.is_empty() && supports_path(request) {
                    headers.extend(register.path.iter().map(|p| ("Path", p.clone())));
                    headers.push(("Supported", "path".to_string()));
                }
                if devices_changed {
                    tracing::info!(aor = %user, %source, contacts = bindings.len(), "registered");
                } else {
                    tracing::debug!(aor = %user, %source, contacts = bindings.len(), "registration refreshed");
                }
                self.reply(request, source, 200, &headers)
            }
            Err(RegisterError::IntervalTooBrief { min }) => {
                self.reply(request, source, 423, &[("Min-Expires", min.to_string())])
            }
            Err(RegisterError::BadWildcard | RegisterError::BadContact) => {
                self.reply(request, source, 400, &[])
            }
            Err(RegisterError::OutOfOrder) => self.reply(request, source, 500, &[]),
        }
    }

    fn reply(
        &self,
        request: &SipMessage,
        source: SocketAddr,
        status: u16,
        headers: &[(&str, String)],
    ) -> (u16, Bytes) {
        let mut writer = MessageWriter::response(
            request,
            status,
            reason_phrase(status),
            Some(&random_tag()),
            source,
        );
        for (name, value) in headers {
            writer = writer.header(name, value);
        }
        (status, writer.header("Server", &self.user_agent).finish())
    }
}

fn register_request(request: &SipMessage, source: SocketAddr) -> Result<RegisterRequest, u16> {
    let expires_header = request.expires().map_err(|_| 400u16)?;
    let mut contacts = Vec::new();
    let mut wildcard = false;
    for value in request.header_values(HeaderName::Contact) {
        if value == "*" {
            wildcard = true;
            continue;
        }
        let contact = NameAddr::parse(value).map_err(|_| 400u16)?;
        let expires = match contact.param("expires") {
            Some(Some(v)) => Some(crate::sip::message::parse_delta_seconds(v).ok_or(400u16)?),
            Some(None) => return Err(400),
            None => None,
        };
        contacts.push(ContactSpec {
            uri: contact.uri.to_string(),
            expires,
        });
    }
    let action = match (wildcard, contacts.is_empty()) {
        (true, true) => RegisterAction::RemoveAll,
        (true, false) => return Err(400),
        (false, true) => RegisterAction::Query,
        (false, false) => RegisterAction::Update(contacts),
    };
    let cseq = request.cseq().map_err(|_| 400u16)?;
    Ok(RegisterRequest {
        action,
        expires_header,
        call_id: request.call_id().unwrap_or_default().to_string(),
        cseq: cseq.seq,
        source,
        user_agent: request.header(HeaderName::UserAgent).map(str::to_string),
        path: request
            .header_values(HeaderName::Path)
            .map(str::to_string)
            .collect(),
    })
}

/// Whether the request's Supported names the `path` option tag (RFC 3327 §4).
fn supports_path(request: &SipMessage) -> bool {
    request
        .header_values(HeaderName::Supported)
        .any(|tag| tag.trim().eq_ignore_ascii_case("path"))
}

/// A random token for tags, branches and Call-IDs (64 bits of randomness).
pub fn random_tag() -> String {
    format!("{:016x}", rand::random::<u64>())
}
