// The runners' image: the newest Amazon Linux 2023 (x86_64) AMI, looked up from Amazon at
// every plan. A newer AMI becomes a new launch template version that applies to instances
// launched from then on; running instances are never replaced by it.
import { DataAwsAmi } from "@cdktf/provider-aws/lib/data-aws-ami";
import type { Construct } from "constructs";

/** Amazon's own account, which publishes the Amazon Linux AMIs. */
const AMAZON_OWNER = "amazon";

export function latestAmazonLinux2023(scope: Construct, id: string): DataAwsAmi {
  return new DataAwsAmi(scope, id, {
    owners: [AMAZON_OWNER],
    mostRecent: true,
    filter: [
      { name: "name", values: ["al2023-ami-2023.*-x86_64"] },
      { name: "architecture", values: ["x86_64"] },
      { name: "virtualization-type", values: ["hvm"] },
    ],
  });
}
