//! Forking a call to several branches (RFC 3261 §16.7's response selection, as a B2BUA's
//! Dial does it), sans-IO: where each branch stands, when the fork is over, and how the
//! branches' final responses combine into Asterisk's `${DIALSTATUS}` when none answered: a
//! busy branch wins over one that was not answered, which wins over any other failure.

use crate::dialplan::DialStatus;

/// Where one branch of a fork stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BranchState {
    /// INVITE sent, nothing or 100 back.
    Calling,
    /// 180/183 received.
    Ringing,
    /// Final failure response (or timeout as 408).
    Failed(u16),
    /// CANCEL or BYE sent by us.
    Abandoned,
}

impl BranchState {
    /// Still waiting for a final response (and so to be cancelled when the fork ends).
    pub fn is_pending(self) -> bool {
        matches!(self, BranchState::Calling | BranchState::Ringing)
    }
}

/// The DIALSTATUS one branch failing with `status` stands for.
pub fn branch_status(status: u16) -> DialStatus {
    match status {
        486 | 600 => DialStatus::Busy,
        408 | 480 | 487 | 603 => DialStatus::NoAnswer,
        _ => DialStatus::Congestion,
    }
}

/// Whether no branch can still answer.
pub fn all_over(branches: impl IntoIterator<Item = BranchState>) -> bool {
    branches.into_iter().all(|b| !b.is_pending())
}

/// DIALSTATUS when every branch is over and none answered, from the most telling response;
/// `Cancel` when none failed on its own (all were given up).
pub fn dial_status(branches: impl IntoIterator<Item = BranchState>) -> DialStatus {
    let failed = branches.into_iter().filter_map(|b| match b {
        BranchState::Failed(status) => Some(branch_status(status)),
        _ => None,
    });
    failed
        .min_by_key(|status| match status {
            DialStatus::Busy => 0,
            DialStatus::NoAnswer => 1,
            _ => 2,
        })
        .unwrap_or(DialStatus::Cancel)
}

#[cfg(test)]
mod tests {
    use super::BranchState::*;
    use super::*;

    #[test]
    fn a_busy_branch_wins_over_unanswered_and_failed_ones() {
        assert_eq!(
            dial_status([Failed(503), Failed(480), Failed(486)]),
            DialStatus::Busy
        );
        assert_eq!(
            dial_status([Failed(503), Failed(408)]),
            DialStatus::NoAnswer
        );
        assert_eq!(
            dial_status([Failed(404), Failed(503)]),
            DialStatus::Congestion
        );
        assert_eq!(dial_status([Failed(603)]), DialStatus::NoAnswer);
        assert_eq!(dial_status([Failed(600)]), DialStatus::Busy);
    }

    #[test]
    fn branches_all_given_up_are_a_cancel() {
        assert_eq!(dial_status([Abandoned, Abandoned]), DialStatus::Cancel);
        assert_eq!(dial_status([]), DialStatus::Cancel);
    }

    #[test]
    fn the_fork_is_over_when_no_branch_is_pending() {
        assert!(!all_over([Failed(486), Ringing]));
        assert!(!all_over([Calling]));
        assert!(all_over([Failed(486), Abandoned]));
        assert!(Ringing.is_pending() && !Failed(500).is_pending());
    }
}
