//! One command from the command line: `shoal-cli -p 7000 set k v` prints `OK`.
//! With `-x` the last argument is read from stdin. The exit code is 1 when the
//! connection fails, or with `-e` when the reply is an error.

use crate::out;
use crate::session::Session;
use std::io::Read;

pub fn run(session: &mut Session, mut args: Vec<Vec<u8>>) -> i32 {
    if session.cfg.stdin_last_arg {
        let mut data = Vec::new();
        if let Err(e) = std::io::stdin().read_to_end(&mut data) {
            out::eprint_line(&format!("Error reading stdin: {e}"));
            return 1;
        }
        args.push(data);
    }
    let repeat = session.cfg.repeat;
    match session.issue(&args, repeat) {
        Ok(()) => 0,
        Err(_) => 1,
    }
}
