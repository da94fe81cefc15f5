//! RFC 4733 telephone-event (DTMF) receive and send.
