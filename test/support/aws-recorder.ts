// A local stand-in for the AWS APIs the host scripts call, for the real AWS CLI to talk to
// (`--endpoint-url http://127.0.0.1:<port>`). The CLI validates every option and parameter
// against botocore's service models and signs the request; the recorder answers with the
// smallest response the CLI accepts for each action and records what arrived, so tests
// assert on API requests (action and parameters), not on the argv of a fake.
//
// Protocols, as botocore speaks them for the CLI installed by scripts/install-validators.sh:
//   - JSON (Secrets Manager): POST /, X-Amz-Target: secretsmanager.<Action>, JSON body;
//   - query (Auto Scaling, CloudWatch, EC2): POST /, form body Action=<Action>&…, XML answer;
//   - REST (S3): the method and path name the operation (PUT /<bucket>/<key> is PutObject).
import { createHash, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface AwsRequest {
  /** The signing service from the Authorization header: secretsmanager, monitoring, autoscaling, s3, ec2. */
  readonly service: string;
  /** The signing region. */
  readonly region: string;
  /** The API action: GetSecretValue, PutMetricData, CompleteLifecycleAction, PutObject, DescribeImages… */
  readonly action: string;
  /** Query parameters (form fields) or the JSON body's fields; for S3, the bucket and key. */
  readonly params: Readonly<Record<string, unknown>>;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The raw request body (an S3 object's bytes). */
  readonly body: Buffer;
  /** When it arrived (ms since the epoch). */
  readonly at: number;
}

/** An AWS error the recorder answers with instead of a result. */
export interface AwsError {
  readonly code: string;
  readonly message: string;
  /** @default 400 */
  readonly status?: number;
}

/** Decides the answer to one request: an error, or undefined for the normal result. */
export type Fault = (request: AwsRequest) => AwsError | undefined;

/** An instance of an Auto Scaling group as DescribeAutoScalingGroups returns it. */
export interface GroupInstance {
  readonly instanceId: string;
  /** Pending, InService, Terminating:Wait, Terminated… */
  readonly lifecycleState: string;
}

/** An image as DescribeImages returns it. */
export interface RecordedImage {
  readonly imageId: string;
  readonly name: string;
  readonly creationDate: string;
}

const QUERY_NAMESPACES: Readonly<Record<string, string>> = {
  autoscaling: "http://autoscaling.amazonaws.com/doc/2011-01-01/",
  monitoring: "http://monitoring.amazonaws.com/doc/2010-08-01/",
  ec2: "http://ec2.amazonaws.com/doc/2016-11-15/",
};

const xmlText = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

export class AwsRecorder {
  readonly requests: AwsRequest[] = [];
  /**
   * SecretString by secret ARN (or name), for GetSecretValue; PutSecretValue sets it, and
   * DescribeSecret shows an AWSCURRENT version for the secrets that have one.
   */
  readonly secrets = new Map<string, string>();
  /** What DescribeImages returns (filters are recorded, not applied). */
  images: RecordedImage[] = [];
  /**
   * The instances of a group for DescribeAutoScalingGroups, by group name; `call` counts that
   * group's describes from 1, so a test can let instances come and go. Unknown groups are absent.
   */
  groupInstances: (group: string, call: number) => readonly GroupInstance[] | undefined = () => undefined;
  private readonly describes = new Map<string, number>();
  /** Consulted first for every request; return an error to fail it. */
  fault: Fault = () => undefined;
  url = "";
  private server: Server | undefined;

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => this.handle(req, Buffer.concat(chunks), res));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server = undefined;
  }

  /** The recorded requests of one action, in order. */
  calls(action: string): AwsRequest[] {
    return this.requests.filter((r) => r.action === action);
  }

  /** Fail the first `times` requests of `action` with `error`, then answer normally. */
  failFirst(action: string, times: number, error: AwsError): void {
    let left = times;
    const previous = this.fault;
    this.fault = (r) => {
      if (r.action === action && left > 0) {
        left--;
        return error;
      }
      return previous(r);
    };
  }

  private handle(req: IncomingMessage, body: Buffer, res: ServerResponse): void {
    const scope = /Credential=[^/]+\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/.exec(String(req.headers.authorization ?? ""));
    const region = scope?.[1] ?? "";
    const service = scope?.[2] ?? "";
    const url = new URL(req.url ?? "/", "http://recorder");
    const target = req.headers["x-amz-target"];
    let action: string;
    let params: Record<string, unknown>;
    if (typeof target === "string") {
      action = target.slice(target.indexOf(".") + 1);
      params = body.length ? (JSON.parse(body.toString("utf8")) as Record<string, unknown>) : {};
    } else if (service === "s3") {
      const [bucket = "", ...key] = url.pathname.slice(1).split("/");
      action = s3Action(req.method ?? "", key.length > 0);
      params = { Bucket: bucket, Key: decodeURIComponent(key.join("/")), ...Object.fromEntries(url.searchParams) };
    } else {
      params = Object.fromEntries(new URLSearchParams(body.toString("utf8")));
      action = String(params.Action ?? "");
    }
    const request: AwsRequest = { service, region, action, params, headers: req.headers, body, at: Date.now() };
    this.requests.push(request);

    const error = this.fault(request) ?? this.defaultError(request);
    if (error) {
      this.sendError(res, request, error);
      return;
    }
    if (typeof target === "string") {
      this.sendJson(res, this.jsonResult(request));
      return;
    }
    if (service === "s3") {
      this.sendS3(res, request);
      return;
    }
    this.sendQuery(res, request);
  }

  private defaultError(r: AwsRequest): AwsError | undefined {
    if (r.action === "GetSecretValue" && !this.secrets.has(String(r.params.SecretId))) {
      return { code: "ResourceNotFoundException", message: "Secrets Manager can't find the specified secret." };
    }
    return undefined;
  }

  private jsonResult(r: AwsRequest): Record<string, unknown> {
    if (r.action === "PutSecretValue") {
      const id = String(r.params.SecretId);
      this.secrets.set(id, String(r.params.SecretString));
      return { ARN: id, Name: id.split(":").at(-1), VersionId: randomUUID(), VersionStages: ["AWSCURRENT"] };
    }
    if (r.action === "DescribeSecret") {
      // Every secret exists (as if created empty); only one with a value has a version.
      const id = String(r.params.SecretId);
      return { ARN: id, Name: id.split(":").at(-1), ...(this.secrets.has(id) ? { VersionIdsToStages: { [randomUUID()]: ["AWSCURRENT"] } } : {}) };
    }
    if (r.action === "GetSecretValue") {
      const id = String(r.params.SecretId);
      // One version per value, as Secrets Manager keeps one per PutSecretValue: a new value is a new VersionId.
      const value = this.secrets.get(id);
      const versionId = createHash("sha256").update(`${id}\n${value}`).digest("hex").slice(0, 32);
      return { ARN: id, Name: id.split(":").at(-1), VersionId: versionId, SecretString: value, VersionStages: ["AWSCURRENT"], CreatedDate: 1.7e9 };
    }
    return {};
  }

  private sendJson(res: ServerResponse, result: Record<string, unknown>): void {
    res.writeHead(200, { "content-type": "application/x-amz-json-1.1", "x-amzn-requestid": randomUUID() }).end(JSON.stringify(result));
  }

  private sendQuery(res: ServerResponse, r: AwsRequest): void {
    const ns = QUERY_NAMESPACES[r.service] ?? "";
    const requestId = randomUUID();
    const result = r.action === "DescribeAutoScalingGroups" ? `<${r.action}Result>${this.groupsResult(r)}</${r.action}Result>` : `<${r.action}Result/>`;
    const xml =
      r.service === "ec2"
        ? `<${r.action}Response xmlns="${ns}"><requestId>${requestId}</requestId>${this.ec2Result(r)}</${r.action}Response>`
        : `<${r.action}Response xmlns="${ns}">${result}<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${r.action}Response>`;
    res.writeHead(200, { "content-type": "text/xml" }).end(`<?xml version="1.0" encoding="UTF-8"?>\n${xml}`);
  }

  private groupsResult(r: AwsRequest): string {
    const names = Object.entries(r.params)
      .filter(([k]) => k.startsWith("AutoScalingGroupNames.member."))
      .map(([, v]) => String(v));
    const members = names.flatMap((name) => {
      const call = (this.describes.get(name) ?? 0) + 1;
      this.describes.set(name, call);
      const instances = this.groupInstances(name, call);
      if (!instances) return [];
      const items = instances.map(
        (i) =>
          `<member><InstanceId>${xmlText(i.instanceId)}</InstanceId><LifecycleState>${xmlText(i.lifecycleState)}</LifecycleState><HealthStatus>Healthy</HealthStatus></member>`,
      );
      return [`<member><AutoScalingGroupName>${xmlText(name)}</AutoScalingGroupName><Instances>${items.join("")}</Instances></member>`];
    });
    return `<AutoScalingGroups>${members.join("")}</AutoScalingGroups>`;
  }

  private ec2Result(r: AwsRequest): string {
    if (r.action !== "DescribeImages") return "";
    const items = this.images.map(
      (i) =>
        `<item><imageId>${xmlText(i.imageId)}</imageId><name>${xmlText(i.name)}</name><creationDate>${xmlText(i.creationDate)}</creationDate><architecture>x86_64</architecture><imageState>available</imageState></item>`,
    );
    return `<imagesSet>${items.join("")}</imagesSet>`;
  }

  private sendS3(res: ServerResponse, r: AwsRequest): void {
    const headers: Record<string, string> = { "x-amz-request-id": randomUUID() };
    if (r.action === "PutObject") {
      headers.etag = `"${createHash("md5").update(r.body).digest("hex")}"`;
      const sse = r.headers["x-amz-server-side-encryption"];
      if (typeof sse === "string") headers["x-amz-server-side-encryption"] = sse;
    }
    res.writeHead(200, headers).end();
  }

  private sendError(res: ServerResponse, r: AwsRequest, e: AwsError): void {
    const status = e.status ?? 400;
    if (typeof r.headers["x-amz-target"] === "string") {
      res
        .writeHead(status, { "content-type": "application/x-amz-json-1.1", "x-amzn-errortype": e.code })
        .end(JSON.stringify({ __type: e.code, message: e.message }));
      return;
    }
    const xml =
      r.service === "s3" || r.service === "ec2"
        ? `<Response><Errors><Error><Code>${e.code}</Code><Message>${xmlText(e.message)}</Message></Error></Errors><RequestID>${randomUUID()}</RequestID></Response>`
        : `<ErrorResponse><Error><Type>Sender</Type><Code>${e.code}</Code><Message>${xmlText(e.message)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`;
    res
      .writeHead(status, { "content-type": "text/xml" })
      .end(r.service === "s3" ? `<Error><Code>${e.code}</Code><Message>${xmlText(e.message)}</Message></Error>` : xml);
  }
}

function s3Action(method: string, hasKey: boolean): string {
  if (!hasKey) return { GET: "ListObjectsV2", HEAD: "HeadBucket", PUT: "CreateBucket" }[method] ?? `${method}Bucket`;
  return { PUT: "PutObject", GET: "GetObject", HEAD: "HeadObject", DELETE: "DeleteObject", POST: "PostObject" }[method] ?? `${method}Object`;
}
