//! The ban policy on a simulated clock.

use super::*;

fn policy() -> BanPolicy {
    BanPolicy {
        max_failures: 3,
        window: Duration::from_secs(60),
        ban_time: Duration::from_secs(10),
        max_ban_time: Duration::from_secs(35),
        account_max_failures: 5,
        account_lockout: Duration::from_secs(30),
        allow: vec!["10.0.0.0/8".parse().unwrap()],
    }
}

const SCANNER: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 5));

#[test]
fn a_source_is_banned_at_the_threshold_and_the_ban_ends() {
    let mut bans = BanList::new(policy());
    let t0 = Instant::now();
    assert_eq!(
        bans.record_failure(SCANNER, "6001", t0),
        FailureOutcome::Counted
    );
    assert_eq!(
        bans.record_failure(SCANNER, "6002", t0),
        FailureOutcome::Counted
    );
    assert!(!bans.is_banned(SCANNER, t0));
    let FailureOutcome::Banned(ban) = bans.record_failure(SCANNER, "6003", t0) else {
        panic!("not banned at the threshold");
    };
    assert_eq!(
        (ban.failures, ban.offences, ban.length),
        (3, 1, Duration::from_secs(10))
    );
    assert!(bans.is_banned(SCANNER, t0 + Duration::from_secs(9)));
    assert!(!bans.is_banned(SCANNER, t0 + Duration::from_secs(10)));
    assert_eq!(bans.bans(t0), [ban]);
    assert!(bans.bans(t0 + Duration::from_secs(10)).is_empty());
}

#[test]
fn failures_outside_the_window_do_not_add_up() {
    let mut bans = BanList::new(policy());
    let t0 = Instant::now();
    for minute in 0..10 {
        let now = t0 + Duration::from_secs(61 * minute);
        bans.record_failure(SCANNER, "6001", now);
        bans.record_failure(SCANNER, "6001", now);
        assert!(!bans.is_banned(SCANNER, now));
    }
}

#[test]
fn repeat_offenders_are_banned_twice_as_long_up_to_the_maximum() {
    let mut bans = BanList::new(policy());
    let mut now = Instant::now();
    let mut lengths = Vec::new();
    for _ in 0..4 {
        let ban = loop {
            if let FailureOutcome::Banned(ban) = bans.record_failure(SCANNER, "x", now) {
                break ban;
            }
        };
        lengths.push(ban.length.as_secs());
        now = ban.until;
    }
    assert_eq!(lengths, [10, 20, 35, 35]);
}

#[test]
fn allow_listed_networks_are_never_banned() {
    let mut bans = BanList::new(policy());
    let lan: IpAddr = "10.1.2.3".parse().unwrap();
    let now = Instant::now();
    for _ in 0..100 {
        assert_eq!(
            bans.record_failure(lan, "6001", now),
            FailureOutcome::Counted
        );
    }
    assert!(!bans.is_banned(lan, now));
}

#[test]
fn accounts_lock_after_their_threshold_from_any_sources() {
    let mut bans = BanList::new(policy());
    let now = Instant::now();
    for i in 0..5u8 {
        assert!(!bans.is_locked("6001", now));
        bans.record_failure(IpAddr::from([198, 51, 100, i]), "6001", now);
    }
    assert!(bans.is_locked("6001", now));
    assert!(!bans.is_locked("6002", now));
    assert!(!bans.is_locked("6001", now + Duration::from_secs(30)));
}

#[test]
fn success_resets_the_count_and_unban_lifts_a_ban() {
    let mut bans = BanList::new(policy());
    let now = Instant::now();
    bans.record_failure(SCANNER, "6001", now);
    bans.record_failure(SCANNER, "6001", now);
    bans.record_success(SCANNER);
    bans.record_failure(SCANNER, "6001", now);
    bans.record_failure(SCANNER, "6001", now);
    assert!(!bans.is_banned(SCANNER, now));
    bans.record_failure(SCANNER, "6001", now);
    assert!(bans.is_banned(SCANNER, now));
    assert!(bans.unban(SCANNER, now));
    assert!(!bans.is_banned(SCANNER, now));
    assert!(!bans.unban(SCANNER, now));
}

#[test]
fn purge_forgets_quiet_sources_and_bounds_the_table() {
    let mut bans = BanList::new(policy());
    let now = Instant::now();
    for i in 0..1000u32 {
        bans.record_failure(IpAddr::from(i.to_be_bytes()), "x", now);
    }
    bans.purge(now + Duration::from_secs(61));
    assert!(bans.sources.is_empty());
    assert!(bans.accounts.is_empty());
}
