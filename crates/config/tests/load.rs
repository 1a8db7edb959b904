//! Loading from the command line, files, includes and stdin; every expected
//! text below was produced by the reference redis-server 7.0.15.

use std::path::Path;

use shoal_config::{Config, ConfigLoadError, LoadHooks, LoadOptions};

struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Env {
        Env {
            dir: tempfile::tempdir().unwrap(),
        }
    }
    fn path(&self) -> std::path::PathBuf {
        std::fs::canonicalize(self.dir.path()).unwrap()
    }
    fn file(&self, name: &str, content: &str) -> String {
        let p = self.path().join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&p, content).unwrap();
        p.to_string_lossy().into_owned()
    }
    fn load(&self, args: &[&str]) -> Result<Config, ConfigLoadError> {
        self.load_stdin(args, "")
    }
    fn load_stdin(&self, args: &[&str], stdin: &str) -> Result<Config, ConfigLoadError> {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let mut input = stdin.as_bytes();
        Config::load_with(
            &args,
            LoadOptions {
                stdin: Some(&mut input),
                cwd: Some(self.path()),
                ..Default::default()
            },
        )
    }
    /// Loads `content` as a config file and returns the CONFIG GET value of `name`.
    fn value_of(&self, content: &str, name: &str) -> String {
        let f = self.file("v.conf", content);
        match self.load(&[&f]) {
            Ok(c) => c.get_value(name).unwrap(),
            Err(e) => panic!("{content:?}: {e}"),
        }
    }
    fn args_value(&self, args: &[&str], name: &str) -> String {
        match self.load(args) {
            Ok(c) => c.get_value(name).unwrap(),
            Err(e) => panic!("{args:?}: {e}"),
        }
    }
}

fn fatal(line: usize, text: &str, reason: &str) -> String {
    format!(
        "\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nReading the configuration file, at line {line}\n>>> '{text}'\n{reason}"
    )
}

fn err(res: Result<Config, ConfigLoadError>) -> String {
    match res {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn command_line_options_start_on_line_two_quoted() {
    let env = Env::new();
    assert_eq!(
        err(env.load(&["--databases", "abc"])),
        fatal(
            2,
            r#"databases "abc""#,
            "argument couldn't be parsed into an integer"
        )
    );
    assert_eq!(
        err(env.load(&["--port", "0", "--foo", "1", "2"])),
        fatal(
            3,
            r#"foo "1" "2""#,
            "Bad directive or wrong number of arguments"
        )
    );
    assert_eq!(
        err(env.load(&["--save", "900 1", "--databases", "0"])),
        fatal(
            3,
            r#"databases "0""#,
            "argument must be between 1 and 2147483647 inclusive"
        )
    );
    assert_eq!(
        err(env.load(&["--sentinel-nope", "--port", "0"])),
        fatal(
            2,
            r#"sentinel-nope "--port" "0""#,
            "Bad directive or wrong number of arguments"
        )
    );
    assert_eq!(
        err(env.load(&["--port", "--port", "0"])),
        fatal(2, r#"port "--port" "0""#, "wrong number of arguments")
    );
}

#[test]
fn file_lines_then_options() {
    let env = Env::new();
    let a = env.file("a.conf", "# c\nport 0\n\n");
    assert_eq!(
        err(env.load(&[&a, "--databases", "abc"])),
        fatal(
            5,
            r#"databases "abc""#,
            "argument couldn't be parsed into an integer"
        )
    );
    assert_eq!(
        err(env.load(&[&a, "--loglevel", "verbose", "--databases", "1", "x y"])),
        fatal(6, r#"databases "1" "x y""#, "wrong number of arguments")
    );
    assert_eq!(
        err(env.load(&[&a, "extra", "--port", "0"])),
        fatal(
            5,
            r#""extra""#,
            "Bad directive or wrong number of arguments"
        )
    );
    let b = env.file("b.conf", "x\n");
    assert_eq!(
        err(env.load(&[&b])),
        fatal(1, "x", "Bad directive or wrong number of arguments")
    );
}

#[test]
fn stdin_config() {
    let env = Env::new();
    assert_eq!(
        err(env.load_stdin(&["-"], "foo\n")),
        fatal(1, "foo", "Bad directive or wrong number of arguments")
    );
    assert_eq!(
        err(env.load_stdin(&["-", "--databases", "x"], "port 0\n")),
        fatal(
            3,
            r#"databases "x""#,
            "argument couldn't be parsed into an integer"
        )
    );
    let c = env.load_stdin(&["--port", "7001", "-"], "hz 5\n").unwrap();
    assert_eq!((c.int("hz"), c.int("port")), (5, 7001));
    assert_eq!(c.config_file(), None);
}

#[test]
fn includes() {
    let env = Env::new();
    let inc = env.file("inc.conf", "loglevel notice\nfoo bar\n");
    let c = env.file("c.conf", &format!("# top\ninclude {inc}\nport 0\n"));
    assert_eq!(
        err(env.load(&[&c])),
        fatal(2, "foo bar", "Bad directive or wrong number of arguments")
    );
    assert_eq!(
        err(env.load(&["--include", "/nonexist.conf"])),
        "Fatal error, can't open config file '/nonexist.conf': No such file or directory"
    );
    let missing = env.load(&["nonexist.conf"]);
    assert_eq!(
        err(missing),
        format!(
            "Fatal error, can't open config file '{}/nonexist.conf': No such file or directory",
            env.path().display()
        )
    );
    // A pattern that matches nothing is fine.
    let pattern = format!("{}/zz*.conf", env.path().display());
    assert!(env.load(&["--include", &pattern]).is_ok());
    // Relative includes follow a preceding `dir`.
    env.file("sub/inc2.conf", "loglevel x\n");
    let sub = format!("{}/sub", env.path().display());
    assert_eq!(
        err(env.load(&["--dir", &sub, "--include", "inc2.conf"])),
        fatal(
            1,
            "loglevel x",
            "argument(s) must be one of the following: debug, verbose, notice, warning"
        )
    );
    // Matches are read in name order as one text.
    env.file("g/g1.conf", "foo\n");
    env.file("g/g0.conf", "port 0\n\n");
    let pattern = format!("{}/g/g*.conf", env.path().display());
    assert_eq!(
        err(env.load(&["--include", &pattern])),
        fatal(3, "foo", "Bad directive or wrong number of arguments")
    );
    env.file("g/g1.conf", "hz 7\n");
    assert_eq!(env.args_value(&["--include", &pattern], "hz"), "7");
}

#[test]
fn line_syntax_errors() {
    let env = Env::new();
    for (content, line, text, reason) in [
        (
            "port 0\nlogfile \"a\n",
            2,
            "logfile \"a",
            "Unbalanced quotes in configuration line",
        ),
        (
            "port 0\nlogfile \"abc\"x\n",
            2,
            "logfile \"abc\"x",
            "Unbalanced quotes in configuration line",
        ),
        (
            "port 0\nsentinel monitor mym 127.0.0.1 1 2\n",
            2,
            "sentinel monitor mym 127.0.0.1 1 2",
            "sentinel directive while not in sentinel mode",
        ),
        ("port\n", 1, "port", "wrong number of arguments"),
        (
            "include\n",
            1,
            "include",
            "Bad directive or wrong number of arguments",
        ),
        (
            "include a b\n",
            1,
            "include a b",
            "Bad directive or wrong number of arguments",
        ),
        (
            "loadmodule\n",
            1,
            "loadmodule",
            "Bad directive or wrong number of arguments",
        ),
        (
            "rename-command a\n",
            1,
            "rename-command a",
            "Bad directive or wrong number of arguments",
        ),
        (
            "list-max-ziplist-entries\n",
            1,
            "list-max-ziplist-entries",
            "Bad directive or wrong number of arguments",
        ),
        (
            "list-max-ziplist-entries 1 2 3\n",
            1,
            "list-max-ziplist-entries 1 2 3",
            "Bad directive or wrong number of arguments",
        ),
        (
            "lua-replicate-commands\n",
            1,
            "lua-replicate-commands",
            "Bad directive or wrong number of arguments",
        ),
        (
            "daemonize maybe\n",
            1,
            "daemonize maybe",
            "argument must be 'yes' or 'no'",
        ),
        (
            "oom-score-adj-values 1 2\n",
            1,
            "oom-score-adj-values 1 2",
            "wrong number of arguments",
        ),
        (
            "notify-keyspace-events\n",
            1,
            "notify-keyspace-events",
            "wrong number of arguments",
        ),
        (
            "notify-keyspace-events a b\n",
            1,
            "notify-keyspace-events a b",
            "wrong number of arguments",
        ),
        (
            "user\n",
            1,
            "user",
            "Bad directive or wrong number of arguments",
        ),
        ("logfile\n", 1, "logfile", "wrong number of arguments"),
        (
            "save \"\"  \"900 1\"\n",
            1,
            "save \"\"  \"900 1\"",
            "Invalid save parameters",
        ),
        (
            "save 900 1\nsave \"\" 300 10\n",
            2,
            "save \"\" 300 10",
            "Invalid save parameters",
        ),
        (
            "slaveof no one extra\n",
            1,
            "slaveof no one extra",
            "wrong number of arguments",
        ),
        (
            "  \t PORT 0   \r\n  DataBases x\n",
            2,
            "DataBases x",
            "argument couldn't be parsed into an integer",
        ),
    ] {
        let f = env.file("e.conf", content);
        assert_eq!(
            err(env.load(&[&f])),
            fatal(line, text, reason),
            "{content:?}"
        );
    }
}

#[test]
fn value_errors() {
    let env = Env::new();
    let seventeen: Vec<String> = (1..=17).map(|i| i.to_string()).collect();
    let mut bind_args = vec!["--bind"];
    bind_args.extend(seventeen.iter().map(String::as_str));
    let bind_text = format!(
        "bind {}",
        seventeen
            .iter()
            .map(|s| format!("\"{s}\""))
            .collect::<Vec<_>>()
            .join(" ")
    );
    assert_eq!(
        err(env.load(&bind_args)),
        fatal(2, &bind_text, "Too many bind addresses specified.")
    );
    for (args, reason) in [
        (&["--io-threads", "0"][..], "argument must be between 1 and 128 inclusive"),
        (&["--tcp-backlog", "-1"], "argument must be between 0 and 2147483647 inclusive"),
        (&["--cluster-port", "-1"], "argument must be between 0 and 65535 inclusive"),
        (&["--socket-mark-id", "-1"], "argument must be between 0 and 4294967295 inclusive"),
        (&["--unixsocketperm", "abc"], "argument couldn't be parsed as an octal number"),
        (&["--unixsocketperm", "999"], "argument couldn't be parsed as an octal number"),
        (&["--unixsocketperm", "7777"], "argument must be between 0 and 777 inclusive"),
        (&["--maxclients", "0"], "argument must be between 1 and 4294967295 inclusive"),
        (&["--supervised", "x"], "argument(s) must be one of the following: upstart, systemd, auto, no"),
        (
            &["--syslog-facility", "x"],
            "argument(s) must be one of the following: user, local0, local1, local2, local3, local4, local5, local6, local7",
        ),
        (&["--enable-debug-command", "x"], "argument(s) must be one of the following: no, yes, local"),
        (&["--enable-protected-configs", "x"], "argument(s) must be one of the following: no, yes, local"),
        (&["--port", "-1"], "argument must be between 0 and 65535 inclusive"),
        (&["--appendfilename", "a/b"], "appendfilename can't be a path, just a filename"),
        (&["--appenddirname", "a/b"], "appenddirname can't be a path, just a dirname"),
        (&["--dbfilename", "a/b"], "dbfilename can't be a path, just a filename"),
        (&["--appendfilename", ""], "appendfilename can't be empty"),
        (&["--appenddirname", ""], "appenddirname can't be empty"),
        (&["--shutdown-on-sigint", "save", "nosave"], "shutdown options SAVE and NOSAVE can't be used simultaneously"),
        (&["--proc-title-template", "{foo}"], "template format is invalid or contains unknown variables"),
        (&["--cluster-announce-hostname", "a_b"], "Hostnames may only contain alphanumeric characters, hyphens or dots"),
        (&["--latency-tracking-info-percentiles", "1", "x"], "Invalid latency-tracking-info-percentiles parameters"),
        (&["--latency-tracking-info-percentiles", "101"], "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]"),
        (&["--notify-keyspace-events", "Kq"], "Invalid event class character. Use 'Ag$lshzxeKEtmdn'."),
        (&["--client-output-buffer-limit", "normal", "1", "2"], "Wrong number of arguments in buffer limit configuration."),
        (&["--oom-score-adj-values", "1", "2", "3000"], "Invalid oom-score-adj-values, elements must be between -2000 and 2000."),
        (&["--maxmemory-clients", "101%"], "percentage argument must be less or equal to 100"),
        (&["--maxmemory-clients", "-1%"], "argument must be a memory or percent value"),
        (&["--replicaof", "127.0.0.1"], "wrong number of arguments"),
        (&["--replicaof", "127.0.0.1", "x"], "Invalid master port"),
        (&["--replicaof", "127.0.0.1", "99999"], "Invalid master port"),
        (&["--replicaof", "127.0.0.1", "-1"], "Invalid master port"),
        (&["--replicaof", "127.0.0.1", "5x"], "Invalid master port"),
        (&["--save", "900"], "Invalid save parameters"),
        (&["--save", "0", "1"], "Invalid save parameters"),
        (&["--dir", "/nonexist"], "No such file or directory"),
    ] {
        let text = format!(
            "{} {}",
            &args[0][2..],
            args[1..].iter().map(|a| shoal_config::splitargs::quote(a)).collect::<Vec<_>>().join(" ")
        );
        assert_eq!(err(env.load(args)), fatal(2, &text, reason), "{args:?}");
    }
}

#[test]
fn save_lines_accumulate_while_loading() {
    let env = Env::new();
    assert_eq!(env.args_value(&["--save", "900 1"], "save"), "900 1");
    assert_eq!(
        env.args_value(&["--save", "900", "1", "--save", "300", "10"], "save"),
        "900 1 300 10"
    );
    assert_eq!(
        env.args_value(&["--save", "900", "1", "300", "10"], "save"),
        "900 1 300 10"
    );
    assert_eq!(
        env.args_value(&["--save", "", "--save", "900", "1"], "save"),
        "900 1"
    );
    assert_eq!(
        env.args_value(&["--save", "900", "1", "--save", ""], "save"),
        ""
    );
    assert_eq!(env.args_value(&["--save", "--port", "1"], "save"), "");
    assert_eq!(env.args_value(&["--save", "+5 1"], "save"), "5 1");
    assert_eq!(env.value_of("save\n", "save"), "");
    assert_eq!(env.value_of("save 900 1\nsave\n", "save"), "900 1");
    assert_eq!(
        env.value_of("save 900 1\nsave \"\"\nsave 300 10\n", "save"),
        "300 10"
    );
    assert_eq!(env.value_of("save \" 900   1 \"\n", "save"), "900 1");
    assert_eq!(env.value_of("save \"900 \\\"1\\\"\"\n", "save"), "900 1");
    assert_eq!(env.value_of("port 0\n", "save"), "3600 1 300 100 60 10000");
}

#[test]
fn multi_argument_directives() {
    let env = Env::new();
    assert_eq!(
        env.args_value(&["--bind", "127.0.0.1", "--bind", "127.0.0.2"], "bind"),
        "127.0.0.2"
    );
    assert_eq!(
        env.args_value(&["--bind", "127.0.0.1", "127.0.0.2"], "bind"),
        "127.0.0.1 127.0.0.2"
    );
    assert_eq!(
        env.args_value(&["--bind", "-127.0.0.1", "127.0.0.2"], "bind"),
        "-127.0.0.1 127.0.0.2"
    );
    assert_eq!(env.value_of("bind\n", "bind"), "");
    assert_eq!(
        env.value_of("bind \"127.0.0.1 127.0.0.2\"\n", "bind"),
        "127.0.0.1 127.0.0.2"
    );
    assert_eq!(
        env.value_of(
            "latency-tracking-info-percentiles\n",
            "latency-tracking-info-percentiles"
        ),
        ""
    );
    assert_eq!(
        env.value_of("client-output-buffer-limit\n", "client-output-buffer-limit"),
        "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"
    );
    assert_eq!(
        env.value_of(
            "client-output-buffer-limit \"normal 1 2 3\"\n",
            "client-output-buffer-limit"
        ),
        "normal 1 2 3 slave 268435456 67108864 60 pubsub 33554432 8388608 60"
    );
    assert_eq!(
        env.value_of("oom-score-adj-values \"1 2 3\"\n", "oom-score-adj-values"),
        "1 2 3"
    );
    assert_eq!(
        env.value_of("replicaof \"127.0.0.1 1\"\n", "replicaof"),
        "127.0.0.1 1"
    );
    assert_eq!(
        env.args_value(&["--replicaof", "127.0.0.1", "+5"], "replicaof"),
        "127.0.0.1 5"
    );
    assert_eq!(
        env.value_of("replicaof 127.0.0.1 \" 5\"\n", "replicaof"),
        "127.0.0.1 5"
    );
    assert_eq!(
        env.value_of("replicaof 127.0.0.1 \"\"\n", "replicaof"),
        "127.0.0.1 0"
    );
    assert_eq!(
        env.args_value(&["--replicaof", "NO", "ONE"], "replicaof"),
        ""
    );
    assert_eq!(
        env.args_value(
            &["--replicaof", "127.0.0.1", "1", "--replicaof", "no", "one"],
            "slaveof"
        ),
        ""
    );
    assert_eq!(env.args_value(&["--slaveof", "h", "7"], "replicaof"), "h 7");
    assert_eq!(
        env.args_value(
            &["--shutdown-on-sigint", "now", "FORCE"],
            "shutdown-on-sigint"
        ),
        "now force"
    );
}

#[test]
fn scalar_values_and_quirks() {
    let env = Env::new();
    assert_eq!(
        env.args_value(&["--repl-backlog-size", "1k"], "repl-backlog-size"),
        "1000"
    );
    assert_eq!(env.args_value(&["--hz", "1000"], "hz"), "500");
    assert_eq!(env.args_value(&["--hz", "0"], "hz"), "1");
    assert_eq!(
        env.args_value(&["--unixsocketperm", "0777"], "unixsocketperm"),
        "777"
    );
    assert_eq!(
        env.args_value(&["--unixsocketperm", "700"], "unixsocketperm"),
        "700"
    );
    assert_eq!(
        env.args_value(&["--maxmemory", "1gb"], "maxmemory"),
        "1073741824"
    );
    assert_eq!(
        env.args_value(&["--maxmemory-clients", "10%"], "maxmemory-clients"),
        "10%"
    );
    assert_eq!(env.args_value(&["--dbfilename", ""], "dbfilename"), "");
    assert_eq!(
        env.value_of("PORT 0\nDataBases 3\ndaemonize YES\n", "databases"),
        "3"
    );
    assert_eq!(env.value_of("daemonize YES\n", "daemonize"), "yes");
    assert_eq!(
        env.value_of("maxmemory-policy ALLKEYS-LRU\n", "maxmemory-policy"),
        "allkeys-lru"
    );
    assert_eq!(
        env.value_of("port 0\r\nloglevel \"\\x76erbose\"\r\n", "loglevel"),
        "verbose"
    );
    assert_eq!(env.value_of("logfile 'a\\'b'\n", "logfile"), "a'b");
    assert_eq!(
        env.value_of("slave-read-only no\n", "replica-read-only"),
        "no"
    );
    assert_eq!(
        env.value_of(
            "hash-max-ziplist-entries 7\nhash-max-listpack-entries 9\n",
            "hash-max-ziplist-entries"
        ),
        "9"
    );
    assert_eq!(
        env.value_of(
            "notify-keyspace-events \"g$lshzxetmdn\"\n",
            "notify-keyspace-events"
        ),
        "Am"
    );
    let c = env
        .load(&["--notify-keyspace-events", "Kndtxezhsl$"])
        .unwrap();
    assert_eq!(c.string("notify-keyspace-events"), "$lshzxetdnK");
    let c = env
        .load(&[
            "--list-max-ziplist-entries",
            "5",
            "--lua-replicate-commands",
            "yes",
        ])
        .unwrap();
    assert_eq!(
        c.deprecated_directives(),
        ["list-max-ziplist-entries", "lua-replicate-commands"]
    );
}

#[test]
fn dir_is_resolved_and_followed() {
    let env = Env::new();
    std::fs::create_dir(env.path().join("d")).unwrap();
    let c = env.load(&["--dir", "d"]).unwrap();
    assert_eq!(c.dir(), env.path().join("d"));
    let c = env.load(&["--dir", "d/.."]).unwrap();
    assert_eq!(c.dir(), env.path());
    env.file("plain", "");
    assert_eq!(
        err(env.load(&["--dir", "plain"])),
        fatal(2, "dir \"plain\"", "Not a directory")
    );
}

#[test]
fn config_file_path_is_absolute() {
    let env = Env::new();
    env.file("sub/r.conf", "port 7\n");
    let c = env.load(&["sub/../sub/./r.conf"]).unwrap();
    assert_eq!(
        c.config_file(),
        Some(env.path().join("sub/r.conf").as_path())
    );
    assert_eq!(c.int("port"), 7);
}

#[test]
fn early_exits() {
    let env = Env::new();
    assert_eq!(env.load(&["-v"]).unwrap_err(), ConfigLoadError::Version);
    assert_eq!(
        env.load(&["--version"]).unwrap_err(),
        ConfigLoadError::Version
    );
    assert_eq!(env.load(&["-h"]).unwrap_err(), ConfigLoadError::Help);
    assert_eq!(env.load(&["--help"]).unwrap_err(), ConfigLoadError::Help);
    assert_eq!(
        env.load(&["--test-memory", "4096"]).unwrap_err(),
        ConfigLoadError::TestMemory {
            megabytes: Some("4096".into())
        }
    );
    let e = env.load(&["--test-memory"]).unwrap_err();
    assert_eq!(e, ConfigLoadError::TestMemory { megabytes: None });
    assert_eq!(e.exit_code(), 1);
    assert!(e
        .to_string()
        .starts_with("Please specify the amount of memory to test in megabytes."));
}

#[test]
fn sentinel_mode_and_recorded_directives() {
    let env = Env::new();
    let f = env.file("s.conf", "port 0\nsentinel monitor mym 127.0.0.1 1 2\n");
    let c = env.load(&[&f, "--sentinel"]).unwrap();
    assert!(c.sentinel_flag());
    let lines = c.sentinel_lines();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0].line, 2);
    assert_eq!(lines[0].args, ["monitor", "mym", "127.0.0.1", "1", "2"]);
    let c = env.load(&["--sentinel", "--port", "26379"]).unwrap();
    assert!(c.sentinel_flag() && c.int("port") == 26379);
    let c = Config::load_with(
        std::slice::from_ref(&f),
        LoadOptions {
            sentinel_mode: true,
            cwd: Some(env.path()),
            ..Default::default()
        },
    )
    .unwrap();
    assert!(c.sentinel_flag());

    let f = env.file(
        "r.conf",
        "rename-command FLUSHALL \"\"\nuser default on nopass\nuser bob on >p\nloadmodule /x.so a b\n",
    );
    let c = env.load(&[&f]).unwrap();
    assert_eq!(
        c.rename_commands(),
        [("FLUSHALL".to_string(), String::new())]
    );
    assert_eq!(c.users().len(), 2);
    assert_eq!(
        c.modules(),
        [vec!["/x.so".to_string(), "a".into(), "b".into()]]
    );
    assert_eq!(
        err(env.load(&["--user", "bob", "on", ">p", "--user", "bob", "off"])),
        fatal(
            3,
            r#"user "bob" "off""#,
            "Error in user declaration 'bob': Duplicate user found. A user can only be defined once in config files"
        )
    );
}

struct Hooks;

impl LoadHooks for Hooks {
    fn rename_command(&mut self, from: &str, _to: &str) -> Result<(), String> {
        if from.eq_ignore_ascii_case("get") {
            Ok(())
        } else {
            Err("No such command in rename-command".into())
        }
    }
    fn user(&mut self, args: &[String]) -> Result<(), (usize, String)> {
        if args[1].starts_with("--") {
            Err((0, "Syntax error".into()))
        } else {
            Ok(())
        }
    }
}

#[test]
fn hooks_validate_with_line_numbers() {
    let env = Env::new();
    let load = |args: &[&str]| {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        Config::load_with(
            &args,
            LoadOptions {
                hooks: Some(&mut Hooks),
                cwd: Some(env.path()),
                ..Default::default()
            },
        )
    };
    assert_eq!(
        err(load(&["--rename-command", "nocmd", "x"])),
        fatal(
            2,
            r#"rename-command "nocmd" "x""#,
            "No such command in rename-command"
        )
    );
    assert!(load(&["--rename-command", "GET", "x"]).is_ok());
    assert_eq!(
        err(load(&["--user", "--port", "0"])),
        fatal(
            2,
            r#"user "--port" "0""#,
            "Error in user declaration 'user': Syntax error"
        )
    );
    assert!(Path::new(&env.path()).is_dir());
}
