import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

// ajv's 2020-12 build is CommonJS; load it through require to keep the types simple under NodeNext.
const require = createRequire(import.meta.url);
const Ajv2020 = require('ajv/dist/2020').default as new (opts: object) => {
  compile(schema: object): ((data: unknown) => boolean) & { errors?: unknown[] | null };
};

const schemaPath = fileURLToPath(new URL('../../../../docs/report.schema.json', import.meta.url));
const validate = new Ajv2020({ allErrors: true, strict: false }).compile(JSON.parse(readFileSync(schemaPath, 'utf8')));

/** Throws with ajv's messages when a report does not match docs/report.schema.json. */
export function assertValidReport(report: unknown): void {
  if (!validate(report)) throw new Error(`report does not match docs/report.schema.json: ${JSON.stringify(validate.errors)}`);
}
