use super::{StoreError, UploadRecords};
use crate::media::{MediaRecord, Status};
use std::collections::HashMap;
use std::sync::Mutex;

/// An in-memory table for unit tests and benchmarks.
#[derive(Default)]
pub struct MemoryStore {
    items: Mutex<HashMap<String, MediaRecord>>,
}

impl MemoryStore {
    pub fn get(&self, id: &str) -> Option<MediaRecord> {
        self.items.lock().ok()?.get(id).cloned()
    }
}

impl UploadRecords for MemoryStore {
    async fn put_new(&self, record: &MediaRecord) -> Result<(), StoreError> {
        let mut items = self.items.lock().map_err(|e| StoreError::Other(e.to_string()))?;
        if items.contains_key(&record.id) {
            return Err(StoreError::ConditionFailed);
        }
        items.insert(record.id.clone(), record.clone());
        Ok(())
    }

    async fn count_pending(&self, owner: &str, at_most: u32) -> Result<u32, StoreError> {
        let items = self.items.lock().map_err(|e| StoreError::Other(e.to_string()))?;
        // Stops counting at the bound, as the DynamoDB query does.
        let n = items.values().filter(|r| r.owner == owner && r.status == Status::Pending).take(at_most as usize).count();
        Ok(n as u32)
    }
}
