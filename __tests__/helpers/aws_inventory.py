"""Prints, as JSON, what is left in one region of an AWS endpoint (moto in the tests) that costs
money or holds an address: non-default VPCs, instances not terminated, network interfaces,
EBS volumes and Elastic IPs. Endpoint and dummy credentials come from AWS_ENDPOINT_URL and
AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY. Usage: python aws_inventory.py <region>

moto 5.2.5 marks a deleted NAT gateway "deleted" but keeps its network interface (AWS deletes
it with the gateway): those interfaces are listed apart, as deletedNatGatewayInterfaces.
"""
import json
import sys

import boto3


def main(region: str) -> None:
    ec2 = boto3.client("ec2", region_name=region)
    vpcs = [v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"] if not v.get("IsDefault")]
    instances = [
        i["InstanceId"]
        for r in ec2.describe_instances()["Reservations"]
        for i in r["Instances"]
        if i["State"]["Name"] != "terminated"
    ]
    deleted_nat_interfaces = {
        address["NetworkInterfaceId"]
        for gateway in ec2.describe_nat_gateways()["NatGateways"]
        if gateway["State"] == "deleted"
        for address in gateway.get("NatGatewayAddresses", [])
        if "NetworkInterfaceId" in address
    }
    interfaces = [n["NetworkInterfaceId"] for n in ec2.describe_network_interfaces()["NetworkInterfaces"]]
    volumes = [v["VolumeId"] for v in ec2.describe_volumes()["Volumes"]]
    addresses = [a.get("AllocationId", a.get("PublicIp")) for a in ec2.describe_addresses()["Addresses"]]
    json.dump(
        {
            "vpcs": vpcs,
            "instances": instances,
            "networkInterfaces": [i for i in interfaces if i not in deleted_nat_interfaces],
            "deletedNatGatewayInterfaces": sorted(deleted_nat_interfaces & set(interfaces)),
            "volumes": volumes,
            "addresses": addresses,
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main(sys.argv[1])
