"""template.yaml holds the deployed security model: these tests keep later edits from silently
widening it, and keep it in step with the code (indexes, binaries, routes)."""
import pathlib
import re
import tomllib

import pytest
from cfnlint.decode import cfn_yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent
TEMPLATE = cfn_yaml.load(str(ROOT / "template.yaml"))
RESOURCES = TEMPLATE["Resources"]
BUCKET = "arn:${AWS::Partition}:s3:::${AWS::StackName}-media-${AWS::AccountId}-${AWS::Region}"


def sub(value):
    """The string inside !Sub / !GetAtt / !Ref, for comparison."""
    if isinstance(value, dict):
        (fn, arg), = value.items()
        if fn == "Fn::Sub":
            return arg if isinstance(arg, str) else arg[0]
        if fn == "Fn::GetAtt":
            return "GetAtt:" + (arg if isinstance(arg, str) else ".".join(arg))
        if fn == "Ref":
            return "Ref:" + arg
    return value


def as_list(v):
    return v if isinstance(v, list) else [v]


def grants(function):
    """{action: set(resources)} over every statement of a function's inline policies."""
    out = {}
    for policy in RESOURCES[function]["Properties"]["Policies"]:
        for st in policy["Statement"]:
            assert st["Effect"] == "Allow"
            for action in as_list(st["Action"]):
                out.setdefault(action, set()).update(sub(r) for r in as_list(st["Resource"]))
    return out


TABLE = "GetAtt:MediaTable.Arn"
BUS = "GetAtt:MediaEventBus.Arn"
INCOMING, PUBLIC, PRIVATE = BUCKET + "/incoming/*", BUCKET + "/public/*", BUCKET + "/private/*"
PROCESSING = {
    "s3:GetObject": {INCOMING},
    "s3:DeleteObject": {INCOMING, PUBLIC, PRIVATE},
    "s3:PutObject": {PUBLIC, PRIVATE},
    "dynamodb:GetItem": {TABLE},
    "dynamodb:UpdateItem": {TABLE},
    "events:PutEvents": {BUS},
}
EXPECTED = {
    "UploadApiFunction": {
        "s3:PutObject": {INCOMING},
        "s3:ListMultipartUploadParts": {INCOMING},
        "s3:AbortMultipartUpload": {INCOMING},
        "s3:DeleteObject": {INCOMING},
        "dynamodb:PutItem": {TABLE},
        "dynamodb:GetItem": {TABLE},
        "dynamodb:UpdateItem": {TABLE},
        "dynamodb:DeleteItem": {TABLE},
        "dynamodb:Query": {"${MediaTable.Arn}/index/pending_by_owner"},
    },
    "ProcessUploadFunction": PROCESSING,
    # Also assembles multipart uploads (CompleteMultipartUpload is PutObject on the key).
    "CompleteUploadFunction": {**PROCESSING, "s3:PutObject": {INCOMING, PUBLIC, PRIVATE}, "s3:ListMultipartUploadParts": {INCOMING}},
    "MediaApiFunction": {
        "s3:ListBucket": {BUCKET},
        "s3:GetObject": {PUBLIC, PRIVATE},
        "s3:DeleteObject": {INCOMING, PUBLIC, PRIVATE},
        "s3:AbortMultipartUpload": {INCOMING},
        "dynamodb:GetItem": {TABLE},
        "dynamodb:UpdateItem": {TABLE},
        "dynamodb:DeleteItem": {TABLE},
        "dynamodb:Query": {"${MediaTable.Arn}/index/by_owner", "${MediaTable.Arn}/index/by_scope"},
        "events:PutEvents": {BUS},
    },
    # Reads originals, finds and stores variants; writes only its render counters, deletes nothing.
    "TransformFunction": {
        "s3:GetObject": {PUBLIC, PRIVATE},
        "s3:ListBucket": {BUCKET},
        "s3:PutObject": {BUCKET + "/public/*/derived/*", BUCKET + "/private/*/derived/*"},
        "dynamodb:GetItem": {TABLE},
        "dynamodb:UpdateItem": {TABLE},
    },
    "JanitorFunction": {
        "s3:ListBucket": {BUCKET},
        "s3:ListBucketMultipartUploads": {BUCKET},
        "s3:AbortMultipartUpload": {INCOMING},
        "s3:DeleteObject": {INCOMING, PUBLIC, PRIVATE},
        "s3:GetObject": {INCOMING, PUBLIC, PRIVATE},
        "dynamodb:Query": {"${MediaTable.Arn}/index/gc_due"},
        "dynamodb:GetItem": {TABLE},
        "dynamodb:UpdateItem": {TABLE},
        "dynamodb:DeleteItem": {TABLE},
        "events:PutEvents": {BUS},
    },
}
FUNCTIONS = sorted(k for k, v in RESOURCES.items() if v["Type"] == "AWS::Serverless::Function")


def test_every_function_is_covered_by_the_policy_table():
    assert FUNCTIONS == sorted(EXPECTED)


@pytest.mark.parametrize("function", sorted(EXPECTED))
def test_least_privilege_per_function(function):
    assert grants(function) == EXPECTED[function]


@pytest.mark.parametrize("function", FUNCTIONS)
def test_no_wildcards_for_data_access(function):
    for action, resources in grants(function).items():
        assert not action.endswith(":*"), action
        assert "*" not in resources, f"{function}: {action} on *"


def test_listing_is_limited_to_known_prefixes():
    for function, allowed in (
        ("JanitorFunction", {"incoming/*", "incoming/", "public/*", "private/*"}),
        ("MediaApiFunction", {"public/*", "private/*"}),
        ("TransformFunction", {"public/*", "private/*"}),
    ):
        for policy in RESOURCES[function]["Properties"]["Policies"]:
            for st in policy["Statement"]:
                if "s3:ListBucket" in as_list(st["Action"]):
                    assert set(st["Condition"]["StringLike"]["s3:prefix"]) == allowed, function


def test_upload_api_cannot_write_outside_incoming():
    assert grants("UploadApiFunction")["s3:PutObject"] == {INCOMING}
    assert "s3:PutObject" not in grants("MediaApiFunction"), "media-api cannot sign uploads"


def test_process_upload_is_notified_for_incoming_only():
    events = RESOURCES["ProcessUploadFunction"]["Properties"]["Events"]
    s3 = [e for e in events.values() if e["Type"] == "S3"]
    assert len(s3) == 1
    rules = s3[0]["Properties"]["Filter"]["S3Key"]["Rules"]
    assert rules == [{"Name": "prefix", "Value": "incoming/"}]
    assert s3[0]["Properties"]["Events"] == "s3:ObjectCreated:*"


def test_the_bucket_is_private_and_only_the_cdn_reads_public_media():
    bucket = RESOURCES["MediaBucket"]["Properties"]
    assert all(v is True for v in bucket["PublicAccessBlockConfiguration"].values()), "Block Public Access fully on"
    assert len(bucket["PublicAccessBlockConfiguration"]) == 4
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    statements = RESOURCES["MediaBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    allows = []
    for st in statements:
        if "Fn::If" in st:
            cond, then, _ = st["Fn::If"]
            assert cond == "PublicKinds"
            st = then
        if st["Effect"] == "Allow":
            allows.append(st)
        else:
            assert st["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}, "the only Deny is TLS-only"
    assert len(allows) == 1
    (cdn,) = allows
    assert cdn["Principal"] == {"Service": "cloudfront.amazonaws.com"}, "no bucket policy grants *"
    assert cdn["Action"] == "s3:GetObject" and sub(cdn["Resource"]).endswith("/public/*")
    assert sub(cdn["Condition"]["StringEquals"]["AWS:SourceArn"]).endswith(":distribution/${MediaCdn}")


def test_the_cdn_serves_public_media_and_transforms_through_origin_access_control():
    cfg = RESOURCES["MediaCdn"]["Properties"]["DistributionConfig"]
    origins = {o["Id"]: o for o in cfg["Origins"]}
    assert set(origins) == {"media-bucket", "transform"}
    assert sub(origins["media-bucket"]["OriginAccessControlId"]) == "GetAtt:MediaBucketOac.Id"
    assert sub(origins["transform"]["OriginAccessControlId"]) == "GetAtt:TransformOac.Id"
    assert RESOURCES["TransformFunction"]["Properties"]["FunctionUrlConfig"]["AuthType"] == "AWS_IAM", "only the CDN calls the function URL"
    assert origins["transform"]["OriginCustomHeaders"] == [{"HeaderName": "x-media-cdn", "HeaderValue": "1"}]
    service = (ROOT / "shared/src/usecases/transforms.rs").read_text()
    assert 'pub const CDN_HEADER: &str = "x-media-cdn";' in service
    (image,) = cfg["CacheBehaviors"]
    assert image["PathPattern"] == "/v1/media/*/image" and image["TargetOriginId"] == "transform"
    assert image["FunctionAssociations"][0]["EventType"] == "viewer-request"
    key = RESOURCES["TransformCachePolicy"]["Properties"]["CachePolicyConfig"]["ParametersInCacheKeyAndForwardedToOrigin"]
    assert key["HeadersConfig"] == {"HeaderBehavior": "whitelist", "Headers": ["Accept"]}
    params = (ROOT / "shared/src/domain/transform.rs").read_text()
    names = re.search(r"TRANSFORM_PARAMS: \[&str; \d+\] = \[([^\]]+)\]", params).group(1)
    code = [n.strip().strip('"') for n in names.split(",")]
    assert key["QueryStringsConfig"]["QueryStrings"] == code + ["exp", "sig"], "the cache key is exactly the parameters the code reads"
    for perm in ("TransformUrlInvokeFromCdn", "TransformInvokeFromCdn"):
        p = RESOURCES[perm]["Properties"]
        assert p["Principal"] == "cloudfront.amazonaws.com" and sub(p["SourceArn"]).endswith(":distribution/${MediaCdn}")


def test_keys_come_from_secrets_manager_never_from_parameters():
    assert not any(p.get("NoEcho") for p in TEMPLATE["Parameters"].values()), "no secret is a template parameter"
    for function, names in (("MediaApiFunction", ("CURSOR_SECRET", "TRANSFORM_SECRET")), ("TransformFunction", ("TRANSFORM_SECRET",))):
        env = RESOURCES[function]["Properties"]["Environment"]["Variables"]
        for name in names:
            assert sub(env[name]).startswith("{{resolve:secretsmanager:${"), (function, name)
    for key in ("CursorKey", "TransformKey"):
        assert RESOURCES[key]["Type"] == "AWS::SecretsManager::Secret"
        assert RESOURCES[key]["Properties"]["GenerateSecretString"]["PasswordLength"] >= 32
    samconfig = (ROOT / "samconfig.toml").read_text()
    assert "Secret" not in samconfig and "SECRET" not in samconfig


def test_cors_and_lifecycle():
    bucket = RESOURCES["MediaBucket"]["Properties"]
    rule = bucket["CorsConfiguration"]["CorsRules"][0]
    assert sub(rule["AllowedOrigins"]) == "Ref:AllowedOrigins"
    assert sorted(rule["AllowedMethods"]) == ["GET", "HEAD", "POST", "PUT"]
    assert rule["ExposedHeaders"] == ["ETag"]
    rules = {r["Id"]: r for r in bucket["LifecycleConfiguration"]["Rules"]}
    assert rules["abort-incomplete-multipart"]["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"] == 2
    assert rules["incoming-backstop"]["Prefix"] == "incoming/" and rules["incoming-backstop"]["ExpirationInDays"] == 2
    assert "*" not in TEMPLATE["Parameters"]["AllowedOrigins"]["Default"]


def test_table_indexes_match_the_code():
    schema = (ROOT / "shared/src/adapters/dynamodb/schema.rs").read_text()
    consts = dict(re.findall(r'pub const (\w+): &str = "([^"]+)";', schema))
    code = {(consts[i], h, r) for i, h, r in re.findall(r'\((\w+), "(\w+)", "(\w+)"\)', schema)}
    table = RESOURCES["MediaTable"]["Properties"]
    tpl = {(g["IndexName"], g["KeySchema"][0]["AttributeName"], g["KeySchema"][1]["AttributeName"]) for g in table["GlobalSecondaryIndexes"]}
    assert tpl == code and len(code) == 4
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert table["SSESpecification"]["SSEEnabled"] is True


def test_every_binary_is_deployed_for_arm64():
    crates = sorted(p.name for p in (ROOT / "functions").iterdir() if (p / "Cargo.toml").exists())
    binaries = sorted(RESOURCES[f]["Metadata"]["BuildProperties"]["Binary"] for f in FUNCTIONS)
    assert binaries == crates
    glob = TEMPLATE["Globals"]["Function"]
    assert glob["Architectures"] == ["arm64"] and glob["Runtime"] == "provided.al2023"
    for f in FUNCTIONS:
        assert RESOURCES[f]["Metadata"]["BuildMethod"] == "rust-cargolambda"


def test_process_upload_failures_land_in_a_dead_letter_queue():
    cfg = RESOURCES["ProcessUploadFunction"]["Properties"]["EventInvokeConfig"]
    assert cfg["MaximumRetryAttempts"] == 2
    assert cfg["DestinationConfig"]["OnFailure"]["Type"] == "SQS"


def test_the_deployed_routes_match_the_local_router():
    router = tomllib.loads((ROOT / "Cargo.toml").read_text())["workspace"]["metadata"]["lambda"]["watch"]["router"]
    deployed = {}
    for f in FUNCTIONS:
        binary = RESOURCES[f]["Metadata"]["BuildProperties"]["Binary"]
        for e in RESOURCES[f]["Properties"].get("Events", {}).values():
            if e["Type"] == "HttpApi":
                deployed[e["Properties"]["Path"]] = binary
    assert deployed == router


def test_events_go_to_the_stacks_own_bus_only():
    bus = RESOURCES["MediaEventBus"]
    assert bus["Type"] == "AWS::Events::EventBus"
    env = TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]
    assert sub(env["EVENT_BUS_NAME"]) == "Ref:MediaEventBus"
    publishers = {f for f in FUNCTIONS if "events:PutEvents" in grants(f)}
    assert publishers == {"ProcessUploadFunction", "CompleteUploadFunction", "MediaApiFunction", "JanitorFunction"}


def test_the_transform_function_writes_only_its_render_counters():
    for policy in RESOURCES["TransformFunction"]["Properties"]["Policies"]:
        for st in policy["Statement"]:
            if "dynamodb:UpdateItem" in as_list(st["Action"]):
                assert set(st["Condition"]["ForAllValues:StringEquals"]["dynamodb:Attributes"]) == {"id", "render_window", "render_count"}


def test_the_transform_function_has_one_whole_vcpu():
    # Lambda's one full vCPU starts at 1,769 MB; the render budget is measured on one core.
    assert RESOURCES["TransformFunction"]["Properties"]["MemorySize"] >= 1769
