import { describe, expect, it } from "vitest";
import { resourceName, siteView, talosNodeName } from "../config/site-view.js";
import { siteConfig } from "./helpers/synth.js";

describe("site view", () => {
  it("derives the default site's addresses, URLs and node names", () => {
    const view = siteView(siteConfig());
    expect(view).toMatchObject({
      bastionAddress: "10.20.13.140",
      amazonDns: "10.20.0.2",
      publicSubnetRouter: "10.20.1.1",
      privateSubnetRouter: "10.20.13.1",
      dhcpDnsServers: ["10.20.13.140", "AmazonProvidedDNS"],
      piholeUpstreams: ["10.20.0.2"],
      matchboxUrl: "http://10.20.13.140:8080",
    });
    expect(view.nodes).toEqual([
      { index: 0, name: "talos-1", instanceName: "deathstar-talos-1", address: "10.20.13.11" },
      { index: 1, name: "talos-2", instanceName: "deathstar-talos-2", address: "10.20.13.12" },
      { index: 2, name: "talos-3", instanceName: "deathstar-talos-3", address: "10.20.13.13" },
    ]);
  });

  it("follows the config: Amazon DNS from the VPC block, routers from each subnet, the bastion token from bastion.privateIp", () => {
    const view = siteView(
      siteConfig({
        network: { vpcCidr: "10.30.0.0/16", publicSubnet: { cidr: "10.30.1.0/24" }, privateSubnet: { cidr: "10.30.13.0/24" }, natInstance: { eniAddress: "10.30.1.10" }, dnsServers: ["10.30.13.9", "bastion"] },
        bastion: { privateIp: "10.30.13.140" },
        services: { matchboxPort: 8090, dnsUpstreams: ["AmazonProvidedDNS", "10.30.13.9"] },
        talos: { nodeIps: ["10.30.13.11"] },
        usage: { nodesPerSession: 1 },
      }),
    );
    expect(view).toMatchObject({
      amazonDns: "10.30.0.2",
      publicSubnetRouter: "10.30.1.1",
      privateSubnetRouter: "10.30.13.1",
      dhcpDnsServers: ["10.30.13.9", "10.30.13.140"],
      piholeUpstreams: ["10.30.0.2", "10.30.13.9"],
      matchboxUrl: "http://10.30.13.140:8090",
    });
    expect(view.nodes.map((node) => node.address)).toEqual(["10.30.13.11"]);
  });

  it("is computed once per config and cannot be changed by a reader", () => {
    const config = siteConfig();
    const view = siteView(config);
    expect(siteView(config)).toBe(view);
    expect(Object.isFrozen(view) && Object.isFrozen(view.nodes) && Object.isFrozen(view.nodes[0])).toBe(true);
  });

  it("names resources and nodes one way", () => {
    expect(resourceName("bastion", "cache")).toBe("deathstar-bastion-cache");
    expect(talosNodeName(0)).toBe("talos-1");
  });
});
