// The JSON Schema editors use to autocomplete and check config/<env>.yaml, generated from
// the zod schema (the single source of truth). `npm run schema` writes it; a test keeps it current.
import { z } from "zod";
import { environmentSchema } from "./schema/index";

export const JSON_SCHEMA_FILE = "config/environment.schema.json";

export function environmentJsonSchema(): string {
  const schema = z.toJSONSchema(environmentSchema, { io: "input", target: "draft-2020-12" });
  return `${JSON.stringify({ ...schema, title: "GitLab platform environment" }, null, 2)}\n`;
}
