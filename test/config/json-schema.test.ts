import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import Ajv2020 from "ajv/dist/2020";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { environmentJsonSchema, JSON_SCHEMA_FILE } from "../../config/json-schema";
import { CONFIG_DIR, REPO_ROOT, exampleYaml } from "../helpers";

const schema = JSON.parse(environmentJsonSchema());
const validate = new Ajv2020({ strict: false, allErrors: true, validateFormats: false, logger: false }).compile(schema);

describe("config/environment.schema.json", () => {
  it("is current with the zod schema (run `npm run schema` after changing config/schema)", () => {
    expect(readFileSync(join(REPO_ROOT, JSON_SCHEMA_FILE), "utf8")).toBe(environmentJsonSchema());
  });

  it("accepts every example, as an editor would", () => {
    for (const file of readdirSync(CONFIG_DIR).filter((f) => f.endsWith(".yaml"))) {
      const ok = validate(parse(readFileSync(join(CONFIG_DIR, file), "utf8")));
      expect(validate.errors ?? [], file).toEqual([]);
      expect(ok).toBe(true);
    }
  });

  it("flags unknown keys and another platform's section, so editors underline them", () => {
    const typo = exampleYaml("homelab");
    typo.gitlab.hostnmae = "x";
    expect(validate(typo)).toBe(false);
    const wrongPlatform = exampleYaml("staging");
    wrongPlatform.docker = { publicAddress: "192.0.2.1" };
    expect(validate(wrongPlatform)).toBe(false);
  });

  it("documents fields for autocompletion", () => {
    const text = environmentJsonSchema();
    expect(text).toContain("Exact GitLab CE version");
    expect(text).toContain('"additionalProperties": false');
  });
});
