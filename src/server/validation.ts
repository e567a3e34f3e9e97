// Two Ajv instances: bodies are validated strictly (no type coercion, unknown members refused,
// every error reported), while path and query parameters, which are always strings on the
// wire, are coerced to the types the contract gives them.
import { Ajv, type Options } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';

function makeAjv(options: Options): Ajv {
  const ajv = new Ajv({ strict: true, strictTypes: false, useDefaults: true, removeAdditional: false, ...options });
  addFormats.default(ajv);
  return ajv;
}

export function validatorCompiler(): FastifySchemaCompiler<unknown> {
  const bodies = makeAjv({ coerceTypes: false, allErrors: true });
  const parameters = makeAjv({ coerceTypes: true, allErrors: false });
  return ({ schema, httpPart }) => (httpPart === 'body' ? bodies : parameters).compile(schema as object) as ReturnType<FastifySchemaCompiler<unknown>>;
}
