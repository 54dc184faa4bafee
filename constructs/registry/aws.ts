// GitLab's container registry on aws: Omnibus serves it on its own host name; images live
// in a private S3 bucket that only the GitLab instance role can reach.
import type { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import type { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import type { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { Construct } from "constructs";
import { RoleGrants } from "../grants";
import { PrivateBucket } from "../private-bucket/aws";

export interface AwsRegistryProps {
  /** Name of the registry bucket (globally unique). */
  readonly bucketName: string;
}

export class AwsRegistry extends Construct {
  readonly bucket: S3Bucket;

  constructor(scope: Construct, id: string, props: AwsRegistryProps) {
    super(scope, id);
    this.bucket = new PrivateBucket(this, "storage", { bucketName: props.bucketName, purpose: "registry", holdsData: true }).bucket;
  }

  /** Lets the role (the GitLab instance) read and write images; the registry needs list, multipart and delete. */
  grantReadWrite(role: IamRole): IamRolePolicy {
    return this.readWriteGrants.grant(role);
  }

  private readonly readWriteGrants = new RoleGrants(this, "read-write", () => ({
    name: "registry-storage",
    document: {
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "ListRegistryBucket",
          Effect: "Allow",
          Action: ["s3:ListBucket", "s3:GetBucketLocation", "s3:ListBucketMultipartUploads"],
          Resource: [this.bucket.arn],
        },
        {
          Sid: "ReadWriteRegistryObjects",
          Effect: "Allow",
          Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListMultipartUploadParts", "s3:AbortMultipartUpload"],
          Resource: [`${this.bucket.arn}/*`],
        },
      ],
    },
  }));
}
