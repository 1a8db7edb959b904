//! The `--help` and `--version` texts (Shoal's own wording).

/// `shoal-cli <version>`.
pub fn version_line() -> String {
    format!("shoal-cli {}", env!("CARGO_PKG_VERSION"))
}

/// The `--help` text.
pub fn help_text() -> String {
    format!(
        "{version}

Usage: shoal-cli [OPTIONS] [cmd [arg [arg ...]]]

With a command, run it once and print the reply. Without one, start an
interactive prompt. Output is formatted for people on a terminal and raw
otherwise (use --raw or --no-raw to choose).

Connection:
  -h <hostname>      Server host (default: 127.0.0.1).
  -p <port>          Server port (default: 6379).
  -s <socket>        Unix socket path (takes precedence over -h and -p).
  -a <password>      Password for AUTH (REDISCLI_AUTH in the environment is safer).
  --user <username>  User name for AUTH (ACL users).
  --pass <password>  Same as -a.
  -u <uri>           redis://[[user]:[password]@][host][:port][/db]
  -n <db>            Database number to select.
  -t <seconds>       Connect timeout (decimals allowed).
  -2, --resp2        Speak RESP2 (the default).
  -3, --resp3        Speak RESP3 (HELLO 3 after connecting).
  --no-auth-warning  Do not warn about passwords given on the command line.
  -c                 Follow cluster redirections (MOVED, ASK).

Running commands:
  -r <repeat>        Run the command this many times (-1: forever).
  -i <interval>      Seconds to wait between repeats (decimals allowed); also
                     the pause of --stat, --scan and --bigkeys.
  -x                 Read the last argument of the command from stdin.
  -e                 Exit with status 1 when the command replies with an error.
  --eval <file>      Run a Lua script: --eval file key1 key2 , arg1 arg2
                     (the comma alone separates keys from arguments).

Output:
  --raw              Raw replies, also on a terminal.
  --no-raw           Formatted replies, also when stdout is not a terminal.
  --csv              Replies as CSV.
  -d <delimiter>     Between the elements of an aggregate in raw output (\\n).
  -D <delimiter>     After each reply in raw output (\\n).
  --show-pushes <yn> Print RESP3 push messages (default: yes on a terminal).

Modes:
  --pipe             Send the RESP commands read from stdin (mass insertion),
                     then report replies and errors.
  --pipe-timeout <n> In --pipe, give up after n seconds without a reply
                     (default 30; 0 waits forever).
  --scan             List the keys with SCAN.
  --pattern <pat>    Only keys matching this glob (with --scan).
  --count <n>        COUNT hint for each SCAN call (with --scan).
  --stat             A rolling table of server statistics.
  --latency          Measure PING round trips continuously.
  --latency-history  Like --latency, starting a new line every 15 seconds
                     (change with -i).
  --bigkeys          Find the biggest key of each type.
  --memkeys          Find the keys using the most memory.
  --memkeys-samples <n>  Sample count for MEMORY USAGE (implies --memkeys).

  --help             This text.
  -v, --version      The version.

Examples:
  shoal-cli -p 7000 set greeting hello
  cat big.txt | shoal-cli -x set text
  shoal-cli -r 100 -i 0.5 incr counter
  shoal-cli --scan --pattern 'user:*'
  cat commands.resp | shoal-cli --pipe
  shoal-cli -u redis://user:secret@localhost:6379/1 ping

In interactive mode, type \"help\" for help, \"help <command>\" for the syntax of
a command, and \"quit\" to leave.
",
        version = version_line()
    )
}
