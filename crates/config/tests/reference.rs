//! The directive table against facts taken from the reference server:
//! the `CONFIG GET *` snapshot, the hidden directives, and Debian's sample
//! redis.conf (which must load).

use std::collections::BTreeMap;

use shoal_config::{Config, ConfigLoadError, LoadOptions};

fn data(name: &str) -> String {
    format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// Directives whose snapshot value depends on how the reference was started.
const ENVIRONMENT_DEPENDENT: &[&str] = &["dir", "port", "unixsocket"];

fn snapshot() -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(data("redis-7.0.15-config-names.txt")).unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let (n, v) = l.split_once('\t').expect("name<TAB>value");
            (n.to_string(), v.to_string())
        })
        .collect()
}

#[test]
fn every_reference_name_with_its_default() {
    let reference = snapshot();
    assert_eq!(reference.len(), 192);
    let ours: BTreeMap<String, String> = Config::new().get("*").into_iter().collect();
    let missing: Vec<_> = reference
        .keys()
        .filter(|k| !ours.contains_key(*k))
        .collect();
    let extra: Vec<_> = ours
        .keys()
        .filter(|k| !reference.contains_key(*k))
        .collect();
    assert!(missing.is_empty(), "missing: {missing:?}");
    assert!(extra.is_empty(), "not in reference: {extra:?}");
    for (name, value) in &reference {
        if ENVIRONMENT_DEPENDENT.contains(&name.as_str()) {
            continue;
        }
        assert_eq!(&ours[name], value, "default of {name}");
    }
    let c = Config::new();
    assert_eq!(c.get_value("port").as_deref(), Some("6379"));
    assert_eq!(c.get_value("unixsocket").as_deref(), Some(""));
}

#[test]
fn hidden_directives_answer_by_exact_name_only() {
    let c = Config::new();
    for (name, value) in [
        ("key-load-delay", "0"),
        ("loading-process-events-interval-bytes", "2097152"),
        ("lua-enable-deprecated-api", "no"),
        ("rdb-key-save-delay", "0"),
        ("use-exit-on-panic", "no"),
        ("watchdog-period", "0"),
    ] {
        assert_eq!(c.get(name), vec![(name.to_string(), value.to_string())]);
        assert!(c.get("*").iter().all(|(n, _)| n != name));
    }
}

#[test]
fn debian_sample_config_loads() {
    let path = data("redis.conf");
    let res = Config::load(std::slice::from_ref(&path));
    // The sample points `dir` at /var/lib/redis; Redis refuses a missing dir too.
    if !std::path::Path::new("/var/lib/redis").is_dir() {
        match res {
            Err(ConfigLoadError::BadLine { text, reason, .. }) => {
                assert_eq!(text, "dir /var/lib/redis");
                assert_eq!(reason, "No such file or directory");
            }
            other => panic!("unexpected {other:?}"),
        }
        return;
    }
    let c = res.unwrap();
    assert_eq!(c.config_file(), Some(std::path::Path::new(&path)));
    assert_eq!(
        c.bind_addrs(),
        vec!["127.0.0.1".to_string(), "-::1".to_string()]
    );
    assert!(c.bool("daemonize"));
    assert_eq!(c.string("pidfile"), "/run/redis/redis-server.pid");
    assert_eq!(c.string("logfile"), "/var/log/redis/redis-server.log");
    assert_eq!(c.dir(), std::fs::canonicalize("/var/lib/redis").unwrap());
    assert_eq!(c.string("appendfilename"), "appendonly.aof");
    assert_eq!(c.int("auto-aof-rewrite-min-size"), 64 << 20);
    // The sample has no save line: the defaults stay.
    assert_eq!(c.save_params(), vec![(3600, 1), (300, 100), (60, 10000)]);
    let limits = c.client_output_buffer_limits();
    assert_eq!(
        (
            limits.replica.hard,
            limits.replica.soft,
            limits.replica.soft_seconds
        ),
        (256 << 20, 64 << 20, 60)
    );
    assert_eq!(c.string("notify-keyspace-events"), "");
    assert_eq!(
        c.string("proc-title-template"),
        "{title} {listen-addr} {server-mode}"
    );
}

#[test]
fn debian_sample_loads_with_dir_overridden_by_an_include() {
    // Independent of /var/lib/redis: the sample's own content through stdin
    // with its dir line removed, then a command-line dir.
    let text = std::fs::read_to_string(data("redis.conf"))
        .unwrap()
        .replace("\ndir /var/lib/redis", "\n");
    let tmp = tempfile::tempdir().unwrap();
    let mut input = text.as_bytes();
    let args = vec![
        "-".to_string(),
        "--dir".to_string(),
        tmp.path().to_string_lossy().into_owned(),
    ];
    let c = Config::load_with(
        &args,
        LoadOptions {
            stdin: Some(&mut input),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(c.config_file(), None);
    assert_eq!(c.dir(), std::fs::canonicalize(tmp.path()).unwrap());
    assert_eq!(c.int("databases"), 16);
}
