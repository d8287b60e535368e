//! Helpers of the repository's queries and updates: index keys and the owner-conditional update.

use super::{schema, DynamoStore};
use crate::domain::media::MediaRecord;
use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;

pub(super) type Key = HashMap<String, AttributeValue>;


impl DynamoStore {

    pub(super) fn owned_update(&self, id: &str, owner: &str) -> aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder {
        self.client
            .update_item()
            .table_name(&self.table)
            .key(schema::PK, AttributeValue::S(id.into()))
            .condition_expression("#owner = :owner AND #status <> :deleting")
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#owner", "owner")
            .expression_attribute_values(":owner", AttributeValue::S(owner.into()))
            .expression_attribute_values(":deleting", AttributeValue::S("deleting".into()))
    }
}

/// The exclusive start key that resumes a listing right after `r`.
pub(super) fn index_key(r: &MediaRecord, attr: &str, value: &str) -> Key {
    HashMap::from([
        (schema::PK.to_string(), AttributeValue::S(r.id.clone())),
        (attr.to_string(), AttributeValue::S(value.to_string())),
        ("created_sk".to_string(), AttributeValue::S(r.created_sk.clone())),
    ])
}

