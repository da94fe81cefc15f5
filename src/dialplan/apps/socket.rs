//! `Socket(host:port[,async][,full])`: hands the channel to an event-socket application
//! (FreeSWITCH's outbound `socket` app): the PBX connects to it and the application drives
//! the call with `sendmsg` until it closes the connection or the call ends. When the
//! session ends without a hangup, the channel hangs up unless the application sent
//! `resume`, in which case the next step runs. A server that cannot be reached sets
//! `${SOCKET_STATUS}` to FAILURE and the next step runs.

use super::{missing, AppError, Application, Outcome};
use crate::dialplan::vars::{CallCtx, Template};
use crate::esl::target::SocketTarget;

/// The `Socket` app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Socket {
    /// `host:port` and options, as written.
    pub target: Template,
}

impl Application for Socket {
    const NAME: &'static str = "Socket";
    const SYNTAX: &'static str = "Socket(host:port[,async][,full])";
    const DOC: &'static str = "Connects to an event-socket application (FreeSWITCH outbound \
        mode), which drives the channel until it lets go; sets ${SOCKET_STATUS} on failure.";

    fn parse(text: &str) -> Result<Self, AppError> {
        if text.trim().is_empty() {
            return Err(missing::<Self>("host:port"));
        }
        let template = Template::parse(text.trim())?;
        if let Some(literal) = template.literal() {
            SocketTarget::parse(literal).map_err(|e| AppError::BadSocketTarget(e.to_string()))?;
        }
        Ok(Socket { target: template })
    }

    fn run(&self, ctx: &mut CallCtx) -> Outcome {
        let text = ctx.expand(&self.target);
        match SocketTarget::parse(&text) {
            Ok(target) => Outcome::Socket(target),
            Err(error) => {
                tracing::warn!(target = %text, %error, "dialplan: Socket target unusable, step skipped");
                ctx.set("SOCKET_STATUS", "FAILURE".to_owned());
                Outcome::Next
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialplan::apps::tests::ctx;

    #[test]
    fn parse_and_run() {
        let app = Socket::parse("127.0.0.1:8051, async, full").unwrap();
        assert_eq!(
            app.run(&mut ctx()),
            Outcome::Socket(SocketTarget {
                host: "127.0.0.1".into(),
                port: 8051,
                async_mode: true,
                full: true
            })
        );
        assert!(matches!(
            Socket::parse("nowhere"),
            Err(AppError::BadSocketTarget(_))
        ));
        assert!(Socket::parse("").is_err());
    }
}
