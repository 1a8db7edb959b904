//! Script flags and the `#!lua flags=...` shebang of EVAL scripts.

/// Flags a script or function declares (`#!lua flags=...`, or `flags={...}` in
/// `redis.register_function`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ScriptFlags {
    /// The script had a shebang (EVAL only). Without one it runs in "compatibility
    /// mode": none of the flag-driven checks apply (writes allowed, no up-front
    /// deny-oom, ...), as in Redis 6.
    pub has_shebang: bool,
    pub no_writes: bool,
    pub allow_oom: bool,
    pub allow_stale: bool,
    pub no_cluster: bool,
    pub allow_cross_slot_keys: bool,
}

/// Flag names in Redis's order (FUNCTION LIST prints them so).
pub const FLAG_NAMES: [&str; 5] = [
    "no-writes",
    "allow-oom",
    "allow-stale",
    "no-cluster",
    "allow-cross-slot-keys",
];

impl ScriptFlags {
    /// Sets the flag called `name`; false if unknown.
    pub fn set(&mut self, name: &[u8]) -> bool {
        match name {
            b"no-writes" => self.no_writes = true,
            b"allow-oom" => self.allow_oom = true,
            b"allow-stale" => self.allow_stale = true,
            b"no-cluster" => self.no_cluster = true,
            b"allow-cross-slot-keys" => self.allow_cross_slot_keys = true,
            _ => return false,
        }
        true
    }

    /// The names of the flags set, in [`FLAG_NAMES`] order.
    pub fn names(&self) -> Vec<&'static str> {
        let on = [
            self.no_writes,
            self.allow_oom,
            self.allow_stale,
            self.no_cluster,
            self.allow_cross_slot_keys,
        ];
        FLAG_NAMES
            .iter()
            .zip(on)
            .filter_map(|(n, on)| on.then_some(*n))
            .collect()
    }
}

/// Splits a shebang line on spaces (runs of spaces separate, as `sdssplitargs`).
fn words(line: &[u8]) -> Vec<&[u8]> {
    line.split(|&b| b == b' ' || b == b'\t')
        .filter(|w| !w.is_empty())
        .collect()
}

/// Parses an EVAL body: its flags and the offset where the Lua code starts (the
/// shebang line is dropped but its newline kept, so line numbers stay right). Errors
/// are Redis's reply texts.
pub fn parse_eval_body(body: &[u8]) -> Result<(ScriptFlags, usize), String> {
    if !body.starts_with(b"#!") {
        return Ok((ScriptFlags::default(), 0));
    }
    let Some(nl) = body.iter().position(|&b| b == b'\n') else {
        return Err("ERR Invalid script shebang".into());
    };
    let parts = words(&body[..nl]);
    let engine = parts.first().copied().unwrap_or(b"#!");
    if engine != b"#!lua" {
        return Err(format!(
            "ERR Unexpected engine in script shebang: {}",
            String::from_utf8_lossy(engine)
        ));
    }
    let mut flags = ScriptFlags {
        has_shebang: true,
        ..ScriptFlags::default()
    };
    for part in &parts[1..] {
        if let Some(list) = part.strip_prefix(b"flags=") {
            if list.is_empty() {
                continue;
            }
            for f in list.split(|&b| b == b',') {
                if !flags.set(f) {
                    return Err(format!(
                        "ERR Unexpected flag in script shebang: {}",
                        String::from_utf8_lossy(f)
                    ));
                }
            }
        } else {
            return Err(format!(
                "ERR Unknown lua shebang option: {}",
                String::from_utf8_lossy(part)
            ));
        }
    }
    Ok((flags, nl))
}

/// Parses a FUNCTION LOAD library's `#!<engine> name=<lib>` line: the library name
/// and the offset of the code after the shebang line.
pub fn parse_library_header(code: &[u8]) -> Result<(String, usize), String> {
    if !code.starts_with(b"#!") {
        return Err("ERR Missing library metadata".into());
    }
    let Some(nl) = code.iter().position(|&b| b == b'\n') else {
        return Err("ERR Invalid library metadata".into());
    };
    let parts = words(&code[..nl]);
    let engine = &parts.first().copied().unwrap_or(b"#!")[2..];
    if !engine.eq_ignore_ascii_case(b"lua") {
        return Err(format!(
            "ERR Engine '{}' not found",
            String::from_utf8_lossy(engine)
        ));
    }
    let mut name: Option<&[u8]> = None;
    for part in &parts[1..] {
        if let Some(v) = part.strip_prefix(b"name=") {
            if name.is_some() {
                return Err(
                    "ERR Invalid metadata value, name argument was given multiple times".into(),
                );
            }
            name = Some(v);
        } else {
            return Err(format!(
                "ERR Invalid metadata value given: {}",
                String::from_utf8_lossy(part)
            ));
        }
    }
    let Some(name) = name else {
        return Err("ERR Library name was not given".into());
    };
    Ok((String::from_utf8_lossy(name).into_owned(), nl))
}

/// Library and function names: letters, digits and `_`, at least one.
pub fn valid_name(name: &[u8]) -> bool {
    !name.is_empty() && name.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eval_shebangs() {
        assert_eq!(parse_eval_body(b"return 1").unwrap().1, 0);
        let (f, off) = parse_eval_body(b"#!lua flags=no-writes,allow-oom\nreturn 1").unwrap();
        assert!(f.has_shebang && f.no_writes && f.allow_oom && !f.allow_stale);
        assert_eq!(off, 31);
        assert!(parse_eval_body(b"#!lua flags=\nx").is_ok());
        let err = |b: &[u8]| parse_eval_body(b).unwrap_err();
        assert_eq!(err(b"#!lua"), "ERR Invalid script shebang");
        assert_eq!(
            err(b"#!lua flags=bogus\n"),
            "ERR Unexpected flag in script shebang: bogus"
        );
        assert_eq!(
            err(b"#!lua flags=no-writes,,allow-oom\n"),
            "ERR Unexpected flag in script shebang: "
        );
        assert_eq!(
            err(b"#!luax\n"),
            "ERR Unexpected engine in script shebang: #!luax"
        );
        assert_eq!(
            err(b"#!lua name=x\n"),
            "ERR Unknown lua shebang option: name=x"
        );
    }

    #[test]
    fn library_headers() {
        assert_eq!(
            parse_library_header(b"#!lua name=mylib\nx").unwrap(),
            ("mylib".into(), 16)
        );
        let err = |b: &[u8]| parse_library_header(b).unwrap_err();
        assert_eq!(err(b"return 1"), "ERR Missing library metadata");
        assert_eq!(err(b"#!lua name=x"), "ERR Invalid library metadata");
        assert_eq!(err(b"#!js name=x\n"), "ERR Engine 'js' not found");
        assert_eq!(err(b"#!lua\n"), "ERR Library name was not given");
        assert_eq!(
            err(b"#!lua name=a flags=no-writes\n"),
            "ERR Invalid metadata value given: flags=no-writes"
        );
        assert_eq!(
            err(b"#!lua name=a name=b\n"),
            "ERR Invalid metadata value, name argument was given multiple times"
        );
        assert!(valid_name(b"a_1") && !valid_name(b"my-lib") && !valid_name(b""));
    }
}
