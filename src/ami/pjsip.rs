//! The PJSIP detail listings (sans-IO), rendered from facts the caller gathers, as Asterisk 22's
//! `res_pjsip` answers them: `PJSIPShowEndpoint` (an `EndpointDetail`, its `AuthDetail`,
//! `AorDetail` and a `ContactStatusDetail` per registered contact), `PJSIPShowContacts` (a
//! `ContactList` per contact) and `PJSIPShowRegistrationsOutbound` (an
//! `OutboundRegistrationDetail` per trunk that registers, the complete event counting
//! `Registered` and `NotRegistered`).
//!
//! pbx's endpoint is Asterisk's endpoint, auth and AOR in one: the three carry the
//! endpoint's name, an AOR's contact id is `AOR;@<hash of the URI>` as Asterisk writes it,
//! and `RegExpire` is the Unix time the binding lapses. Passwords are never listed.

use std::net::SocketAddr;

use super::message::Message;

/// A configured endpoint, with what is live about it.
#[derive(Debug, Clone)]
pub struct EndpointFacts {
    /// The endpoint's (and its AOR's and auth's) name.
    pub name: String,
    /// The context its calls start in.
    pub context: String,
    /// Its codecs in Asterisk's names (`ulaw`, `alaw`), by preference.
    pub codecs: Vec<&'static str>,
    /// How many contacts may register.
    pub max_contacts: usize,
    /// Its channels up now.
    pub active_channels: usize,
    /// Its registered contacts.
    pub contacts: Vec<ContactFacts>,
}

/// One registered contact.
#[derive(Debug, Clone)]
pub struct ContactFacts {
    /// The AOR (endpoint name) it is bound to.
    pub aor: String,
    /// The contact URI.
    pub uri: String,
    /// The phone's User-Agent.
    pub user_agent: String,
    /// Unix time the binding lapses.
    pub expires_unix: u64,
    /// Where the REGISTER came from (requests go there).
    pub via: SocketAddr,
    /// Call-ID of the REGISTER.
    pub call_id: String,
    /// `Reachable`, `Unreachable` or `Unknown` (qualify).
    pub status: &'static str,
    /// The last qualify round trip, in microseconds.
    pub rtt_usec: Option<u64>,
}

impl ContactFacts {
    /// The contact's id as Asterisk names it: `AOR;@` and a hash of the URI.
    fn id(&self) -> String {
        format!("{};@{:016x}", self.aor, fnv1a(self.uri.as_bytes()))
    }

    fn rtt(&self) -> String {
        self.rtt_usec.map_or("N/A".to_owned(), |u| u.to_string())
    }
}

/// A trunk's outbound registration.
#[derive(Debug, Clone)]
pub struct RegistrationFacts {
    /// The trunk's name.
    pub name: String,
    /// The registrar, `sip:HOST[:PORT]`.
    pub server_uri: String,
    /// The registered address of record, `sip:USER@DOMAIN`.
    pub client_uri: String,
    /// Whether the provider holds the binding now.
    pub registered: bool,
    /// `Registered`, `Unregistered` or `Rejected`.
    pub status: &'static str,
    /// Seconds until the next REGISTER (0 when none is planned).
    pub next_reg_secs: u64,
    /// The lifetime asked for, in seconds.
    pub expiration_secs: u64,
}

/// PJSIPShowEndpoint's answer for `endpoint`.
pub fn endpoint_detail(endpoint: &EndpointFacts, action_id: Option<&str>) -> Vec<Message> {
    let name = endpoint.name.as_str();
    let state = match (endpoint.contacts.is_empty(), endpoint.active_channels) {
        (true, _) => "Unavailable",
        (false, 0) => "Not in use",
        (false, _) => "In use",
    };
    let detail = Message::event("EndpointDetail")
        .with_action_id(action_id)
        .with("ObjectType", "endpoint")
        .with("ObjectName", name)
        .with("Context", endpoint.context.clone())
        .with("Disallow", "all")
        .with("Allow", format!("({})", endpoint.codecs.join("|")))
        .with("DtmfMode", "rfc4733")
        .with("Aors", name)
        .with("Auth", name)
        .with("OutboundAuth", "")
        .with("DirectMedia", "false")
        .with("RtpSymmetric", "true")
        .with("ForceRport", "true")
        .with("RewriteContact", "true")
        .with("DeviceState", state)
        .with("ActiveChannels", endpoint.active_channels.to_string());
    let auth = Message::event("AuthDetail")
        .with_action_id(action_id)
        .with("ObjectType", "auth")
        .with("ObjectName", name)
        .with("Username", name)
        .with("AuthType", "userpass")
        .with("EndpointName", name);
    let contacts: String = endpoint
        .contacts
        .iter()
        .map(|c| c.uri.as_str())
        .collect::<Vec<_>>()
        .join(",");
    let aor = Message::event("AorDetail")
        .with_action_id(action_id)
        .with("ObjectType", "aor")
        .with("ObjectName", name)
        .with("MaxContacts", endpoint.max_contacts.to_string())
        .with("RemoveExisting", "true")
        .with("Contacts", contacts)
        .with("TotalContacts", endpoint.contacts.len().to_string())
        .with("ContactsRegistered", endpoint.contacts.len().to_string())
        .with("EndpointName", name);
    let statuses = endpoint.contacts.iter().map(|c| {
        Message::event("ContactStatusDetail")
            .with_action_id(action_id)
            .with("AOR", c.aor.clone())
            .with("URI", c.uri.clone())
            .with("UserAgent", c.user_agent.clone())
            .with("RegExpire", c.expires_unix.to_string())
            .with("ViaAddress", c.via.to_string())
            .with("CallID", c.call_id.clone())
            .with("Status", c.status)
            .with("RoundtripUsec", c.rtt())
            .with("EndpointName", name)
            .with("ID", c.id())
    });
    let items = [detail, auth, aor].into_iter().chain(statuses);
    super::listing::list(
        action_id,
        "Following are Events for each object associated with the Endpoint",
        items,
        "EndpointDetailComplete",
    )
}

/// PJSIPShowContacts's answer.
pub fn contact_list(contacts: &[ContactFacts], action_id: Option<&str>) -> Vec<Message> {
    let items = contacts.iter().map(|c| {
        Message::event("ContactList")
            .with_action_id(action_id)
            .with("ObjectType", "contact")
            .with("ObjectName", c.id())
            .with("ViaAddr", c.via.ip().to_string())
            .with("ViaPort", c.via.port().to_string())
            .with("QualifyTimeout", "3.000000")
            .with("CallId", c.call_id.clone())
            .with("RegServer", "")
            .with("PruneOnBoot", "false")
            .with("Path", "")
            .with("Endpoint", c.aor.clone())
            .with("AuthenticateQualify", "false")
            .with("Uri", c.uri.clone())
            .with("QualifyFrequency", "0")
            .with("UserAgent", c.user_agent.clone())
            .with("ExpirationTime", c.expires_unix.to_string())
            .with("OutboundProxy", "")
            .with("Status", c.status)
            .with("RoundtripUsec", c.rtt())
    });
    super::listing::list(
        action_id,
        "A listing of Contacts follows, presented as ContactList events",
        items,
        "ContactListComplete",
    )
}

/// PJSIPShowRegistrationsOutbound's answer.
pub fn registrations_outbound(
    registrations: &[RegistrationFacts],
    action_id: Option<&str>,
) -> Vec<Message> {
    let items = registrations.iter().map(|r| {
        Message::event("OutboundRegistrationDetail")
            .with_action_id(action_id)
            .with("ObjectType", "registration")
            .with("ObjectName", r.name.clone())
            .with("ServerUri", r.server_uri.clone())
            .with("ClientUri", r.client_uri.clone())
            .with("Expiration", r.expiration_secs.to_string())
            .with("OutboundAuth", r.name.clone())
            .with("Endpoint", r.name.clone())
            .with("Status", r.status)
            .with("NextReg", r.next_reg_secs.to_string())
    });
    let mut out = super::listing::list(
        action_id,
        "Following are Events for each Outbound registration",
        items,
        "OutboundRegistrationDetailComplete",
    );
    let registered = registrations.iter().filter(|r| r.registered).count();
    if let Some(complete) = out.last_mut() {
        complete.push("Registered", registered.to_string());
        complete.push(
            "NotRegistered",
            (registrations.len() - registered).to_string(),
        );
    }
    out
}

/// FNV-1a, 64 bits: a stable hash for contact ids (Asterisk uses a hash of the URI there).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, b| {
        (hash ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contact() -> ContactFacts {
        ContactFacts {
            aor: "6001".into(),
            uri: "sip:6001@192.0.2.7:5062".into(),
            user_agent: "baresip".into(),
            expires_unix: 1_800_000_000,
            via: "203.0.113.5:61234".parse().unwrap(),
            call_id: "abc".into(),
            status: "Reachable",
            rtt_usec: Some(1_500),
        }
    }

    #[test]
    fn an_endpoint_lists_its_auth_aor_and_contacts_then_completes() {
        let endpoint = EndpointFacts {
            name: "6001".into(),
            context: "internal".into(),
            codecs: vec!["ulaw", "alaw"],
            max_contacts: 1,
            active_channels: 0,
            contacts: vec![contact()],
        };
        let out = endpoint_detail(&endpoint, Some("e1"));
        let events: Vec<_> = out.iter().filter_map(|m| m.get("Event")).collect();
        assert_eq!(
            events,
            [
                "EndpointDetail",
                "AuthDetail",
                "AorDetail",
                "ContactStatusDetail",
                "EndpointDetailComplete"
            ]
        );
        assert!(out.iter().all(|m| m.get("ActionID") == Some("e1")));
        assert_eq!(out[1].get("Allow"), Some("(ulaw|alaw)"));
        assert_eq!(out[1].get("DeviceState"), Some("Not in use"));
        assert_eq!(out[3].get("Contacts"), Some("sip:6001@192.0.2.7:5062"));
        assert_eq!(out[4].get("ViaAddress"), Some("203.0.113.5:61234"));
        assert_eq!(out[4].get("RoundtripUsec"), Some("1500"));
        assert!(out[4].get("ID").unwrap().starts_with("6001;@"));
        assert_eq!(out[5].get("ListItems"), Some("4"));
        assert!(out.iter().all(|m| m.get("Password").is_none()));
    }

    #[test]
    fn contacts_have_stable_ids_and_their_qualify_status() {
        let mut unknown = contact();
        unknown.status = "Unknown";
        unknown.rtt_usec = None;
        let out = contact_list(&[contact(), unknown], None);
        assert_eq!(out.len(), 4);
        assert_eq!(out[1].get("ObjectName"), out[2].get("ObjectName"));
        assert_eq!(out[1].get("ViaPort"), Some("61234"));
        assert_eq!(out[2].get("RoundtripUsec"), Some("N/A"));
        assert_eq!(out[3].get("Event"), Some("ContactListComplete"));
        assert_ne!(fnv1a(b"sip:a"), fnv1a(b"sip:b"));
    }

    #[test]
    fn outbound_registrations_count_the_registered() {
        let trunk = |name: &str, registered: bool| RegistrationFacts {
            name: name.into(),
            server_uri: "sip:provider.example:5060".into(),
            client_uri: "sip:pbx@provider.example".into(),
            registered,
            status: if registered { "Registered" } else { "Rejected" },
            next_reg_secs: 290,
            expiration_secs: 300,
        };
        let out = registrations_outbound(&[trunk("a", true), trunk("b", false)], Some("r"));
        assert_eq!(out[1].get("Status"), Some("Registered"));
        assert_eq!(out[2].get("ObjectName"), Some("b"));
        let complete = out.last().unwrap();
        assert_eq!(
            complete.get("Event"),
            Some("OutboundRegistrationDetailComplete")
        );
        assert_eq!(complete.get("Registered"), Some("1"));
        assert_eq!(complete.get("NotRegistered"), Some("1"));
        assert_eq!(complete.get("ListItems"), Some("2"));
    }
}
