// The policy model: a rule looks at the synthesized (resolved) resources of one stack and
// says what is wrong with which resource, and how to fix it.

/** One resource as it will be written to cdk.tf.json. */
export interface ResourceView {
  /** Terraform type, e.g. aws_s3_bucket. */
  readonly type: string;
  /** Logical name in cdk.tf.json, e.g. registry_storage_bucket_1A2B3C4D. */
  readonly name: string;
  /** Construct path, e.g. staging/registry/storage/bucket: what violations and suppressions name. */
  readonly path: string;
  /** The resource's attributes (references are `${type.name.attr}` strings). */
  readonly config: Readonly<Record<string, any>>;
}

/** What rules may know about the environment beyond the resources. */
export interface PolicyContext {
  /** The git SSH port published or opened to the world. */
  readonly gitSshPort: number;
  /** Config asks for privileged CI job pods (kubernetes: runners.privileged). @default false */
  readonly privilegedJobs?: boolean;
  /** The web host names are proxied by Cloudflare: 80/443 must be open to its ranges only. @default false */
  readonly webBehindCloudflare?: boolean;
}

/** Everything a rule sees: all resources of the stack, by type, and the context. */
export interface StackView {
  readonly resources: readonly ResourceView[];
  /** The stack's outputs, as resources of type "output" (config: value, sensitive, description). */
  readonly outputs: readonly ResourceView[];
  ofType(type: string): readonly ResourceView[];
  /** The resource a `${type.name.attr}` reference points at. */
  referenced(reference: unknown): ResourceView | undefined;
  readonly context: PolicyContext;
}

export interface Violation {
  readonly resource: ResourceView;
  /** What is wrong and how to fix it, in one sentence. */
  readonly message: string;
}

export interface Rule {
  /** Stable id used in messages and suppressions, e.g. AWS-EC2-IMDSV2. */
  readonly id: string;
  /** One line: what the rule protects and why. */
  readonly rationale: string;
  readonly check: (stack: StackView) => Violation[];
}

/** Tags and labels the constructs set so rules can tell a resource's role. */
export const ROLE_TAG = "gitlab-platform:role";
export const PURPOSE_TAG = "gitlab-platform:purpose";
