"""Prints, as JSON, what is left in one region of an AWS endpoint (moto in the tests) that costs
money or holds an address: non-default VPCs, instances not terminated, network interfaces,
EBS volumes and Elastic IPs. Endpoint and dummy credentials come from AWS_ENDPOINT_URL and
AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY. Usage: python aws_inventory.py <region>
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
    interfaces = [n["NetworkInterfaceId"] for n in ec2.describe_network_interfaces()["NetworkInterfaces"]]
    volumes = [v["VolumeId"] for v in ec2.describe_volumes()["Volumes"]]
    addresses = [a.get("AllocationId", a.get("PublicIp")) for a in ec2.describe_addresses()["Addresses"]]
    json.dump(
        {"vpcs": vpcs, "instances": instances, "networkInterfaces": interfaces, "volumes": volumes, "addresses": addresses},
        sys.stdout,
    )


if __name__ == "__main__":
    main(sys.argv[1])
