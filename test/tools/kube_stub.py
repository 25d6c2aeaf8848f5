#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""What kubectl asks of an API server for a client-side dry run, and no more.

    kube_stub.py [--v2-stubs DIR] PORT_FILE OPENAPI_V3_DOC...

kubectl's client-side dry run and its schema validation are kubectl's own,
but it finds each object's resource through the server's discovery and
takes the schema from the server's OpenAPI v3 documents.  No API server is
packaged for Debian; this stub serves, on 127.0.0.1 (the port it got is
written to PORT_FILE), discovery derived from the given OpenAPI v3
documents (named as Kubernetes names them: api__v1_openapi.json,
apis__apps__v1_openapi.json), those documents themselves, and 404 for every
object, so that kubectl takes each one as new.  It validates nothing, so
it does not claim to: the documents' fieldValidation parameters (a server
that validates fields itself) are left out, and kubectl's --validate=strict
then checks each object against the schema on the client's side.  That
check reads the schema as OpenAPI v2 in protobuf (gnostic's OpenAPIv2.proto,
whose Python stubs --v2-stubs names): the stub serves the documents'
schemas so, $refs and int-or-string as v2 has them.
"""
import hashlib
import http.server
import json
import os
import re
import sys

NOT_FOUND = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
             "reason": "NotFound", "code": 404, "message": "the stub holds no objects"}


def group_version(path):
    """api__v1_openapi.json -> ("", "v1"); apis__apps__v1_openapi.json -> ("apps", "v1")"""
    parts = os.path.basename(path)[:-len("_openapi.json")].split("__")
    return ("", parts[1]) if parts[0] == "api" else (parts[1], parts[2])


def resources(doc, prefix):
    """The resources of a group version: its paths of one resource or one collection."""
    out = {}
    pat = re.compile("^" + re.escape(prefix) + r"/(namespaces/\{namespace\}/)?([a-z0-9]+)(/\{name\})?$")
    for path, ops in doc.get("paths", {}).items():
        m = pat.match(path)
        if not m:
            continue
        gvk = next((ops[v]["x-kubernetes-group-version-kind"] for v in ("post", "get", "put")
                    if v in ops and "x-kubernetes-group-version-kind" in ops[v]), None)
        name = m.group(2)
        if not gvk or (name == "namespaces" and m.group(1)):
            continue
        r = out.setdefault(name, {"name": name, "singularName": "", "namespaced": False,
                                  "kind": gvk["kind"], "verbs": []})
        r["namespaced"] = r["namespaced"] or bool(m.group(1))
        if not gvk["kind"].endswith("List"):
            r["kind"] = gvk["kind"]
        r["verbs"] = sorted(set(r["verbs"]) | {"get", "list", "create", "update", "patch", "delete"})
    return list(out.values())


def v2_schema(pb, s):
    """One OpenAPI v3 schema of Kubernetes as gnostic's v2 Schema message."""
    m = pb.Schema()
    if "allOf" in s and len(s["allOf"]) == 1:  # v3's way of a $ref with a description
        s = dict(s, **s["allOf"][0])
    if "$ref" in s:
        setattr(m, "_ref", s["$ref"].replace("#/components/schemas/", "#/definitions/"))
    m.description = s.get("description", "")
    m.format = s.get("format", "")
    kind = s.get("type")
    if not kind and ("oneOf" in s or "anyOf" in s or s.get("x-kubernetes-int-or-string")):
        kind = "string"  # int-or-string, a quantity: v2 says string, which takes both
    if kind:
        m.type.value.append(kind)
    m.required.extend(s.get("required", []))
    for name, sub in s.get("properties", {}).items():
        ns = m.properties.additional_properties.add()
        ns.name = name
        ns.value.CopyFrom(v2_schema(pb, sub))
    if "items" in s:
        m.items.schema.add().CopyFrom(v2_schema(pb, s["items"]))
    extra = s.get("additionalProperties")
    if isinstance(extra, dict):
        m.additional_properties.schema.CopyFrom(v2_schema(pb, extra))
    elif isinstance(extra, bool):
        m.additional_properties.boolean = extra
    for key, value in s.items():
        if key.startswith("x-kubernetes-"):
            na = m.vendor_extension.add()
            na.name = key
            na.value.yaml = json.dumps(value)  # JSON is YAML
    return m


def v2_document(stubs, docs):
    """The schemas of the v3 documents as one OpenAPI v2 document, in protobuf."""
    sys.path.insert(0, stubs)
    import OpenAPIv2_pb2 as pb
    d = pb.Document(swagger="2.0")
    d.info.title = "Kubernetes"
    d.info.version = "stub"
    seen = set()
    for doc in docs:
        for name, schema in doc.get("components", {}).get("schemas", {}).items():
            if name in seen:
                continue
            seen.add(name)
            ns = d.definitions.additional_properties.add()
            ns.name = name
            ns.value.CopyFrom(v2_schema(pb, schema))
    return d.SerializeToString()


def without_field_validation(doc):
    """The document as a server that does not validate fields would publish it."""
    for ops in doc.get("paths", {}).values():
        for op in ops.values():
            if isinstance(op, dict) and "parameters" in op:
                op["parameters"] = [q for q in op["parameters"]
                                    if q.get("name") != "fieldValidation"]
    return doc


def load(paths, stubs):
    docs, groups, lists, parsed = {}, {}, {}, []
    for p in paths:
        with open(p, "rb") as f:
            doc = without_field_validation(json.load(f))
        parsed.append(doc)
        raw = json.dumps(doc).encode()
        group, version = group_version(p)
        prefix = "/api/" + version if not group else "/apis/%s/%s" % (group, version)
        gv = version if not group else group + "/" + version
        docs[prefix[1:]] = (raw, hashlib.sha256(raw).hexdigest())
        lists[prefix] = {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv,
                         "resources": resources(doc, prefix)}
        if group:
            groups[group] = {"name": group, "versions": [{"groupVersion": gv, "version": version}],
                             "preferredVersion": {"groupVersion": gv, "version": version}}
    return docs, groups, lists, v2_document(stubs, parsed) if stubs else None


def handler(docs, groups, lists, v2):
    routes = {
        "/api": {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [
            {"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}]},
        "/apis": {"kind": "APIGroupList", "apiVersion": "v1", "groups": list(groups.values())},
        "/version": {"major": "1", "minor": "32", "gitVersion": "v1.32.0-stub"},
        "/openapi/v3": {"paths": {k: {"serverRelativeURL": "/openapi/v3/%s?hash=%s" % (k, h)}
                                  for k, (_, h) in docs.items()}},
    }
    routes.update(lists)

    class Handler(http.server.BaseHTTPRequestHandler):
        def reply(self, code, body, ctype="application/json"):
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            path = self.path.split("?", 1)[0].rstrip("/")
            if path in routes:
                return self.reply(200, routes[path])
            if path.startswith("/openapi/v3/") and path[len("/openapi/v3/"):] in docs:
                return self.reply(200, docs[path[len("/openapi/v3/"):]][0])
            if path == "/openapi/v2" and v2 is not None:
                return self.reply(200, v2,
                                  "application/com.github.proto-openapi.spec.v2.v1.0+protobuf")
            self.reply(404, NOT_FOUND)

        do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

        def log_message(self, fmt, *args):
            sys.stderr.write("kube_stub: %s %s\n" % (self.command, self.path))

    return Handler


def main():
    args, stubs = sys.argv[1:], None
    if args[:1] == ["--v2-stubs"]:
        stubs, args = args[1], args[2:]
    if len(args) < 2:
        sys.exit(__doc__)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler(*load(args[1:], stubs)))
    with open(args[0] + ".new", "w") as f:
        f.write("%d\n" % server.server_address[1])
    os.rename(args[0] + ".new", args[0])
    server.serve_forever()


if __name__ == "__main__":
    main()
