#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Is nri/nri.proto wire-compatible with NRI's own api.proto?

    nri_proto_check.py OURS.proto REFERENCE.proto...

REFERENCE: NRI's pkg/api/api.proto, ttrpc's request.proto.  Every message
of OURS that a reference has by name must match it on the wire:
each of our fields has a field of the same number there, of the same type
and cardinality, and message-typed fields match recursively (our KeyValue
against a map<string, string> entry, say).  Names of fields may differ.  Our
enums must give their values the reference's numbers.  ttrpc's Status is
google.rpc.Status, of which Debian ships only a stub (code alone): the
real one's first two fields stand in for it.  Prints one line per problem;
exit 1 when there is any.
"""
import os
import subprocess
import sys
import tempfile

from google.protobuf import descriptor_pb2 as d

T = d.FieldDescriptorProto


def load(path, tmp):
    out = os.path.join(tmp, os.path.basename(path) + ".pb")
    subprocess.run([sys.executable, "-m", "grpc_tools.protoc", "-I" + os.path.dirname(path),
                    "--include_imports", "--descriptor_set_out=" + out,
                    os.path.basename(path)], check=True)
    fds = d.FileDescriptorSet()
    with open(out, "rb") as f:
        fds.ParseFromString(f.read())
    msgs, enums = {}, {}
    for fd in fds.file:
        prefix = "." + fd.package if fd.package else ""

        def walk(m, scope):
            name = scope + "." + m.name
            msgs[name] = m
            for n in m.nested_type:
                walk(n, name)
            for e in m.enum_type:
                enums[name + "." + e.name] = e
        for m in fd.message_type:
            walk(m, prefix)
        for e in fd.enum_type:
            enums[prefix + "." + e.name] = e
    return msgs, enums


GOOGLE_RPC_STATUS = """syntax = "proto3";
package google.rpc;
message Status { int32 code = 1; string message = 2; }
"""


def short(name):
    return name.rsplit(".", 1)[-1]


def compare(ours, ref, om, rm, where, problems, seen):
    if (om.name, rm.name, where) in seen:
        return
    seen.add((om.name, rm.name, where))
    rfields = {f.number: f for f in rm.field}
    for f in om.field:
        at = "%s.%s (%d)" % (where, f.name, f.number)
        r = rfields.get(f.number)
        if r is None:
            problems.append("%s: no field %d in the reference" % (at, f.number))
            continue
        if f.type != r.type:
            problems.append("%s: type %s, reference %s" % (at, T.Type.Name(f.type),
                                                          T.Type.Name(r.type)))
            continue
        if f.label != r.label:
            problems.append("%s: %s, reference %s" % (at, T.Label.Name(f.label),
                                                     T.Label.Name(r.label)))
        if f.type == T.TYPE_MESSAGE:
            compare(ours, ref, ours[0][f.type_name], ref[0][r.type_name], at, problems, seen)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        ours, ref = load(sys.argv[1], tmp), ({}, {})
        for path in sys.argv[2:]:
            msgs, enums = load(path, tmp)
            ref[0].update(msgs)
            ref[1].update(enums)
        with open(os.path.join(tmp, "status.proto"), "w") as f:
            f.write(GOOGLE_RPC_STATUS)
        status = load(os.path.join(tmp, "status.proto"), tmp)[0][".google.rpc.Status"]
    for m in ref[0].values():
        if m.name == "Status":
            m.CopyFrom(status)
    by_short = {short(n): m for n, m in ref[0].items()}
    problems, seen, checked = [], set(), 0
    for name, m in ours[0].items():
        r = by_short.get(short(name))
        if r is None:
            continue
        compare(ours, ref, m, r, short(name), problems, seen)
        checked += 1
    renums = {short(n): e for n, e in ref[1].items()}
    for name, e in ours[1].items():
        r = renums.get(short(name))
        if r is None:
            problems.append("enum %s: not in the reference" % short(name))
            continue
        rv = {v.name: v.number for v in r.value}
        for v in e.value:
            if rv.get(v.name) != v.number:
                problems.append("enum %s.%s = %d, reference %s" % (short(name), v.name,
                                                                  v.number, rv.get(v.name)))
    for p in problems:
        print("nri_proto_check: " + p)
    print("nri_proto_check: %d messages compared, %d problems" % (checked, len(problems)))
    return 1 if problems or checked == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
