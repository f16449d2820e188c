// docs/openapi.json (the document /openapi.json serves) against the OpenAPI 3.1 JSON Schema, with
// an independent validator (@seriousme/openapi-schema-validator, the specification's published
// schemas): a malformed operation, a bad $ref or a misplaced keyword fails here even where the
// route-table checks (tests/http/openapi_routes_test.cpp) do not look.
// Usage: node --test tests/http/openapi_validator_test.mjs
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { Validator } from '@seriousme/openapi-schema-validator';

const here = path.dirname(fileURLToPath(import.meta.url));
const documentPath = path.join(here, '..', '..', 'docs', 'openapi.json');

test('docs/openapi.json is a valid OpenAPI 3.1 document whose $refs all resolve', async () => {
  const document = JSON.parse(fs.readFileSync(documentPath, 'utf8'));
  const validator = new Validator();
  const result = await validator.validate(document);
  assert.equal(validator.version, '3.1');
  assert.deepEqual(result.errors ?? [], []);
  assert.equal(result.valid, true);
  const resolved = await validator.validateBundle([document]).catch((e) => ({ valid: false, errors: [String(e)] }));
  assert.equal(resolved.valid, true, JSON.stringify(resolved.errors));
});

test('the validator refuses a broken document (the check can fail)', async () => {
  const document = JSON.parse(fs.readFileSync(documentPath, 'utf8'));
  const [first] = Object.keys(document.paths);
  const operation = Object.values(document.paths[first])[0];
  delete operation.responses;  // an operation without responses is not OpenAPI
  operation.parameters = [{ name: 'x' }];  // a parameter without "in"
  const result = await new Validator().validate(document);
  assert.equal(result.valid, false);
});
