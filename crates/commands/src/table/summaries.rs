//! Our own one-line summaries of every command and subcommand, keyed by full name
//! ("get", "config|get"). Written for Shoal in plain words; not taken from Redis's
//! documentation. `COMMAND DOCS` shows them.

/// The summary of a command or subcommand by full name, "" when there is none.
pub fn summary(full_name: &str) -> &'static str {
    SUMMARIES
        .binary_search_by(|(name, _)| (*name).cmp(full_name))
        .map_or("", |i| SUMMARIES[i].1)
}

/// Sorted by full name.
static SUMMARIES: &[(&str, &str)] = &[
    ("acl", "Container for the access-control-list subcommands"),
    (
        "acl|cat",
        "Show the ACL categories, or the commands in one category",
    ),
    (
        "acl|deluser",
        "Remove ACL users and disconnect their clients",
    ),
    (
        "acl|dryrun",
        "Check whether a user could run a command, without running it",
    ),
    (
        "acl|genpass",
        "Produce random hex characters usable as a password",
    ),
    ("acl|getuser", "Show the rules of one ACL user"),
    ("acl|help", "List the ACL subcommands"),
    (
        "acl|list",
        "Show every ACL user as a rule line, as in an ACL file",
    ),
    (
        "acl|load",
        "Replace the ACL users with the contents of the ACL file",
    ),
    ("acl|log", "Show or clear the recent ACL denials"),
    ("acl|save", "Write the current ACL users to the ACL file"),
    ("acl|setuser", "Create an ACL user or change its rules"),
    ("acl|users", "Show the names of all ACL users"),
    (
        "acl|whoami",
        "Show the user the connection is authenticated as",
    ),
    (
        "append",
        "Add bytes to the end of a string, creating it when absent",
    ),
    (
        "asking",
        "Allow the next command on a slot being imported (cluster redirection)",
    ),
    (
        "auth",
        "Log the connection in with a password, or a user name and password",
    ),
    (
        "bgrewriteaof",
        "Start rewriting the append-only file in the background",
    ),
    (
        "bgsave",
        "Start writing a snapshot of the dataset in the background",
    ),
    (
        "bitcount",
        "Count the bits set to 1 in a string, optionally within a range",
    ),
    (
        "bitfield",
        "Read, write and increment integer fields of any width inside a string",
    ),
    (
        "bitfield_ro",
        "Read integer fields of any width inside a string",
    ),
    (
        "bitop",
        "Combine strings bit by bit (AND, OR, XOR, NOT) into a destination key",
    ),
    ("bitpos", "Find the first bit set to 0 or 1 in a string"),
    (
        "blmove",
        "Move an element from one list to another, waiting for one if needed",
    ),
    (
        "blmpop",
        "Take elements from the first non-empty list among several, waiting if needed",
    ),
    (
        "blpop",
        "Take the head of the first non-empty list, waiting if all are empty",
    ),
    (
        "brpop",
        "Take the tail of the first non-empty list, waiting if all are empty",
    ),
    (
        "brpoplpush",
        "Move a list's tail to another list's head, waiting if needed (old form of BLMOVE)",
    ),
    (
        "bzmpop",
        "Take the lowest or highest members of the first non-empty sorted set, waiting if needed",
    ),
    (
        "bzpopmax",
        "Take the highest-scored member of the first non-empty sorted set, waiting if needed",
    ),
    (
        "bzpopmin",
        "Take the lowest-scored member of the first non-empty sorted set, waiting if needed",
    ),
    (
        "client",
        "Container for the connection-management subcommands",
    ),
    (
        "client|caching",
        "Choose whether the next read is tracked (opt-in/opt-out tracking)",
    ),
    ("client|getname", "Show the name given to this connection"),
    (
        "client|getredir",
        "Show the id of the client receiving this connection's tracking messages",
    ),
    ("client|help", "List the CLIENT subcommands"),
    ("client|id", "Show this connection's numeric id"),
    (
        "client|info",
        "Describe this connection in the CLIENT LIST format",
    ),
    (
        "client|kill",
        "Close connections chosen by address, id, type, user or age",
    ),
    (
        "client|list",
        "Describe the open connections, one line each",
    ),
    (
        "client|no-evict",
        "Exempt this connection from client eviction, or stop exempting it",
    ),
    (
        "client|pause",
        "Hold client commands (all, or only writes) for some milliseconds",
    ),
    (
        "client|reply",
        "Turn replies for this connection on, off, or off for one command",
    ),
    ("client|setname", "Give this connection a name"),
    (
        "client|tracking",
        "Turn client-side caching invalidation messages on or off",
    ),
    (
        "client|trackinginfo",
        "Describe this connection's client-side caching settings",
    ),
    (
        "client|unblock",
        "Wake a client blocked on a command, with a timeout or an error",
    ),
    ("client|unpause", "Let paused clients run again"),
    (
        "cluster",
        "Container for the cluster-management subcommands",
    ),
    (
        "cluster|addslots",
        "Give this node ownership of some hash slots",
    ),
    (
        "cluster|addslotsrange",
        "Give this node ownership of ranges of hash slots",
    ),
    (
        "cluster|bumpepoch",
        "Move this node's configuration epoch past all others",
    ),
    (
        "cluster|count-failure-reports",
        "Count the live reports that a node is failing",
    ),
    (
        "cluster|countkeysinslot",
        "Count the keys stored in one hash slot",
    ),
    (
        "cluster|delslots",
        "Drop this node's ownership of some hash slots",
    ),
    (
        "cluster|delslotsrange",
        "Drop this node's ownership of ranges of hash slots",
    ),
    (
        "cluster|failover",
        "Make this replica take over from its master",
    ),
    ("cluster|flushslots", "Drop every hash slot this node owns"),
    (
        "cluster|forget",
        "Remove a node from this node's view of the cluster",
    ),
    (
        "cluster|getkeysinslot",
        "List some key names stored in one hash slot",
    ),
    ("cluster|help", "List the CLUSTER subcommands"),
    ("cluster|info", "Show the cluster's state and counters"),
    (
        "cluster|keyslot",
        "Compute the hash slot a key name maps to",
    ),
    (
        "cluster|links",
        "Describe this node's bus connections to its peers",
    ),
    (
        "cluster|meet",
        "Connect this node to another one to join their clusters",
    ),
    ("cluster|myid", "Show this node's id"),
    (
        "cluster|nodes",
        "Show the cluster topology in the nodes.conf format",
    ),
    ("cluster|replicas", "List the replicas of a master node"),
    (
        "cluster|replicate",
        "Turn this node into a replica of another master",
    ),
    (
        "cluster|reset",
        "Forget the cluster and return to an empty node (soft or hard)",
    ),
    (
        "cluster|saveconfig",
        "Write the cluster state to nodes.conf now",
    ),
    (
        "cluster|set-config-epoch",
        "Set the configuration epoch of a fresh node",
    ),
    (
        "cluster|setslot",
        "Change the state of a hash slot (importing, migrating, node, stable)",
    ),
    ("cluster|shards", "Describe the cluster shard by shard"),
    (
        "cluster|slaves",
        "List the replicas of a master node (old name of CLUSTER REPLICAS)",
    ),
    (
        "cluster|slots",
        "Describe the slot ranges and the nodes serving them",
    ),
    ("command", "Describe every command the server knows"),
    ("command|count", "Count the commands the server knows"),
    ("command|docs", "Show the documentation facts of commands"),
    ("command|getkeys", "Tell which arguments of a call are keys"),
    (
        "command|getkeysandflags",
        "Tell which arguments of a call are keys, with how each is accessed",
    ),
    ("command|help", "List the COMMAND subcommands"),
    ("command|info", "Describe the given commands"),
    ("command|list", "List command names, optionally filtered"),
    ("config", "Container for the configuration subcommands"),
    (
        "config|get",
        "Read configuration parameters matching patterns",
    ),
    ("config|help", "List the CONFIG subcommands"),
    ("config|resetstat", "Zero the statistics counters"),
    (
        "config|rewrite",
        "Write the running configuration back to the config file",
    ),
    ("config|set", "Change configuration parameters at run time"),
    ("copy", "Duplicate the value of a key under another name"),
    ("dbsize", "Count the keys in the selected database"),
    ("debug", "Container for developer and test helpers"),
    ("decr", "Subtract one from an integer string"),
    ("decrby", "Subtract an amount from an integer string"),
    ("del", "Remove keys"),
    ("discard", "Drop the commands queued since MULTI"),
    ("dump", "Serialize a key's value in the DUMP format"),
    ("echo", "Reply with the given message"),
    ("eval", "Run a Lua script"),
    ("eval_ro", "Run a Lua script that may not write"),
    ("evalsha", "Run a cached Lua script given its SHA1 digest"),
    (
        "evalsha_ro",
        "Run a cached Lua script that may not write, given its SHA1 digest",
    ),
    (
        "exec",
        "Run the commands queued since MULTI as one transaction",
    ),
    ("exists", "Count how many of the given keys exist"),
    ("expire", "Make a key expire after some seconds"),
    ("expireat", "Make a key expire at a Unix time in seconds"),
    (
        "expiretime",
        "Show when a key expires, as a Unix time in seconds",
    ),
    (
        "failover",
        "Hand the master role over to one of the replicas",
    ),
    ("fcall", "Call a library function"),
    ("fcall_ro", "Call a library function that may not write"),
    ("flushall", "Remove the keys of every database"),
    ("flushdb", "Remove the keys of the selected database"),
    ("function", "Container for the function-library subcommands"),
    ("function|delete", "Remove a function library"),
    ("function|dump", "Serialize every function library"),
    ("function|flush", "Remove every function library"),
    ("function|help", "List the FUNCTION subcommands"),
    (
        "function|kill",
        "Stop the function that is running, if it has not written",
    ),
    ("function|list", "Describe the loaded function libraries"),
    ("function|load", "Load a function library from its source"),
    (
        "function|restore",
        "Load function libraries from a FUNCTION DUMP payload",
    ),
    (
        "function|stats",
        "Describe the running function and the engines",
    ),
    (
        "geoadd",
        "Store members with longitude/latitude positions in a geo index",
    ),
    (
        "geodist",
        "Measure the distance between two members of a geo index",
    ),
    ("geohash", "Show members' positions as geohash strings"),
    ("geopos", "Show members' longitude and latitude"),
    (
        "georadius",
        "Find members within a radius of a point, optionally storing them",
    ),
    ("georadius_ro", "Find members within a radius of a point"),
    (
        "georadiusbymember",
        "Find members within a radius of another member, optionally storing them",
    ),
    (
        "georadiusbymember_ro",
        "Find members within a radius of another member",
    ),
    ("geosearch", "Find members inside a circle or a box"),
    (
        "geosearchstore",
        "Find members inside a circle or a box and store them in a key",
    ),
    ("get", "Read the string stored at a key"),
    ("getbit", "Read one bit of a string"),
    ("getdel", "Read a string and remove its key"),
    ("getex", "Read a string and change or clear its expiry"),
    ("getrange", "Read part of a string by byte offsets"),
    ("getset", "Replace a string and return the previous one"),
    ("hdel", "Remove fields from a hash"),
    (
        "hello",
        "Choose the protocol version, optionally authenticate and name the connection",
    ),
    ("hexists", "Tell whether a hash has a field"),
    ("hget", "Read one field of a hash"),
    ("hgetall", "Read every field and value of a hash"),
    ("hincrby", "Add an integer to a hash field"),
    (
        "hincrbyfloat",
        "Add a floating-point number to a hash field",
    ),
    ("hkeys", "List the fields of a hash"),
    ("hlen", "Count the fields of a hash"),
    ("hmget", "Read several fields of a hash"),
    ("hmset", "Write several fields of a hash (old form of HSET)"),
    ("hrandfield", "Pick random fields of a hash"),
    (
        "hscan",
        "Walk the fields and values of a hash with a cursor",
    ),
    ("hset", "Write fields of a hash"),
    ("hsetnx", "Write a hash field only when it is absent"),
    ("hstrlen", "Measure the value of a hash field in bytes"),
    ("hvals", "List the values of a hash"),
    ("incr", "Add one to an integer string"),
    ("incrby", "Add an amount to an integer string"),
    (
        "incrbyfloat",
        "Add a floating-point amount to a number string",
    ),
    (
        "info",
        "Report server information and statistics, by section",
    ),
    ("keys", "List the key names matching a pattern"),
    (
        "lastsave",
        "Tell when the last successful snapshot finished, as a Unix time",
    ),
    ("latency", "Container for the latency-monitor subcommands"),
    (
        "latency|doctor",
        "Explain the recorded latency events in plain words",
    ),
    ("latency|graph", "Draw an ASCII chart of one latency event"),
    ("latency|help", "List the LATENCY subcommands"),
    ("latency|histogram", "Show per-command latency histograms"),
    (
        "latency|history",
        "Show the recorded samples of one latency event",
    ),
    (
        "latency|latest",
        "Show the latest sample of every latency event",
    ),
    ("latency|reset", "Clear recorded latency events"),
    (
        "lcs",
        "Compute the longest common subsequence of two strings",
    ),
    ("lindex", "Read a list element by position"),
    (
        "linsert",
        "Insert an element before or after another in a list",
    ),
    ("llen", "Count the elements of a list"),
    (
        "lmove",
        "Move an element from one end of a list to an end of another",
    ),
    (
        "lmpop",
        "Take elements from the first non-empty list among several",
    ),
    (
        "lolwut",
        "Draw a piece of generative art and show the version",
    ),
    ("lpop", "Take elements from the head of a list"),
    ("lpos", "Find the positions of an element in a list"),
    ("lpush", "Add elements at the head of a list"),
    (
        "lpushx",
        "Add elements at the head of a list that already exists",
    ),
    ("lrange", "Read a range of list elements"),
    ("lrem", "Remove occurrences of an element from a list"),
    ("lset", "Replace a list element by position"),
    ("ltrim", "Keep only a range of a list"),
    (
        "memory",
        "Container for the memory-introspection subcommands",
    ),
    (
        "memory|doctor",
        "Explain the server's memory use in plain words",
    ),
    ("memory|help", "List the MEMORY subcommands"),
    ("memory|malloc-stats", "Show the allocator's own statistics"),
    (
        "memory|purge",
        "Ask the allocator to give unused memory back",
    ),
    ("memory|stats", "Break down the server's memory use"),
    (
        "memory|usage",
        "Estimate the memory a key and its value take",
    ),
    ("mget", "Read the strings of several keys"),
    ("migrate", "Move keys to another server atomically"),
    ("module", "Container for the module subcommands"),
    ("module|help", "List the MODULE subcommands"),
    ("module|list", "List the loaded modules"),
    ("module|load", "Load a module from a shared library"),
    (
        "module|loadex",
        "Load a module with configuration and arguments",
    ),
    ("module|unload", "Unload a module"),
    (
        "monitor",
        "Stream every command the server runs to this connection",
    ),
    ("move", "Move a key to another database"),
    ("mset", "Write the strings of several keys"),
    (
        "msetnx",
        "Write the strings of several keys, only if none of them exists",
    ),
    ("multi", "Start queuing commands for a transaction"),
    (
        "object",
        "Container for the value-introspection subcommands",
    ),
    (
        "object|encoding",
        "Show the internal encoding of a key's value",
    ),
    (
        "object|freq",
        "Show the access-frequency counter of a key (LFU policies)",
    ),
    ("object|help", "List the OBJECT subcommands"),
    (
        "object|idletime",
        "Show how long a key has gone unaccessed, in seconds",
    ),
    (
        "object|refcount",
        "Show the reference count of a key's value",
    ),
    ("persist", "Remove the expiry of a key"),
    ("pexpire", "Make a key expire after some milliseconds"),
    (
        "pexpireat",
        "Make a key expire at a Unix time in milliseconds",
    ),
    (
        "pexpiretime",
        "Show when a key expires, as a Unix time in milliseconds",
    ),
    ("pfadd", "Add elements to a HyperLogLog"),
    (
        "pfcount",
        "Estimate the number of distinct elements in HyperLogLogs",
    ),
    ("pfdebug", "Inspect a HyperLogLog's internals (testing aid)"),
    ("pfmerge", "Union HyperLogLogs into a destination key"),
    ("pfselftest", "Run the HyperLogLog self test"),
    (
        "ping",
        "Check the connection; replies PONG or the given message",
    ),
    (
        "psetex",
        "Write a string that expires after some milliseconds",
    ),
    (
        "psubscribe",
        "Receive messages of channels matching patterns",
    ),
    (
        "psync",
        "Start or resume replication from this master (internal)",
    ),
    (
        "pttl",
        "Show the time left before a key expires, in milliseconds",
    ),
    ("publish", "Send a message to a channel's subscribers"),
    (
        "pubsub",
        "Container for the publish/subscribe introspection subcommands",
    ),
    ("pubsub|channels", "List channels that have subscribers"),
    ("pubsub|help", "List the PUBSUB subcommands"),
    ("pubsub|numpat", "Count the subscribed patterns"),
    ("pubsub|numsub", "Count the subscribers of channels"),
    (
        "pubsub|shardchannels",
        "List shard channels that have subscribers",
    ),
    (
        "pubsub|shardnumsub",
        "Count the subscribers of shard channels",
    ),
    ("punsubscribe", "Stop receiving messages for patterns"),
    ("quit", "Close the connection"),
    ("randomkey", "Return a key name picked at random"),
    ("readonly", "Allow reads from this replica in cluster mode"),
    ("readwrite", "Undo READONLY for this cluster connection"),
    (
        "rename",
        "Give a key a new name, replacing any key with that name",
    ),
    (
        "renamenx",
        "Give a key a new name only if that name is free",
    ),
    (
        "replconf",
        "Exchange replication settings and offsets (internal)",
    ),
    ("replicaof", "Replicate another server, or stop replicating"),
    (
        "reset",
        "Return the connection to its freshly-connected state",
    ),
    ("restore", "Create a key from a DUMP payload"),
    (
        "restore-asking",
        "Create a key from a DUMP payload during slot migration (internal)",
    ),
    (
        "role",
        "Tell whether this server is a master, replica or sentinel, with its peers",
    ),
    ("rpop", "Take elements from the tail of a list"),
    (
        "rpoplpush",
        "Move a list's tail to another list's head (old form of LMOVE)",
    ),
    ("rpush", "Add elements at the tail of a list"),
    (
        "rpushx",
        "Add elements at the tail of a list that already exists",
    ),
    ("sadd", "Add members to a set"),
    ("save", "Write a snapshot of the dataset now, blocking"),
    ("scan", "Walk the key names with a cursor"),
    ("scard", "Count the members of a set"),
    ("script", "Container for the Lua script-cache subcommands"),
    (
        "script|debug",
        "Choose the debugging mode for the next scripts",
    ),
    (
        "script|exists",
        "Tell whether scripts are in the script cache",
    ),
    ("script|flush", "Empty the script cache"),
    ("script|help", "List the SCRIPT subcommands"),
    (
        "script|kill",
        "Stop the running script, if it has not written",
    ),
    (
        "script|load",
        "Put a script in the script cache without running it",
    ),
    ("sdiff", "Compute the members of a set that other sets lack"),
    (
        "sdiffstore",
        "Compute a set difference and store it in a key",
    ),
    ("select", "Switch the connection to another database"),
    (
        "set",
        "Write the string of a key, with options for expiry and conditions",
    ),
    ("setbit", "Write one bit of a string"),
    ("setex", "Write a string that expires after some seconds"),
    ("setnx", "Write a string only when the key is absent"),
    ("setrange", "Overwrite part of a string from a byte offset"),
    ("shutdown", "Stop the server, saving first if configured to"),
    ("sinter", "Compute the members common to sets"),
    ("sintercard", "Count the members common to sets"),
    (
        "sinterstore",
        "Compute a set intersection and store it in a key",
    ),
    ("sismember", "Tell whether a set contains a member"),
    (
        "slaveof",
        "Replicate another server, or stop replicating (old name of REPLICAOF)",
    ),
    ("slowlog", "Container for the slow-log subcommands"),
    ("slowlog|get", "Show the recorded slow commands"),
    ("slowlog|help", "List the SLOWLOG subcommands"),
    ("slowlog|len", "Count the entries of the slow log"),
    ("slowlog|reset", "Empty the slow log"),
    ("smembers", "List the members of a set"),
    (
        "smismember",
        "Tell for each member whether a set contains it",
    ),
    ("smove", "Move a member from one set to another"),
    (
        "sort",
        "Sort a list, set or sorted set, optionally storing the result",
    ),
    ("sort_ro", "Sort a list, set or sorted set"),
    ("spop", "Remove and return random members of a set"),
    (
        "spublish",
        "Send a message to a shard channel's subscribers",
    ),
    ("srandmember", "Pick random members of a set"),
    ("srem", "Remove members from a set"),
    ("sscan", "Walk the members of a set with a cursor"),
    ("ssubscribe", "Receive messages of shard channels"),
    ("strlen", "Measure a string in bytes"),
    ("subscribe", "Receive messages of channels"),
    (
        "substr",
        "Read part of a string by byte offsets (old form of GETRANGE)",
    ),
    ("sunion", "Compute the members present in any of the sets"),
    ("sunionstore", "Compute a set union and store it in a key"),
    ("sunsubscribe", "Stop receiving messages for shard channels"),
    ("swapdb", "Exchange the contents of two databases"),
    (
        "sync",
        "Start a full replication from this master (internal, old protocol)",
    ),
    ("time", "Show the server clock as seconds and microseconds"),
    (
        "touch",
        "Count the given keys that exist, marking them as accessed",
    ),
    ("ttl", "Show the time left before a key expires, in seconds"),
    ("type", "Show the type of the value stored at a key"),
    (
        "unlink",
        "Remove keys, reclaiming their memory in the background",
    ),
    ("unsubscribe", "Stop receiving messages for channels"),
    ("unwatch", "Forget every key watched by this connection"),
    (
        "wait",
        "Wait until replicas acknowledge this connection's writes",
    ),
    (
        "watch",
        "Make the next transaction fail if these keys change",
    ),
    (
        "xack",
        "Mark stream entries as processed by a consumer group",
    ),
    ("xadd", "Append an entry to a stream"),
    (
        "xautoclaim",
        "Take over pending entries idle for long enough, scanning with a cursor",
    ),
    ("xclaim", "Take over pending entries of a consumer group"),
    ("xdel", "Remove entries from a stream"),
    ("xgroup", "Container for the consumer-group subcommands"),
    ("xgroup|create", "Create a consumer group on a stream"),
    (
        "xgroup|createconsumer",
        "Create a consumer in a consumer group",
    ),
    (
        "xgroup|delconsumer",
        "Remove a consumer from a consumer group",
    ),
    ("xgroup|destroy", "Remove a consumer group"),
    ("xgroup|help", "List the XGROUP subcommands"),
    ("xgroup|setid", "Move a consumer group's last-delivered id"),
    (
        "xinfo",
        "Container for the stream-introspection subcommands",
    ),
    (
        "xinfo|consumers",
        "Describe the consumers of a consumer group",
    ),
    ("xinfo|groups", "Describe the consumer groups of a stream"),
    ("xinfo|help", "List the XINFO subcommands"),
    ("xinfo|stream", "Describe a stream"),
    ("xlen", "Count the entries of a stream"),
    (
        "xpending",
        "Inspect the entries delivered to a consumer group but not acknowledged",
    ),
    ("xrange", "Read stream entries between two ids"),
    ("xread", "Read new entries from streams, waiting if asked"),
    (
        "xreadgroup",
        "Read entries from streams as a consumer of a group, waiting if asked",
    ),
    (
        "xrevrange",
        "Read stream entries between two ids, newest first",
    ),
    ("xsetid", "Set a stream's last id and counters (internal)"),
    ("xtrim", "Shorten a stream by length or by minimum id"),
    (
        "zadd",
        "Add members with scores to a sorted set, or change their scores",
    ),
    ("zcard", "Count the members of a sorted set"),
    ("zcount", "Count sorted-set members with scores in a range"),
    (
        "zdiff",
        "Compute the members of a sorted set that other sorted sets lack",
    ),
    (
        "zdiffstore",
        "Compute a sorted-set difference and store it in a key",
    ),
    (
        "zincrby",
        "Add an amount to a member's score in a sorted set",
    ),
    ("zinter", "Compute the members common to sorted sets"),
    ("zintercard", "Count the members common to sorted sets"),
    (
        "zinterstore",
        "Compute a sorted-set intersection and store it in a key",
    ),
    (
        "zlexcount",
        "Count sorted-set members in a lexicographic range",
    ),
    (
        "zmpop",
        "Take the lowest or highest members of the first non-empty sorted set",
    ),
    ("zmscore", "Read the scores of several sorted-set members"),
    ("zpopmax", "Take the highest-scored members of a sorted set"),
    ("zpopmin", "Take the lowest-scored members of a sorted set"),
    ("zrandmember", "Pick random members of a sorted set"),
    (
        "zrange",
        "Read sorted-set members by rank, score or lexicographic range",
    ),
    (
        "zrangebylex",
        "Read sorted-set members in a lexicographic range",
    ),
    (
        "zrangebyscore",
        "Read sorted-set members with scores in a range",
    ),
    ("zrangestore", "Store a range of a sorted set in a key"),
    (
        "zrank",
        "Show a member's rank in a sorted set, lowest score first",
    ),
    ("zrem", "Remove members from a sorted set"),
    (
        "zremrangebylex",
        "Remove sorted-set members in a lexicographic range",
    ),
    (
        "zremrangebyrank",
        "Remove sorted-set members in a rank range",
    ),
    (
        "zremrangebyscore",
        "Remove sorted-set members with scores in a range",
    ),
    (
        "zrevrange",
        "Read sorted-set members by rank, highest score first",
    ),
    (
        "zrevrangebylex",
        "Read sorted-set members in a lexicographic range, in reverse order",
    ),
    (
        "zrevrangebyscore",
        "Read sorted-set members with scores in a range, highest first",
    ),
    (
        "zrevrank",
        "Show a member's rank in a sorted set, highest score first",
    ),
    (
        "zscan",
        "Walk the members and scores of a sorted set with a cursor",
    ),
    ("zscore", "Read the score of a sorted-set member"),
    (
        "zunion",
        "Compute the members present in any of the sorted sets",
    ),
    (
        "zunionstore",
        "Compute a sorted-set union and store it in a key",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_has_one() {
        assert!(SUMMARIES.windows(2).all(|w| w[0].0 < w[1].0));
        for c in crate::table::all() {
            assert!(!summary(c.name).is_empty(), "{}", c.name);
            for s in c.subcommands {
                let full = s.full_name();
                assert!(!summary(&full).is_empty(), "{full}");
            }
        }
        assert_eq!(
            summary("config|get"),
            "Read configuration parameters matching patterns"
        );
        assert_eq!(summary("nosuch"), "");
    }
}
