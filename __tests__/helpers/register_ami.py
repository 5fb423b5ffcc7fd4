"""Registers an image in an AWS endpoint (moto in the tests) and prints its id: stands in for an
AMI the operator imports once (the iPXE AMI). Endpoint and dummy credentials come from the
environment, as in aws_inventory.py. Usage: python register_ami.py <region> <name> <architecture>
"""
import sys

import boto3


def main(region: str, name: str, architecture: str) -> None:
    ec2 = boto3.client("ec2", region_name=region)
    image = ec2.register_image(
        Name=name,
        Architecture=architecture,
        RootDeviceName="/dev/xvda",
        VirtualizationType="hvm",
        EnaSupport=True,
        BootMode="uefi",
        BlockDeviceMappings=[{"DeviceName": "/dev/xvda", "Ebs": {"VolumeSize": 1, "VolumeType": "gp3"}}],
    )
    print(image["ImageId"])


if __name__ == "__main__":
    main(*sys.argv[1:4])
