"""A client that signs AWS SigV4 requests with the keys in its environment,
as an AWS SDK does, written from the public algorithm (independent of
isolate's and of the test server's implementations). Used inside the
sandbox: usage: sigv4-client.py SCHEME://HOST:PORT CASE..., one line per
case: the case, the status, and the body or isolate's X-Isolate-Denied.
"""
import datetime, hashlib, hmac, os, sys, urllib.error, urllib.parse, urllib.request

AK, SK, TOK = os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"], os.environ.get("AWS_SESSION_TOKEN")
BASE = sys.argv[1]
HOST = urllib.parse.urlsplit(BASE).netloc
NOW = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
REGION = "us-east-1"


def enc(s):
    return urllib.parse.quote(s, safe="-_.~")


def scope(service):
    return "%s/%s/%s/aws4_request" % (NOW[:8], REGION, service)


def signature(secret, service, creq):
    to_sign = "\n".join(["AWS4-HMAC-SHA256", NOW, scope(service), hashlib.sha256(creq.encode()).hexdigest()])
    key = ("AWS4" + secret).encode()
    for part in (NOW[:8], REGION, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def canonical(method, path, query, headers, payload):
    names = sorted(headers)
    cq = "&".join("%s=%s" % (enc(k), enc(v)) for k, v in sorted(query))
    ch = "".join("%s:%s\n" % (n, headers[n].strip()) for n in names)
    return "\n".join([method, path, cq, ch, ";".join(names), payload]), ";".join(names)


def send(method, path, query, headers, body):
    url = BASE + path + ("?" + "&".join("%s=%s" % (enc(k), enc(v)) for k, v in query) if query else "")
    try:
        r = urllib.request.urlopen(urllib.request.Request(url, data=body, method=method, headers=headers))
        return "%d %s" % (r.status, r.read().decode())
    except urllib.error.HTTPError as e:
        return "%d %s" % (e.code, e.headers.get("x-isolate-denied") or e.read().decode())


def header_signed(service, method, path, body, content_sha256=None, secret=SK):
    headers = {"host": HOST, "x-amz-date": NOW}
    if TOK:
        headers["x-amz-security-token"] = TOK
    payload = hashlib.sha256(body).hexdigest()
    if content_sha256 is not None:
        headers["x-amz-content-sha256"] = payload = content_sha256
    creq, signed = canonical(method, path, [], headers, payload)
    headers["authorization"] = "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s" % (AK, scope(service), signed, signature(secret, service, creq))
    del headers["host"]
    return send(method, path, [], headers, body or None)


def presigned(path):
    query = [("X-Amz-Algorithm", "AWS4-HMAC-SHA256"), ("X-Amz-Credential", "%s/%s" % (AK, scope("s3"))), ("X-Amz-Date", NOW), ("X-Amz-Expires", "300"), ("X-Amz-SignedHeaders", "host")]
    if TOK:
        query.append(("X-Amz-Security-Token", TOK))
    creq, _ = canonical("GET", path, query, {"host": HOST}, "UNSIGNED-PAYLOAD")
    return send("GET", path, query + [("X-Amz-Signature", signature(SK, "s3", creq))], {}, None)


BODY = b"Action=GetCallerIdentity&Version=2011-06-15"
CASES = {
    "sts": lambda: header_signed("sts", "POST", "/", BODY),
    "s3-get": lambda: header_signed("s3", "GET", "/bucket/key.txt", b"", "UNSIGNED-PAYLOAD"),
    "s3-put": lambda: header_signed("s3", "PUT", "/bucket/put.txt", b"uploaded", hashlib.sha256(b"uploaded").hexdigest()),
    "presigned": lambda: presigned("/bucket/shared.txt"),
    "hash-mismatch": lambda: header_signed("s3", "PUT", "/bucket/put.txt", b"swapped body", hashlib.sha256(b"uploaded").hexdigest()),
    "streaming": lambda: header_signed("s3", "PUT", "/bucket/put.txt", b"", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"),
    "forged": lambda: header_signed("s3", "GET", "/bucket/key.txt", b"", "UNSIGNED-PAYLOAD", secret=SK[::-1]),
}
for case in sys.argv[2:]:
    print(case, CASES[case]())
