//! Creating the media table where no template does (the local stack and the isolated tests);
//! deployed stacks get it from template.yaml, which mirrors `schema`.

use super::dynamo::classify;
use super::schema;
use crate::ports::RecordError;
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType, ScalarAttributeType,
};
use aws_sdk_dynamodb::Client;

/// Creates the table with its indexes (local stack and tests; deployed stacks use
/// template.yaml). Succeeds if the table already exists.
pub async fn create_table(client: &Client, table: &str) -> Result<(), RecordError> {
    let s = |n: &str| AttributeDefinition::builder().attribute_name(n).attribute_type(ScalarAttributeType::S).build();
    let key = |n: &str, t: KeyType| KeySchemaElement::builder().attribute_name(n).key_type(t).build();
    let mut req = client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key(schema::PK, KeyType::Hash).map_err(|e| RecordError::Other(e.to_string()))?);
    let mut attrs = vec![schema::PK.to_string()];
    for (name, hash, range) in schema::INDEXES {
        for a in [hash, range] {
            if !attrs.iter().any(|x| x == a) {
                attrs.push(a.to_string());
            }
        }
        let gsi = GlobalSecondaryIndex::builder()
            .index_name(name)
            .key_schema(key(hash, KeyType::Hash).map_err(|e| RecordError::Other(e.to_string()))?)
            .key_schema(key(range, KeyType::Range).map_err(|e| RecordError::Other(e.to_string()))?)
            .projection(Projection::builder().projection_type(ProjectionType::All).build())
            .build()
            .map_err(|e| RecordError::Other(e.to_string()))?;
        req = req.global_secondary_indexes(gsi);
    }
    for a in attrs {
        req = req.attribute_definitions(s(&a).map_err(|e| RecordError::Other(e.to_string()))?);
    }
    match req.send().await {
        Ok(_) => Ok(()),
        Err(e) if e.code() == Some("ResourceInUseException") => Ok(()),
        Err(e) => Err(classify(e)),
    }
}
