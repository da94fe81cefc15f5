//! SIP message parsing and building: the only module that touches rsip.
