//! Bucket-level setup used by the local stack and the tests.

use aws_sdk_s3::types::{CorsConfiguration, CorsRule};
use aws_sdk_s3::Client;

/// Creates the bucket (if missing), its CORS rules for the given origins, and the policy that
/// makes `public/` (and only `public/`) anonymously readable, as the deployed template does.
pub async fn ensure_bucket(s3: &Client, bucket: &str, origins: &[String]) -> Result<(), String> {
    if s3.head_bucket().bucket(bucket).send().await.is_err() {
        s3.create_bucket().bucket(bucket).send().await.map_err(|e| format!("create bucket: {e:?}"))?;
    }
    if !origins.is_empty() {
        put_cors(s3, bucket, origins).await?;
    }
    let policy = public_read_policy(bucket);
    s3.put_bucket_policy().bucket(bucket).policy(policy.to_string()).send().await.map_err(|e| format!("put policy: {e:?}"))?;
    Ok(())
}

async fn put_cors(s3: &Client, bucket: &str, origins: &[String]) -> Result<(), String> {
    let mut rule = CorsRule::builder()
        .allowed_methods("GET")
        .allowed_methods("HEAD")
        .allowed_methods("POST")
        .allowed_methods("PUT")
        .allowed_headers("*")
        .expose_headers("ETag")
        .max_age_seconds(3000);
    for o in origins {
        rule = rule.allowed_origins(o);
    }
    let cors = CorsConfiguration::builder()
        .cors_rules(rule.build().map_err(|e| e.to_string())?)
        .build()
        .map_err(|e| e.to_string())?;
    s3.put_bucket_cors().bucket(bucket).cors_configuration(cors).send().await.map_err(|e| format!("put cors: {e:?}"))?;
    Ok(())
}

/// The deployed bucket's policy too: anonymous GetObject on public/ only.
pub fn public_read_policy(bucket: &str) -> serde_json::Value {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "PublicReadOfVerifiedMedia",
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": format!("arn:aws:s3:::{bucket}/public/*")
        }]
    })
}
