//! Init-time wiring shared by every function: configuration and SDK clients, built once per
//! container and reused by every invocation.

use crate::wiring::config::{AuthConfig, Config, EnvironmentCredentials, EventsConfig};
use crate::adapters::events::eventbridge::EventBridgeSink;
use crate::domain::events::{EventError, EventSink, Events, MediaEvent, NoEvents, Publishing};
use crate::adapters::events::webhook::WebhookSink;
use std::sync::Arc;
use crate::edge::auth::{Authenticator, Hs256Verifier};
use aws_config::{BehaviorVersion, SdkConfig};

pub struct Clients {
    pub sdk: SdkConfig,
    pub s3: aws_sdk_s3::Client,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub eventbridge: aws_sdk_eventbridge::Client,
}

impl Clients {
    pub async fn new(config: &Config) -> Self {
        let custom_https_endpoint = [&config.s3_endpoint, &config.dynamodb_endpoint].iter().any(|e| e.as_deref().is_some_and(|u| u.starts_with("https:")));
        // A stalled dependency must become an error (and a retry), never a hung invocation.
        let timeouts = aws_config::timeout::TimeoutConfig::builder()
            .connect_timeout(std::time::Duration::from_secs(3))
            .operation_attempt_timeout(std::time::Duration::from_secs(10))
            .build();
        let http = https_client(config.tls_native_roots || custom_https_endpoint);
        let sdk = match (&config.environment_credentials, &config.region) {
            (Some(credentials), Some(region)) => environment_sdk_config(credentials, region, http, timeouts),
            _ => {
                let mut loader = aws_config::defaults(BehaviorVersion::latest()).timeout_config(timeouts).http_client(http);
                if let Some(region) = &config.region {
                    loader = loader.region(aws_config::Region::new(region.clone()));
                }
                loader.load().await
            }
        };
        let mut s3 = aws_sdk_s3::config::Builder::from(&sdk);
        if let Some(ep) = &config.s3_endpoint {
            s3 = s3.endpoint_url(ep).force_path_style(true);
        }
        let mut ddb = aws_sdk_dynamodb::config::Builder::from(&sdk);
        if let Some(ep) = &config.dynamodb_endpoint {
            ddb = ddb.endpoint_url(ep);
        }
        Self {
            s3: aws_sdk_s3::Client::from_conf(s3.build()),
            dynamodb: aws_sdk_dynamodb::Client::from_conf(ddb.build()),
            eventbridge: aws_sdk_eventbridge::Client::new(&sdk),
            sdk,
        }
    }
}

/// The SDK configuration from what Lambda puts in the environment, built directly: the
/// default loader finds the same region and credentials first, but also assembles its whole
/// provider chains, profile-file and IMDS providers included, at init (bench/RESULTS.md's
/// `init-phases` row splits what init costs now). Retries, sleep and time come from the
/// clients' own defaults for this behaviour version, as with the loader.
fn environment_sdk_config(
    credentials: &EnvironmentCredentials,
    region: &str,
    http: aws_smithy_runtime_api::client::http::SharedHttpClient,
    timeouts: aws_config::timeout::TimeoutConfig,
) -> SdkConfig {
    let text = |s: &crate::wiring::config::Secret| String::from_utf8_lossy(s.expose()).into_owned();
    let credentials = aws_credential_types::Credentials::new(
        credentials.access_key_id.clone(),
        text(&credentials.secret_access_key),
        credentials.session_token.as_ref().map(text),
        None,
        "Environment",
    );
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(aws_config::Region::new(region.to_string()))
        .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(credentials))
        .retry_config(aws_config::retry::RetryConfig::standard())
        .timeout_config(timeouts)
        .http_client(http)
        .build()
}

/// The SDK's HTTPS client (rustls with aws-lc, as the SDK's default) trusting only the roots
/// AWS service endpoints chain to: the Amazon Trust Services roots and the Starfield Services
/// root that cross-signs them (S3 finished moving to ATS in June 2022; DynamoDB, EventBridge
/// and the rest before it). The default client reads the whole system store at init, every
/// file of `SSL_CERT_FILE` and `SSL_CERT_DIR` (about 5.5 ms of process-upload's 12 ms start
/// here); trusting all of Mozilla's 150 roots still cost about 3 ms of it (bench/RESULTS.md). `TLS_NATIVE_ROOTS=1`, or an https endpoint override (a private S3
/// or DynamoDB), restores the system store.
fn https_client(native_roots: bool) -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider, TlsContext, TrustStore};
    let trust = if native_roots {
        TrustStore::default()
    } else {
        TrustStore::empty().with_native_roots(false).with_pem_certificate(pem(&aws_roots()))
    };
    let builder = aws_smithy_http_client::Builder::new().tls_provider(Provider::Rustls(CryptoMode::AwsLc));
    match TlsContext::builder().with_trust_store(trust).build() {
        Ok(ctx) => builder.tls_context(ctx).build_https(),
        Err(e) => {
            tracing::warn!(error = %e, "explicit trust store refused; using the system store");
            builder.build_https()
        }
    }
}

/// The subjects of https://www.amazontrust.com/repository/ roots.
const AWS_ROOT_SUBJECTS: [&str; 5] = [
    "Amazon Root CA 1",
    "Amazon Root CA 2",
    "Amazon Root CA 3",
    "Amazon Root CA 4",
    "Starfield Services Root Certificate Authority - G2",
];

/// Those roots, taken from Mozilla's set (webpki-root-certs) by their subject's common name.
fn aws_roots() -> Vec<&'static [u8]> {
    webpki_root_certs::TLS_SERVER_ROOT_CERTS
        .iter()
        .map(|c| c.as_ref())
        .filter(|der| common_names(der).any(|cn| AWS_ROOT_SUBJECTS.iter().any(|s| s.as_bytes() == cn)))
        .collect()
}

/// The common names in a certificate's DER: OID 2.5.4.3, then a UTF8String or
/// PrintableString of short-form length. One pass over the certificate; names compare whole
/// ("Amazon Root CA 1" is not a prefix of "Amazon Root CA 10").
fn common_names(der: &[u8]) -> impl Iterator<Item = &[u8]> {
    const CN_OID: [u8; 5] = [0x06, 0x03, 0x55, 0x04, 0x03];
    der.windows(CN_OID.len() + 2).enumerate().filter_map(move |(at, w)| {
        let len = w[6] as usize;
        let start = at + CN_OID.len() + 2;
        (w[..5] == CN_OID && matches!(w[5], 0x0C | 0x13) && len < 0x80).then(|| der.get(start..start + len)).flatten()
    })
}

/// The trust store takes PEM; the roots are compiled in as DER.
fn pem(ders: &[&[u8]]) -> Vec<u8> {
    use base64::Engine as _;
    let mut pem = String::new();
    for der in ders {
        pem.push_str("-----BEGIN CERTIFICATE-----\n");
        let b64 = base64::engine::general_purpose::STANDARD.encode(der);
        for line in b64.as_bytes().chunks(64) {
            pem.push_str(&String::from_utf8_lossy(line));
            pem.push('\n');
        }
        pem.push_str("-----END CERTIFICATE-----\n");
    }
    pem.into_bytes()
}

pub fn authenticator(config: &Config) -> Authenticator {
    match &config.auth {
        AuthConfig::Hs256 { secret, issuer, audience } => {
            Authenticator::Hs256(Hs256Verifier::new(secret.expose(), issuer, audience, &config.scopes_claim))
        }
        AuthConfig::ApiGateway => Authenticator::ApiGateway { scopes_claim: config.scopes_claim.clone() },
    }
}

/// The configured event sink. A webhook client that cannot be built makes every publish fail:
/// verification goes on, the events stay owed and are retried, and the cause is logged.
pub fn events(config: &Config, clients: &Clients) -> Events {
    match &config.events {
        EventsConfig::Off => Arc::new(NoEvents),
        EventsConfig::EventBridge { bus } => Arc::new(EventBridgeSink::new(clients.eventbridge.clone(), bus)),
        EventsConfig::Webhook { url, secret } => match WebhookSink::new(url, secret.expose()) {
            Ok(sink) => Arc::new(sink),
            Err(e) => {
                tracing::error!(error = %e, "event webhook client not built");
                Arc::new(Unavailable(e.to_string()))
            }
        },
    }
}

/// A sink that could not be built: every publish fails (and is retried).
struct Unavailable(String);

impl EventSink for Unavailable {
    fn publish<'a>(&'a self, _: &'a MediaEvent) -> Publishing<'a> {
        Box::pin(async move { Err(EventError(self.0.clone())) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_aws_root_is_compiled_in_once_and_nothing_else() {
        let roots = aws_roots();
        assert_eq!(roots.len(), AWS_ROOT_SUBJECTS.len(), "one certificate per Amazon Trust Services root");
        for cn in AWS_ROOT_SUBJECTS {
            assert_eq!(roots.iter().filter(|d| common_names(d).any(|n| n == cn.as_bytes())).count(), 1, "{cn}");
        }
        let pem = String::from_utf8(pem(&roots)).unwrap();
        assert_eq!(pem.matches("BEGIN CERTIFICATE").count(), 5);
        assert!(!common_names(roots[0]).any(|n| n == b"Amazon Root CA"), "a common name matches whole, not as a prefix");
    }
}
