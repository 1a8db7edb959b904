//! The streams value type. (Scaffolding: the type's representation and operations
//! are being written; until then no command creates one.)

/// A streams value.
#[derive(Clone, Debug, Default)]
pub struct Stream {
    _private: (),
}

impl Stream {
    pub fn len(&self) -> usize {
        0
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Redis's `OBJECT ENCODING` name for the current representation.
    pub fn encoding(&self) -> &'static str {
        "hashtable"
    }

    /// Heap bytes owned by the value.
    pub fn heap_bytes(&self) -> usize {
        0
    }

    /// How much work freeing the value is (Redis's `lazyfreeGetFreeEffort`).
    pub fn free_effort(&self) -> usize {
        1
    }
}
