//! `--eval file key1 key2 , arg1 arg2`: sends `EVAL <file contents> <numkeys> ...`.
//! A lone `,` separates the keys from the arguments (only the first one counts).

use crate::out;
use crate::session::Session;

/// The EVAL arguments for a script and the words after `--eval file`.
pub fn eval_args(script: Vec<u8>, words: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let mut keys = Vec::new();
    let mut argv = Vec::new();
    let mut got_comma = false;
    for w in words {
        if !got_comma && w == b"," {
            got_comma = true;
        } else if got_comma {
            argv.push(w.clone());
        } else {
            keys.push(w.clone());
        }
    }
    let mut cmd = vec![
        b"EVAL".to_vec(),
        script,
        keys.len().to_string().into_bytes(),
    ];
    cmd.extend(keys);
    cmd.extend(argv);
    cmd
}

pub fn run(session: &mut Session, words: Vec<Vec<u8>>) -> i32 {
    let Some(path) = session.cfg.eval.clone() else {
        return 1;
    };
    let script = match std::fs::read(&path) {
        Ok(s) => s,
        Err(e) => {
            let text = shoal_client::ClientError::Io(e).to_string();
            out::eprint_line(&format!("Can't open file '{}': {text}", path.display()));
            return 1;
        }
    };
    let cmd = eval_args(script, &words);
    match session.issue(&cmd, 1) {
        Ok(()) => 0,
        Err(_) => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::eval_args;

    fn w(v: &[&str]) -> Vec<Vec<u8>> {
        v.iter().map(|s| s.as_bytes().to_vec()).collect()
    }

    #[test]
    fn keys_then_args() {
        assert_eq!(
            eval_args(b"s".to_vec(), &w(&["k1", "k2", ",", "a", ",", "b"])),
            w(&["EVAL", "s", "2", "k1", "k2", "a", ",", "b"])
        );
        assert_eq!(eval_args(b"s".to_vec(), &w(&[])), w(&["EVAL", "s", "0"]));
        assert_eq!(
            eval_args(b"s".to_vec(), &w(&["k,a"])),
            w(&["EVAL", "s", "1", "k,a"])
        );
    }
}
