// Fixed addresses at the end of the private network, for the allow-lists that name them.
import { describe, expect, it } from "vitest";
import { addressFromEnd } from "../../constructs/private-network/docker";
import { exampleYaml, problemsOf } from "../helpers";

describe("addresses on the private network", () => {
  it("counts from the last usable address, in any subnet", () => {
    expect(addressFromEnd("172.30.0.0/24", 1)).toBe("172.30.0.254");
    expect(addressFromEnd("172.30.0.0/24", 2)).toBe("172.30.0.253");
    expect(addressFromEnd("10.1.0.0/16", 1)).toBe("10.1.255.254");
    expect(addressFromEnd("192.168.50.16/28", 2)).toBe("192.168.50.29");
    // A subnet written with host bits set still means its network.
    expect(addressFromEnd("172.30.0.7/24", 1)).toBe("172.30.0.254");
  });

  it("never hands out the gateway (the first usable address) or goes outside the subnet", () => {
    expect(addressFromEnd("172.30.0.0/30", 1)).toBe("172.30.0.2");
    expect(() => addressFromEnd("172.30.0.0/30", 2)).toThrow(/no address 2 from its end besides the gateway/);
    expect(() => addressFromEnd("172.30.0.0/24", 0)).toThrow();
    expect(() => addressFromEnd("172.30.0/24", 1)).toThrow(/not an IPv4 subnet/);
  });

  it("config refuses a network too small for the fixed addresses", () => {
    const c = exampleYaml("homelab");
    c.docker.networkCidr = "172.30.0.0/29";
    expect(problemsOf(c, "homelab").join("\n")).toContain("docker.networkCidr: must be a /28 or larger");
  });
});
