//! The slice of the configuration that command handlers read.
//!
//! The server owns the full configuration; it builds a `Settings` snapshot whenever a
//! relevant directive changes, and each connection picks up the new snapshot before
//! its next command. Handlers never see the configuration store itself.

#[derive(Clone, Debug)]
pub struct Settings {
    /// `proto-max-bulk-len`: the largest string a command may create.
    pub proto_max_bulk_len: i64,
    /// `maxmemory-policy` is one of the LFU policies (OBJECT FREQ needs this).
    pub lfu_policy: bool,
    /// `maxmemory-policy` is an LRU policy or `noeviction`... (OBJECT IDLETIME is refused under LFU).
    pub lfu_log_factor: i64,
    pub lfu_decay_time: i64,
    pub lazyfree_lazy_user_del: bool,
    pub lazyfree_lazy_user_flush: bool,
    pub lazyfree_lazy_server_del: bool,
    /// `lazyfree-lazy-expire`: expired keys are freed in the background, and their
    /// deletion propagates as UNLINK rather than DEL.
    pub lazyfree_lazy_expire: bool,
    /// This node is a replica: keys expire only when the master says so.
    pub replica: bool,
    /// `list-max-listpack-size` (alias `list-max-ziplist-size`): how full a list's
    /// nodes get; negative = a byte cap (-2 = 8 KB), positive = entries per node.
    pub list_max_listpack_size: i64,
    /// `hash-max-listpack-entries` / `-value`: a hash stays compact ("listpack")
    /// while it has at most this many fields and no field or value longer.
    pub hash_max_listpack_entries: i64,
    pub hash_max_listpack_value: i64,
    /// `set-max-intset-entries`: a set of integers stays an "intset" up to this size.
    pub set_max_intset_entries: i64,
    /// `zset-max-listpack-entries` / `-value`, as for hashes.
    pub zset_max_listpack_entries: i64,
    pub zset_max_listpack_value: i64,
    /// `stream-node-max-bytes` / `-entries`: the size of a stream's nodes.
    pub stream_node_max_bytes: i64,
    pub stream_node_max_entries: i64,
    /// `hll-sparse-max-bytes`: a HyperLogLog turns dense beyond this size.
    pub hll_sparse_max_bytes: i64,
    /// `rdbcompression`: DUMP payloads (and RDB files) LZF-compress strings.
    pub rdbcompression: bool,
    /// `sanitize-dump-payload`: how deeply RESTORE validates payloads.
    pub sanitize_dump_payload: SanitizeDump,
}

/// The values of `sanitize-dump-payload`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SanitizeDump {
    /// Check structure as values are read, not every compact blob in full.
    #[default]
    No,
    /// Validate every payload entirely before use.
    Yes,
    /// Validate payloads from clients (not from a master).
    Clients,
}

impl SanitizeDump {
    /// From the directive's text; anything unknown reads as `no`.
    pub fn parse(s: &str) -> SanitizeDump {
        match s {
            "yes" => SanitizeDump::Yes,
            "clients" => SanitizeDump::Clients,
            _ => SanitizeDump::No,
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            proto_max_bulk_len: 512 * 1024 * 1024,
            lfu_policy: false,
            lfu_log_factor: 10,
            lfu_decay_time: 1,
            lazyfree_lazy_user_del: false,
            lazyfree_lazy_user_flush: false,
            lazyfree_lazy_server_del: false,
            lazyfree_lazy_expire: false,
            replica: false,
            list_max_listpack_size: -2,
            hash_max_listpack_entries: 512,
            hash_max_listpack_value: 64,
            set_max_intset_entries: 512,
            zset_max_listpack_entries: 128,
            zset_max_listpack_value: 64,
            stream_node_max_bytes: 4096,
            stream_node_max_entries: 100,
            hll_sparse_max_bytes: 3000,
            rdbcompression: true,
            sanitize_dump_payload: SanitizeDump::No,
        }
    }
}
