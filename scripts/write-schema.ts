// Regenerates config/environment.schema.json from the zod schema.
import { writeFileSync } from "node:fs";
import { environmentJsonSchema, JSON_SCHEMA_FILE } from "../config/json-schema";

writeFileSync(JSON_SCHEMA_FILE, environmentJsonSchema());
console.log(`wrote ${JSON_SCHEMA_FILE}`);
