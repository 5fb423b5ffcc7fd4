"""moto's server (same arguments as moto_server) with one AWS behaviour moto 5.2.5 lacks: the
private address of a terminated instance is free again. moto keeps it reserved in the subnet, so a
second launch at a fixed address (a Talos node at 10.20.13.11 after a scale to 0 and back) fails
with "IP already in use" (HTTP 500), which the AWS provider retries until it times out.
"""
import sys

from moto.ec2.models.subnets import Subnet
from moto.server import main

_request_ip = Subnet.request_ip


def request_ip(self, ip, instance):
    holder = self._subnet_ips.get(ip)
    if getattr(getattr(holder, "_state", None), "name", None) == "terminated":
        self.del_subnet_ip(ip)
    _request_ip(self, ip, instance)


Subnet.request_ip = request_ip

if __name__ == "__main__":
    main(sys.argv[1:])
