//! AMI permission classes (sans-IO): every action and every event belongs to classes such as
//! `call` or `system`. A user may run an action when its `write` classes share one with the
//! action's (actions of no class are open to every logged-in user), and receives an event
//! when its `read` classes hold the event's class and its session's `Events` filter does too.
//!
//! Names are Asterisk's (`manager.conf`'s `read`/`write`, the `Events:` header of Login and
//! of the Events action), and so are the bit values of a numeric mask (`Events: 3` is
//! `system,call`). `all` stands for every class. For `Events`, `on` (or `yes`, `true`...)
//! means every class and `off` (`no`, `false`...) none, as Asterisk's `ast_true`/`ast_false`
//! read them.

use std::fmt;

/// One permission class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Class {
    /// Configuration and state of the system: FullyBooted, ContactStatus, Registry, Shutdown.
    System,
    /// Calls: channel and bridge events, Hangup, Setvar.
    Call,
    /// Log output.
    Log,
    /// Verbose output.
    Verbose,
    /// The `Command` action (CLI commands).
    Command,
    /// Queue agents.
    Agent,
    /// UserEvent.
    User,
    /// Reading and writing configuration files.
    Config,
    /// DTMFBegin / DTMFEnd.
    Dtmf,
    /// Status queries: CoreStatus, CoreShowChannels, Getvar.
    Reporting,
    /// Call detail records.
    Cdr,
    /// Newexten, VarSet.
    Dialplan,
    /// The `Originate` action.
    Originate,
    /// AGI: AsyncAGI and AGIExec events, the `AGI` action.
    Agi,
    /// Call completion.
    Cc,
    /// Advice of charge.
    Aoc,
    /// Test events.
    Test,
    /// Security events.
    Security,
    /// Out-of-call messages.
    Message,
}

impl Class {
    /// Every class, in Asterisk's order (which is also bit order).
    pub const ALL: [Class; 19] = [
        Class::System,
        Class::Call,
        Class::Log,
        Class::Verbose,
        Class::Command,
        Class::Agent,
        Class::User,
        Class::Config,
        Class::Dtmf,
        Class::Reporting,
        Class::Cdr,
        Class::Dialplan,
        Class::Originate,
        Class::Agi,
        Class::Cc,
        Class::Aoc,
        Class::Test,
        Class::Security,
        Class::Message,
    ];

    /// The class's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Class::System => "system",
            Class::Call => "call",
            Class::Log => "log",
            Class::Verbose => "verbose",
            Class::Command => "command",
            Class::Agent => "agent",
            Class::User => "user",
            Class::Config => "config",
            Class::Dtmf => "dtmf",
            Class::Reporting => "reporting",
            Class::Cdr => "cdr",
            Class::Dialplan => "dialplan",
            Class::Originate => "originate",
            Class::Agi => "agi",
            Class::Cc => "cc",
            Class::Aoc => "aoc",
            Class::Test => "test",
            Class::Security => "security",
            Class::Message => "message",
        }
    }

    /// The class named `name` (any case).
    pub fn from_name(name: &str) -> Option<Class> {
        Class::ALL
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(name))
    }

    fn bit(self) -> u32 {
        1 << (self as u32)
    }

    /// The `Privilege` header of an event of this class: `call,all`.
    pub fn privilege(self) -> String {
        format!("{},all", self.as_str())
    }
}

/// A set of classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ClassSet(u32);

/// Why a list of classes was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClassError {
    /// A name is not a class.
    #[error("`{0}` is not a permission class; expected all or any of system, call, log, verbose, command, agent, user, config, dtmf, reporting, cdr, dialplan, originate, agi, cc, aoc, test, security, message")]
    Unknown(String),
}

impl ClassSet {
    /// No class.
    pub const EMPTY: ClassSet = ClassSet(0);
    /// Every class (`all`).
    pub const ALL: ClassSet = ClassSet((1 << Class::ALL.len()) - 1);

    /// The set of `classes`.
    pub fn of(classes: &[Class]) -> ClassSet {
        classes.iter().fold(ClassSet::EMPTY, |set, c| set.with(*c))
    }

    /// This set and `class`.
    pub fn with(self, class: Class) -> ClassSet {
        ClassSet(self.0 | class.bit())
    }

    /// Whether `class` is in the set.
    pub fn contains(self, class: Class) -> bool {
        self.0 & class.bit() != 0
    }

    /// Whether the two sets share a class.
    pub fn intersects(self, other: ClassSet) -> bool {
        self.0 & other.0 != 0
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Classes of both sets.
    pub fn union(self, other: ClassSet) -> ClassSet {
        ClassSet(self.0 | other.0)
    }

    /// The classes in the set, in order.
    pub fn iter(self) -> impl Iterator<Item = Class> {
        Class::ALL.into_iter().filter(move |c| self.contains(*c))
    }

    /// Parses comma-separated class names (`call,dtmf`, `all`), refusing unknown names. This
    /// is how configuration is read.
    pub fn parse_names(text: &str) -> Result<ClassSet, ClassError> {
        let mut set = ClassSet::EMPTY;
        for name in text.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            if name.eq_ignore_ascii_case("all") {
                set = ClassSet::ALL;
            } else {
                let class =
                    Class::from_name(name).ok_or_else(|| ClassError::Unknown(name.into()))?;
                set = set.with(class);
            }
        }
        Ok(set)
    }

    /// Reads an `Events:` header: `on`/`off` (and their synonyms), a numeric mask, or class
    /// names. Unknown names are ignored, as Asterisk ignores them; an empty value means every
    /// class.
    pub fn parse_events(text: &str) -> ClassSet {
        let text = text.trim();
        if text.is_empty() {
            return ClassSet::ALL;
        }
        if text.bytes().all(|b| b.is_ascii_digit()) {
            return ClassSet(text.parse::<u32>().unwrap_or(u32::MAX) & ClassSet::ALL.0);
        }
        let is = |words: &[&str]| words.iter().any(|w| w.eq_ignore_ascii_case(text));
        if is(&["off", "no", "false", "n", "f"]) {
            return ClassSet::EMPTY;
        }
        if is(&["on", "yes", "true", "y", "t"]) {
            return ClassSet::ALL;
        }
        text.split(',')
            .map(str::trim)
            .fold(ClassSet::EMPTY, |set, name| {
                if name.eq_ignore_ascii_case("all") {
                    ClassSet::ALL
                } else {
                    Class::from_name(name).map_or(set, |c| set.with(c))
                }
            })
    }
}

/// `system,call`, or `<none>` for the empty set (as ListCommands shows an action's classes).
impl fmt::Display for ClassSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("<none>");
        }
        let mut first = true;
        for class in self.iter() {
            if !first {
                f.write_str(",")?;
            }
            first = false;
            f.write_str(class.as_str())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_in_any_case_and_all_means_every_class() {
        let set = ClassSet::parse_names("call, DTMF").unwrap();
        assert!(set.contains(Class::Call) && set.contains(Class::Dtmf));
        assert!(!set.contains(Class::System));
        assert_eq!(ClassSet::parse_names("all").unwrap(), ClassSet::ALL);
        assert_eq!(ClassSet::parse_names("").unwrap(), ClassSet::EMPTY);
        assert!(Class::ALL.iter().all(|c| ClassSet::ALL.contains(*c)));
    }

    #[test]
    fn an_unknown_name_is_refused_in_config() {
        assert_eq!(
            ClassSet::parse_names("call,cal"),
            Err(ClassError::Unknown("cal".into()))
        );
    }

    #[test]
    fn events_on_off_numbers_and_names() {
        assert_eq!(ClassSet::parse_events("on"), ClassSet::ALL);
        assert_eq!(ClassSet::parse_events("Yes"), ClassSet::ALL);
        assert_eq!(ClassSet::parse_events("off"), ClassSet::EMPTY);
        assert_eq!(ClassSet::parse_events("0"), ClassSet::EMPTY);
        assert_eq!(
            ClassSet::parse_events("3"),
            ClassSet::of(&[Class::System, Class::Call])
        );
        assert_eq!(
            ClassSet::parse_events("call,dtmf,nonsense"),
            ClassSet::of(&[Class::Call, Class::Dtmf])
        );
        assert_eq!(ClassSet::parse_events("99999999999"), ClassSet::ALL);
    }

    #[test]
    fn sets_display_as_comma_lists_and_privilege_adds_all() {
        assert_eq!(
            ClassSet::of(&[Class::Reporting, Class::System]).to_string(),
            "system,reporting"
        );
        assert_eq!(ClassSet::EMPTY.to_string(), "<none>");
        assert_eq!(Class::Call.privilege(), "call,all");
    }

    #[test]
    fn write_classes_allow_an_action_sharing_one_of_its_classes() {
        let hangup = ClassSet::of(&[Class::System, Class::Call]);
        assert!(ClassSet::of(&[Class::Call]).intersects(hangup));
        assert!(!ClassSet::of(&[Class::Reporting]).intersects(hangup));
    }
}
