//! Hangup causes by their FreeSWITCH names (`switch_channel_cause2str`): the Q.850 cause
//! codes with FreeSWITCH's spelling, which clients send in `hangup-cause` and read in
//! `Hangup-Cause`.

/// Q.850 cause 16.
pub const NORMAL_CLEARING: u16 = 16;

/// Cause codes and their FreeSWITCH names.
const NAMES: &[(u16, &str)] = &[
    (0, "NONE"),
    (1, "UNALLOCATED_NUMBER"),
    (2, "NO_ROUTE_TRANSIT_NET"),
    (3, "NO_ROUTE_DESTINATION"),
    (6, "CHANNEL_UNACCEPTABLE"),
    (7, "CALL_AWARDED_DELIVERED"),
    (16, "NORMAL_CLEARING"),
    (17, "USER_BUSY"),
    (18, "NO_USER_RESPONSE"),
    (19, "NO_ANSWER"),
    (20, "SUBSCRIBER_ABSENT"),
    (21, "CALL_REJECTED"),
    (22, "NUMBER_CHANGED"),
    (23, "REDIRECTION_TO_NEW_DESTINATION"),
    (25, "EXCHANGE_ROUTING_ERROR"),
    (27, "DESTINATION_OUT_OF_ORDER"),
    (28, "INVALID_NUMBER_FORMAT"),
    (29, "FACILITY_REJECTED"),
    (30, "RESPONSE_TO_STATUS_ENQUIRY"),
    (31, "NORMAL_UNSPECIFIED"),
    (34, "NORMAL_CIRCUIT_CONGESTION"),
    (38, "NETWORK_OUT_OF_ORDER"),
    (41, "NORMAL_TEMPORARY_FAILURE"),
    (42, "SWITCH_CONGESTION"),
    (43, "ACCESS_INFO_DISCARDED"),
    (44, "REQUESTED_CHAN_UNAVAIL"),
    (57, "BEARERCAPABILITY_NOTAUTH"),
    (58, "BEARERCAPABILITY_NOTAVAIL"),
    (63, "SERVICE_UNAVAILABLE"),
    (65, "BEARERCAPABILITY_NOTIMPL"),
    (66, "CHAN_NOT_IMPLEMENTED"),
    (69, "FACILITY_NOT_IMPLEMENTED"),
    (79, "SERVICE_NOT_IMPLEMENTED"),
    (81, "INVALID_CALL_REFERENCE"),
    (88, "INCOMPATIBLE_DESTINATION"),
    (95, "INVALID_MSG_UNSPECIFIED"),
    (96, "MANDATORY_IE_MISSING"),
    (97, "MESSAGE_TYPE_NONEXIST"),
    (98, "WRONG_MESSAGE"),
    (99, "IE_NONEXIST"),
    (100, "INVALID_IE_CONTENTS"),
    (101, "WRONG_CALL_STATE"),
    (102, "RECOVERY_ON_TIMER_EXPIRE"),
    (103, "MANDATORY_IE_LENGTH_ERROR"),
    (111, "PROTOCOL_ERROR"),
    (127, "INTERWORKING"),
    (487, "ORIGINATOR_CANCEL"),
    (602, "ALLOTTED_TIMEOUT"),
];

/// The FreeSWITCH name of `cause`; `NORMAL_UNSPECIFIED` for a code without one.
pub fn name(cause: u16) -> &'static str {
    NAMES
        .iter()
        .find(|(code, _)| *code == cause)
        .map_or("NORMAL_UNSPECIFIED", |(_, name)| name)
}

/// The cause named `text` (case-insensitive) or written as its number.
pub fn parse(text: &str) -> Option<u16> {
    let text = text.trim();
    if let Ok(code) = text.parse::<u16>() {
        return Some(code);
    }
    NAMES
        .iter()
        .find(|(_, name)| name.eq_ignore_ascii_case(text))
        .map(|(code, _)| *code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers_go_both_ways() {
        assert_eq!(name(16), "NORMAL_CLEARING");
        assert_eq!(name(17), "USER_BUSY");
        assert_eq!(name(200), "NORMAL_UNSPECIFIED");
        assert_eq!(parse("user_busy"), Some(17));
        assert_eq!(parse("21"), Some(21));
        assert_eq!(parse("SOMETHING_ELSE"), None);
    }
}
