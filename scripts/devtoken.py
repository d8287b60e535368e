#!/usr/bin/env python3
"""Dev HS256 tokens for the local stack: `devtoken.py [sub] [scope ...]` prints one.

The claims are the ones the local verifier checks (AUTH_MODE=hs256): `sub`, `scopes`, `iss`
(JWT_ISSUER), `aud` (JWT_AUDIENCE), `exp`, plus `iat`/`nbf`. The secret is JWT_HS256_SECRET,
which exists only in `.local/env`: these tokens never work against a deployed stack.
"""
import base64, hashlib, hmac, json, os, sys, time

MAX_SUB = 128
MAX_SCOPES = 20


def b64url(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def mint(sub: str, scopes, ttl=3600, env=os.environ) -> str:
    now = int(time.time())
    header = {"alg": "HS256", "typ": "JWT"}
    claims = {"sub": sub[:MAX_SUB], "scopes": list(scopes)[:MAX_SCOPES], "iss": env["JWT_ISSUER"], "aud": env["JWT_AUDIENCE"],
              "iat": now, "nbf": now - 1, "exp": now + ttl}
    signing_input = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())
    sig = hmac.new(env["JWT_HS256_SECRET"].encode(), signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + b64url(sig)


def local_env(path: str) -> dict:
    env = {}
    with open(path) as f:
        for line in f:
            if "=" in line and not line.startswith("#"):
                k, v = line.rstrip("\n").split("=", 1)
                env[k] = v
    return env


if __name__ == "__main__":
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    path = os.path.join(root, ".local", "env")
    if not os.path.exists(path):
        sys.exit("no .local/env: start the stack once with `scripts/local up`")
    args = sys.argv[1:]
    print(mint(args[0] if args else "dev-user", args[1:], env=local_env(path)))
