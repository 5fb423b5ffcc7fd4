"""moto's server (same arguments as moto_server) with AWS behaviour moto 5.2.5 lacks. First, the
private address of a terminated instance is free again. moto keeps it reserved in the subnet, so a
second launch at a fixed address (a Talos node at 10.20.13.11 after a scale to 0 and back) fails
with "IP already in use" (HTTP 500), which the AWS provider retries until it times out.
"""
import sys
import uuid

from moto.autoscaling.responses import AutoScalingResponse
from moto.core.responses import ActionResult
from moto.ec2.models.subnets import Subnet
from moto.server import main

_request_ip = Subnet.request_ip


def request_ip(self, ip, instance):
    holder = self._subnet_ips.get(ip)
    if getattr(getattr(holder, "_state", None), "name", None) == "terminated" or _never_launched(self, holder):
        self.del_subnet_ip(ip)
    _request_ip(self, ip, instance)


def _never_launched(subnet, holder):
    """An address held by an instance moto does not list: a RunInstances that failed after moto
    reserved the address (it answered 500), which AWS would not have kept. The provider's retry of
    that launch would otherwise meet "IP already in use" until it times out."""
    instance_id = getattr(holder, "id", None)
    if instance_id is None or not str(instance_id).startswith("i-"):
        return False
    return all(instance.id != instance_id for instance in subnet.ec2_backend.all_instances())


Subnet.request_ip = request_ip


# Second, StartInstanceRefresh, which moto 5.2.5 does not implement: the provider starts a refresh
# when a group's launch template changes (the bastion's `instance_refresh` block) and retries the
# unknown action's error for minutes. The stand-in accepts it and reports the refresh done at once;
# it replaces no instance (what a refresh does to instances is EC2's, which no test here claims).
def start_instance_refresh(self):
    return ActionResult({"InstanceRefreshId": str(uuid.uuid4())})


def describe_instance_refreshes(self):
    return ActionResult({"InstanceRefreshes": []})


AutoScalingResponse.start_instance_refresh = start_instance_refresh
AutoScalingResponse.describe_instance_refreshes = describe_instance_refreshes

if __name__ == "__main__":
    main(sys.argv[1:])
