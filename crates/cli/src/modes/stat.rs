//! `--stat`: one row per interval (default 1 s) from `INFO`: keys, memory,
//! clients, blocked clients, requests (with the delta), connections, and the
//! background work in progress; the header repeats every 20 rows.

use crate::out;
use crate::session::Session;
use shoal_client::FrameExt;
use std::thread::sleep;
use std::time::Duration;

const HEADER: &str =
    "------- data ------ --------------------- load -------------------- - child -\n\
keys       mem      clients blocked requests            connections          \n";

/// The value after `field` and one separator character in INFO text, up to a
/// comma or the end of the line (so `db0:keys` reads `db0:keys=12,...`).
pub fn info_field<'a>(info: &'a str, field: &str) -> Option<&'a str> {
    let start = info.find(field)? + field.len() + 1;
    let rest = info.get(start..)?;
    let end = rest.find([',', '\r', '\n']).unwrap_or(rest.len());
    Some(&rest[..end])
}

/// An integer field, as C's strtol reads it; `None` when absent.
pub fn info_long(info: &str, field: &str) -> Option<i64> {
    info_field(info, field).map(crate::args::atoi)
}

/// Bytes as redis-cli shows them: `512B`, `1.18M`, `2.00G`.
pub fn bytes_to_human(n: i64) -> String {
    let (sign, n) = if n < 0 {
        ("-", n.unsigned_abs())
    } else {
        ("", n as u64)
    };
    let units = [
        (1u64 << 50, "P"),
        (1 << 40, "T"),
        (1 << 30, "G"),
        (1 << 20, "M"),
        (1 << 10, "K"),
    ];
    if n >= 1 << 60 {
        return format!("{sign}{n}B");
    }
    for (size, unit) in units {
        if n >= size {
            return format!("{sign}{:.2}{unit}", n as f64 / size as f64);
        }
    }
    format!("{sign}{n}B")
}

/// One row of the table from an INFO reply; `prev_requests` is the previous
/// row's total (0 for the first row, which shows `+0`).
pub fn stat_row(info: &str, prev_requests: i64) -> (String, i64) {
    let keys: i64 = (0..20)
        .filter_map(|db| info_long(info, &format!("db{db}:keys")))
        .sum();
    let mem = bytes_to_human(info_long(info, "used_memory").unwrap_or(0));
    let clients = info_long(info, "connected_clients").unwrap_or(0);
    let blocked = info_long(info, "blocked_clients").unwrap_or(0);
    let requests = info_long(info, "total_commands_processed").unwrap_or(0);
    let delta = if prev_requests == 0 {
        0
    } else {
        requests - prev_requests
    };
    let conns = info_long(info, "total_connections_received").unwrap_or(0);
    let mut row = format!(
        "{:<11}{:<8} {:<8}{:<8}{:<19} {:<12}",
        keys,
        mem,
        clients,
        blocked,
        format!("{requests} (+{delta})"),
        conns
    );
    let child = info_long(info, "bgsave_in_progress").unwrap_or(0)
        | info_long(info, "aof_rewrite_in_progress").unwrap_or(0) << 1
        | info_long(info, "loading").unwrap_or(0) << 2;
    row.push_str(match child {
        1 => "SAVE",
        2 => "AOF",
        3 => "SAVE+AOF",
        4 => "LOAD",
        _ => "",
    });
    row.push('\n');
    (row, requests)
}

pub fn run(session: &mut Session) -> i32 {
    let interval = if session.cfg.interval.is_zero() {
        Duration::from_secs(1)
    } else {
        session.cfg.interval
    };
    let mut requests = 0;
    let mut rows = 0u64;
    loop {
        let reply = session.reconnecting_call(&["INFO"]);
        if let Some(e) = reply.error_text() {
            out::eprint_line(&format!("ERROR: {}", String::from_utf8_lossy(e)));
            return 1;
        }
        let info = String::from_utf8_lossy(reply.as_bytes().unwrap_or_default()).into_owned();
        if rows.is_multiple_of(20) {
            out::print(HEADER.as_bytes());
        }
        rows += 1;
        let (row, total) = stat_row(&info, requests);
        requests = total;
        out::print(row.as_bytes());
        sleep(interval);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INFO: &str = "# Server\r\nused_memory:1237128\r\nused_memory_human:1.18M\r\nconnected_clients:1\r\nblocked_clients:0\r\ntotal_connections_received:21\r\ntotal_commands_processed:1058\r\nloading:0\r\nbgsave_in_progress:0\r\naof_rewrite_in_progress:0\r\n# Keyspace\r\ndb0:keys=5,expires=0,avg_ttl=0\r\ndb3:keys=2,expires=0,avg_ttl=0\r\n";

    #[test]
    fn rows_match_the_reference_layout() {
        let (row, total) = stat_row(INFO, 0);
        assert_eq!(
            row,
            "7          1.18M    1       0       1058 (+0)           21          \n"
        );
        let (row, _) = stat_row(INFO, total - 1);
        assert!(row.contains("1058 (+1) "));
    }

    #[test]
    fn human_bytes() {
        assert_eq!(bytes_to_human(512), "512B");
        assert_eq!(bytes_to_human(1237128), "1.18M");
        assert_eq!(bytes_to_human(3 << 30), "3.00G");
        assert_eq!(bytes_to_human(2048), "2.00K");
    }
}
