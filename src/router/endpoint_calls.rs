//! Live calls per calling endpoint, for its `max_concurrent_calls` (toll fraud): the router
//! counts a call when it starts the call task and forgets it when the task reports it ended.

use std::collections::HashMap;

use crate::call::CallId;

/// Which endpoint placed each live call, and how many each has.
#[derive(Debug, Default)]
pub(super) struct EndpointCalls {
    by_call: HashMap<CallId, String>,
    counts: HashMap<String, u32>,
}

impl EndpointCalls {
    /// Live calls placed by `endpoint`.
    pub(super) fn count(&self, endpoint: &str) -> u32 {
        self.counts.get(endpoint).copied().unwrap_or(0)
    }

    /// Call `call` placed by `endpoint` started.
    pub(super) fn started(&mut self, call: CallId, endpoint: &str) {
        *self.counts.entry(endpoint.to_string()).or_default() += 1;
        self.by_call.insert(call, endpoint.to_string());
    }

    /// Call `call` ended (any call: unknown ones are ignored).
    pub(super) fn ended(&mut self, call: CallId) {
        let Some(endpoint) = self.by_call.remove(&call) else {
            return;
        };
        if let Some(count) = self.counts.get_mut(&endpoint) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                self.counts.remove(&endpoint);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_follow_starts_and_ends() {
        let mut calls = EndpointCalls::default();
        calls.started(1, "6001");
        calls.started(2, "6001");
        calls.started(3, "6002");
        assert_eq!((calls.count("6001"), calls.count("6002")), (2, 1));
        calls.ended(1);
        calls.ended(1);
        calls.ended(99);
        assert_eq!(calls.count("6001"), 1);
        calls.ended(2);
        assert_eq!(calls.count("6001"), 0);
        assert!(!calls.counts.contains_key("6001"));
    }
}
