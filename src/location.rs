//! The location service: address-of-record -> registered contacts, shared by the registrar
//! (writes), call routing (reads), qualify (reachability) and the admin API (reads). Kamailio's
//! usrloc plays this role. Bindings are saved to a JSON file on change so they survive a
//! restart; expiry is stored as wall-clock time and honoured on load.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

use crate::events::{ContactStatus, EventBus, PbxEvent};
use crate::sip::registrar::{self, Binding, ExpiryPolicy, RegisterError, RegisterRequest};

/// Whether a contact answers OPTIONS pings (qualify).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum Reachability {
    /// Not pinged yet.
    Unknown,
    /// Answered the last ping.
    Reachable {
        /// Round-trip time of the last ping in milliseconds.
        rtt_ms: u64,
    },
    /// Did not answer the last ping.
    Unreachable,
}

#[derive(Debug, Clone)]
struct Entry {
    binding: Binding,
    reachability: Reachability,
}

/// One registration as the operator sees it (`GET /api/registrations`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RegistrationView {
    /// Address-of-record user, e.g. `6001`.
    pub aor: String,
    /// Registered contact URI.
    pub contact: String,
    /// Where the REGISTER came from and where requests are sent.
    pub source: SocketAddr,
    /// The phone's User-Agent.
    pub user_agent: Option<String>,
    /// Call-ID of the REGISTER that made or last refreshed the binding.
    #[serde(default)]
    pub call_id: String,
    /// Seconds until the binding lapses.
    pub expires_in: u32,
    /// Whether the contact differs from the source (phone behind NAT).
    pub natted: bool,
    /// Qualify result: `unknown`, `reachable` or `unreachable`.
    pub reachability: String,
    /// Last qualify round trip in milliseconds.
    pub rtt_ms: Option<u64>,
}

/// Live bindings counted by qualify result ([`Location::census`]), for `/metrics`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ContactCensus {
    /// Addresses of record with at least one live contact.
    pub aors: usize,
    /// Contacts not pinged yet.
    pub unknown: usize,
    /// Contacts that answered their last ping.
    pub reachable: usize,
    /// Contacts that did not.
    pub unreachable: usize,
}

/// Why the bindings file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum LocationError {
    /// Reading or writing the file failed.
    #[error("{path}: {source}")]
    Io {
        /// The bindings file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file exists but is not a bindings file.
    #[error("{path}: not a bindings file: {source}")]
    Format {
        /// The bindings file.
        path: PathBuf,
        /// The JSON error.
        source: serde_json::Error,
    },
}

#[derive(Debug, Serialize, Deserialize)]
struct StoredBinding {
    aor: String,
    contact: String,
    source: SocketAddr,
    call_id: String,
    cseq: u32,
    expires_unix: u64,
    user_agent: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    path: Vec<String>,
}

/// What a REGISTER did to an address of record.
#[derive(Debug, Clone, PartialEq)]
pub struct Registered {
    /// The bindings after it, to list in the 200 response.
    pub bindings: Vec<Binding>,
    /// A contact was added or removed (a refresh changes only expiries).
    pub devices_changed: bool,
}

/// Clonable handle to the shared location store. The lock is never held across `.await`.
#[derive(Debug, Clone, Default)]
pub struct Location {
    aors: Arc<Mutex<HashMap<String, Vec<Entry>>>>,
    changed: Arc<Notify>,
    events: EventBus,
}

impl Location {
    /// An empty store.
    pub fn new() -> Location {
        Location::default()
    }

    /// The same store, publishing contact changes (`ContactStatusChange`) on `events`.
    pub fn with_events(mut self, events: EventBus) -> Location {
        self.events = events;
        self
    }

    fn publish_contact(&self, aor: &str, uri: &str, status: &str, roundtrip_usec: Option<u64>) {
        self.events.publish(PbxEvent::ContactStatusChange {
            contact: ContactStatus {
                aor: aor.to_string(),
                uri: uri.to_string(),
                contact_status: status.to_string(),
                roundtrip_usec,
            },
        });
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Vec<Entry>>> {
        self.aors
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Applies a REGISTER for `aor`: the bindings to list in the 200 response, and whether
    /// the set of devices changed (a new or removed contact, not a refresh).
    pub fn register(
        &self,
        aor: &str,
        policy: ExpiryPolicy,
        max_contacts: usize,
        request: &RegisterRequest,
        now: Instant,
    ) -> Result<Registered, RegisterError> {
        let mut aors = self.lock();
        let current: Vec<Binding> = aors
            .get(aor)
            .map(|entries| entries.iter().map(|e| e.binding.clone()).collect())
            .unwrap_or_default();
        let updated = registrar::apply(policy, max_contacts, &current, request, now)?;
        let modified = updated != current;
        let devices_changed = devices(&updated) != devices(&current);
        let old = aors.remove(aor).unwrap_or_default();
        let entries: Vec<Entry> = updated
            .iter()
            .map(|binding| Entry {
                reachability: old
                    .iter()
                    .find(|e| {
                        e.binding.contact == binding.contact && e.binding.source == binding.source
                    })
                    .map_or(Reachability::Unknown, |e| e.reachability),
                binding: binding.clone(),
            })
            .collect();
        if !entries.is_empty() {
            aors.insert(aor.to_string(), entries);
        }
        drop(aors);
        if modified {
            self.changed.notify_one();
        }
        if devices_changed {
            let (before, after) = (devices(&current), devices(&updated));
            for (contact, _) in after.iter().filter(|d| !before.contains(d)) {
                self.publish_contact(aor, contact, "Created", None);
            }
            for (contact, _) in before.iter().filter(|d| !after.contains(d)) {
                self.publish_contact(aor, contact, "Removed", None);
            }
        }
        Ok(Registered {
            bindings: updated,
            devices_changed,
        })
    }

    /// The live bindings of `aor`, for routing a call to it.
    pub fn contacts(&self, aor: &str, now: Instant) -> Vec<Binding> {
        self.lock()
            .get(aor)
            .map(|entries| {
                entries
                    .iter()
                    .filter(|e| e.binding.expires_at > now)
                    .map(|e| e.binding.clone())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Every live binding as `(aor, binding)`, for qualify.
    pub fn all_bindings(&self, now: Instant) -> Vec<(String, Binding)> {
        self.lock()
            .iter()
            .flat_map(|(aor, entries)| {
                entries
                    .iter()
                    .filter(move |e| e.binding.expires_at > now)
                    .map(move |e| (aor.clone(), e.binding.clone()))
            })
            .collect()
    }

    /// Every live binding as the operator sees it, sorted by AOR and contact.
    pub fn views(&self, now: Instant) -> Vec<RegistrationView> {
        let mut views: Vec<RegistrationView> = self
            .lock()
            .iter()
            .flat_map(|(aor, entries)| {
                entries
                    .iter()
                    .filter(|e| e.binding.expires_at > now)
                    .map(|e| {
                        let (reachability, rtt_ms) = match e.reachability {
                            Reachability::Unknown => ("unknown", None),
                            Reachability::Reachable { rtt_ms } => ("reachable", Some(rtt_ms)),
                            Reachability::Unreachable => ("unreachable", None),
                        };
                        RegistrationView {
                            aor: aor.clone(),
                            contact: e.binding.contact.clone(),
                            source: e.binding.source,
                            user_agent: e.binding.user_agent.clone(),
                            call_id: e.binding.call_id.clone(),
                            expires_in: e.binding.expires_in(now),
                            natted: e.binding.is_natted(),
                            reachability: reachability.to_string(),
                            rtt_ms,
                        }
                    })
            })
            .collect();
        views.sort_by(|a, b| (&a.aor, &a.contact).cmp(&(&b.aor, &b.contact)));
        views
    }

    /// How many live bindings there are, by qualify result, and how many AORs hold one.
    pub fn census(&self, now: Instant) -> ContactCensus {
        let mut census = ContactCensus::default();
        for entries in self.lock().values() {
            let mut live = entries
                .iter()
                .filter(|e| e.binding.expires_at > now)
                .peekable();
            if live.peek().is_some() {
                census.aors += 1;
            }
            for entry in live {
                match entry.reachability {
                    Reachability::Unknown => census.unknown += 1,
                    Reachability::Reachable { .. } => census.reachable += 1,
                    Reachability::Unreachable => census.unreachable += 1,
                }
            }
        }
        census
    }

    /// Records a qualify result for the binding of `aor` at `contact`.
    /// Publishes `ContactStatusChange` when the contact turns reachable or unreachable.
    pub fn set_reachability(&self, aor: &str, contact: &str, reachability: Reachability) {
        let before = self
            .lock()
            .get_mut(aor)
            .and_then(|entries| entries.iter_mut().find(|e| e.binding.contact == contact))
            .map(|entry| std::mem::replace(&mut entry.reachability, reachability));
        let turned = |r: Reachability| matches!(r, Reachability::Reachable { .. });
        match (before, reachability) {
            (Some(before), Reachability::Reachable { rtt_ms }) if !turned(before) => {
                self.publish_contact(aor, contact, "Reachable", Some(rtt_ms * 1000));
            }
            (Some(before), Reachability::Unreachable) if before != Reachability::Unreachable => {
                self.publish_contact(aor, contact, "Unreachable", None);
            }
            _ => {}
        }
    }

    /// Drops lapsed bindings; returns how many went.
    pub fn sweep(&self, now: Instant) -> usize {
        let mut aors = self.lock();
        let mut lapsed = Vec::new();
        aors.retain(|aor, entries| {
            entries.retain(|e| {
                let live = e.binding.expires_at > now;
                if !live {
                    lapsed.push((aor.clone(), e.binding.contact.clone()));
                }
                live
            });
            !entries.is_empty()
        });
        drop(aors);
        if !lapsed.is_empty() {
            self.changed.notify_one();
        }
        for (aor, contact) in &lapsed {
            self.publish_contact(aor, contact, "Removed", None);
        }
        lapsed.len()
    }

    /// Number of live bindings.
    pub fn len(&self) -> usize {
        self.lock().values().map(Vec::len).sum()
    }

    /// Whether no binding is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Resolves when the bindings changed since the last call (for the persistence task).
    pub async fn changed(&self) {
        self.changed.notified().await
    }

    /// Writes the live bindings to `path` atomically (temporary file, then rename).
    pub fn save(&self, path: &Path, now: Instant, wall: SystemTime) -> Result<(), LocationError> {
        let wall_now = wall
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let stored: Vec<StoredBinding> = self
            .all_bindings(now)
            .into_iter()
            .map(|(aor, b)| StoredBinding {
                expires_unix: wall_now + u64::from(b.expires_in(now)),
                aor,
                contact: b.contact,
                source: b.source,
                call_id: b.call_id,
                cseq: b.cseq,
                user_agent: b.user_agent,
                path: b.path,
            })
            .collect();
        let io_err = |source| LocationError::Io {
            path: path.to_path_buf(),
            source,
        };
        let json = serde_json::to_vec_pretty(&stored).map_err(|source| LocationError::Format {
            path: path.to_path_buf(),
            source,
        })?;
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        std::fs::write(&tmp, json).map_err(io_err)?;
        std::fs::rename(&tmp, path).map_err(io_err)
    }

    /// Loads bindings saved by [`Location::save`]; lapsed ones are skipped and a missing file
    /// gives an empty store.
    pub fn load(path: &Path, now: Instant, wall: SystemTime) -> Result<Location, LocationError> {
        let location = Location::new();
        let data = match std::fs::read(path) {
            Ok(data) => data,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(location),
            Err(source) => {
                return Err(LocationError::Io {
                    path: path.to_path_buf(),
                    source,
                })
            }
        };
        let stored: Vec<StoredBinding> =
            serde_json::from_slice(&data).map_err(|source| LocationError::Format {
                path: path.to_path_buf(),
                source,
            })?;
        let wall_now = wall
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        {
            let mut aors = location.lock();
            for s in stored {
                let Some(left) = s.expires_unix.checked_sub(wall_now).filter(|&l| l > 0) else {
                    continue;
                };
                aors.entry(s.aor).or_default().push(Entry {
                    binding: Binding {
                        contact: s.contact,
                        source: s.source,
                        call_id: s.call_id,
                        cseq: s.cseq,
                        expires_at: now + Duration::from_secs(left),
                        user_agent: s.user_agent,
                        path: s.path,
                    },
                    reachability: Reachability::Unknown,
                });
            }
        }
        Ok(location)
    }
}

/// The devices (contact and source) of a set of bindings, in a stable order.
fn devices(bindings: &[Binding]) -> Vec<(&str, SocketAddr)> {
    let mut devices: Vec<(&str, SocketAddr)> = bindings
        .iter()
        .map(|b| (b.contact.as_str(), b.source))
        .collect();
    devices.sort_unstable();
    devices
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::registrar::{ContactSpec, RegisterAction};

    const POLICY: ExpiryPolicy = ExpiryPolicy {
        min: 60,
        max: 3600,
        default: 600,
    };

    fn request(uri: &str) -> RegisterRequest {
        RegisterRequest {
            action: RegisterAction::Update(vec![ContactSpec {
                uri: uri.into(),
                expires: None,
            }]),
            expires_header: None,
            call_id: "c".into(),
            cseq: 1,
            source: "127.0.0.1:5070".parse().unwrap(),
            user_agent: None,
            path: Vec::new(),
        }
    }

    #[test]
    fn a_refresh_is_told_from_a_change_of_devices() {
        let now = Instant::now();
        let location = Location::new();
        let with_cseq = |uri: &str, cseq: u32, expires: Option<u32>| {
            let mut r = request(uri);
            r.cseq = cseq;
            if let RegisterAction::Update(contacts) = &mut r.action {
                contacts[0].expires = expires;
            }
            r
        };
        let register = |r: &RegisterRequest| location.register("6001", POLICY, 3, r, now).unwrap();
        let first = register(&with_cseq("sip:6001@127.0.0.1:5070", 1, None));
        assert!(first.devices_changed);
        assert_eq!(first.bindings.len(), 1);
        assert!(!register(&with_cseq("sip:6001@127.0.0.1:5070", 2, None)).devices_changed);
        assert!(register(&with_cseq("sip:6001@127.0.0.1:5072", 3, None)).devices_changed);
        let removed = register(&with_cseq("sip:6001@127.0.0.1:5072", 4, Some(0)));
        assert!(removed.devices_changed);
        assert_eq!(removed.bindings.len(), 1);
    }

    #[test]
    fn the_census_counts_live_contacts_by_reachability_and_their_aors() {
        let now = Instant::now();
        let location = Location::new();
        for (aor, uri) in [
            ("6001", "sip:6001@127.0.0.1:5070"),
            ("6001", "sip:6001@127.0.0.1:5072"),
            ("6002", "sip:6002@127.0.0.1:5074"),
        ] {
            location
                .register(aor, POLICY, 3, &request(uri), now)
                .unwrap();
        }
        location.set_reachability(
            "6001",
            "sip:6001@127.0.0.1:5070",
            Reachability::Reachable { rtt_ms: 3 },
        );
        location.set_reachability("6002", "sip:6002@127.0.0.1:5074", Reachability::Unreachable);
        let census = location.census(now);
        assert_eq!(
            census,
            ContactCensus {
                aors: 2,
                unknown: 1,
                reachable: 1,
                unreachable: 1
            }
        );
        let lapsed = location.census(now + Duration::from_secs(601));
        assert_eq!(lapsed, ContactCensus::default());
    }

    #[test]
    fn save_and_load_keep_remaining_time() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bindings.json");
        let now = Instant::now();
        let wall = SystemTime::now();
        let location = Location::new();
        location
            .register("6001", POLICY, 3, &request("sip:6001@127.0.0.1:5070"), now)
            .unwrap();
        location.save(&path, now, wall).unwrap();
        let later_wall = wall + Duration::from_secs(100);
        let restored = Location::load(&path, now, later_wall).unwrap();
        let views = restored.views(now);
        assert_eq!(views.len(), 1);
        assert_eq!(views[0].aor, "6001");
        assert!(
            (499..=501).contains(&views[0].expires_in),
            "{}",
            views[0].expires_in
        );
        let much_later = wall + Duration::from_secs(700);
        assert!(Location::load(&path, now, much_later).unwrap().is_empty());
    }

    #[test]
    fn missing_file_is_empty_and_garbage_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("none.json");
        assert!(Location::load(&path, Instant::now(), SystemTime::now())
            .unwrap()
            .is_empty());
        std::fs::write(&path, "not json").unwrap();
        let err = Location::load(&path, Instant::now(), SystemTime::now()).unwrap_err();
        assert!(err.to_string().contains("not a bindings file"));
    }

    #[test]
    fn sweep_and_reachability() {
        let now = Instant::now();
        let location = Location::new();
        location
            .register("6001", POLICY, 3, &request("sip:6001@127.0.0.1:5070"), now)
            .unwrap();
        location.set_reachability(
            "6001",
            "sip:6001@127.0.0.1:5070",
            Reachability::Reachable { rtt_ms: 3 },
        );
        assert_eq!(location.views(now)[0].reachability, "reachable");
        assert_eq!(location.sweep(now + Duration::from_secs(601)), 1);
        assert!(location.is_empty());
    }
}
