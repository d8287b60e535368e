"""The cold-start peer: a Python Lambda handler that imports boto3 and does the same presign,
speaking the Runtime API directly (as the managed Python runtime does)."""
import json, os, urllib.request
import boto3

s3 = boto3.client("s3", region_name="us-east-1")
api = os.environ["AWS_LAMBDA_RUNTIME_API"]
while True:
    with urllib.request.urlopen(f"http://{api}/2018-06-01/runtime/invocation/next") as r:
        rid = r.headers["Lambda-Runtime-Aws-Request-Id"]
        r.read()
    post = s3.generate_presigned_post("bench-bucket", "incoming/x", Fields={"Content-Type": "image/jpeg"},
                                      Conditions=[{"Content-Type": "image/jpeg"}, ["content-length-range", 1, 5 << 20]], ExpiresIn=300)
    body = json.dumps({"statusCode": 201, "body": json.dumps(post)}).encode()
    urllib.request.urlopen(urllib.request.Request(f"http://{api}/2018-06-01/runtime/invocation/{rid}/response", data=body, method="POST")).read()
