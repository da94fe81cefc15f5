//! The UA cores of the B2BUA (sans-IO, like [`super::transaction`]): the timers and
//! decisions a call leg makes above the transaction layer, driven by the call tasks with
//! `now` passed in and unit-tested on simulated clocks.

pub mod answer_retransmission;
pub mod fork;
