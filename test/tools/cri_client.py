#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""A small CRI client for the integration tests (Debian has no crictl).

    cri_client.py --stubs DIR --endpoint SOCKET COMMAND ARGS...

DIR holds api_pb2.py and api_pb2_grpc.py, generated from the CRI api.proto
(test/integration/lib/containerd.sh makes them).  Commands, each printing
one JSON document on stdout:

    runp NAME NAMESPACE UID                      -> {"id", "netns", "ms"}
    create-start POD NAME NAMESPACE UID IMAGE CMD... -> {"id", "ms"}
    stopp POD                                     -> {"ms"}
    rmp POD                                       -> {"ms"}
    pods                                          -> [{"id", "name", "namespace", "state"}]
    netns POD                                     -> {"netns"}
    exec CONTAINER CMD...                         -> {"exit", "stdout", "stderr"}
    cycles N PREFIX NAMESPACE [CHECK...]          -> {"cycles", "ms", "runp_ms", "stopp_ms",
                                                      "rmp_ms", "failures"}
    startup N PREFIX NAMESPACE IMAGE CMD...       -> {"ms": [...]}
    burst N PREFIX NAMESPACE IMAGE CMD...         -> {"ms", "each_ms": [...]}

cycles runs N pods one after the other, each run, checked, stopped and
removed (named PREFIX-0, PREFIX-1, ...): CHECK, when given, runs after
each RunPodSandbox with the pod's netns path as its last argument, and a
cycle whose CHECK fails counts in "failures" (the first few are listed).
The *_ms members are the calls' times in milliseconds, in order.

startup starts N pods one after the other, each with one container
running CMD, and times each from RunPodSandbox to StartContainer's
return; burst starts N such pods at once (a thread each, released
together) and times all of them until the last one's container has
started.  Both stop and remove every pod they made afterwards, untimed.

--annotation KEY=VALUE and --label KEY=VALUE (each may repeat) add to the
pod's own (runp, create-start); --host-network puts it on the host's network.  A failed call prints its gRPC status on
stderr and exits 1.
"""
import argparse
import json
import sys
import time


def pod_config(pb, name, namespace, uid, a):
    return pb.PodSandboxConfig(
        metadata=pb.PodSandboxMetadata(name=name, namespace=namespace, uid=uid, attempt=0),
        hostname="" if a.host_network else name,  # the host's own otherwise
        log_directory=a.log_dir,
        labels=dict({"app": name}, **dict(kv.split("=", 1) for kv in a.label or [])),
        annotations=dict({"io.portcullis.test": "nri"},
                         **dict(kv.split("=", 1) for kv in a.annotation or [])),
        linux=pb.LinuxPodSandboxConfig(
            cgroup_parent=a.cgroup_parent,
            security_context=pb.LinuxSandboxSecurityContext(
                namespace_options=pb.NamespaceOption(
                    network=pb.NODE if a.host_network else pb.POD))))


def sandbox_netns(stub, pb, pod_id):
    """The pod's netns path, from containerd's verbose status."""
    st = stub.PodSandboxStatus(pb.PodSandboxStatusRequest(pod_sandbox_id=pod_id, verbose=True),
                               timeout=30)
    info = json.loads(st.info.get("info", "{}"))
    for ns in info.get("runtimeSpec", {}).get("linux", {}).get("namespaces", []):
        if ns.get("type") == "network":
            return ns.get("path", "")
    return ""


def timed(fn):
    t0 = time.monotonic()
    ret = fn()
    return ret, round((time.monotonic() - t0) * 1000)


def cmd_runp(stub, pb, a):
    cfg = pod_config(pb, a.args[0], a.args[1], a.args[2], a)
    rsp, ms = timed(lambda: stub.RunPodSandbox(
        pb.RunPodSandboxRequest(config=cfg, runtime_handler=""), timeout=60))
    return {"id": rsp.pod_sandbox_id, "netns": sandbox_netns(stub, pb, rsp.pod_sandbox_id),
            "ms": ms}


def cmd_create_start(stub, pb, a):
    pod, name, namespace, uid, image = a.args[:5]
    cfg = pod_config(pb, name, namespace, uid, a)
    ccfg = pb.ContainerConfig(
        metadata=pb.ContainerMetadata(name=name + "-c", attempt=0),
        image=pb.ImageSpec(image=image),
        command=a.args[5:],
        log_path=name + "-c.log",
        linux=pb.LinuxContainerConfig())
    t0 = time.monotonic()
    rsp = stub.CreateContainer(pb.CreateContainerRequest(pod_sandbox_id=pod, config=ccfg,
                                                         sandbox_config=cfg), timeout=60)
    stub.StartContainer(pb.StartContainerRequest(container_id=rsp.container_id), timeout=60)
    return {"id": rsp.container_id, "ms": round((time.monotonic() - t0) * 1000)}


def cmd_stopp(stub, pb, a):
    _, ms = timed(lambda: stub.StopPodSandbox(
        pb.StopPodSandboxRequest(pod_sandbox_id=a.args[0]), timeout=60))
    return {"ms": ms}


def cmd_rmp(stub, pb, a):
    _, ms = timed(lambda: stub.RemovePodSandbox(
        pb.RemovePodSandboxRequest(pod_sandbox_id=a.args[0]), timeout=60))
    return {"ms": ms}


def cmd_pods(stub, pb, a):
    rsp = stub.ListPodSandbox(pb.ListPodSandboxRequest(), timeout=30)
    return [{"id": p.id, "name": p.metadata.name, "namespace": p.metadata.namespace,
             "state": pb.PodSandboxState.Name(p.state)} for p in rsp.items]


def cmd_netns(stub, pb, a):
    return {"netns": sandbox_netns(stub, pb, a.args[0])}


def cmd_exec(stub, pb, a):
    rsp = stub.ExecSync(pb.ExecSyncRequest(container_id=a.args[0], cmd=a.args[1:], timeout=20),
                        timeout=30)
    return {"exit": rsp.exit_code, "stdout": rsp.stdout.decode(errors="replace"),
            "stderr": rsp.stderr.decode(errors="replace")}


def cmd_cycles(stub, pb, a):
    import subprocess
    n, prefix, namespace = int(a.args[0]), a.args[1], a.args[2]
    check = a.args[3:]
    out = {"cycles": 0, "runp_ms": [], "stopp_ms": [], "rmp_ms": [], "failures": []}
    t0 = time.monotonic()
    for i in range(n):
        name = "%s-%d" % (prefix, i)
        cfg = pod_config(pb, name, namespace, "uid-" + name, a)
        rsp, ms = timed(lambda: stub.RunPodSandbox(
            pb.RunPodSandboxRequest(config=cfg, runtime_handler=""), timeout=60))
        out["runp_ms"].append(ms)
        pod = rsp.pod_sandbox_id
        if check:
            netns = sandbox_netns(stub, pb, pod)
            r = subprocess.run(check + [netns], capture_output=True, text=True)
            if r.returncode != 0 and len(out["failures"]) < 10:
                out["failures"].append({"pod": name, "netns": netns,
                                        "why": (r.stdout + r.stderr).strip()[-300:]})
            elif r.returncode != 0:
                out["failures"].append(name)
        _, ms = timed(lambda: stub.StopPodSandbox(
            pb.StopPodSandboxRequest(pod_sandbox_id=pod), timeout=60))
        out["stopp_ms"].append(ms)
        _, ms = timed(lambda: stub.RemovePodSandbox(
            pb.RemovePodSandboxRequest(pod_sandbox_id=pod), timeout=60))
        out["rmp_ms"].append(ms)
        out["cycles"] += 1
    out["ms"] = round((time.monotonic() - t0) * 1000)
    return out


def start_one(stub, pb, a, name, namespace, image, cmd):
    """A pod with one container running cmd; its id."""
    cfg = pod_config(pb, name, namespace, "uid-" + name, a)
    pod = stub.RunPodSandbox(pb.RunPodSandboxRequest(config=cfg, runtime_handler=""),
                             timeout=60).pod_sandbox_id
    ccfg = pb.ContainerConfig(metadata=pb.ContainerMetadata(name=name + "-c", attempt=0),
                              image=pb.ImageSpec(image=image), command=cmd,
                              log_path=name + "-c.log", linux=pb.LinuxContainerConfig())
    ctr = stub.CreateContainer(pb.CreateContainerRequest(pod_sandbox_id=pod, config=ccfg,
                                                         sandbox_config=cfg), timeout=60)
    stub.StartContainer(pb.StartContainerRequest(container_id=ctr.container_id), timeout=60)
    return pod


def remove_pods(stub, pb, pods):
    for pod in pods:
        stub.StopPodSandbox(pb.StopPodSandboxRequest(pod_sandbox_id=pod), timeout=60)
        stub.RemovePodSandbox(pb.RemovePodSandboxRequest(pod_sandbox_id=pod), timeout=60)


def cmd_startup(stub, pb, a):
    n, prefix, namespace, image, cmd = int(a.args[0]), a.args[1], a.args[2], a.args[3], a.args[4:]
    out = {"ms": []}
    for i in range(n):
        pod, ms = timed(lambda: start_one(stub, pb, a, "%s-%d" % (prefix, i), namespace, image,
                                          cmd))
        out["ms"].append(ms)
        remove_pods(stub, pb, [pod])
    return out


def cmd_burst(stub, pb, a):
    import threading
    n, prefix, namespace, image, cmd = int(a.args[0]), a.args[1], a.args[2], a.args[3], a.args[4:]
    go = threading.Barrier(n + 1)
    pods, each, errors = [None] * n, [0] * n, []

    def one(i):
        go.wait()
        try:
            pods[i], each[i] = timed(lambda: start_one(stub, pb, a, "%s-%d" % (prefix, i),
                                                       namespace, image, cmd))
        except Exception as e:  # reported below, after every thread ended
            errors.append(e)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    go.wait()
    t0 = time.monotonic()
    for t in threads:
        t.join()
    ms = round((time.monotonic() - t0) * 1000)
    remove_pods(stub, pb, [p for p in pods if p])
    if errors:
        raise errors[0]
    return {"ms": ms, "each_ms": each}


COMMANDS = {"startup": (cmd_startup, 5), "burst": (cmd_burst, 5), "runp": (cmd_runp, 3), "cycles": (cmd_cycles, 3), "create-start": (cmd_create_start, 6),
            "stopp": (cmd_stopp, 1), "rmp": (cmd_rmp, 1), "pods": (cmd_pods, 0),
            "netns": (cmd_netns, 1), "exec": (cmd_exec, 2)}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--stubs", required=True)
    p.add_argument("--endpoint", required=True)
    p.add_argument("--log-dir", default="")
    p.add_argument("--cgroup-parent", default="", help="the pods' cgroup parent")
    p.add_argument("--annotation", action="append", metavar="KEY=VALUE",
                   help="an annotation of the pod")
    p.add_argument("--label", action="append", metavar="KEY=VALUE", help="a label of the pod")
    p.add_argument("--host-network", action="store_true", help="the pod on the host's network")
    p.add_argument("command", choices=sorted(COMMANDS))
    p.add_argument("args", nargs=argparse.REMAINDER)
    a = p.parse_args()
    fn, nargs = COMMANDS[a.command]
    if len(a.args) < nargs:
        p.error("%s needs at least %d arguments" % (a.command, nargs))
    sys.path.insert(0, a.stubs)
    import grpc
    import api_pb2
    import api_pb2_grpc
    with grpc.insecure_channel("unix://" + a.endpoint) as ch:
        stub = api_pb2_grpc.RuntimeServiceStub(ch)
        try:
            out = fn(stub, api_pb2, a)
        except grpc.RpcError as e:
            print("cri_client %s: %s: %s" % (a.command, e.code().name, e.details()),
                  file=sys.stderr)
            return 1
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
