//! The table's key schema and indexes, in one place: the local bootstrap and the tests create
//! the table from this, and template.yaml mirrors it.

pub const PK: &str = "id";
pub const BY_OWNER: &str = "by_owner";
pub const BY_SCOPE: &str = "by_scope";
pub const PENDING_BY_OWNER: &str = "pending_by_owner";
pub const GC_DUE: &str = "gc_due";

/// (index name, hash key, range key)
pub const INDEXES: [(&str, &str, &str); 4] = [
    (BY_OWNER, "owner", "created_sk"),
    (BY_SCOPE, "scope", "created_sk"),
    (PENDING_BY_OWNER, "pending_owner", "created_sk"),
    (GC_DUE, "gc_shard", "gc_at"),
];
