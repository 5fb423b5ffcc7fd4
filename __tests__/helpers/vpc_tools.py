"""Small network services of the EC2-like VPC harness (__tests__/helpers/vpc.ts), standard library only.

  imds FILE               IMDSv2 on 169.254.169.254:80 in the VPC namespace; answers each instance by its
                          source address from FILE (JSON, re-read per request); replies leave with the
                          instance's hop limit as IP TTL, as EC2's PUT response hop limit does.
  forward NETNS SPEC...   relays TCP from a listener inside NETNS to a target in this process's namespace;
                          SPEC is LISTEN_IP:PORT=TARGET_IP:PORT[,tls=CERT:KEY] (TLS ends at the listener).
  echo ADDR:PORT          HTTP server answering every GET with the client's address.
  dns HOST PORT NAME      one A query over UDP; prints the addresses or exits 1.
  aws                     boto3 calls read as JSON lines on stdin, answered as JSON lines on stdout.
"""
import ctypes
import json
import os
import random
import secrets
import socket
import ssl
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CLONE_NEWNET = 0x40000000
TOKEN_TTL_MAX = 21600


def imds(path):
    tokens = {}

    class Handler(BaseHTTPRequestHandler):
        def instance(self):
            with open(path) as f:
                return json.load(f).get(self.client_address[0])

        def reply(self, status, body=b"", content_type="text/plain"):
            me = self.instance()
            if me:
                self.connection.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, int(me["hopLimit"]))
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_PUT(self):
            ttl = int(self.headers.get("X-aws-ec2-metadata-token-ttl-seconds", "0") or 0)
            if self.path != "/latest/api/token" or not 1 <= ttl <= TOKEN_TTL_MAX:
                return self.reply(400)
            token = secrets.token_urlsafe(32)
            tokens[token] = (self.client_address[0], time.time() + ttl)
            self.reply(200, token.encode())

        def do_GET(self):
            me = self.instance()
            owner, expires = tokens.get(self.headers.get("X-aws-ec2-metadata-token", ""), (None, 0))
            if me is None:
                return self.reply(404)
            if owner != self.client_address[0] or time.time() > expires:
                return self.reply(401)  # IMDSv2 required: no token, no answer
            prefix = "/latest/meta-data/"
            if self.path == "/latest/user-data":
                return self.reply(200, me.get("userData", "").encode())
            if not self.path.startswith(prefix):
                return self.reply(404)
            key = self.path[len(prefix):]
            value = me["metaData"].get(key)
            if value is None:
                return self.reply(404)
            self.reply(200, value.encode())

        def log_message(self, *args):
            sys.stderr.write("imds %s %s\n" % (self.client_address[0], args[0] % args[1:]))

    ThreadingHTTPServer(("169.254.169.254", 80), Handler).serve_forever()


def setns(fd):
    if ctypes.CDLL(None, use_errno=True).setns(fd, CLONE_NEWNET) != 0:
        raise OSError(ctypes.get_errno(), "setns")


def pipe(a, b):
    try:
        while True:
            data = a.recv(65536)
            if not data:
                break
            b.sendall(data)
    except OSError:
        pass
    finally:
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def forward(netns, specs):
    home = os.open("/proc/self/ns/net", os.O_RDONLY)
    target_ns = os.open(netns, os.O_RDONLY)
    listeners = []
    setns(target_ns)
    try:
        for spec in specs:
            listen, _, rest = spec.partition("=")
            target, _, options = rest.partition(",")
            host, port = listen.rsplit(":", 1)
            server = socket.create_server((host, int(port)))
            context = None
            if options.startswith("tls="):
                cert, key = options[4:].split(":")
                context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
                context.load_cert_chain(cert, key)
            thost, tport = target.rsplit(":", 1)
            listeners.append((server, context, (thost, int(tport))))
    finally:
        setns(home)  # connections to the targets leave from this process's own namespace
    print("ready", flush=True)

    def serve(server, context, target):
        while True:
            client, _ = server.accept()
            threading.Thread(target=relay, args=(client, context, target), daemon=True).start()

    def relay(client, context, target):
        try:
            if context:
                client = context.wrap_socket(client, server_side=True)
            upstream = socket.create_connection(target)
        except OSError:
            client.close()
            return
        threading.Thread(target=pipe, args=(upstream, client), daemon=True).start()
        pipe(client, upstream)

    for server, context, target in listeners:
        threading.Thread(target=serve, args=(server, context, target), daemon=True).start()
    threading.Event().wait()


def echo(addr):
    host, port = addr.rsplit(":", 1)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            body = ("you are %s\n" % self.client_address[0]).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer((host, int(port)), Handler)
    print("ready", flush=True)
    server.serve_forever()


def dns(host, port, name):
    query_id = random.randrange(65536)
    question = b"".join(bytes([len(label)]) + label.encode() for label in name.split(".")) + b"\0" + struct.pack("!HH", 1, 1)
    packet = struct.pack("!HHHHHH", query_id, 0x0100, 1, 0, 0, 0) + question
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(3)
        s.sendto(packet, (host, int(port)))
        data, _ = s.recvfrom(4096)
    rid, flags, _, ancount, _, _ = struct.unpack("!HHHHHH", data[:12])
    if rid != query_id or flags & 0xF != 0 or ancount == 0:
        print("rcode %d, %d answers" % (flags & 0xF, ancount))
        sys.exit(1)
    offset = 12 + len(question)
    answers = []
    for _ in range(ancount):
        if data[offset] & 0xC0 == 0xC0:
            offset += 2
        else:
            while data[offset]:
                offset += data[offset] + 1
            offset += 1
        rtype, _, _, length = struct.unpack("!HHIH", data[offset:offset + 10])
        offset += 10
        if rtype == 1:
            answers.append(socket.inet_ntoa(data[offset:offset + 4]))
        offset += length
    print(" ".join(answers))


def aws():
    import boto3

    clients = {}
    for line in sys.stdin:
        request = json.loads(line)
        key = (request["service"], request["region"])
        try:
            if key not in clients:
                clients[key] = boto3.client(request["service"], region_name=request["region"])
            result = getattr(clients[key], request["operation"])(**request.get("args", {}))
            result.pop("ResponseMetadata", None)
            answer = {"result": result}
        except Exception as error:  # reported to the caller, which names the call
            answer = {"error": "%s: %s" % (type(error).__name__, error)}
        sys.stdout.write(json.dumps(answer, default=str) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    command, args = sys.argv[1], sys.argv[2:]
    {"imds": lambda: imds(*args), "forward": lambda: forward(args[0], args[1:]), "echo": lambda: echo(*args),
     "dns": lambda: dns(*args), "aws": aws}[command]()
