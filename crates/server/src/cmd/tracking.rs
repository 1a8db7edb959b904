//! CLIENT TRACKING, CLIENT CACHING, CLIENT GETREDIR, CLIENT TRACKINGINFO (the state
//! and the invalidations live in `crate::tracking`).

use super::SCtx;
use crate::client::cflag;
use crate::tracking::Options;
use bytes::Bytes;
use shoal_commands::{args, errors};

pub fn tracking(c: &mut SCtx, argv: &[Bytes]) {
    let mut o = Options {
        redirect: 0,
        bcast: false,
        optin: false,
        optout: false,
        noloop: false,
        prefixes: Vec::new(),
    };
    let mut j = 3;
    while j < argv.len() {
        let more = argv.len() - 1 - j;
        let a = &argv[j];
        if args::is(a, "redirect") && more > 0 {
            j += 1;
            if o.redirect != 0 {
                return c
                    .out
                    .error("ERR A client can only redirect to a single other client");
            }
            let id = match args::int(&argv[j]) {
                Ok(v) => v,
                Err(e) => return c.out.error(e),
            };
            if u64::try_from(id)
                .ok()
                .and_then(|id| c.srv.clients.get(id))
                .is_none()
            {
                return c
                    .out
                    .error("ERR The client ID you want redirect to does not exist");
            }
            o.redirect = id as u64;
        } else if args::is(a, "bcast") {
            o.bcast = true;
        } else if args::is(a, "optin") {
            o.optin = true;
        } else if args::is(a, "optout") {
            o.optout = true;
        } else if args::is(a, "noloop") {
            o.noloop = true;
        } else if args::is(a, "prefix") && more > 0 {
            j += 1;
            o.prefixes.push(argv[j].clone());
        } else {
            return c.out.error(errors::SYNTAX);
        }
        j += 1;
    }
    let info = c.s.info.clone();
    if args::is(&argv[2], "on") {
        if !o.bcast && !o.prefixes.is_empty() {
            return c
                .out
                .error("ERR PREFIX option requires BCAST mode to be enabled");
        }
        if info.has_flag(cflag::TRACKING) && info.has_flag(cflag::TRACKING_BCAST) != o.bcast {
            return c.out.error("ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.");
        }
        if o.bcast && (o.optin || o.optout) {
            return c
                .out
                .error("ERR OPTIN and OPTOUT are not compatible with BCAST");
        }
        if o.optin && o.optout {
            return c
                .out
                .error("ERR You can't specify both OPTIN mode and OPTOUT mode");
        }
        if (o.optin && info.has_flag(cflag::TRACKING_OPTOUT))
            || (o.optout && info.has_flag(cflag::TRACKING_OPTIN))
        {
            return c.out.error("ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.");
        }
        if o.bcast {
            if let Err(e) = check_prefixes(&c.srv.tracking.prefixes_of(info.id), &o.prefixes) {
                return c.out.error(&e);
            }
        }
        c.srv.tracking.enable(&info, o);
    } else if args::is(&argv[2], "off") {
        c.srv.tracking.disable(&info);
    } else {
        return c.out.error(errors::SYNTAX);
    }
    c.out.ok();
}

/// Redis's `checkPrefixCollisionsOrReply`: no prefix may be a prefix of another,
/// among the client's existing ones and the new ones.
fn check_prefixes(existing: &[Bytes], new: &[Bytes]) -> Result<(), String> {
    let overlap = |a: &[u8], b: &[u8]| a.starts_with(b) || b.starts_with(a);
    let show = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    for (i, p) in new.iter().enumerate() {
        if let Some(e) = existing.iter().find(|e| overlap(p, e)) {
            return Err(format!(
                "ERR Prefix '{}' overlaps with an existing prefix '{}'. Prefixes for a single client must not overlap.",
                show(p),
                show(e)
            ));
        }
        if let Some(q) = new[i + 1..].iter().find(|q| overlap(p, q)) {
            return Err(format!(
                "ERR Prefix '{}' overlaps with another provided prefix '{}'. Prefixes for a single client must not overlap.",
                show(p),
                show(q)
            ));
        }
    }
    Ok(())
}

pub fn caching(c: &mut SCtx, argv: &[Bytes]) {
    let info = &c.s.info;
    if !info.has_flag(cflag::TRACKING)
        || !(info.has_flag(cflag::TRACKING_OPTIN) || info.has_flag(cflag::TRACKING_OPTOUT))
    {
        return c.out.error("ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled");
    }
    let a = &argv[2];
    if args::is(a, "yes") {
        if !info.has_flag(cflag::TRACKING_OPTIN) {
            return c.out.error(
                "ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.",
            );
        }
    } else if args::is(a, "no") {
        if !info.has_flag(cflag::TRACKING_OPTOUT) {
            return c.out.error(
                "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.",
            );
        }
    } else {
        return c.out.error(errors::SYNTAX);
    }
    // Kept for the next command only (see the end of `crate::dispatch::call`).
    info.set_flag(cflag::TRACKING_CACHING, true);
    c.out.ok();
}

pub fn getredir(c: &mut SCtx) {
    let v = if c.s.info.has_flag(cflag::TRACKING) {
        c.srv.tracking.redirect_of(c.s.info.id).unwrap_or(0) as i64
    } else {
        -1
    };
    c.out.int(v);
}

pub fn trackinginfo(c: &mut SCtx) {
    let info = &c.s.info;
    let mut flags = Vec::new();
    if !info.has_flag(cflag::TRACKING) {
        flags.push("off");
    } else {
        flags.push("on");
        let caching = info.has_flag(cflag::TRACKING_CACHING);
        if info.has_flag(cflag::TRACKING_BCAST) {
            flags.push("bcast");
        }
        if info.has_flag(cflag::TRACKING_OPTIN) {
            flags.push("optin");
            if caching {
                flags.push("caching-yes");
            }
        }
        if info.has_flag(cflag::TRACKING_OPTOUT) {
            flags.push("optout");
            if caching {
                flags.push("caching-no");
            }
        }
        if info.has_flag(cflag::TRACKING_NOLOOP) {
            flags.push("noloop");
        }
        if info.has_flag(cflag::TRACKING_BROKEN_REDIR) {
            flags.push("broken_redirect");
        }
    }
    let tracking = info.has_flag(cflag::TRACKING);
    let redirect = if tracking {
        c.srv.tracking.redirect_of(info.id).unwrap_or(0) as i64
    } else {
        -1
    };
    let prefixes = if info.has_flag(cflag::TRACKING_BCAST) {
        c.srv.tracking.prefixes_of(info.id)
    } else {
        Vec::new()
    };
    c.out.map(3);
    c.out.bulk_str("flags");
    c.out.set(flags.len());
    for f in flags {
        c.out.bulk_str(f);
    }
    c.out.bulk_str("redirect");
    c.out.int(redirect);
    c.out.bulk_str("prefixes");
    c.out.array(prefixes.len());
    for p in &prefixes {
        c.out.bulk(p);
    }
}
