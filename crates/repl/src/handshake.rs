//! placeholder
pub struct Action;
pub struct CachedMaster;
pub struct Event;
pub struct Handshake;
pub struct HandshakeConfig;
pub struct LogLevel;
pub struct PayloadFraming;
pub struct RdbStart;
