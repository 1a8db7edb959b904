//! HyperLogLog commands (PFADD PFCOUNT PFMERGE PFDEBUG PFSELFTEST). (Scaffolding: the handlers are being written.)

use crate::Handler;

pub const HANDLERS: &[(&str, Handler)] = &[];
