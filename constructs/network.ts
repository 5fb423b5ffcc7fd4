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
}

/** What the rest of the stack needs of a network, whether {@link Network} made it or an existing module. */
export interface NetworkIds {
  readonly vpcId: string;
  readonly publicSubnetId: string;
  readonly privateSubnetId: string;
  readonly privateRouteTableId: string;
}

/**
 * VPC, one public and one private subnet in one AZ, the internet gateway and both route tables.
 * The private default route is added by the NAT construct, which knows its target; the DHCP
 * options by {@link DhcpOptions}, which also serves a VPC an existing module owns.
 */
export class Network extends Construct implements NetworkIds {
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
  }

  get vpcId(): string {
    return this.vpc.id;
  }

  get publicSubnetId(): string {
    return this.publicSubnet.id;
  }

  get privateSubnetId(): string {
    return this.privateSubnet.id;
  }

  get privateRouteTableId(): string {
    return this.privateRouteTable.id;
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

}

/** Props of {@link DhcpOptions}. */
export interface DhcpOptionsProps {
  readonly vpcId: string;
  readonly domainName: string;
  /** In order; "AmazonProvidedDNS" allowed. */
  readonly dnsServers: readonly string[];
}

/**
 * The VPC's DHCP option set. VPC DHCP can only hand out DNS/NTP/domain options (no PXE). Pi-hole on
 * the bastion is listed first and AmazonProvidedDNS after it, so instances keep DNS while the
 * bastion is stopped. Also used on a VPC an existing module owns.
 */
export class DhcpOptions extends Construct {
  constructor(scope: Construct, id: string, props: DhcpOptionsProps) {
    super(scope, id);
    const options = new VpcDhcpOptions(this, "options", {
      domainName: props.domainName,
      domainNameServers: [...props.dnsServers],
      tags: { Name: "deathstar-dhcp" },
    });
    options.overrideLogicalId("main");
    const association = new VpcDhcpOptionsAssociation(this, "association", { vpcId: props.vpcId, dhcpOptionsId: options.id });
    association.overrideLogicalId("main");
  }
}
