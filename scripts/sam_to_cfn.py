"""Translates template.yaml from SAM to plain CloudFormation offline (what `sam deploy` would
submit), so an IaC scanner sees the IAM roles and policies SAM generates from each function's
`Policies`. Usage: sam_to_cfn.py template.yaml out.json (run with the venv that has aws-sam-cli)."""
import json
import os
import sys

from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse


class NoManagedPolicies:
    """The template names no managed policies: nothing to look up in IAM."""

    def load(self):
        return {}


os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
with open(sys.argv[1]) as f:
    sam = yaml_parse(f.read())
# What `sam package` does: code locations become S3 URIs (their value does not matter here).
sam["Globals"]["Function"]["CodeUri"] = "s3://offline/code.zip"
with open(sys.argv[2], "w") as out:
    json.dump(transform(sam, {}, NoManagedPolicies()), out, indent=1)
