//! `const fn` builders that keep the generated table (`data.rs`) short: each command is
//! one chain that states only what differs from the defaults (no flags, no keys, no
//! docs). They are private to the table module.

use crate::spec::{Arg, BeginSearch, CommandSpec, FindKeys, KeySpec};

/// A top-level command with everything but its name and arity empty.
pub(super) const fn cmd(name: &'static str, arity: i32) -> CommandSpec {
    sub("", name, arity)
}

/// A subcommand of `parent` (`name` without the "parent|" prefix).
pub(super) const fn sub(parent: &'static str, name: &'static str, arity: i32) -> CommandSpec {
    CommandSpec {
        name,
        parent,
        arity,
        flags: &[],
        first_key: 0,
        last_key: 0,
        step: 0,
        acl_categories: &[],
        tips: &[],
        key_specs: &[],
        subcommands: &[],
        summary: "",
        since: "",
        group: "",
        complexity: "",
        doc_flags: &[],
        deprecated_since: "",
        replaced_by: "",
        history: &[],
        arguments: &[],
    }
}

impl CommandSpec {
    pub(super) const fn flags(self, flags: &'static [&'static str]) -> Self {
        Self { flags, ..self }
    }
    pub(super) const fn keys(self, first_key: i32, last_key: i32, step: i32) -> Self {
        Self {
            first_key,
            last_key,
            step,
            ..self
        }
    }
    pub(super) const fn acl(self, acl_categories: &'static [&'static str]) -> Self {
        Self {
            acl_categories,
            ..self
        }
    }
    pub(super) const fn tips(self, tips: &'static [&'static str]) -> Self {
        Self { tips, ..self }
    }
    pub(super) const fn key_specs(self, key_specs: &'static [KeySpec]) -> Self {
        Self { key_specs, ..self }
    }
    pub(super) const fn subs(self, subcommands: &'static [CommandSpec]) -> Self {
        Self {
            subcommands,
            ..self
        }
    }
    pub(super) const fn docs(
        self,
        since: &'static str,
        group: &'static str,
        complexity: &'static str,
    ) -> Self {
        Self {
            since,
            group,
            complexity,
            ..self
        }
    }
    pub(super) const fn doc_flags(self, doc_flags: &'static [&'static str]) -> Self {
        Self { doc_flags, ..self }
    }
    pub(super) const fn deprecated(
        self,
        deprecated_since: &'static str,
        replaced_by: &'static str,
    ) -> Self {
        Self {
            deprecated_since,
            replaced_by,
            ..self
        }
    }
    pub(super) const fn history(self, history: &'static [(&'static str, &'static str)]) -> Self {
        Self { history, ..self }
    }
    pub(super) const fn args(self, arguments: &'static [Arg]) -> Self {
        Self { arguments, ..self }
    }
}

/// A key spec without notes.
pub(super) const fn ks(
    flags: &'static [&'static str],
    begin_search: BeginSearch,
    find_keys: FindKeys,
) -> KeySpec {
    KeySpec {
        notes: "",
        flags,
        begin_search,
        find_keys,
    }
}

impl KeySpec {
    pub(super) const fn notes(self, notes: &'static str) -> Self {
        Self { notes, ..self }
    }
}

pub(super) const fn keyword(keyword: &'static str, start_from: i32) -> BeginSearch {
    BeginSearch::Keyword {
        keyword,
        start_from,
    }
}

pub(super) const fn range(last_key: i32, key_step: i32, limit: i32) -> FindKeys {
    FindKeys::Range {
        last_key,
        key_step,
        limit,
    }
}

pub(super) const fn keynum(key_num_idx: i32, first_key: i32, key_step: i32) -> FindKeys {
    FindKeys::KeyNum {
        key_num_idx,
        first_key,
        key_step,
    }
}

/// An argument of `kind` ("key", "string", "oneof", ...) with no token or flags.
pub(super) const fn arg(name: &'static str, kind: &'static str) -> Arg {
    Arg {
        name,
        kind,
        key_spec_index: -1,
        token: "",
        summary: "",
        since: "",
        flags: &[],
        deprecated_since: "",
        display: "",
        value: &[],
    }
}

impl Arg {
    pub(super) const fn ks(self, key_spec_index: i32) -> Self {
        Self {
            key_spec_index,
            ..self
        }
    }
    pub(super) const fn token(self, token: &'static str) -> Self {
        Self { token, ..self }
    }
    pub(super) const fn since(self, since: &'static str) -> Self {
        Self { since, ..self }
    }
    pub(super) const fn flags(self, flags: &'static [&'static str]) -> Self {
        Self { flags, ..self }
    }
    pub(super) const fn deprecated(self, deprecated_since: &'static str) -> Self {
        Self {
            deprecated_since,
            ..self
        }
    }
    pub(super) const fn args(self, value: &'static [Arg]) -> Self {
        Self { value, ..self }
    }
}
