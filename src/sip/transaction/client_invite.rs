//! RFC 3261 §17 transaction: client_invite.
