//! All configuration, read once at init from the environment into one struct. A bad value
//! fails the cold start with a message that names the variable.

use crate::domain::kinds::{Kinds, KindsError};
use std::fmt;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("missing required environment variable {0}")]
    Missing(&'static str),
    #[error("invalid {name}: {message}")]
    Invalid { name: &'static str, message: String },
    #[error(transparent)]
    Kinds(#[from] KindsError),
}

/// A secret that never prints.
#[derive(Clone, Default)]
pub struct Secret(Vec<u8>);

impl Secret {
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        Self(bytes.into())
    }
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[derive(Debug, Clone)]
pub enum AuthConfig {
    Hs256 { secret: Secret, issuer: String, audience: String },
    ApiGateway,
}

/// libwebp method and quality for thumbnails (`WEBP_METHOD`, `WEBP_QUALITY`): the pair the cost
/// model chose (bench/cost.py, bench/RESULTS.md "The default WebP method"): the least compute
/// plus CloudFront egress per million uploads among the methods at the lowest quality that
/// keeps every class's 1024 px SSIM within 0.002 of sharp's. A thumbnail is served many times,
/// so its bytes outweigh the slower encode.
pub const DEFAULT_WEBP_METHOD: i32 = 6;
pub const DEFAULT_WEBP_QUALITY: u64 = 81;

#[derive(Debug, Clone)]
pub struct Config {
    pub bucket: String,
    pub table: String,
    pub region: Option<String>,
    /// Custom S3 endpoint (SeaweedFS, MinIO, LocalStack); path-style addressing when set.
    pub s3_endpoint: Option<String>,
    pub dynamodb_endpoint: Option<String>,
    /// Where `public/` objects are served from: a CDN or the bucket's own URL.
    pub public_base_url: Option<String>,
    pub upload_url_ttl: Duration,
    /// How long a multipart upload may take from slot to completion. The bucket's lifecycle
    /// rule aborts anything older than two days, so it stays within one.
    pub multipart_window: Duration,
    pub max_pending_per_user: u32,
    pub auth: AuthConfig,
    pub scopes_claim: String,
    pub kinds: Kinds,
    pub cursor_secret: Secret,
    /// Signs private media's transform URLs (`TRANSFORM_SECRET`, at least 32 characters).
    pub transform_secret: Secret,
    /// Where transform URLs point: the API's or the CDN's origin (`TRANSFORM_BASE_URL`).
    pub transform_base_url: Option<String>,
    /// New variants one media may have rendered per window (`MAX_VARIANTS_PER_WINDOW`,
    /// `VARIANT_WINDOW_SECONDS`).
    pub variant_cap: crate::usecases::transforms::VariantCap,
    /// Which public transforms need no signature (`PUBLIC_TRANSFORMS`: `any` or `presets`).
    pub public_transforms: crate::usecases::transforms::PublicTransforms,
    pub max_pixels: u64,
    pub max_side: u32,
    pub max_jpeg_scans: u32,
    /// Working memory one JPEG decode may claim (a progressive file's coefficient buffer).
    pub max_decode_memory_mb: u32,
    /// Trust the system certificate store instead of the compiled-in roots.
    pub tls_native_roots: bool,
    /// The credentials the Lambda runtime puts in the environment (`AWS_ACCESS_KEY_ID`,
    /// `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`), with `AWS_REGION`: what the SDK's default
    /// chains would find first. None when absent, or when any variable that would change the
    /// SDK's defaults is set (a profile, endpoint, FIPS/dual-stack or retry variable): those
    /// go through the full default loader.
    pub environment_credentials: Option<EnvironmentCredentials>,
    /// Wall time one file's verification may take (decode, thumbnails, strip).
    pub verify_budget: Duration,
    /// How long a verified run's claim to publish a media holds; longer than any function's
    /// timeout, so a live run never loses its claim.
    pub publish_lease: Duration,
    pub webp_quality: f32,
    /// libwebp method 0 (fastest) to 6 (smallest).
    pub webp_method: i32,
    /// Whether a verification encodes its thumbnail sizes on several threads: only where a
    /// second core exists. Lambda gives a function more than one vCPU from 1,769 MB and a
    /// whole second one from 3,538 MB; below that, threads only share the one.
    pub parallel_encode: bool,
    pub rejected_retention: Duration,
    pub janitor_grace: Duration,
    pub janitor_max_items: usize,
    /// Set only in the local stack: enables dev-only overrides (never in a deployed stack).
    pub local_dev: bool,
    pub events: EventsConfig,
}

/// AWS credentials from the environment, as Lambda provides them.
#[derive(Debug, Clone)]
pub struct EnvironmentCredentials {
    pub access_key_id: String,
    pub secret_access_key: Secret,
    pub session_token: Option<Secret>,
}

/// Variables the SDK's default loader reads that the direct construction does not honour: with
/// any of them set, the functions take the full default loader.
const SDK_DEFAULT_OVERRIDES: [&str; 19] = [
    "AWS_PROFILE",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
    "AWS_ENDPOINT_URL_DYNAMODB",
    "AWS_ENDPOINT_URL_EVENTBRIDGE",
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
    "AWS_USE_FIPS_ENDPOINT",
    "AWS_USE_DUALSTACK_ENDPOINT",
    "AWS_MAX_ATTEMPTS",
    "AWS_RETRY_MODE",
    "AWS_DEFAULTS_MODE",
    "AWS_SDK_UA_APP_ID",
    "AWS_ACCOUNT_ID",
    "AWS_ACCOUNT_ID_ENDPOINT_MODE",
    "AWS_REQUEST_CHECKSUM_CALCULATION",
    "AWS_RESPONSE_CHECKSUM_VALIDATION",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
];

/// Where media events go.
#[derive(Debug, Clone)]
pub enum EventsConfig {
    Off,
    /// `EVENT_BUS_NAME`: an EventBridge bus (deployed).
    EventBridge { bus: String },
    /// `EVENTS_WEBHOOK_URL` and `EVENTS_WEBHOOK_SECRET`: an HMAC-signed POST per event (the
    /// local stack's receiver, or an internal endpoint).
    Webhook { url: String, secret: Secret },
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let required = |name: &'static str| get(name).ok_or(ConfigError::Missing(name));
        let number = |name: &'static str, default: u64, range: std::ops::RangeInclusive<u64>| -> Result<u64, ConfigError> {
            let Some(raw) = get(name) else { return Ok(default) };
            let n: u64 = raw.trim().parse().map_err(|_| ConfigError::Invalid { name, message: format!("{raw:?} is not a number") })?;
            if !range.contains(&n) {
                return Err(ConfigError::Invalid { name, message: format!("{n} is outside {}..={}", range.start(), range.end()) });
            }
            Ok(n)
        };
        let scopes_claim = get("SCOPES_CLAIM").unwrap_or_else(|| "scopes".to_string());
        let auth = match get("AUTH_MODE").as_deref().unwrap_or("apigateway") {
            "apigateway" => AuthConfig::ApiGateway,
            "hs256" => {
                let secret = required("JWT_HS256_SECRET")?;
                if secret.len() < 32 {
                    return Err(ConfigError::Invalid { name: "JWT_HS256_SECRET", message: "use at least 32 characters".into() });
                }
                AuthConfig::Hs256 { secret: Secret::new(secret), issuer: required("JWT_ISSUER")?, audience: required("JWT_AUDIENCE")? }
            }
            other => return Err(ConfigError::Invalid { name: "AUTH_MODE", message: format!("{other:?}: use apigateway or hs256") }),
        };
        let kinds = match get("MEDIA_KINDS_JSON") {
            Some(json) => Kinds::from_json(&json)?,
            None => Kinds::defaults(),
        };
        let quality = number("WEBP_QUALITY", DEFAULT_WEBP_QUALITY, 1..=100)?;
        let events = match (get("EVENT_BUS_NAME"), get("EVENTS_WEBHOOK_URL")) {
            (Some(_), Some(_)) => {
                return Err(ConfigError::Invalid { name: "EVENTS_WEBHOOK_URL", message: "set EVENT_BUS_NAME or EVENTS_WEBHOOK_URL, not both".into() })
            }
            (Some(bus), None) => EventsConfig::EventBridge { bus },
            (None, Some(url)) => {
                let secret = required("EVENTS_WEBHOOK_SECRET")?;
                if secret.len() < 32 {
                    return Err(ConfigError::Invalid { name: "EVENTS_WEBHOOK_SECRET", message: "use at least 32 characters".into() });
                }
                EventsConfig::Webhook { url, secret: Secret::new(secret) }
            }
            (None, None) => EventsConfig::Off,
        };
        let public_transforms = match get("PUBLIC_TRANSFORMS").as_deref().unwrap_or("any") {
            "any" => crate::usecases::transforms::PublicTransforms::Any,
            "presets" => crate::usecases::transforms::PublicTransforms::Presets,
            other => return Err(ConfigError::Invalid { name: "PUBLIC_TRANSFORMS", message: format!("{other:?}: use any or presets") }),
        };
        Ok(Self {
            bucket: required("S3_BUCKET")?,
            table: required("TABLE_NAME")?,
            region: get("AWS_REGION"),
            s3_endpoint: get("S3_ENDPOINT").map(|s| s.trim_end_matches('/').to_string()),
            dynamodb_endpoint: get("DYNAMODB_ENDPOINT"),
            public_base_url: get("PUBLIC_BASE_URL").map(|s| s.trim_end_matches('/').to_string()),
            upload_url_ttl: Duration::from_secs(number("UPLOAD_URL_TTL_SECONDS", 300, 60..=3600)?),
            multipart_window: Duration::from_secs(number("MULTIPART_WINDOW_SECONDS", 86400, 300..=86400)?),
            max_pending_per_user: number("MAX_PENDING_UPLOADS", 200, 1..=100_000)? as u32,
            auth,
            scopes_claim,
            kinds,
            cursor_secret: Secret::new(get("CURSOR_SECRET").unwrap_or_default()),
            transform_secret: Secret::new(get("TRANSFORM_SECRET").unwrap_or_default()),
            transform_base_url: get("TRANSFORM_BASE_URL").map(|s| s.trim_end_matches('/').to_string()),
            variant_cap: crate::usecases::transforms::VariantCap {
                renders: number("MAX_VARIANTS_PER_WINDOW", 50, 1..=100_000)? as u32,
                window: Duration::from_secs(number("VARIANT_WINDOW_SECONDS", 3600, 60..=30 * 86400)?),
            },
            public_transforms,
            max_pixels: number("MAX_IMAGE_PIXELS", 50_000_000, 1..=500_000_000)?,
            max_side: number("MAX_IMAGE_SIDE", 20_000, 1..=100_000)? as u32,
            max_jpeg_scans: number("MAX_JPEG_SCANS", 64, 1..=1000)? as u32,
            max_decode_memory_mb: number("MAX_DECODE_MEMORY_MB", 384, 16..=8192)? as u32,
            tls_native_roots: get("TLS_NATIVE_ROOTS").as_deref() == Some("1"),
            environment_credentials: match (get("AWS_ACCESS_KEY_ID"), get("AWS_SECRET_ACCESS_KEY"), get("AWS_REGION")) {
                (Some(id), Some(secret), Some(_)) if !id.is_empty() && SDK_DEFAULT_OVERRIDES.iter().all(|v| get(v).is_none()) => Some(EnvironmentCredentials {
                    access_key_id: id,
                    secret_access_key: Secret::new(secret),
                    session_token: get("AWS_SESSION_TOKEN").filter(|t| !t.is_empty()).map(Secret::new),
                }),
                _ => None,
            },
            verify_budget: Duration::from_millis(number("VERIFY_BUDGET_MS", 8000, 100..=600_000)?),
            publish_lease: Duration::from_secs(number("PUBLISH_LEASE_SECONDS", 180, 30..=3600)?),
            webp_quality: quality as f32,
            webp_method: number("WEBP_METHOD", DEFAULT_WEBP_METHOD as u64, 0..=6)? as i32,
            parallel_encode: parallel_encode(get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE").and_then(|m| m.parse().ok())),
            rejected_retention: Duration::from_secs(number("REJECTED_RETENTION_SECONDS", 7 * 86400, 60..=365 * 86400)?),
            janitor_grace: Duration::from_secs(number("JANITOR_GRACE_SECONDS", 3600, 0..=30 * 86400)?),
            janitor_max_items: number("JANITOR_MAX_ITEMS", 500, 1..=100_000)? as usize,
            local_dev: get("LOCAL_DEV").as_deref() == Some("1"),
            events,
        })
    }

    /// The key that signs (media-api) and checks (transform) private media's transform URLs;
    /// only those functions need it, so it is checked where they start, not for every function.
    pub fn transform_key(&self) -> Result<&[u8], ConfigError> {
        match self.transform_secret.expose() {
            key if key.len() >= 32 => Ok(key),
            _ => Err(ConfigError::Invalid { name: "TRANSFORM_SECRET", message: "required, at least 32 characters: it signs private media's transform URLs".into() }),
        }
    }

    /// The base URL under which `public/` keys are readable.
    pub fn public_base(&self) -> String {
        if let Some(base) = &self.public_base_url {
            return base.clone();
        }
        match &self.s3_endpoint {
            Some(ep) => format!("{ep}/{}", self.bucket),
            None => format!("https://{}.s3.{}.amazonaws.com", self.bucket, self.region.as_deref().unwrap_or("us-east-1")),
        }
    }

    pub fn decode_limits(&self) -> crate::imaging::DecodeLimits {
        crate::imaging::DecodeLimits {
            max_pixels: self.max_pixels,
            max_side: self.max_side,
            max_jpeg_scans: self.max_jpeg_scans,
            max_memory_mb: self.max_decode_memory_mb,
            time_budget: self.verify_budget,
        }
    }

    /// The URL browsers POST upload forms to.
    pub fn post_url(&self) -> String {
        match &self.s3_endpoint {
            Some(ep) => format!("{ep}/{}", self.bucket),
            None => format!("https://{}.s3.{}.amazonaws.com/", self.bucket, self.region.as_deref().unwrap_or("us-east-1")),
        }
    }
}

/// Lambda's memory size (MB) decides its cores: a whole second vCPU from 3,538 MB. Off Lambda
/// (no memory size), the cores this process may run on.
pub fn parallel_encode(lambda_memory_mb: Option<u32>) -> bool {
    match lambda_memory_mb {
        Some(mb) => mb >= 3538,
        None => std::thread::available_parallelism().map(|n| n.get() > 1).unwrap_or(false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn cfg(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let m: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|k| m.get(k).cloned())
    }

    #[test]
    fn defaults_and_bounds() {
        let c = cfg(&[("S3_BUCKET", "b"), ("TABLE_NAME", "t")]).unwrap();
        assert_eq!(c.upload_url_ttl, Duration::from_secs(300));
        assert_eq!(c.max_pending_per_user, 200);
        assert!(matches!(c.auth, AuthConfig::ApiGateway));
        assert!(cfg(&[("S3_BUCKET", "b"), ("TABLE_NAME", "t"), ("UPLOAD_URL_TTL_SECONDS", "59")]).is_err());
        assert!(cfg(&[("S3_BUCKET", "b"), ("TABLE_NAME", "t"), ("UPLOAD_URL_TTL_SECONDS", "3601")]).is_err());
        assert!(cfg(&[("TABLE_NAME", "t")]).is_err());
        assert!(cfg(&[("S3_BUCKET", "b"), ("TABLE_NAME", "t"), ("AUTH_MODE", "none")]).is_err());
        assert!(cfg(&[("S3_BUCKET", "b"), ("TABLE_NAME", "t"), ("AUTH_MODE", "hs256"), ("JWT_HS256_SECRET", "short")]).is_err());
    }

    #[test]
    fn secrets_do_not_print() {
        assert_eq!(format!("{:?}", Secret::new("hunter2")), "Secret(***)");
    }

    fn with(extra: &[(&str, &str)]) -> Config {
        cfg(&[&[("S3_BUCKET", "b"), ("TABLE_NAME", "t")], extra].concat()).unwrap()
    }

    #[test]
    fn lambda_credentials_are_taken_from_the_environment_only_when_nothing_overrides_the_sdk_defaults() {
        let lambda = [("AWS_REGION", "eu-west-1"), ("AWS_ACCESS_KEY_ID", "ASIAEXAMPLE"), ("AWS_SECRET_ACCESS_KEY", "s3cr3t"), ("AWS_SESSION_TOKEN", "tok")];
        let c = with(&lambda).environment_credentials.expect("what Lambda sets");
        assert_eq!(c.access_key_id, "ASIAEXAMPLE");
        assert_eq!(c.secret_access_key.expose(), b"s3cr3t");
        assert_eq!(c.session_token.as_ref().map(|t| t.expose().to_vec()), Some(b"tok".to_vec()), "the session token is kept");
        assert!(!format!("{c:?}").contains("s3cr3t"), "the secret never prints");
        for overriding in SDK_DEFAULT_OVERRIDES {
            let mut vars = lambda.to_vec();
            vars.push((overriding, "1"));
            assert!(with(&vars).environment_credentials.is_none(), "{overriding} goes through the default loader");
        }
        assert!(with(&lambda[1..]).environment_credentials.is_none(), "no region: the default loader");
        assert!(with(&[lambda[0], lambda[1]]).environment_credentials.is_none(), "no secret: the default loader");
    }

    #[test]
    fn thumbnails_encode_in_parallel_only_with_a_second_vcpu() {
        assert!(!parallel_encode(Some(1024)), "1 GB: about 0.6 vCPU");
        assert!(!parallel_encode(Some(3008)), "under 3,538 MB: less than two whole vCPUs");
        assert!(parallel_encode(Some(3538)));
        assert!(parallel_encode(Some(10240)));
    }
}
