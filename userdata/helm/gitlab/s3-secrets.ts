// What goes into the Secrets that carry S3 settings to GitLab (Rails' connection) and to the
// registry (its storage driver), in the shapes of the chart's examples/objectstorage/. The
// credentials are Terraform references here, filled in by Terraform when it writes the
// Secret; with an IAM role there are none.

export type S3Credentials<Ref> = { readonly iamRole: true } | { readonly accessKeyId: Ref; readonly secretAccessKey: Ref };

export interface S3Connection<Ref> {
  readonly region: string;
  /** An S3-compatible service's URL; AWS S3 when absent. */
  readonly endpoint?: string;
  readonly pathStyle: boolean;
  readonly credentials: S3Credentials<Ref>;
}

/** Rails' fog connection (global.appConfig.object_store.connection). */
export function railsConnection<Ref>(c: S3Connection<Ref>): Record<string, Ref | string | boolean | number> {
  const keys: Record<string, Ref | boolean> =
    "iamRole" in c.credentials
      ? { use_iam_profile: true }
      : { aws_access_key_id: c.credentials.accessKeyId, aws_secret_access_key: c.credentials.secretAccessKey };
  const compatible: Record<string, string | boolean | number> = c.endpoint ? { endpoint: c.endpoint, path_style: c.pathStyle, aws_signature_version: 4 } : {};
  return { provider: "AWS", region: c.region, ...keys, ...compatible };
}

/** The registry's storage driver configuration (registry.storage.secret). */
export function registryStorage<Ref>(c: S3Connection<Ref>, bucket: string): { s3: Record<string, Ref | string | boolean> } {
  const keys: Record<string, Ref> = "iamRole" in c.credentials ? {} : { accesskey: c.credentials.accessKeyId, secretkey: c.credentials.secretAccessKey };
  // With regionendpoint the registry always uses path-style URLs; pathstyle says so explicitly.
  const compatible: Record<string, string | boolean> = c.endpoint ? { regionendpoint: c.endpoint, pathstyle: c.pathStyle } : {};
  return { s3: { bucket, region: c.region, v4auth: true, ...keys, ...compatible } };
}
