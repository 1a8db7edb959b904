//! Hash commands. (Scaffolding: the handlers are being written.)

use crate::Handler;

pub const HANDLERS: &[(&str, Handler)] = &[];
