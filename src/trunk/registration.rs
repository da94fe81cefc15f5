//! The PBX's registrations to its trunks' providers (edge glue): one sans-IO
//! [`OutboundRegistration`] per registering trunk, whose REGISTERs go out through the SIP
//! task's transaction table and whose status is published on the [`TrunkBoard`].

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::{TrunkBoard, Trunks};
use crate::sip::message::SipMessage;
use crate::sip::method::Method;
use crate::sip::outbound_registration::{
    OutboundRegistration, RegistrationConfig, RegistrationState,
};
use crate::sip::transaction::table::TransactionTable;
use crate::sip::transaction::TransactionKey;

#[derive(Debug)]
struct TrunkRegistration {
    trunk: String,
    send_to: SocketAddr,
    machine: OutboundRegistration,
}

/// Every trunk registration, owned by the SIP task.
#[derive(Debug)]
pub struct TrunkRegistrations {
    list: Vec<TrunkRegistration>,
    branches: HashMap<TransactionKey, usize>,
    board: TrunkBoard,
}

impl TrunkRegistrations {
    /// Registrations for the trunks that register and resolved, with `advertised` as our
    /// Contact and Via address.
    pub fn new(
        trunks: &Trunks,
        advertised: SocketAddr,
        user_agent: &str,
        board: TrunkBoard,
    ) -> Self {
        let list = trunks
            .iter()
            .filter(|t| t.register)
            .filter_map(|t| {
                let send_to = t.send_to?;
                let config = RegistrationConfig {
                    registrar_uri: format!("sip:{}", t.host_port),
                    aor: format!("sip:{}@{}", t.username, t.from_domain),
                    contact: format!("sip:{}@{}", t.username, advertised),
                    auth_username: t.auth_user.clone(),
                    password: t.password.clone(),
                    expiry: Duration::from_secs(t.expiry_secs.max(1)),
                    local_sent_by: advertised,
                    user_agent: user_agent.to_string(),
                };
                Some(TrunkRegistration {
                    trunk: t.name.clone(),
                    send_to,
                    machine: OutboundRegistration::new(config, Instant::now()),
                })
            })
            .collect();
        TrunkRegistrations {
            list,
            branches: HashMap::new(),
            board,
        }
    }

    /// When a registration next wants to send.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.list
            .iter()
            .filter_map(|r| r.machine.poll_timeout())
            .min()
    }

    /// Sends the REGISTERs due now through `transactions` and publishes each status.
    pub fn drive(&mut self, transactions: &mut TransactionTable, now: Instant) {
        for (index, registration) in self.list.iter_mut().enumerate() {
            let before = registration.machine.state().clone();
            while let Some(out) = registration.machine.poll_request(now) {
                let key = TransactionKey::for_request(&out.branch, Method::Register);
                if transactions
                    .send_request(&key, registration.send_to, out.request, now)
                    .is_ok()
                {
                    self.branches.insert(key, index);
                }
            }
            let state = registration.machine.state();
            if *state != before {
                match state {
                    RegistrationState::Registered { .. } => {
                        tracing::info!(trunk = %registration.trunk, "registered to the provider")
                    }
                    RegistrationState::Rejected { status, reason } => {
                        tracing::warn!(trunk = %registration.trunk, status, %reason, "provider refused the registration; retrying with backoff")
                    }
                    _ => {}
                }
            }
            self.board
                .update(&registration.trunk, registration.machine.status());
        }
    }

    /// Takes a final response to one of our REGISTERs; false when `key` is not ours.
    pub fn on_response(
        &mut self,
        key: &TransactionKey,
        response: &SipMessage,
        transactions: &mut TransactionTable,
        now: Instant,
    ) -> bool {
        let Some(index) = self.branches.remove(key) else {
            return false;
        };
        if let Some(registration) = self.list.get_mut(index) {
            registration
                .machine
                .handle_response(&key.branch, response, now);
        }
        self.drive(transactions, now);
        true
    }

    /// Takes the timeout of one of our REGISTERs (no answer); false when `key` is not ours.
    pub fn on_timeout(&mut self, key: &TransactionKey, now: Instant) -> bool {
        let Some(index) = self.branches.remove(key) else {
            return false;
        };
        if let Some(registration) = self.list.get_mut(index) {
            tracing::warn!(trunk = %registration.trunk, "provider did not answer REGISTER: unreachable");
            registration
                .machine
                .handle_transaction_timeout(&key.branch, now);
        }
        true
    }

    /// Starts removing every registration (shutdown).
    pub fn unregister(&mut self, transactions: &mut TransactionTable, now: Instant) {
        for registration in &mut self.list {
            registration.machine.unregister(now);
        }
        self.drive(transactions, now);
    }

    /// Whether every registration is removed (or never existed).
    pub fn settled(&self) -> bool {
        self.list
            .iter()
            .all(|r| matches!(r.machine.state(), RegistrationState::Unregistered))
    }
}
