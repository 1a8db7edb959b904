//! The start-up banner: a picture when stdout is a terminal or `always-show-logo` is
//! set, else one line, as Redis does. Supervising scripts look for the mode, `Port:`
//! and `PID:` lines.

pub fn logo(version: &str, mode: &str, port: u16, pid: u32) -> String {
    format!(
        r#"
            ><>          Shoal {version} (Redis {redis} compatible) 64 bit
       ><>        ><>
   ><>     ><>           Running in {mode} mode
      ><>      ><>       Port: {port}
  ><>     ><>     ><>    PID: {pid}
      ><>     ><>
          ><>

"#,
        redis = crate::REDIS_VERSION
    )
}
