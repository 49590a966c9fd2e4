#!/usr/bin/env python3
"""Runs issue 21's "done when" sequence against a real `etuner serve` (needs root for the
tmpfs): a 2 MB tmpfs data dir filled with samples, a 64 MB chunked and a 200 MB gzip body,
a second server on the same directory, 64 slow connections. Prints one line per check.

    sudo scripts/serve_hostile.py build/etuner
"""
import gzip, json, os, socket, subprocess, sys, tempfile, threading, time, urllib.request

EXE = sys.argv[1] if len(sys.argv) > 1 else "build/etuner"
ARGS = ["serve", "--model", "smallcnn", "--classes", "10", "--input", "1x28x28",
        "--policies", "immediate", "--port", "0", "--quiet"]


def start(data_dir):
    port_file = os.path.join(tempfile.mkdtemp(), "port")
    p = subprocess.Popen([EXE, *ARGS, "--data-dir", data_dir, "--port-file", port_file],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    for _ in range(600):
        if os.path.exists(port_file):
            return p, int(open(port_file).read())
        time.sleep(0.05)
    raise SystemExit("server did not start: " + p.stderr.read().decode())


def post(port, path, body, headers, timeout=30):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def get(port, path):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30) as r:
        return r.status, r.read()


def raw_reply(port, head, body_chunks):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(head)
    sent = 0
    def send():
        nonlocal sent
        try:
            for c in body_chunks:
                s.sendall(c)
                sent += len(c)
        except OSError:
            pass
    t = threading.Thread(target=send)
    t.start()
    reply = b""
    s.settimeout(60)
    try:
        while chunk := s.recv(65536):
            reply += chunk
    except OSError:
        pass
    s.close()
    t.join()
    return reply.split(b"\r\n", 1)[0].decode(), sent


def main():
    mnt = tempfile.mkdtemp(prefix="etuner-tmpfs-")
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", mnt], check=True)
    try:
        p, port = start(mnt)
        sample = json.dumps({"tensor": [0.5] * 784, "label": 3}).encode()
        codes = {}
        for i in range(1500):
            c, _ = post(port, "/v1/samples", sample, {"Content-Type": "application/json"})
            codes[c] = codes.get(c, 0) + 1
        st = json.loads(get(port, "/v1/status")[1])
        pc, pb = post(port, "/v1/predict", json.dumps({"tensor": [0.5] * 784}).encode(),
                      {"Content-Type": "application/json"})
        print(f"1. 2 MB tmpfs: sample answers {codes}; stored {st['samples_stored']}; "
              f"storage {st['storage']}; predict {pc} {pb.decode()}; alive {p.poll() is None}")

        line, sent = raw_reply(port, b"POST /v1/predict HTTP/1.1\r\nHost: x\r\n"
                               b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
                               (b"100000\r\n" + b" " * (1 << 20) + b"\r\n" for _ in range(64)))
        print(f"2a. 64 MB chunked: {line} (client got {sent >> 20} MiB out before the hang-up)")
        bomb = gzip.compress(b" " * (200 << 20), 9)
        line, _ = raw_reply(port, b"POST /v1/predict HTTP/1.1\r\nHost: x\r\n"
                            b"Content-Type: application/json\r\nContent-Encoding: gzip\r\n"
                            b"Content-Length: " + str(len(bomb)).encode() + b"\r\n\r\n", [bomb])
        rss = int(open(f"/proc/{p.pid}/status").read().split("VmRSS:")[1].split()[0]) >> 10
        print(f"2b. 200 MB gzip ({len(bomb) >> 10} KiB on the wire): {line}; server RSS {rss} MB")

        q = subprocess.run([EXE, *ARGS, "--data-dir", mnt], capture_output=True, text=True)
        print(f"3. second server: exit {q.returncode}: {q.stderr.strip()}")

        slow = []
        for _ in range(64):
            s = socket.create_connection(("127.0.0.1", port))
            s.sendall(b"POST /v1/predict HTTP/1.1\r\nHost: x\r\n")
            slow.append(s)
        time.sleep(0.5)
        t0 = time.time()
        c, _ = get(port, "/v1/status")
        pc, _ = post(port, "/v1/predict", json.dumps({"tensor": [0.5] * 784}).encode(),
                     {"Content-Type": "application/json"})
        print(f"4. 64 slow connections: status {c} and predict {pc} in {time.time() - t0:.3f} s")
        for s in slow:
            s.close()
        p.terminate()
        print(f"   SIGTERM: exit {p.wait(60)}")
        p, port = start(mnt)
        st = json.loads(get(port, "/v1/status")[1])
        print(f"   restart on the full tmpfs: version {st['model_version']}, "
              f"stored {st['samples_stored']}")
        p.terminate()
        p.wait(60)
    finally:
        subprocess.run(["umount", mnt])


main()
