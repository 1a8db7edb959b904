//! Command knowledge for the prompt: argument hints while typing, TAB completion
//! of command names, and the `help` command.
//!
//! The hint rule is redis-cli's: find the table entry whose name (one or two
//! words) is the longest prefix of the typed words, show its syntax after the
//! cursor, and drop one leading syntax word per extra argument typed, stopping at
//! the first optional (`[`) part.

mod table;

use crate::split::split_args;

/// One command's entry.
#[derive(Debug, Clone, Copy)]
pub struct CommandHelp {
    /// Upper case; two words for subcommands (`"CLIENT KILL"`).
    pub name: &'static str,
    /// The argument syntax, as `help` and the hints show it.
    pub params: &'static str,
    pub group: &'static str,
    /// The first version that had the command.
    pub since: &'static str,
}

/// Every known command, sorted by name.
pub fn commands() -> &'static [CommandHelp] {
    table::COMMANDS
}

/// The distinct groups, sorted.
pub fn groups() -> Vec<&'static str> {
    let mut g: Vec<_> = commands().iter().map(|c| c.group).collect();
    g.sort_unstable();
    g.dedup();
    g
}

/// The entry for `words`, matching the longest command name they start with.
pub fn lookup(words: &[Vec<u8>]) -> Option<(&'static CommandHelp, usize)> {
    let mut best: Option<(&CommandHelp, usize)> = None;
    for c in commands() {
        let parts: Vec<&str> = c.name.split(' ').collect();
        if parts.len() > words.len() {
            continue;
        }
        let matches = parts
            .iter()
            .zip(words)
            .all(|(p, w)| p.as_bytes().eq_ignore_ascii_case(w));
        if matches && best.is_none_or(|(_, n)| parts.len() > n) {
            best = Some((c, parts.len()));
        }
    }
    best
}

/// The hint to show after `line` (the cursor is at its end), if any.
pub fn hint(line: &str) -> Option<String> {
    let words = split_args(line.as_bytes())?;
    if words.is_empty() {
        return None;
    }
    let (entry, matched) = lookup(&words)?;
    let mut hint = entry.params;
    let mut to_remove = words.len() - matched;
    while to_remove > 0 && !hint.is_empty() {
        if hint.starts_with('[') {
            break;
        }
        if hint.starts_with(' ') {
            to_remove -= 1;
        }
        hint = &hint[1..];
    }
    let ends_with_space = line.ends_with(|c: char| c.is_ascii_whitespace());
    Some(if ends_with_space {
        hint.to_string()
    } else {
        format!(" {hint}")
    })
}

/// TAB completions for `line`: whole command names (the line is replaced), or
/// help topics after `help `.
pub fn complete(line: &str) -> Vec<String> {
    let lower = line.to_ascii_lowercase();
    if let Some(rest) = lower.strip_prefix("help ") {
        let start = line.len() - rest.trim_start().len();
        let typed = &lower[start..];
        let mut out = Vec::new();
        for g in groups() {
            let topic = format!("@{g}");
            if topic.starts_with(typed) {
                out.push(format!("{}{topic}", &line[..start]));
            }
        }
        for c in commands() {
            if c.name.to_ascii_lowercase().starts_with(typed) {
                out.push(format!("{}{}", &line[..start], c.name));
            }
        }
        return out;
    }
    commands()
        .iter()
        .filter(|c| c.name.to_ascii_lowercase().starts_with(&lower))
        .map(|c| c.name.to_string())
        .collect()
}

const BOLD: &str = "\x1b[1m";
const GREY: &str = "\x1b[90m";
const YELLOW: &str = "\x1b[33m";
const RESET: &str = "\x1b[0m";

/// The text of `help`, `help <command>` or `help @<group>`. `summary` looks up a
/// command's one-line description (from the server); it may know nothing.
pub fn help_text(topic: &[Vec<u8>], summary: &mut dyn FnMut(&str) -> Option<String>) -> String {
    if topic.is_empty() {
        return general_help();
    }
    let first = String::from_utf8_lossy(&topic[0]).to_string();
    let mut out = String::new();
    if let Some(group) = first.strip_prefix('@') {
        for c in commands()
            .iter()
            .filter(|c| c.group.eq_ignore_ascii_case(group))
        {
            entry_text(c, summary, false, &mut out);
        }
        return out;
    }
    if let Some((c, _)) = lookup(topic) {
        entry_text(c, summary, true, &mut out);
        out.push_str("\r\n");
    }
    out
}

fn entry_text(
    c: &CommandHelp,
    summary: &mut dyn FnMut(&str) -> Option<String>,
    with_group: bool,
    out: &mut String,
) {
    out.push_str(&format!(
        "\r\n  {BOLD}{}{RESET} {GREY}{}{RESET}\r\n",
        c.name, c.params
    ));
    if let Some(s) = summary(c.name) {
        out.push_str(&format!("  {YELLOW}summary:{RESET} {s}\r\n"));
    }
    out.push_str(&format!("  {YELLOW}since:{RESET} {}\r\n", c.since));
    if with_group {
        out.push_str(&format!("  {YELLOW}group:{RESET} {}\r\n", c.group));
    }
}

fn general_help() -> String {
    format!(
        "{}\n\
         Type:\n\
         \x20     \"help @<group>\" to list the commands of a group\n\
         \x20     \"help <command>\" for the syntax of a command\n\
         \x20     \"help <tab>\" to cycle through the help topics\n\
         \x20     \"quit\" to leave\n\
         \n\
         Preferences:\n\
         \x20     \":set hints\" shows argument hints while typing\n\
         \x20     \":set nohints\" hides them\n\
         Put preferences in ~/.shoalclirc to keep them.\n",
        crate::usage::version_line()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_follow_typed_arguments() {
        let set = "key value [NX|XX] [GET] [EX seconds|PX milliseconds|EXAT unix-time-seconds|PXAT unix-time-milliseconds|KEEPTTL]";
        assert_eq!(hint("set").unwrap(), format!(" {set}"));
        assert_eq!(hint("SET ").unwrap(), set);
        assert_eq!(hint("set k").unwrap(), format!(" {}", &set[4..]));
        assert_eq!(hint("set k v").unwrap(), " [NX|XX] [GET] [EX seconds|PX milliseconds|EXAT unix-time-seconds|PXAT unix-time-milliseconds|KEEPTTL]");
        assert_eq!(hint("get k ").unwrap(), "");
        assert_eq!(hint("ping").unwrap(), " [message]");
        assert_eq!(
            hint("client kill").unwrap().split(' ').nth(1),
            Some("ip:port|[ID")
        );
        assert_eq!(hint("client").unwrap(), " ");
        assert!(hint("nosuchcommand").is_none());
        assert!(hint("").is_none());
    }

    #[test]
    fn completion() {
        let c = complete("inc");
        assert_eq!(c, vec!["INCR", "INCRBY", "INCRBYFLOAT"]);
        assert!(complete("help @str").contains(&"help @string".to_string()));
    }

    #[test]
    fn help_for_a_command() {
        let t = help_text(&[b"get".to_vec()], &mut |_| Some("Read a key".into()));
        assert!(t.contains("GET\x1b[0m \x1b[90mkey\x1b[0m"));
        assert!(t.contains("summary:\x1b[0m Read a key"));
        assert!(t.contains("group:\x1b[0m string"));
        assert!(help_text(&[], &mut |_| None).starts_with("shoal-cli "));
    }
}
