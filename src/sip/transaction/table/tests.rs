//! Unit tests of the transaction table over a simulated clock: retransmission absorption, ACK
//! matching (RFC 3261 §17.2.3), CANCEL beside its INVITE, client timeouts, looped requests,
//! reliable transports, ten thousand transactions draining, and the message counters.

use super::*;
use crate::sip::counters::Direction;
use std::time::Duration;
use RequestMatch as RM;
use ResponseDisposition as RD;

const MS: Duration = Duration::from_millis(1);
const INV: Method = Method::Invite;
const ACK: Method = Method::Ack;
const REG: Method = Method::Register;

fn peer() -> SocketAddr {
    SocketAddr::from(([192, 0, 2, 10], 5060))
}

fn b(text: &'static str) -> Bytes {
    Bytes::from_static(text.as_bytes())
}

/// A server-side key (with sent-by).
fn sk(branch: &str, method: Method) -> TransactionKey {
    TransactionKey::for_request(branch, method).with_sent_by("192.0.2.10:5060")
}

/// A client-side key.
fn ck(branch: &str, method: Method) -> TransactionKey {
    TransactionKey::for_request(branch, method)
}

fn udp() -> TransactionTable {
    TransactionTable::new(Reliability::Unreliable, Timers::default())
}

fn req(t: &mut TransactionTable, k: &TransactionKey, m: Method, now: Instant) -> RequestMatch {
    t.on_request(k, m, peer(), now)
}

/// Drains the wire queue, checking every datagram goes to the peer.
fn sent(t: &mut TransactionTable) -> Vec<Bytes> {
    std::iter::from_fn(|| t.poll_transmit())
        .map(|(to, bytes)| {
            assert_eq!(to, peer());
            bytes
        })
        .collect()
}

/// Runs every timer to the end; returns how many datagrams were sent meanwhile.
fn run_all(t: &mut TransactionTable) -> usize {
    let (mut count, mut last) = (0, None);
    while let Some(at) = t.poll_timeout() {
        assert!(last.is_none_or(|l| l <= at), "deadlines go backwards");
        last = Some(at);
        t.handle_timeout(at);
        count += sent(t).len();
    }
    count
}

#[test]
fn retransmitted_register_gets_the_stored_response() {
    let (t0, mut t) = (Instant::now(), udp());
    let k = sk("z9hG4bKreg", REG);
    assert_eq!(req(&mut t, &k, REG, t0), RM::New);
    assert_eq!(req(&mut t, &k, REG, t0), RM::Retransmission);
    assert!(sent(&mut t).is_empty());
    t.respond(&k, 200, b("200 OK"), t0).unwrap();
    assert_eq!(sent(&mut t), [b("200 OK")]);
    assert_eq!(req(&mut t, &k, REG, t0), RM::Retransmission);
    assert_eq!(sent(&mut t), [b("200 OK")]);
    assert_eq!(t.poll_timeout(), Some(t0 + 32_000 * MS));
    assert_eq!(run_all(&mut t), 0);
    assert!(t.is_empty());
    assert_eq!(req(&mut t, &k, REG, t0), RM::New);
}

#[test]
fn ack_for_non_2xx_is_absorbed_and_others_go_to_the_tu() {
    let (t0, mut t) = (Instant::now(), udp());
    let (k, ack) = (sk("z9hG4bKinv", INV), sk("z9hG4bKinv", ACK));
    assert_eq!(req(&mut t, &k, INV, t0), RM::New);
    assert!(t.owes_trying(&k));
    assert_eq!(req(&mut t, &ack, ACK, t0), RM::AckUnmatched);
    t.respond(&k, 100, b("100"), t0).unwrap();
    assert!(!t.owes_trying(&k));
    t.respond(&k, 486, b("486"), t0).unwrap();
    assert_eq!(sent(&mut t), [b("100"), b("486")]);
    t.handle_timeout(t0 + 500 * MS);
    assert_eq!(sent(&mut t), [b("486")]);
    assert_eq!(req(&mut t, &ack, ACK, t0 + 600 * MS), RM::AckMatched);
    assert_eq!(req(&mut t, &ack, ACK, t0 + 700 * MS), RM::AckMatched);
    let stray = sk("z9hG4bKother", ACK);
    assert_eq!(req(&mut t, &stray, ACK, t0), RM::AckUnmatched);
    assert_eq!(t.poll_timeout(), Some(t0 + 5600 * MS));
    assert_eq!(run_all(&mut t), 0);
    assert!(t.is_empty());
    assert_eq!(t.poll_event(), None);
}

#[test]
fn accepted_invite_absorbs_retransmissions_and_passes_the_2xx_ack_on() {
    let (t0, mut t) = (Instant::now(), udp());
    let (k, ack) = (sk("z9hG4bKok", INV), sk("z9hG4bKok", ACK));
    req(&mut t, &k, INV, t0);
    t.respond(&k, 200, b("200"), t0).unwrap();
    assert_eq!(sent(&mut t), [b("200")]);
    assert_eq!(req(&mut t, &k, INV, t0), RM::Retransmission);
    assert!(sent(&mut t).is_empty());
    assert_eq!(req(&mut t, &ack, ACK, t0), RM::AckUnmatched);
    assert_eq!(run_all(&mut t), 0);
    assert!(t.is_empty());
}

#[test]
fn unacknowledged_final_reports_server_no_ack() {
    let (t0, mut t) = (Instant::now(), udp());
    let k = sk("z9hG4bKnoack", INV);
    req(&mut t, &k, INV, t0);
    t.respond(&k, 404, b("404"), t0).unwrap();
    assert_eq!(sent(&mut t), [b("404")]);
    assert_eq!(run_all(&mut t), 10);
    assert_eq!(t.poll_event(), Some(TableEvent::ServerNoAck(k.clone())));
    assert_eq!(t.poll_event(), None);
    assert!(t.is_empty());
    let late = t.respond(&k, 404, b("404"), t0);
    assert_eq!(late, Err(TransactionError::NoTransaction));
}

#[test]
fn cancel_is_its_own_transaction_beside_the_invite() {
    let (t0, mut t) = (Instant::now(), udp());
    let (invite, cancel) = (sk("z9hG4bKc", INV), sk("z9hG4bKc", Method::Cancel));
    assert_eq!(req(&mut t, &invite, INV, t0), RM::New);
    assert_eq!(req(&mut t, &cancel, Method::Cancel, t0), RM::New);
    assert_eq!(t.len(), 2);
    t.respond(&cancel.cancelled_invite(), 487, b("487"), t0)
        .unwrap();
    t.respond(&cancel, 200, b("200 CANCEL"), t0).unwrap();
    assert_eq!(sent(&mut t), [b("487"), b("200 CANCEL")]);
    let again = req(&mut t, &cancel, Method::Cancel, t0);
    assert_eq!(again, RM::Retransmission);
    assert_eq!(sent(&mut t), [b("200 CANCEL")]);
    let ack = sk("z9hG4bKc", ACK);
    assert_eq!(req(&mut t, &ack, ACK, t0), RM::AckMatched);
    run_all(&mut t);
    assert!(t.is_empty());
}

#[test]
fn client_invite_rejected_is_acked_and_cleaned_up() {
    let (t0, mut t) = (Instant::now(), udp());
    let k = ck("z9hG4bKout", INV);
    t.send_request(&k, peer(), b("INVITE"), t0).unwrap();
    let dup = t.send_request(&k, peer(), b("INVITE"), t0);
    assert_eq!(dup, Err(TransactionError::DuplicateKey));
    assert_eq!(sent(&mut t), [b("INVITE")]);
    let stray = ck("z9hG4bKstray", INV);
    assert_eq!(t.on_response(&stray, 200, t0), RD::NoTransaction);
    assert_eq!(t.on_response(&k, 486, t0), RD::DeliverAndAck);
    assert_eq!(t.invite_request(&k), Some(&b("INVITE")));
    t.send_ack(&k, b("ACK")).unwrap();
    assert_eq!(sent(&mut t), [b("ACK")]);
    assert_eq!(t.on_response(&k, 486, t0 + MS), RD::Absorb);
    assert_eq!(sent(&mut t), [b("ACK")]);
    assert_eq!(run_all(&mut t), 0);
    assert!(t.is_empty());
    let late = t.send_ack(&k, b("ACK"));
    assert_eq!(late, Err(TransactionError::NoTransaction));
}

#[test]
fn client_2xx_retransmissions_reach_the_tu() {
    let (t0, mut t) = (Instant::now(), udp());
    let k = ck("z9hG4bK2xx", INV);
    t.send_request(&k, peer(), b("INVITE"), t0).unwrap();
    assert_eq!(sent(&mut t), [b("INVITE")]);
    assert_eq!(t.on_response(&k, 200, t0), RD::Deliver);
    assert_eq!(t.on_response(&k, 200, t0 + MS), RD::Deliver);
    assert_eq!(t.poll_timeout(), Some(t0 + 32_000 * MS));
    assert_eq!(run_all(&mut t), 0);
    assert!(t.is_empty());
    assert_eq!(t.on_response(&k, 200, t0), RD::NoTransaction);
}

#[test]
fn client_timeout_is_reported_and_options_takes_no_ack() {
    let (t0, mut t) = (Instant::now(), udp());
    let k = ck("z9hG4bKopt", Method::Options);
    t.send_request(&k, peer(), b("OPTIONS"), t0).unwrap();
    assert_eq!(t.invite_request(&k), None);
    let ack = t.send_ack(&k, b("ACK"));
    assert_eq!(ack, Err(TransactionError::AckNotExpected));
    assert_eq!(run_all(&mut t), 1 + 10);
    assert_eq!(t.poll_event(), Some(TableEvent::ClientTimeout(k)));
    assert!(t.is_empty());
}

#[test]
fn looped_request_does_not_match_our_client_transaction() {
    let (t0, mut t) = (Instant::now(), udp());
    let k = ck("z9hG4bKloop", Method::Options);
    t.send_request(&k, peer(), b("OPTIONS"), t0).unwrap();
    assert_eq!(req(&mut t, &k, Method::Options, t0), RM::New);
    assert_eq!(t.len(), 2);
    assert!(t.abandon_client(&k));
    assert!(!t.abandon_client(&k));
    assert_eq!(t.len(), 1);
}

#[test]
fn reliable_transport_cleans_up_without_lingering() {
    let t0 = Instant::now();
    let mut t = TransactionTable::new(Reliability::Reliable, Timers::default());
    let srv = sk("z9hG4bKr1", Method::Bye);
    req(&mut t, &srv, Method::Bye, t0);
    t.respond(&srv, 200, b("200"), t0).unwrap();
    assert!(t.is_empty());
    let cli = ck("z9hG4bKr2", INV);
    t.send_request(&cli, peer(), b("INVITE"), t0).unwrap();
    assert_eq!(t.on_response(&cli, 503, t0), RD::DeliverAndAck);
    t.send_ack(&cli, b("ACK")).unwrap();
    assert_eq!(t.poll_timeout(), Some(t0));
    t.handle_timeout(t0);
    assert!(t.is_empty());
    assert_eq!(sent(&mut t), [b("200"), b("INVITE"), b("ACK")]);
}

#[test]
fn ten_thousand_transactions_all_drain() {
    let (t0, mut t) = (Instant::now(), udp());
    for i in 0..10_000u32 {
        let (at, branch) = (t0 + MS * (i % 1000), format!("z9hG4bK{i}"));
        match i % 4 {
            0 => {
                let k = sk(&branch, REG);
                req(&mut t, &k, REG, at);
                t.respond(&k, 200, b("200"), at).unwrap();
            }
            1 => {
                let k = sk(&branch, INV);
                req(&mut t, &k, INV, at);
                t.respond(&k, 486, b("486"), at).unwrap();
            }
            2 => {
                let k = ck(&branch, INV);
                t.send_request(&k, peer(), b("INV"), at).unwrap();
                t.on_response(&k, 180, at);
            }
            _ => {
                let k = ck(&branch, Method::Options);
                t.send_request(&k, peer(), b("OPT"), at).unwrap();
            }
        }
    }
    assert_eq!(t.len(), 10_000);
    sent(&mut t);
    run_all(&mut t);
    assert_eq!(
        t.len(),
        2500,
        "client INVITEs in Proceeding wait for the TU"
    );
    for i in (2..10_000u32).step_by(4) {
        assert!(t.abandon_client(&ck(&format!("z9hG4bK{i}"), INV)));
    }
    assert!(t.is_empty());
    assert_eq!(t.poll_timeout(), None);
    assert_eq!(std::iter::from_fn(|| t.poll_event()).count(), 5000);
}

#[test]
fn counters_tell_new_requests_from_retransmissions_each_way() {
    let (t0, mut t) = (Instant::now(), udp());
    let k = sk("z9hG4bKcount", REG);
    req(&mut t, &k, REG, t0);
    req(&mut t, &k, REG, t0);
    t.respond(&k, 200, b("200 OK"), t0).unwrap();
    req(&mut t, &k, REG, t0);
    assert_eq!(sent(&mut t).len(), 2);
    let c = t.counters();
    assert_eq!(c.requests(Direction::Received, REG), 1);
    assert_eq!(c.retransmitted(Direction::Received), 2);
    assert_eq!(c.responses(Direction::Sent, 1), 1, "one 2xx sent");
    assert_eq!(c.retransmitted(Direction::Sent), 1, "the 200 sent again");
}

#[test]
fn counters_count_timer_retransmissions_and_responses_received() {
    let (t0, mut t) = (Instant::now(), udp());
    let k = ck("z9hG4bKtimers", Method::Options);
    t.send_request(&k, peer(), b("OPTIONS"), t0).unwrap();
    assert_eq!(sent(&mut t), [b("OPTIONS")]);
    assert_eq!(run_all(&mut t), 10);
    let invite = ck("z9hG4bKbusy", INV);
    t.send_request(&invite, peer(), b("INVITE"), t0).unwrap();
    t.on_response(&invite, 180, t0);
    t.on_response(&invite, 486, t0);
    t.send_ack(&invite, b("ACK")).unwrap();
    let c = t.counters();
    assert_eq!(c.requests(Direction::Sent, Method::Options), 1);
    assert_eq!(c.requests(Direction::Sent, INV), 1);
    assert_eq!(c.requests(Direction::Sent, ACK), 1);
    assert_eq!(c.retransmitted(Direction::Sent), 10);
    assert_eq!(c.responses(Direction::Received, 0), 1, "the 180");
    assert_eq!(c.responses(Direction::Received, 3), 1, "the 486");
}

#[test]
fn a_2xx_the_tu_sends_again_counts_as_a_retransmission() {
    let (t0, mut t) = (Instant::now(), udp());
    let k = sk("z9hG4bKagain", INV);
    req(&mut t, &k, INV, t0);
    t.respond(&k, 200, b("200"), t0).unwrap();
    t.respond(&k, 200, b("200"), t0 + 500 * MS).unwrap();
    assert_eq!(sent(&mut t).len(), 2);
    assert_eq!(t.counters().responses(Direction::Sent, 1), 1);
    assert_eq!(t.counters().retransmitted(Direction::Sent), 1);
}
