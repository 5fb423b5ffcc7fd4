#!/usr/bin/env python3
"""Limits a writable copy of terraform-provider-aws's source to some of its AWS services, in place.

usage: aws-provider-services.py SOURCE_DIR SERVICE...

The provider compiles every service because two generated files name them all:
  - internal/provider/sdkv2/service_packages_gen.go imports each internal/service/<name> package and
    registers it (the framework provider takes its list from there);
  - internal/conns/awsclient_gen.go imports every AWS SDK client for its <Name>Client accessors.
This rewrites both: only SERVICE... stay registered, and only the accessors that the compiled code
still calls stay (with their SDK imports). Nothing else changes: the kept services' resources, the
provider's own schema (its endpoints block still names every service) and go.mod are as released.
Fails, naming what it expected, when the generated files do not look as described, so that a
provider upgrade cannot silently build something else.
"""
import os
import re
import sys

MODULE = "github.com/hashicorp/terraform-provider-aws/"
SERVICE_IMPORT = re.compile(r'"' + re.escape(MODULE) + r'internal/service/([a-z0-9]+)"')
REGISTERED = re.compile(r"^\t\t([a-z0-9]+)\.ServicePackage\(ctx\),$", re.M)
ACCESSOR = re.compile(r"^func \(c \*AWSClient\) ([A-Za-z0-9]+)\(ctx context\.Context\) \*([a-z0-9]+)\.Client \{\n.*\n\}\n\n?", re.M)
ACCESSOR_CALL = re.compile(r"\.([A-Z][A-Za-z0-9]*Client)\(")
SDK_IMPORT = re.compile(r'^\t"github.com/aws/aws-sdk-go-v2/service/([a-z0-9]+)"\n', re.M)
PACKAGES_FILE = "internal/provider/sdkv2/service_packages_gen.go"
CLIENTS_FILE = "internal/conns/awsclient_gen.go"


def go_sources(directory):
    """The non-test Go files under a directory."""
    for root, _, files in os.walk(directory):
        for name in files:
            if name.endswith(".go") and not name.endswith("_test.go"):
                yield os.path.join(root, name)


def read(path):
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def write(path, text):
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)


def compiled_services(source, services):
    """The kept services and every service package they import, transitively."""
    found, pending = set(), list(services)
    while pending:
        name = pending.pop()
        if name in found:
            continue
        directory = os.path.join(source, "internal", "service", name)
        if not os.path.isdir(directory):
            sys.exit(f"aws-provider-services: no service package internal/service/{name} in {source}")
        found.add(name)
        for path in go_sources(directory):
            pending.extend(SERVICE_IMPORT.findall(read(path)))
    return found


def register_only(source, services):
    path = os.path.join(source, PACKAGES_FILE)
    kept = []
    for line in read(path).splitlines(keepends=True):
        imported = SERVICE_IMPORT.search(line)
        registered = REGISTERED.match(line.rstrip("\n"))
        name = (imported or registered).group(1) if (imported or registered) else None
        if name is None or name in services:
            kept.append(line)
    text = "".join(kept)
    missing = set(services) - set(REGISTERED.findall(text))
    if missing:
        sys.exit(f"aws-provider-services: {PACKAGES_FILE} registers no {', '.join(sorted(missing))}")
    write(path, text)


def keep_called_clients(source, compiled):
    path = os.path.join(source, CLIENTS_FILE)
    text = read(path)
    accessors = {name: package for name, package in ACCESSOR.findall(text)}
    if len(accessors) != text.count("\nfunc (c *AWSClient) "):
        sys.exit(f"aws-provider-services: {CLIENTS_FILE} has accessors of an unexpected shape")
    # Calls from the compiled services and from every non-service package (conns itself included).
    directories = [os.path.join(source, "internal", "service", name) for name in compiled]
    directories += [os.path.join(source, "internal", entry) for entry in os.listdir(os.path.join(source, "internal")) if entry not in ("service", "acctest", "generate")]
    called = set()
    for directory in directories:
        files = go_sources(directory) if os.path.isdir(directory) else [directory] if directory.endswith(".go") else []
        for file in files:
            if not file.endswith(CLIENTS_FILE):
                called.update(name for name in ACCESSOR_CALL.findall(read(file)) if name in accessors)
    packages = {accessors[name] for name in called}
    text = ACCESSOR.sub(lambda m: m.group(0) if m.group(1) in called else "", text)
    text = SDK_IMPORT.sub(lambda m: m.group(0) if m.group(1) in packages else "", text).rstrip("\n") + "\n"
    write(path, text)
    return sorted(called)


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    source, services = argv[1], set(argv[2:])
    compiled = compiled_services(source, services)
    register_only(source, services)
    clients = keep_called_clients(source, compiled)
    print(f"aws-provider-services: registered {len(services)} services, compiling {len(compiled)}, {len(clients)} SDK clients", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv)
