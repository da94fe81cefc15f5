//! REGISTER processing rules of RFC 3261 §10.3, as a pure function from the current bindings of
//! one address-of-record and a request to the new bindings (or the error to answer). Storage,
//! persistence and authentication live elsewhere ([`crate::location`], [`super::auth`]). A
//! REGISTER's Path (RFC 3327 §5.3) is stored with its bindings: it is the route set of
//! requests to those contacts.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::header::SipUri;

/// Binding lifetime limits (the `[registrar]` config section).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExpiryPolicy {
    /// Shortest non-zero expiry accepted (§10.3 step 7: shorter gets 423).
    pub min: u32,
    /// Longest expiry granted; longer requests are shortened.
    pub max: u32,
    /// Granted when the request names none.
    pub default: u32,
}

/// One contact of a REGISTER request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactSpec {
    /// The contact URI, as written inside `<>`.
    pub uri: String,
    /// The contact's `expires` parameter, if any.
    pub expires: Option<u32>,
}

/// What a REGISTER asks for, reduced from the message by the edge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegisterAction {
    /// No Contact: return the current bindings (§10.2.3).
    Query,
    /// `Contact: *` with `Expires: 0`: remove every binding (§10.2.2).
    RemoveAll,
    /// Add, refresh or remove (expires 0) the listed contacts.
    Update(Vec<ContactSpec>),
}

/// The request facts the rules depend on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisterRequest {
    /// What to do.
    pub action: RegisterAction,
    /// The Expires header, if any.
    pub expires_header: Option<u32>,
    /// Call-ID of the request.
    pub call_id: String,
    /// CSeq number of the request.
    pub cseq: u32,
    /// Where the request really came from (NAT: may differ from the Contact).
    pub source: SocketAddr,
    /// The User-Agent header, for the operator's view.
    pub user_agent: Option<String>,
    /// The Path header values, in order (RFC 3327 §5.3); empty without Path.
    pub path: Vec<String>,
}

/// One registered contact of an address-of-record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    /// The contact URI the phone registered.
    pub contact: String,
    /// The address the REGISTER came from; requests to the phone go here (NAT traversal, like
    /// Asterisk's `rewrite_contact` and Kamailio's `fix_nated_register`).
    pub source: SocketAddr,
    /// Call-ID of the REGISTER that created or last refreshed the binding.
    pub call_id: String,
    /// CSeq of that REGISTER.
    pub cseq: u32,
    /// When the binding lapses.
    pub expires_at: Instant,
    /// The phone's User-Agent.
    pub user_agent: Option<String>,
    /// The Path of its REGISTER: the Route headers of requests to it (RFC 3327 §5.3).
    pub path: Vec<String>,
}

impl Binding {
    /// Seconds left at `now` (rounded up, 0 when lapsed).
    pub fn expires_in(&self, now: Instant) -> u32 {
        let left = self.expires_at.saturating_duration_since(now);
        (left.as_millis().div_ceil(1000)).min(u32::MAX as u128) as u32
    }

    /// Whether the binding's contact address differs from where its REGISTER came from.
    pub fn is_natted(&self) -> bool {
        let Ok(uri) = SipUri::parse(&self.contact) else {
            return true;
        };
        uri.ip() != Some(self.source.ip()) || uri.port.unwrap_or(5060) != self.source.port()
    }
}

/// Why a REGISTER cannot be applied; each maps to one response in the router.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegisterError {
    /// A non-zero expiry below the minimum: `423 Interval Too Brief` with Min-Expires.
    #[error("interval too brief, minimum is {min} s")]
    IntervalTooBrief {
        /// The minimum to advertise in Min-Expires.
        min: u32,
    },
    /// `Contact: *` with a non-zero Expires or alongside other contacts: `400`.
    #[error("wildcard contact requires Expires: 0 and no other contacts")]
    BadWildcard,
    /// A contact URI is not a SIP URI: `400`.
    #[error("invalid contact URI")]
    BadContact,
    /// Same Call-ID as a binding with a CSeq that is not higher (§10.3 step 7): `500`.
    #[error("out-of-order CSeq for existing binding")]
    OutOfOrder,
}

/// Applies `request` to the `current` bindings of one AOR at `now`, keeping at most
/// `max_contacts` (the soonest-expiring bindings make room for new ones, like Asterisk's
/// `remove_existing`). Returns the new binding set; lapsed bindings are dropped.
pub fn apply(
    policy: ExpiryPolicy,
    max_contacts: usize,
    current: &[Binding],
    request: &RegisterRequest,
    now: Instant,
) -> Result<Vec<Binding>, RegisterError> {
    let mut bindings: Vec<Binding> = current
        .iter()
        .filter(|b| b.expires_at > now)
        .cloned()
        .collect();
    let contacts = match &request.action {
        RegisterAction::Query => return Ok(bindings),
        RegisterAction::RemoveAll => {
            if request.expires_header != Some(0) {
                return Err(RegisterError::BadWildcard);
            }
            if let Some(b) = bindings.iter().find(|b| b.call_id == request.call_id) {
                if request.cseq <= b.cseq {
                    return Err(RegisterError::OutOfOrder);
                }
            }
            return Ok(Vec::new());
        }
        RegisterAction::Update(contacts) => contacts,
    };
    let mut planned = Vec::with_capacity(contacts.len());
    for contact in contacts {
        if contact.uri.trim() == "*" {
            return Err(RegisterError::BadWildcard);
        }
        SipUri::parse(&contact.uri).map_err(|_| RegisterError::BadContact)?;
        let requested = contact
            .expires
            .or(request.expires_header)
            .unwrap_or(policy.default);
        if requested != 0 && requested < policy.min {
            return Err(RegisterError::IntervalTooBrief { min: policy.min });
        }
        planned.push((contact, requested.min(policy.max)));
    }
    for (contact, expires) in planned {
        let existing = bindings
            .iter()
            .position(|b| same_contact(&b.contact, &contact.uri));
        if let Some(index) = existing {
            let b = &bindings[index];
            if b.call_id == request.call_id && request.cseq <= b.cseq {
                return Err(RegisterError::OutOfOrder);
            }
            bindings.remove(index);
        }
        if expires == 0 {
            continue;
        }
        if bindings.len() >= max_contacts {
            let soonest = bindings
                .iter()
                .enumerate()
                .min_by_key(|(_, b)| b.expires_at)
                .map(|(i, _)| i);
            if let Some(i) = soonest {
                bindings.remove(i);
            }
        }
        bindings.push(Binding {
            contact: contact.uri.clone(),
            source: request.source,
            call_id: request.call_id.clone(),
            cseq: request.cseq,
            expires_at: now + Duration::from_secs(u64::from(expires)),
            user_agent: request.user_agent.clone(),
            path: request.path.clone(),
        });
    }
    Ok(bindings)
}

/// URI equivalence for binding matching, a practical subset of §19.1.4: scheme, user, host
/// (case-insensitive), port (5060 when absent) and transport must agree.
pub fn same_contact(a: &str, b: &str) -> bool {
    match (SipUri::parse(a), SipUri::parse(b)) {
        (Ok(x), Ok(y)) => {
            let transport =
                |u: &SipUri| u.param("transport").flatten().map(str::to_ascii_lowercase);
            x.scheme.eq_ignore_ascii_case(y.scheme)
                && x.user == y.user
                && x.host.eq_ignore_ascii_case(y.host)
                && x.port.unwrap_or(5060) == y.port.unwrap_or(5060)
                && transport(&x) == transport(&y)
        }
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: ExpiryPolicy = ExpiryPolicy {
        min: 60,
        max: 3600,
        default: 600,
    };

    fn request(action: RegisterAction, cseq: u32) -> RegisterRequest {
        RegisterRequest {
            action,
            expires_header: None,
            call_id: "call-1".into(),
            cseq,
            source: "198.51.100.7:40000".parse().unwrap(),
            user_agent: Some("baresip".into()),
            path: Vec::new(),
        }
    }

    fn contact(uri: &str, expires: Option<u32>) -> ContactSpec {
        ContactSpec {
            uri: uri.into(),
            expires,
        }
    }

    fn update(contacts: &[(&str, Option<u32>)]) -> RegisterAction {
        RegisterAction::Update(contacts.iter().map(|(u, e)| contact(u, *e)).collect())
    }

    #[test]
    fn new_binding_gets_default_expiry_and_records_source() {
        let now = Instant::now();
        let out = apply(
            POLICY,
            3,
            &[],
            &request(update(&[("sip:6001@10.0.0.5:5062", None)]), 1),
            now,
        )
        .unwrap();
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].expires_in(now), 600);
        assert_eq!(out[0].source.to_string(), "198.51.100.7:40000");
        assert!(out[0].is_natted());
    }

    #[test]
    fn the_path_of_a_register_is_kept_with_its_binding() {
        let mut register = request(update(&[("sip:6001@10.0.0.5:5062", None)]), 1);
        register.path = vec!["<sip:10.0.0.10;lr>".into(), "<sip:10.0.0.9;lr>".into()];
        let out = apply(POLICY, 3, &[], &register, Instant::now()).unwrap();
        assert_eq!(out[0].path, ["<sip:10.0.0.10;lr>", "<sip:10.0.0.9;lr>"]);
    }

    #[test]
    fn contact_param_beats_header_and_max_is_enforced() {
        let now = Instant::now();
        let mut req = request(update(&[("sip:a@h", Some(7200)), ("sip:b@h", None)]), 1);
        req.expires_header = Some(120);
        let out = apply(POLICY, 3, &[], &req, now).unwrap();
        assert_eq!(out[0].expires_in(now), 3600);
        assert_eq!(out[1].expires_in(now), 120);
    }

    #[test]
    fn too_brief_is_423_with_minimum() {
        let now = Instant::now();
        let err = apply(
            POLICY,
            3,
            &[],
            &request(update(&[("sip:a@h", Some(30))]), 1),
            now,
        )
        .unwrap_err();
        assert_eq!(err, RegisterError::IntervalTooBrief { min: 60 });
    }

    #[test]
    fn refresh_replaces_and_zero_removes() {
        let now = Instant::now();
        let first = apply(
            POLICY,
            3,
            &[],
            &request(update(&[("sip:a@H:5060", None)]), 1),
            now,
        )
        .unwrap();
        let later = now + Duration::from_secs(100);
        let refreshed = apply(
            POLICY,
            3,
            &first,
            &request(update(&[("sip:a@h", None)]), 2),
            later,
        )
        .unwrap();
        assert_eq!(refreshed.len(), 1);
        assert_eq!(refreshed[0].expires_in(later), 600);
        let removed = apply(
            POLICY,
            3,
            &refreshed,
            &request(update(&[("sip:a@h", Some(0))]), 3),
            later,
        )
        .unwrap();
        assert!(removed.is_empty());
    }

    #[test]
    fn out_of_order_cseq_on_same_call_id_fails() {
        let now = Instant::now();
        let first = apply(
            POLICY,
            3,
            &[],
            &request(update(&[("sip:a@h", None)]), 5),
            now,
        )
        .unwrap();
        let err = apply(
            POLICY,
            3,
            &first,
            &request(update(&[("sip:a@h", None)]), 5),
            now,
        )
        .unwrap_err();
        assert_eq!(err, RegisterError::OutOfOrder);
        let mut other_call = request(update(&[("sip:a@h", None)]), 1);
        other_call.call_id = "call-2".into();
        assert!(apply(POLICY, 3, &first, &other_call, now).is_ok());
    }

    #[test]
    fn wildcard_rules() {
        let now = Instant::now();
        let first = apply(
            POLICY,
            3,
            &[],
            &request(update(&[("sip:a@h", None), ("sip:b@h", None)]), 1),
            now,
        )
        .unwrap();
        let mut wildcard = request(RegisterAction::RemoveAll, 2);
        assert_eq!(
            apply(POLICY, 3, &first, &wildcard, now).unwrap_err(),
            RegisterError::BadWildcard
        );
        wildcard.expires_header = Some(0);
        assert!(apply(POLICY, 3, &first, &wildcard, now).unwrap().is_empty());
        let mixed = request(update(&[("*", None), ("sip:a@h", None)]), 3);
        assert_eq!(
            apply(POLICY, 3, &first, &mixed, now).unwrap_err(),
            RegisterError::BadWildcard
        );
    }

    #[test]
    fn query_returns_live_bindings_only() {
        let now = Instant::now();
        let first = apply(
            POLICY,
            3,
            &[],
            &request(update(&[("sip:a@h", Some(60)), ("sip:b@h", None)]), 1),
            now,
        )
        .unwrap();
        let later = now + Duration::from_secs(61);
        let out = apply(POLICY, 3, &first, &request(RegisterAction::Query, 2), later).unwrap();
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].contact, "sip:b@h");
    }

    #[test]
    fn max_contacts_evicts_the_soonest_expiring() {
        let now = Instant::now();
        let full = apply(
            POLICY,
            2,
            &[],
            &request(update(&[("sip:a@h", Some(100)), ("sip:b@h", Some(900))]), 1),
            now,
        )
        .unwrap();
        let mut req = request(update(&[("sip:c@h", None)]), 2);
        req.call_id = "call-2".into();
        let out = apply(POLICY, 2, &full, &req, now).unwrap();
        let contacts: Vec<_> = out.iter().map(|b| b.contact.as_str()).collect();
        assert_eq!(contacts, ["sip:b@h", "sip:c@h"]);
    }

    #[test]
    fn invalid_contact_is_rejected() {
        let now = Instant::now();
        let err = apply(
            POLICY,
            3,
            &[],
            &request(update(&[("mailto:x@y", None)]), 1),
            now,
        )
        .unwrap_err();
        assert_eq!(err, RegisterError::BadContact);
    }

    #[test]
    fn contact_matching() {
        assert!(same_contact("sip:a@Host", "SIP:a@host:5060"));
        assert!(!same_contact("sip:a@host", "sip:b@host"));
        assert!(!same_contact("sip:a@host;transport=tcp", "sip:a@host"));
    }
}
