import { Construct } from "constructs";
import { InternetGateway } from "@cdktf/provider-aws/lib/internet-gateway";
import { Route } from "@cdktf/provider-aws/lib/route";
import { RouteTable } from "@cdktf/provider-aws/lib/route-table";
import { RouteTableAssociation } from "@cdktf/provider-aws/lib/route-table-association";
import { Subnet } from "@cdktf/provider-aws/lib/subnet";
import { Vpc } from "@cdktf/provider-aws/lib/vpc";
import { VpcDhcpOptions } from "@cdktf/provider-aws/lib/vpc-dhcp-options";
import { VpcDhcpOptionsAssociation } from "@cdktf/provider-aws/lib/vpc-dhcp-options-association";
import { resourceName } from "../config/site-view.js";

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
  /**
   * A VPC and public subnet an existing module made (with its own internet gateway and public
   * routing): only the private subnet and its route table are created, inside that VPC.
   * @default none: the whole network is ours
   */
  readonly existing?: Pick<NetworkIds, "vpcId" | "publicSubnetId">;
}

/** What the rest of the stack needs of a network, whether {@link Network} made it or an existing module. */
export interface NetworkIds {
  readonly vpcId: string;
  readonly publicSubnetId: string;
  readonly privateSubnetId: string;
  readonly privateRouteTableId: string;
}

/**
 * VPC, one public and one private subnet in one AZ, the internet gateway and both route tables
 * (or only the private side, in a VPC an existing module owns). The private default route is
 * added by the NAT construct, which knows its target; the DHCP options by {@link DhcpOptions},
 * which also serves a VPC an existing module owns.
 */
export class Network extends Construct implements NetworkIds {
  readonly vpcId: string;
  readonly publicSubnetId: string;
  readonly privateSubnetId: string;
  readonly privateRouteTableId: string;

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);
    if (props.existing) {
      ({ vpcId: this.vpcId, publicSubnetId: this.publicSubnetId } = props.existing);
    } else {
      const vpc = new Vpc(this, "vpc", {
        cidrBlock: props.vpcCidr,
        enableDnsSupport: true,
        enableDnsHostnames: true,
        tags: { Name: resourceName("vpc") },
      });
      vpc.overrideLogicalId("main");
      this.vpcId = vpc.id;
      const publicSubnet = this.subnet("public", props.publicSubnetCidr, props.availabilityZone);
      this.publicSubnetId = publicSubnet.id;

      const internetGateway = new InternetGateway(this, "igw", { vpcId: this.vpcId, tags: { Name: resourceName("igw") } });
      internetGateway.overrideLogicalId("main");
      const publicRouteTable = this.routeTable("public", publicSubnet);
      const publicDefault = new Route(this, "public-default", {
        routeTableId: publicRouteTable.id,
        destinationCidrBlock: "0.0.0.0/0",
        gatewayId: internetGateway.id,
      });
      publicDefault.overrideLogicalId("public_default");
    }
    const privateSubnet = this.subnet("private", props.privateSubnetCidr, props.availabilityZone);
    this.privateSubnetId = privateSubnet.id;
    this.privateRouteTableId = this.routeTable("private", privateSubnet).id;
  }

  private subnet(name: "public" | "private", cidr: string, availabilityZone: string): Subnet {
    const subnet = new Subnet(this, `${name}-subnet`, {
      vpcId: this.vpcId,
      cidrBlock: cidr,
      availabilityZone,
      // Nothing gets a public IP by accident; the NAT instance asks for one explicitly.
      mapPublicIpOnLaunch: false,
      tags: { Name: resourceName(name) },
    });
    subnet.overrideLogicalId(name);
    return subnet;
  }

  private routeTable(name: "public" | "private", subnet: Subnet): RouteTable {
    const table = new RouteTable(this, `${name}-rt`, { vpcId: this.vpcId, tags: { Name: resourceName(name) } });
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
      tags: { Name: resourceName("dhcp") },
    });
    options.overrideLogicalId("main");
    const association = new VpcDhcpOptionsAssociation(this, "association", { vpcId: props.vpcId, dhcpOptionsId: options.id });
    association.overrideLogicalId("main");
  }
}
