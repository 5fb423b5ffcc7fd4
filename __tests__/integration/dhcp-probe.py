#!/usr/bin/env python3
"""Sends one DHCPDISCOVER on an interface and prints the DHCPOFFER as JSON.

usage: dhcp-probe.py IFACE CLIENT_ARCH [USER_CLASS]

CLIENT_ARCH is option 93 (0 BIOS, 7/9 x86_64 UEFI, 11 arm64 UEFI); USER_CLASS, when given, is
sent as option 77 the way iPXE sends "iPXE". Exits 1 when no offer arrives within 10 seconds.
"""
import json
import os
import socket
import struct
import sys
import time

DHCP_MAGIC = b"\x63\x82\x53\x63"
SO_BINDTODEVICE = getattr(socket, "SO_BINDTODEVICE", 25)


def option(code: int, value: bytes) -> bytes:
    return bytes([code, len(value)]) + value


def discover(xid: int, mac: bytes, arch: int, user_class: str | None) -> bytes:
    header = struct.pack("!BBBBIHH4s4s4s4s16s64s128s", 1, 1, 6, 0, xid, 0, 0x8000,
                         b"\0" * 4, b"\0" * 4, b"\0" * 4, b"\0" * 4, mac + b"\0" * 10, b"\0" * 64, b"\0" * 128)
    options = option(53, b"\x01") + option(93, struct.pack("!H", arch)) + option(60, b"PXEClient:Arch:%05d" % arch)
    if user_class:
        options += option(77, user_class.encode())
    options += option(55, bytes([1, 3, 6, 15, 66, 67])) + b"\xff"
    return header + DHCP_MAGIC + options


def parse_options(data: bytes) -> dict[int, bytes]:
    options, i = {}, 0
    while i < len(data) and data[i] != 0xFF:
        if data[i] == 0:
            i += 1
            continue
        code, length = data[i], data[i + 1]
        options[code] = data[i + 2:i + 2 + length]
        i += 2 + length
    return options


def main() -> int:
    iface, arch = sys.argv[1], int(sys.argv[2])
    user_class = sys.argv[3] if len(sys.argv) > 3 else None
    xid = int.from_bytes(os.urandom(4), "big")
    mac = b"\x02\x00\x00" + os.urandom(3)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    sock.setsockopt(socket.SOL_SOCKET, SO_BINDTODEVICE, iface.encode())
    sock.bind(("0.0.0.0", 68))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        sock.sendto(discover(xid, mac, arch, user_class), ("255.255.255.255", 67))
        sock.settimeout(1)
        try:
            while True:
                packet = sock.recv(2048)
                if len(packet) < 240 or packet[0] != 2 or struct.unpack("!I", packet[4:8])[0] != xid:
                    continue
                options = parse_options(packet[240:])
                if options.get(53) != b"\x02":
                    continue
                print(json.dumps({
                    "yiaddr": socket.inet_ntoa(packet[16:20]),
                    "siaddr": socket.inet_ntoa(packet[20:24]),
                    # Option 67 when the client asked for it (as firmware does), else the file field.
                    "file": options[67].rstrip(b"\0").decode() if 67 in options else packet[108:236].rstrip(b"\0").decode(),
                    "router": socket.inet_ntoa(options[3]) if 3 in options else None,
                    "dns": socket.inet_ntoa(options[6][:4]) if 6 in options else None,
                }))
                return 0
        except socket.timeout:
            continue
    print("no DHCPOFFER", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
