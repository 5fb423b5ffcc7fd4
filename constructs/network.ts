import { Construct } from "constructs";
import { InternetGateway } from "@cdktf/provider-aws/lib/internet-gateway";
import { Route } from "@cdktf/provider-aws/lib/route";
import { RouteTable } from "@cdktf/provider-aws/lib/route-table";
import { RouteTableAssociation } from "@cdktf/provider-aws/lib/route-table-association";
import { Subnet } from "@cdktf/provider-aws/lib/subnet";
import { Vpc } from "@cdktf/provider-aws/lib/vpc";
import { VpcDhcpOptions } from "@cdktf/provider-aws/lib/vpc-dhcp-options";
import { VpcDhcpOptionsAssociation } from "@cdktf/provider-aws/lib/vpc-dhcp-options-association";

/** Props of {@link Network}. */
export interface NetworkProps {
  /** VPC block, e.g. "10.20.0.0/16". */
  readonly vpcCidr: string;
  /** Public subnet block (IGW route), e.g. "10.20.1.0/24". */
  readonly publicSubnetCidr: string;
  /** Private subnet block (NAT route), e.g. "10.20.13.0/24". */
  readonly privateSubnetCidr: string;
  /** Both subnets live here, e.g. "eu-west-1a". */
  readonly availabilityZone: string;
  /** DHCP option set domain name. */
  readonly domainName: string;
  /** DHCP option set DNS servers, in order. */
  readonly dnsServers: readonly string[];
}

/**
 * VPC, one public and one private subnet in one AZ, the internet gateway, both route tables and
 * the VPC DHCP options. The private default route is added by the NAT construct, which knows its target.
 */
export class Network extends Construct {
  readonly vpc: Vpc;
  readonly publicSubnet: Subnet;
  readonly privateSubnet: Subnet;
  readonly privateRouteTable: RouteTable;

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);
    this.vpc = new Vpc(this, "vpc", {
      cidrBlock: props.vpcCidr,
      enableDnsSupport: true,
      enableDnsHostnames: true,
      tags: { Name: "deathstar-vpc" },
    });
    this.vpc.overrideLogicalId("main");

    this.publicSubnet = this.subnet("public", props.publicSubnetCidr, props.availabilityZone);
    this.privateSubnet = this.subnet("private", props.privateSubnetCidr, props.availabilityZone);

    const internetGateway = new InternetGateway(this, "igw", { vpcId: this.vpc.id, tags: { Name: "deathstar-igw" } });
    internetGateway.overrideLogicalId("main");

    const publicRouteTable = this.routeTable("public", this.publicSubnet);
    const publicDefault = new Route(this, "public-default", {
      routeTableId: publicRouteTable.id,
      destinationCidrBlock: "0.0.0.0/0",
      gatewayId: internetGateway.id,
    });
    publicDefault.overrideLogicalId("public_default");
    this.privateRouteTable = this.routeTable("private", this.privateSubnet);

    this.dhcpOptions(props.domainName, props.dnsServers);
  }

  private subnet(name: "public" | "private", cidr: string, availabilityZone: string): Subnet {
    const subnet = new Subnet(this, `${name}-subnet`, {
      vpcId: this.vpc.id,
      cidrBlock: cidr,
      availabilityZone,
      // Nothing gets a public IP by accident; the NAT instance asks for one explicitly.
      mapPublicIpOnLaunch: false,
      tags: { Name: `deathstar-${name}` },
    });
    subnet.overrideLogicalId(name);
    return subnet;
  }

  private routeTable(name: "public" | "private", subnet: Subnet): RouteTable {
    const table = new RouteTable(this, `${name}-rt`, { vpcId: this.vpc.id, tags: { Name: `deathstar-${name}` } });
    table.overrideLogicalId(name);
    const association = new RouteTableAssociation(this, `${name}-rta`, { subnetId: subnet.id, routeTableId: table.id });
    association.overrideLogicalId(name);
    return table;
  }

  /**
   * VPC DHCP can only hand out DNS/NTP/domain options (no PXE). Pi-hole on the bastion is listed
   * first and AmazonProvidedDNS after it, so instances keep DNS while the bastion is stopped.
   */
  private dhcpOptions(domainName: string, dnsServers: readonly string[]): void {
    const options = new VpcDhcpOptions(this, "dhcp-options", {
      domainName,
      domainNameServers: [...dnsServers],
      tags: { Name: "deathstar-dhcp" },
    });
    options.overrideLogicalId("main");
    const association = new VpcDhcpOptionsAssociation(this, "dhcp-options-association", {
      vpcId: this.vpc.id,
      dhcpOptionsId: options.id,
    });
    association.overrideLogicalId("main");
  }
}
